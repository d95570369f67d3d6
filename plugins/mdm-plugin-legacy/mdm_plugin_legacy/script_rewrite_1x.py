"""Rewriting MDM 1.x usage in users' scripts: pure functions over text, no I/O.

:func:`rewrite_text` scans a script (shell, Python, Makefile, CI YAML: any text, taken as
it is) and returns the rewritten text with one :class:`Finding` per 1.x usage found: a
rewrite (``new`` is the replacement) or a line it cannot rewrite (``new`` is None, and
``reason`` says why and what to do). :func:`rewrite_notebook` does the same for the code
cells of a Jupyter notebook and keeps the rest of its JSON as it was.

Everything the rewriter knows is the table :data:`RULES` (see :class:`Rule`), in the order
it is applied:

- legacy environment variables (``MDM_BACKEND`` -> ``MDM_DATABASE_DEFAULT_BACKEND``, and
  every ``MDM_<flat 1.x key>`` of :mod:`mdm_plugin_legacy.keys_1x`), as whole names only;
  one of a setting this MDM does not have is reported;
- Python imports and ``MDMClient`` calls (``client.get_dataset(`` ->
  ``client.get_dataset_info(``); call rules apply only to a text that names ``MDMClient``;
- options of ``mdm`` command lines, per command (``mdm dataset list --json`` ->
  ``--format json``; ``mdm dataset register ... -t C`` -> ``--target C``), as
  docs/migration.md maps them. A command line is ``mdm`` as a word of its own followed by
  a command 1.x had (``dataset``, ``batch``, ``timeseries``, ``stats``, ``info``,
  ``version``) or a global option; it ends at a shell separator (``; & | ( ) < >``, a
  backtick, ``#`` starting a word), at the end of a line not continued with a backslash,
  or at a quote that does not close on it (the end of a Python string holding the
  command). Options are recognised as words of their own outside quotes.

Replacements never contain a newline, so a finding's line is the same in the original
and the rewritten text. A text without 1.x usage is returned unchanged, and a rewritten
text rewrites to itself (only the findings it cannot rewrite are found again).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from typing import Any

import attrs

from mdm_core.config.model import leaves
from mdm_plugin_legacy.keys_1x import FLAT_ENV, FLAT_KEYS, FLAT_PREFIXES, KNOWN_KEYS, env_var


@attrs.frozen
class Cannot:
    """What a rule's callback returns for an occurrence it cannot rewrite, and why."""

    reason: str


Replace = str | Callable[[re.Match[str]], "str | Cannot"] | None


@attrs.frozen
class Rule:
    """One rule: ``pattern`` (compiled, multi-line) and ``replace``: a template (``\\g<1>``
    syntax), a callback of the match returning the replacement or :class:`Cannot`, or None
    for a usage that cannot be rewritten. ``reason`` says why the text changes (or why it
    cannot). ``command`` (a regex) limits the rule to the arguments of ``mdm`` command lines
    whose command words (``dataset register``, ``stats``, ``""`` for global options only)
    it fully matches; ``requires`` limits it to texts containing that string."""

    name: str
    pattern: re.Pattern[str]
    replace: Replace
    reason: str
    command: str | None = None
    requires: str | None = None


@attrs.frozen
class Finding:
    """One 1.x usage: its 1-based ``line`` (within its cell for a notebook: ``cell`` is the
    cell's 1-based index), the ``rule``, the text matched, its replacement (None: cannot be
    rewritten) and ``reason``."""

    line: int
    rule: str
    old: str
    new: str | None
    reason: str
    cell: int | None = None

    @property
    def where(self) -> str:
        return f"cell {self.cell}, line {self.line}" if self.cell is not None else f"line {self.line}"


@attrs.frozen
class Rewrite:
    """The rewritten ``text`` and the ``findings``, in line order."""

    text: str
    findings: tuple[Finding, ...]

    @property
    def rewrites(self) -> int:
        return sum(f.new is not None for f in self.findings)

    @property
    def cannot(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.new is None)


