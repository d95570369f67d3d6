"""The ``legacy-cli`` migration step (phase ``cli``): MDM 1.x usage in users' scripts.

The scripts are the files and folders given with ``mdm-migrate plan|run --scripts PATH``
(``ctx.options.scripts``, absolute paths); folders are walked recursively (not into
``.git``, virtual environments, caches, ``node_modules``; symbolic links are not
followed). Scanned: shell scripts (``.sh``, ``.bash``, or no extension and a shell
shebang), Python (``.py``), Makefiles (``Makefile``, ``GNUmakefile``, ``*.mk``), YAML
(``.yml``, ``.yaml``: CI ``run:`` steps) and notebooks (``.ipynb``: code cells only). The
rewriting itself is :mod:`mdm_plugin_legacy.script_rewrite_1x`.

- ``plan``: one unit per file with findings (its absolute path; detail ``N rewrites, M
  lines it cannot rewrite``; data: ``path``, ``kind``, ``sha256_before`` and
  ``sha256_after`` of the bytes, ``compiles``: a Python file that compiled before). Notes:
  ``path:line: why`` per line it cannot rewrite. Details: ``{"diffs": {path: unified
  diff}}``. Fingerprint: sha256 over the path and bytes of every scanned file. A path that
  does not exist is skipped (blocking); a file that is not UTF-8, a notebook that is not
  JSON, a symbolic link given as a file are skipped (not blocking). Writes nothing.
- ``apply``: refuses (MigrationError) a file whose bytes are neither those planned nor
  the rewrite's; copies the original into the phase's backup folder (its absolute path
  mirrored under it), then writes the rewrite atomically (a temp file beside it, fsync,
  ``os.replace``) with the file's mode kept. A file with nothing to rewrite (only lines it
  cannot rewrite) is left untouched. Safe to call again after an interruption.
- ``verify``: the file's sha256 is ``sha256_after``; a Python file that compiled before
  still compiles; a notebook is still JSON.
- ``rollback``: puts the original bytes back atomically (mode kept) when the file still
  holds the rewrite; refuses (MigrationError naming the file and its backup) when it was
  changed since. Works for an interrupted ``apply`` too (no result recorded).
- ``cleanup``: deletes the backups.

Scripts live outside the home, so their backups are this step's own, not
``ctx.backup_file``'s: under ``<ctx.backup_dir>/scripts`` (the phase's backup folder, the
same in the run, the rollback and the cleanup of the phase).
"""

from __future__ import annotations

import difflib
import hashlib
import json
import os
from collections.abc import Iterator
from pathlib import Path

from mdm_core.durable import write_atomically
from mdm_core.errors import MigrationError
from mdm_core.migration.step import Skipped, StepCheck, StepContext, StepPlan, Unit, UnitResult
from mdm_plugin_legacy.script_rewrite_1x import Finding, Rewrite, rewrite_notebook, rewrite_text

#: Folders a walk does not enter.
SKIP_DIRS = frozenset({".git", ".hg", ".svn", ".venv", "venv", "__pycache__", "node_modules", ".ipynb_checkpoints",
                       ".tox", ".nox", ".mypy_cache", ".pytest_cache", ".ruff_cache"})
_SHELLS = ("sh", "bash", "zsh", "dash", "ksh")


def script_kind(path: Path) -> str | None:
    """``shell``, ``python``, ``make``, ``yaml`` or ``notebook`` for a file this step
    scans, else None (reads the first line of a file without extension)."""
    suffix = path.suffix.lower()
    if suffix in (".sh", ".bash"):
        return "shell"
    kinds = {".py": "python", ".mk": "make", ".yml": "yaml", ".yaml": "yaml", ".ipynb": "notebook"}
    if suffix in kinds:
        return kinds[suffix]
    if path.name in ("Makefile", "makefile", "GNUmakefile"):
        return "make"
    if not suffix:
        with path.open("rb") as handle:
            first = handle.readline(200).decode("utf-8", "replace").split()
        interpreter = first[1:2] if first[:1] == ["#!/usr/bin/env"] else first[:1]
        if interpreter and interpreter[0].removeprefix("#!").rsplit("/", 1)[-1] in _SHELLS:
            return "shell"
    return None


