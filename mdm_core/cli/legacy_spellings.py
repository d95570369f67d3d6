"""MDM 1.x spellings of ``mdm`` commands and options, and their new spelling.

The tables :data:`SPELLINGS` and :data:`COMMANDS` are the ones of ``docs/migration.md``
("1.x commands and options, and their new spelling"), restricted to what maps to an
existing command or option. :func:`rewrite` turns an argv into the new spelling;
:func:`apply_legacy_spellings` is what ``mdm`` does with it: with the flag ``use_new_cli``
off each 1.x spelling is rewritten with a one-line note on stderr, with it on (or with
settings that cannot load) the argv is refused with exit code 2, naming the new spelling.

Only what would otherwise be a usage error is ever a 1.x spelling: an option the command
does not have, a value its option does not accept, a command that does not exist. The argv
is walked along the real command tree, so the value of an option (``--description
"--json"``) and everything after ``--`` is never rewritten.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping, Sequence

import attrs
import click

JSON_COMMANDS = ("dataset list", "dataset info", "dataset stats", "dataset search")
INFO_SHOWS_ALL = "columns and feature tables are always shown; statistics: `mdm dataset stats NAME`"
TABLE_FORMAT = {"text": "table", "rich": "table"}


@attrs.frozen
class Spelling:
    """A 1.x option ``old`` of the commands in ``commands`` (``"dataset list"``).

    ``new`` is the new spelling, its tokens separated by spaces: ``{}`` stands for the 1.x
    option's value (the 1.x option then takes one), ``""`` means the option is left out
    (``why`` says why). ``values`` translates 1.x values (``registration_date`` ->
    ``registered``); when ``old`` is also a new option, only a value it names and the new
    option refuses is a 1.x spelling. ``each``: the value is a comma list and ``new`` is
    repeated per item."""

    commands: tuple[str, ...]
    old: str
    new: str
    values: Mapping[str, str] = attrs.field(factory=dict)
    each: bool = False
    why: str = ""

    @property
    def takes_value(self) -> bool:
        return "{}" in self.new

    def replacement(self, value: str | None) -> list[str]:
        """The new tokens for the 1.x option given with ``value``."""
        if value is None:
            return self.new.split()
        value = self.values.get(value, value)
        items = [v.strip() for v in value.split(",") if v.strip()] if self.each else [value]
        return [token.replace("{}", item) for item in items for token in self.new.split()]


def _types(option: str, kind: str) -> Spelling:
    return Spelling(("dataset register",), option, f"--type {{}}={kind}", each=True)


SPELLINGS: tuple[Spelling, ...] = (
    Spelling(JSON_COMMANDS, "--json", "--format json"),
    Spelling(("dataset register", "dataset remove", "batch remove"), "-f", "--force"),
    Spelling(("dataset register",), "-t", "--target {}"),
    Spelling(("dataset register",), "-d", "--description {}"),
    _types("--categorical-columns", "categorical"),
    _types("--datetime-columns", "datetime"),
    _types("--numeric-columns", "numeric"),
    _types("--text-columns", "text"),
    Spelling(("dataset list",), "--sort-by", "--sort-by {}", values={"registration_date": "registered"}),
    Spelling(("dataset list",), "--format", "--format {}", values=TABLE_FORMAT),
    Spelling(("dataset list",), "-f", "--format {}", values=TABLE_FORMAT),
    Spelling(("dataset list",), "--filter-backend", "--backend {}"),
    Spelling(("dataset list",), "--all-backends", "", why="every dataset is listed, whatever its backend"),
    Spelling(("dataset info",), "--details", "", why=INFO_SHOWS_ALL),
    Spelling(("dataset info",), "-d", "", why=INFO_SHOWS_ALL),
    Spelling(("dataset info",), "--show-columns", "", why=INFO_SHOWS_ALL),
    Spelling(("dataset info",), "--show-features", "", why=INFO_SHOWS_ALL),
    Spelling(("dataset search",), "--deep", "", why="search always looks at all metadata"),
    Spelling(("dataset search",), "--pattern", "", why="globs (* ? [...]) are always understood"),
    Spelling(("dataset stats", "batch stats"), "--full", "--extended"),
    Spelling(("dataset export", "batch export"), "--output-dir", "-o {}"),
    Spelling(("dataset export", "batch export"), "-f", "--format {}"),
    Spelling(("dataset export",), "--no-include-features", "--no-features"),
    Spelling(("dataset export",), "--include-features", "", why="feature tables are exported unless --no-features"),
    Spelling(("batch export",), "-c", "--compression {}"),
    Spelling(("batch export",), "--parallel", "", why="datasets are exported one after another, each streamed"),
    Spelling(("batch stats",), "--export", "-o {}"),
)

#: 1.x command paths and their new path.
COMMANDS: dict[tuple[str, ...], tuple[str, ...]] = {("timeseries", "split"): ("dataset", "split")}

_BY_COMMAND = {(command, s.old): s for s in SPELLINGS for command in s.commands}
_WORDS = {s.old for s in SPELLINGS} | {path[0] for path in COMMANDS}


@attrs.frozen
class Note:
    """One 1.x spelling met in an argv (``old`` tokens) and its new spelling (``new``
    tokens; empty: left out, ``why`` says why). A value is shown only where the new
    spelling changes it (``--sort-by registration_date``), never a free-text one."""

    old: tuple[str, ...]
    new: tuple[str, ...]
    why: str = ""

    @property
    def sentence(self) -> str:
        """``"`--json` is the MDM 1.x spelling; use `--format json`."``"""
        use = f"use `{shlex.join(self.new)}`" if self.new else f"leave it out ({self.why})"
        return " ".join(f"`{shlex.join(self.old)}` is the MDM 1.x spelling; {use}.".split())  # one line


class LegacySpellingRefused(click.ClickException):
    """A 1.x spelling while ``use_new_cli`` is on: one line naming the new spelling, exit 2."""

    exit_code = 2

    def __init__(self, notes: Sequence[Note]) -> None:
        sentences = " ".join(note.sentence for note in notes)
        super().__init__(f"{sentences} (1.x spellings are refused while the flag use_new_cli is on.)")


def apply_legacy_spellings(root: click.Group, argv: Sequence[str]) -> list[str]:
    """``argv`` for ``root`` (the ``mdm`` group) in the new spelling: unchanged when it holds
    no 1.x spelling; rewritten, with one ``Note: ...`` line per spelling on stderr, when
    ``use_new_cli`` is off. Raises :class:`LegacySpellingRefused` when it is on."""
    new_argv, notes = rewrite(argv, root)
    if not notes:
        return list(argv)
    if _new_cli_on():
        raise LegacySpellingRefused(notes)
    for note in notes:
        click.echo(f"Note: {note.sentence}", err=True)
    return new_argv


def _new_cli_on() -> bool:
    """The flag ``use_new_cli``; on when the settings cannot load (the command that runs
    reports why)."""
    from mdm_core.config import load_settings
    from mdm_core.errors import MDMError

    try:
        return load_settings().settings.flags.use_new_cli
    except MDMError:
        return True


def rewrite(argv: Sequence[str], root: click.Group) -> tuple[list[str], list[Note]]:
    """``argv`` (without the program name) with each 1.x spelling replaced by the new one,
    and a note per replacement, in order. An argv that is valid for ``root``, or holds no
    word of the tables, comes back equal and with no note."""
    args = list(argv)
    if not any(token.partition("=")[0] in _WORDS for token in args):
        return args, []
    return _Walk(root).run(args)


class _Walk:
    """One left-to-right pass over an argv along the command tree of ``root``."""

    def __init__(self, root: click.Group) -> None:
        self.ctx = click.Context(root, info_name="mdm", **root.context_settings)
        self.command: click.Command = root
        self.path: list[str] = []
        self.out: list[str] = []
        self.notes: list[Note] = []

    def run(self, args: list[str]) -> tuple[list[str], list[Note]]:
        i = 0
        while i < len(args):
            token = args[i]
            if token == "--":
                self.out.extend(args[i:])
                break
            if token.startswith("-") and len(token) > 1:
                i = self._option(args, i)
            elif isinstance(self.command, click.Group):
                step = self._subcommand(args, i)
                if not step:  # an unknown command: left to click
                    self.out.extend(args[i:])
                    break
                i += step
            else:
                self.out.append(token)
                i += 1
        return self.out, self.notes

    def _subcommand(self, args: list[str], i: int) -> int:
        """Enter the command named at ``args[i]``, or the new path of a 1.x command path
        that does not exist now; returns how many tokens it took, 0 for no command."""
        for old, new in COMMANDS.items():
            if not self.path and tuple(args[i:i + len(old)]) == old and self._resolve(old) is None:
                found = self._resolve(new)
                if found:
                    self._enter(found)
                    self.notes.append(Note(("mdm", *old), ("mdm", *new)))
                    return len(old)
        found = self._resolve(args[i:i + 1])
        if found:
            self._enter(found)
        return len(found or ())

    def _resolve(self, names: Sequence[str]) -> list[tuple[str, click.Command]] | None:
        """The commands ``names`` lead to from the current one; None when one is missing."""
        found, command = [], self.command
        for name in names:
            command = command.get_command(self.ctx, name) if isinstance(command, click.Group) else None
            if command is None:
                return None
            found.append((name, command))
        return found

    def _enter(self, found: list[tuple[str, click.Command]]) -> None:
        for name, command in found:
            self.ctx = click.Context(command, parent=self.ctx, info_name=name)
            self.command = command
            self.path.append(name)
            self.out.append(name)

    def _option(self, args: list[str], i: int) -> int:
        """Copy or rewrite the option at ``args[i]`` and its value; returns the next index."""
        token = args[i]
        name, eq, inline = token.partition("=") if token.startswith("--") else (token, "", "")
        param = _option_named(self.command, self.ctx, name)
        spelling = _BY_COMMAND.get((" ".join(self.path), name))
        if param is not None:  # a new option: 1.x only for a value it refuses and the table names
            width = 0 if param.is_flag or param.count or eq else param.nargs
            value = inline if eq else args[i + 1] if width == 1 and i + 1 < len(args) else None
            if spelling and value in spelling.values and not _accepts(param, value):
                return self._replace(spelling, args, i, name, eq, value, 1 + width)
            self.out.extend(args[i:i + 1 + width])
            return i + 1 + width
        if spelling is None or bool(eq) and not spelling.takes_value:
            self.out.append(token)  # unknown: click says so
            return i + 1
        if not spelling.takes_value:
            return self._replace(spelling, args, i, name, eq, None, 1)
        if eq:
            return self._replace(spelling, args, i, name, eq, inline, 1)
        if i + 1 >= len(args):  # the value is missing: left to click
            self.out.append(token)
            return i + 1
        return self._replace(spelling, args, i, name, eq, args[i + 1], 2)

    def _replace(self, spelling: Spelling, args: list[str], i: int, name: str, eq: str, value: str | None,
                 width: int) -> int:
        """Put the new spelling of the 1.x option ``name`` (given ``value``) in place of the
        ``width`` tokens at ``args[i]``; the note shows the value only where it changes."""
        new = spelling.replacement(value)
        self.out.extend(new)
        if value is not None and (spelling.each or value in spelling.values):
            old, shown = ((f"{name}={value}",) if eq else (name, value)), tuple(new)
        else:
            old, shown = (name,), tuple(t for t in spelling.new.split() if t != "{}")
        self.notes.append(Note(old, shown, spelling.why))
        return i + width


def _option_named(command: click.Command, ctx: click.Context, name: str) -> click.Option | None:
    for param in command.get_params(ctx):
        if isinstance(param, click.Option) and name in (*param.opts, *param.secondary_opts):
            return param
    return None


def _accepts(param: click.Option, value: str) -> bool:
    """Whether the new option takes ``value`` (only a choice can refuse one here)."""
    return not isinstance(param.type, click.Choice) or value in param.type.choices