# -- building blocks of the table ------------------------------------------------------------
#: An option's value: a quoted string or a bare word.
_VALUE = r"""(?:"[^"\n]*"|'[^'\n]*'|[^\s;&|()<>"'`]+)"""


def _opt(spelling: str) -> str:
    """``spelling`` as a word of its own (``-t`` but not ``-tx`` nor ``--test-days``)."""
    return rf"(?<!\S){re.escape(spelling)}(?=[\s=]|$)"


def _rule(name: str, pattern: str, replace: Replace, reason: str, **kw: Any) -> Rule:
    return Rule(name, re.compile(pattern, re.MULTILINE), replace, reason, **kw)


def _rename(command: str, old: str, new: str) -> Rule:
    return _rule(f"{command} {old}", _opt(old), new, f"1.x `{old}` is `{new}` now", command=command)


def _drop(command: str, old: str, reason: str) -> Rule:
    return _rule(f"{command} {old}", rf"[ \t]*{_opt(old)}", "", reason, command=command)


def _report(command: str, old: str, reason: str) -> Rule:
    return _rule(f"{command} {old}", _opt(old), None, reason, command=command)


def _column_types(match: re.Match[str]) -> str | Cannot:
    """``--categorical-columns a,b`` -> ``--type a=categorical --type b=categorical``."""
    kind, value = match["kind"], match["value"].strip("\"'")
    columns = [c.strip() for c in value.split(",") if c.strip()]
    if not columns or any(not re.fullmatch(r"[\w.-]+", c) for c in columns):
        return Cannot(f"the columns of --{kind}-columns are not a literal list: give one `--type COL={kind}` "
                      "per column")
    return " ".join(f"--type {c}={kind}" for c in columns)


def _timeseries_split(match: re.Match[str]) -> str | Cannot:
    """``timeseries split NAME --test-days N`` -> ``dataset split NAME --test-days N``."""
    arguments = match.string
    if re.search(_opt("--test-days"), arguments) and not re.search(
            "|".join(_opt(o) for o in ("--test-size", "--n-splits", "--gap", "--strategy", "--output", "-o")),
            arguments):
        return f"{match['space']}dataset"
    return Cannot("1.x `timeseries split` without --test-days wrote cross-validation folds to CSV: use "
                  "`mdm dataset split NAME --time-column C --test-size F` (one time-ordered hold-out)")


def _legacy_variables() -> dict[str, str]:
    """Legacy variable -> the variable of its 1.x key: the flat ones (``MDM_BACKEND``) and
    ``MDM_<KEY>`` for every key of the flat ``config.yaml`` (``MDM_LOG_FILE``,
    ``MDM_SQLITE_JOURNAL_MODE``)."""
    names = {name: env_var(dotted) for name, dotted in FLAT_ENV.items()}
    names.update({f"MDM_{key.upper()}": env_var(dotted) for key, dotted in FLAT_KEYS.items()})
    for prefix, section in FLAT_PREFIXES.items():
        names.update({f"MDM_{prefix.upper()}{dotted[len(section):].upper()}": env_var(dotted)
                      for dotted in KNOWN_KEYS if dotted.startswith(section)})
    return {old: new for old, new in names.items() if old != new}


_NEW_VARIABLES = {leaf.env_var for leaf in leaves().values()}
#: Legacy variable -> the new variable of the same setting.
LEGACY_VARIABLES: dict[str, str] = {o: n for o, n in _legacy_variables().items() if n in _NEW_VARIABLES}
#: Legacy variables of 1.x settings this MDM does not have.
UNKNOWN_VARIABLES: tuple[str, ...] = tuple(sorted(set(_legacy_variables()) - set(LEGACY_VARIABLES)))


def _any_of(names: Iterable[str]) -> str:
    """A regex of any of ``names`` as a whole word, the longest first."""
    return rf"(?<!\w)(?P<name>{'|'.join(sorted(names, key=len, reverse=True))})(?!\w)"