def rewrite_file(text: str, kind: str) -> Rewrite:
    """The rewrite of a scanned file's text (a notebook's JSON; any other kind as text)."""
    return rewrite_notebook(text) if kind == "notebook" else rewrite_text(text)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class LegacyCliStep:
    """MDM 1.x commands, options, variables and imports in users' scripts (see the module doc)."""

    name = "legacy-cli"
    phase = "cli"

    def plan(self, ctx: StepContext) -> StepPlan:
        if not ctx.options.scripts:
            return StepPlan("no scripts given (--scripts PATH)")
        files, skipped = _scripts(ctx.options.scripts)
        units, notes, diffs, skipped = [], [], {}, list(skipped)
        digest = hashlib.sha256()
        for path, kind in files:
            data = path.read_bytes()
            digest.update(f"{path}\0{len(data)}\0".encode() + data)
            try:
                text = data.decode("utf-8")
                result = rewrite_file(text, kind)
            except (UnicodeDecodeError, ValueError) as exc:  # JSONDecodeError is a ValueError
                skipped.append(Skipped(str(path), f"not read as {kind}: {exc}", blocking=False))
                continue
            if not result.findings:
                continue
            notes.extend(f"{path}:{f.line if f.cell is None else f'cell {f.cell}:{f.line}'}: {f.old}: {f.reason}"
                         for f in result.cannot)
            if result.text != text:
                diffs[str(path)] = "".join(difflib.unified_diff(
                    text.splitlines(keepends=True), result.text.splitlines(keepends=True),
                    fromfile=str(path), tofile=f"{path} (rewritten)"))
            units.append(Unit(str(path), detail=f"{_count(result.rewrites, 'rewrite')}, "
                                                f"{_count(len(_lines(result.cannot)), 'line')} it cannot rewrite",
                              data={"path": str(path), "kind": kind, "sha256_before": sha256(data),
                                    "sha256_after": sha256(result.text.encode("utf-8")),
                                    "compiles": kind == "python" and _compiles(text, path)}))
        summary = (f"{_count(len(units), 'script')} of {len(files)} scanned use MDM 1.x: "
                   f"{sum(u.data['sha256_before'] != u.data['sha256_after'] for u in units)} to rewrite, "
                   f"{_count(len(notes), 'line')} it cannot rewrite")
        return StepPlan(summary, units=tuple(units), skipped=tuple(skipped), notes=tuple(notes),
                        details={"diffs": diffs}, fingerprint=digest.hexdigest())

    def apply(self, ctx: StepContext, unit: Unit) -> UnitResult:
        path, before, after = Path(unit.data["path"]), unit.data["sha256_before"], unit.data["sha256_after"]
        backup = _backup_path(ctx, path)
        created = {"file": str(path), "backup": str(backup) if before != after else None,
                   "sha256_before": before, "sha256_after": after}
        current = sha256(path.read_bytes())
        if current == after:  # nothing to rewrite, or an interrupted apply wrote it already
            return UnitResult(created=created)
        if current != before:
            raise MigrationError(f"{path} changed since the plan: run `mdm-migrate plan` again")
        rewritten = rewrite_file(path.read_bytes().decode("utf-8"), unit.data["kind"]).text.encode("utf-8")
        if sha256(rewritten) != after:
            raise MigrationError(f"the rewrite of {path} is not the planned one (a different version of MDM?)")
        backup.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(backup, path.read_bytes(), mode=path.stat().st_mode, temp=_temp_of(backup))
        write_atomically(path, rewritten, mode=path.stat().st_mode, temp=_temp_of(path))
        return UnitResult(created=created)

    def verify(self, ctx: StepContext, unit: Unit, result: UnitResult, *, deep: bool = True) -> StepCheck:
        path = Path(unit.data["path"])
        if not path.is_file():
            return StepCheck(False, (f"{path} is missing",))
        data = path.read_bytes()
        problems = []
        if sha256(data) != unit.data["sha256_after"]:
            problems.append(f"{path} is not the rewrite (sha256 {sha256(data)[:12]}, expected "
                            f"{unit.data['sha256_after'][:12]}): changed since")
        elif unit.data["compiles"] and not _compiles(data.decode("utf-8"), path):
            problems.append(f"{path}: the rewritten Python does not compile")
        elif unit.data["kind"] == "notebook" and not _is_json(data):
            problems.append(f"{path}: the rewritten notebook is not JSON")
        return StepCheck(not problems, tuple(problems))

    def rollback(self, ctx: StepContext, unit: Unit, result: UnitResult | None) -> None:
        path, before, after = Path(unit.data["path"]), unit.data["sha256_before"], unit.data["sha256_after"]
        backup = _backup_path(ctx, path)
        _temp_of(path).unlink(missing_ok=True)
        current = sha256(path.read_bytes()) if path.is_file() else None
        if current == before:
            return
        if current != after:
            state = "is missing" if current is None else "was changed after the migration rewrote it"
            raise MigrationError(f"Not rolling back {path}: it {state}; its original is {backup}, copy it back "
                                 "by hand if you want it.")
        if not backup.is_file() or sha256(backup.read_bytes()) != before:
            raise MigrationError(f"Not rolling back {path}: the backup of its original ({backup}) is missing or "
                                 "damaged.")
        write_atomically(path, backup.read_bytes(), mode=backup.stat().st_mode, temp=_temp_of(path))

    def cleanup(self, ctx: StepContext, unit: Unit, result: UnitResult) -> list[str]:
        """Delete the unit's backup; returns its path when there was one."""
        backup = _backup_path(ctx, Path(unit.data["path"]))
        if not backup.is_file():
            return []
        backup.unlink()
        return [str(backup)]