#: The dotted tail of a 1.x module other than those with a rule of their own.
_OTHER_MODULE = r"(?:\.(?!migration\b|adapters\b)\w+)*"
_REGISTER, _LIST, _INFO, _SEARCH = "dataset register", "dataset list", "dataset info", "dataset search"
_STATS, _EXPORT, _REMOVE = "dataset stats", "dataset export", "(dataset|batch) remove"
_BEXPORT, _BSTATS = "batch export", "batch stats"

#: Every rule, in the order it is applied (see the module doc).
RULES: tuple[Rule, ...] = (
    # -- environment variables
    _rule("legacy variable", _any_of(LEGACY_VARIABLES), lambda m: LEGACY_VARIABLES[m["name"]],
          "1.x variable: this MDM reads the MDM_<SECTION>_<KEY> name"),
    _rule("legacy variable without counterpart", _any_of(UNKNOWN_VARIABLES), None,
          "a 1.x setting this MDM does not have: remove it"),
    # -- Python
    _rule("import MDMClient", r"\bfrom[ \t]+mdm[ \t]+import[ \t]+MDMClient(?![\w,])",
          "from mdm_core.datasets.client import MDMClient", "MDMClient lives in mdm_core.datasets.client"),
    _rule("import mdm.migration", r"(?<![\w.])(?:from[ \t]+|import[ \t]+)mdm\.migration\b", None,
          "the 1.x migration helpers are gone: use `mdm-migrate` or mdm_core.migration (docs/migration.md)"),
    _rule("mdm.adapters", r"(?<![\w.])mdm\.adapters\b", None,
          "the 1.x adapters are gone: use MDMClient (mdm_core.datasets.client) or the storage plugins"),
    _rule("import mdm", rf"^[ \t]*(?:from[ \t]+mdm{_OTHER_MODULE}[ \t]+import\b|import[ \t]+mdm{_OTHER_MODULE}(?![\w.]))",
          None,
          "the 1.x package `mdm` is gone: `from mdm_core.datasets.client import MDMClient`"),
    _rule("get_dataset", r"(?<=[\w)])\.get_dataset\(", ".get_dataset_info(",
          "MDMClient.get_dataset is get_dataset_info now", requires="MDMClient"),
    _rule("query_dataset", r"(?<=[\w)])\.query_dataset\(", ".query(",
          "MDMClient.query_dataset is query now", requires="MDMClient"),
    _rule("compute_statistics", r"(?<=[\w)])\.compute_statistics\(", ".get_statistics(",
          "MDMClient.compute_statistics is get_statistics now", requires="MDMClient"),
    _rule("get_statistics full", r"(?<=[\w)])(?P<call>\.get_statistics\([^()\n]*?)\bfull(?=[ \t]*=)",
          r"\g<call>extended", "get_statistics(full=...) is get_statistics(extended=...) now", requires="MDMClient"),
    _rule("split_time_series", r"(?<=[\w)])\.split_time_series\(", None,
          "use client.split_dataset(name, time_column=..., test_size=... or test_days=...): its options differ",
          requires="MDMClient"),
    _rule("load_dataset_files", r"(?<=[\w)])\.load_dataset_files\(", None,
          "use {t: client.load_dataset(name, t) for t in client.get_dataset_info(name).tables}",
          requires="MDMClient"),
    _rule("get_connection", r"(?<=[\w)])\.(?:get_connection|execute_sql)\(", None,
          "use client.get_engine(name) (SQLAlchemy) or client.query(name, sql)", requires="MDMClient"),
    # -- mdm command lines: global options and top-level commands
    _rule("--version", r"^(?P<space>\s+)--version(?=\s|$)", r"\g<space>version", "1.x `mdm --version` is `mdm version`",
          command=""),
    _report("", "--config", "set MDM_HOME_DIR=DIR instead: MDM reads DIR/mdm.yaml"),
    _report("", "--no-color", "set NO_COLOR=1 instead (piped output has no colour anyway)"),
    # -- mdm stats: --system, --operations, show, summary, dataset, logs, cleanup and dashboard are as in 1.x
    _report("stats", "--performance", "use `mdm benchmark` (rows/s per backend and operation)"),
    # -- mdm dataset register
    _rename(_REGISTER, "-t", "--target"),
    _rename(_REGISTER, "-d", "--description"),
    _rename(_REGISTER, "-f", "--force"),
    _rule("register --KIND-columns", rf"(?<!\S)--(?P<kind>categorical|datetime|numeric|text)-columns(?:=|\s+)"
                                     rf"(?P<value>{_VALUE})", _column_types,
          "1.x --KIND-columns a,b is one --type COL=KIND per column", command=_REGISTER),
    *(_report(_REGISTER, o, "put the files in one folder as train.*, test.*, validation.*, sample_submission.* "
                            "and register the folder") for o in ("--no-auto", "--train", "--test", "--validation",
                                                                 "--submission")),
    # -- mdm dataset list, info, search
    _rename(_LIST, "--json", "--format json"),
    _rule("list --format text", rf"[ \t]*(?:{_opt('--format')}|{_opt('-f')})(?:=|\s+)text(?=\s|$)", "",
          "text is the default format", command=_LIST),
    _rename(_LIST, "-f", "--format"),
    _rule("list --sort-by registration_date", rf"{_opt('--sort-by')}(?P<sep>=|\s+)registration_date(?=\s|$)",
          r"--sort-by\g<sep>registered", "1.x sort key registration_date is `registered` now", command=_LIST),
    _rename(_LIST, "--filter-backend", "--backend"),
    _drop(_LIST, "--all-backends", "every dataset is listed whatever its backend"),
    _report(_LIST, "--filter", "use `mdm dataset search --problem-type X` (or --tag T)"),
    _rename(_INFO, "--json", "--format json"),
    *(_drop(_INFO, o, "columns and feature tables are always shown; statistics: `mdm dataset stats NAME`")
      for o in ("--details", "-d", "--show-columns", "--show-features")),
    _rule("search --pattern", rf"{_opt('--pattern')}(?:=|\s+)(?=\S)", "", "search takes the pattern (globs too) "
          "as its argument", command=_SEARCH),
    *(_drop(_SEARCH, o, "search always looks at all metadata, case-insensitively")
      for o in ("--deep", "--case-sensitive")),
    _report(_SEARCH, "--limit", "search has no limit: pipe it through `head`"),
    # -- mdm dataset stats, export, remove
    _rename(_STATS, "--full", "--extended"),
    _rename(_STATS, "--json", "--format json"),
    _report(_STATS, "--export", "write `--format json > FILE` instead"),
    _rule(f"{_EXPORT} --output-dir", rf"{_opt('--output-dir')}(?P<sep>=|\s+)", r"-o\g<sep>",
          "1.x --output-dir is -o now", command=_EXPORT),
    _rename(_EXPORT, "-f", "--format"),
    _rename(_EXPORT, "--no-include-features", "--no-features"),
    _rule("export --format excel", rf"{_opt('--format')}(?:=|\s+)excel(?=\s|$)", None,
          "Excel is not written: use --format parquet or csv", command=_EXPORT),
    _report(_EXPORT, "--metadata-only", "use `mdm dataset info NAME --format json > NAME.json`"),
    _report(_EXPORT, "--no-header", "use --format csv, then `tail -n +2`"),
    _report(_EXPORT, "--output", "1.x --output named a file; -o names a folder now (files <dataset>_<table>.<ext>): "
                                 "use --table T -o DIR"),
    _rename(_REMOVE, "-f", "--force"),
    # -- mdm batch
    _rule(f"{_BEXPORT} --output-dir", rf"{_opt('--output-dir')}(?P<sep>=|\s+)", r"-o\g<sep>",
          "1.x --output-dir is -o now", command=_BEXPORT),
    _rename(_BEXPORT, "-f", "--format"),
    _rename(_BEXPORT, "-c", "--compression"),
    _report(_BEXPORT, "--parallel", "datasets are exported one after another (each streamed): drop --parallel"),
    _report(_BEXPORT, "--metadata-only", "use `mdm dataset info NAME --format json` per dataset"),
    _rename(_BSTATS, "--full", "--extended"),
    _rule(f"{_BSTATS} --export", rf"{_opt('--export')}(?P<sep>=|\s+)", r"-o\g<sep>",
          "1.x batch stats --export DIR is -o DIR now (one <name>_stats.json each)", command=_BSTATS),
    # -- mdm timeseries
    _rule("timeseries split", r"^(?P<space>\s+)timeseries(?=\s+split\b)", _timeseries_split,
          "1.x `timeseries split --test-days` is `dataset split` now (a new dataset NAME_split)",
          command="timeseries split"),
    _rule("timeseries analyze", r"^\s+timeseries\s+analyze\b", None,
          "use `mdm timeseries validate NAME` and `mdm dataset stats NAME --extended`", command="timeseries analyze"),
    *(_report("timeseries validate", o, "1.x cross-validation folds: use `mdm dataset split NAME --time-column C`")
      for o in ("--folds", "--gap")),
)

# -- finding mdm command lines -----------------------------------------------------------------
_MDM = re.compile(r"(?<![\w.$-])mdm(?![\w./-])")
_GROUPS = ("dataset", "batch", "timeseries")
_TOP = ("stats", "info", "version")
_GLOBAL = ("--debug", "-v", "--verbose")
_STOP = set(";&|()<>`\n")
_QUOTED = re.compile(r""""[^"\n]*"|'[^'\n]*'""")


def _words(text: str, start: int) -> tuple[list[tuple[int, int, bool]], int]:
    """The words of a command line from ``start``: (start, end, quoted) each, and where the
    line ends (see the module doc)."""
    words: list[tuple[int, int, bool]] = []
    i, n = start, len(text)
    while True:
        while i < n and (text[i] in " \t" or text.startswith("\\\n", i) or text.startswith("\\\r\n", i)):
            i += 3 if text.startswith("\\\r\n", i) else 2 if text[i] == "\\" else 1
        if i >= n or text[i] in _STOP or text[i] == "#" or text[i] == "\r":
            return words, i
        begin, quoted = i, False
        while i < n and text[i] not in _STOP and text[i] not in " \t\r":
            if text[i] in "\"'":
                close = text.find(text[i], i + 1)
                if close < 0 or "\n" in text[i:close]:
                    break
                quoted, i = True, close + 1
            else:
                i += 1
        if i == begin:
            return words, begin
        words.append((begin, i, quoted))