def _scripts(paths: tuple[str, ...]) -> tuple[list[tuple[Path, str]], list[Skipped]]:
    """(path, kind) of every file to scan, once each and sorted, and what is skipped."""
    found: dict[Path, str] = {}
    skipped: list[Skipped] = []
    for given in map(Path, paths):
        if given.is_symlink() and given.is_file():
            skipped.append(Skipped(str(given), "a symbolic link: give the file it points to", blocking=False))
        elif given.is_file():
            kind = script_kind(given)
            if kind is None:
                skipped.append(Skipped(str(given), "not a shell script, Python file, Makefile, YAML file or "
                                                   "notebook", blocking=False))
            else:
                found[given] = kind
        elif given.is_dir():
            found.update((p, k) for p in _walk(given) if (k := script_kind(p)) is not None)
        else:
            skipped.append(Skipped(str(given), "no such file or folder"))
    return sorted(found.items()), skipped


def _walk(folder: Path) -> Iterator[Path]:
    for root, dirs, names in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS)
        for name in sorted(names):
            path = Path(root, name)
            if not path.is_symlink() and path.is_file():
                yield path


def _backup_path(ctx: StepContext, path: Path) -> Path:
    """Where ``path``'s original is kept (see the module doc)."""
    return ctx.backup_dir / "scripts" / path.relative_to(path.anchor)


def _temp_of(path: Path) -> Path:
    return path.with_name(f".{path.name}.mdm-migrating")



def _compiles(text: str, path: Path) -> bool:
    try:
        compile(text, str(path), "exec", dont_inherit=True)
    except (SyntaxError, ValueError):
        return False
    return True


def _is_json(data: bytes) -> bool:
    try:
        json.loads(data)
    except ValueError:
        return False
    return True


def _lines(findings: tuple[Finding, ...]) -> set[tuple[int | None, int]]:
    return {(f.cell, f.line) for f in findings}


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"