def _command(text: str, words: list[tuple[int, int, bool]]) -> str | None:
    """The command words of an ``mdm`` command line (``dataset register``; ``""`` for
    global options only), or None when ``mdm`` is not a command there."""
    plain = [text[a:b] for a, b, quoted in words if not quoted]
    while plain and plain[0] in _GLOBAL:
        plain.pop(0)
    if not plain:
        return None
    if plain[0] in _GROUPS:
        return f"{plain[0]} {plain[1]}" if len(plain) > 1 and not plain[1].startswith("-") else plain[0]
    if plain[0] in _TOP:
        return plain[0]
    return "" if plain[0].startswith("--") else None


class _Scan:
    """One pass of the rules over a text, collecting findings (see :func:`rewrite_text`)."""

    def __init__(self, text: str, cell: int | None) -> None:
        self.text, self.cell = text, cell
        self.findings: list[Finding] = []

    def apply(self, rule: Rule, text: str, offset: int = 0, *, words: bool = False) -> str:
        """``text`` (which starts at ``offset`` in ``self.text``) with ``rule`` applied. With
        ``words`` the text is a command line's arguments: a match starting inside
        quotes is left alone."""
        quoted = [m.span() for m in _QUOTED.finditer(text)] if words else []

        def one(match: re.Match[str]) -> str:
            if any(a <= match.start() < b for a, b in quoted):
                return match[0]
            line = self.text.count("\n", 0, offset) + text.count("\n", 0, match.start()) + 1
            outcome = rule.replace(match) if callable(rule.replace) else (
                None if rule.replace is None else match.expand(rule.replace))
            if outcome is None or isinstance(outcome, Cannot):
                reason = outcome.reason if isinstance(outcome, Cannot) else rule.reason
                self.findings.append(Finding(line, rule.name, match[0].strip(), None, reason, self.cell))
                return match[0]
            if outcome != match[0]:
                self.findings.append(Finding(line, rule.name, match[0].strip(), outcome.strip(), rule.reason,
                                             self.cell))
            return outcome

        return rule.pattern.sub(one, text)

    def command_lines(self, rules: list[Rule]) -> None:
        """Apply the command rules to the arguments of every ``mdm`` command line."""
        out, done = [], 0
        for match in _MDM.finditer(self.text):
            if match.start() < done:
                continue
            words = _words(self.text, match.end())[0]
            command = _command(self.text, words)
            if command is None:
                continue
            end = words[-1][1]
            arguments = self.text[match.end():end]
            for rule in rules:
                if re.fullmatch(rule.command or "", command):
                    arguments = self.apply(rule, arguments, match.end(), words=True)
            out.append(self.text[done:match.end()] + arguments)
            done = end
        self.text = "".join(out) + self.text[done:]


def rewrite_text(text: str, *, cell: int | None = None, context: str = "") -> Rewrite:
    """``text`` with every rule of :data:`RULES` applied, and the findings. ``cell`` is
    recorded in the findings (the notebook cell the text is); ``context`` is more text the
    ``requires`` of rules look at (the other cells of a notebook)."""
    rules = [r for r in RULES if r.requires is None or r.requires in text or r.requires in context]
    scan = _Scan(text, cell)
    for rule in rules:
        if rule.command is None:
            scan.text = scan.apply(rule, scan.text)
    scan.command_lines([r for r in rules if r.command is not None])
    return Rewrite(scan.text, tuple(sorted(scan.findings, key=lambda f: (f.cell or 0, f.line))))


def rewrite_notebook(text: str) -> Rewrite:
    """The notebook ``text`` (JSON) with its code cells' source rewritten; the findings'
    ``cell`` is the cell's 1-based index. Everything else is kept: the JSON is written back
    the way the file was (indent, key order, escaping) when one of the usual styles
    reproduces it, else as Jupyter writes it. Raises ValueError when the text is not a
    notebook."""
    notebook = json.loads(text)
    if not isinstance(notebook, dict) or not isinstance(notebook.get("cells"), list):
        raise ValueError("not a Jupyter notebook (no list of cells)")
    sources = {i: cell.get("source", "") for i, cell in enumerate(notebook["cells"], 1)
               if isinstance(cell, dict) and cell.get("cell_type") == "code"}
    joined = {i: "".join(s) if isinstance(s, list) else s for i, s in sources.items()}
    context = "\n".join(joined.values())
    findings: list[Finding] = []
    changed = False
    for i, source in joined.items():
        result = rewrite_text(source, cell=i, context=context)
        findings.extend(result.findings)
        if result.text != source:
            changed = True
            lines = result.text.splitlines(keepends=True)
            notebook["cells"][i - 1]["source"] = lines if isinstance(sources[i], list) else result.text
    return Rewrite(_dumps_like(notebook, text) if changed else text, tuple(findings))


#: (indent, sort_keys, ensure_ascii) of the JSON styles notebooks are found in; the first
#: is Jupyter's own.
_STYLES = tuple((indent, sort_keys, ascii_only) for indent in (1, 2, 4, None) for sort_keys in (True, False)
                for ascii_only in (False, True))


def _dumps_like(notebook: dict[str, Any], original: str) -> str:
    """``notebook`` as JSON in the style of ``original`` (see :func:`rewrite_notebook`)."""
    parsed = json.loads(original)
    tail = original[len(original.rstrip()):]
    for indent, sort_keys, ascii_only in _STYLES:
        if json.dumps(parsed, indent=indent, sort_keys=sort_keys, ensure_ascii=ascii_only) + tail == original:
            return json.dumps(notebook, indent=indent, sort_keys=sort_keys, ensure_ascii=ascii_only) + tail
    return json.dumps(notebook, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
