"""Which tables a registration path holds: one file, a Kaggle-style folder, or many files."""

from __future__ import annotations

from pathlib import Path

import attrs

from mdm_core.errors import DatasetError
from mdm_core.sources import table_suffixes

#: Kaggle split names and their aliases.
SPLIT_ALIASES = {
    "train": "train", "training": "train",
    "test": "test", "testing": "test",
    "validation": "validation", "val": "validation", "valid": "validation", "dev": "validation",
    "sample_submission": "sample_submission",
}


@attrs.frozen
class SourceTable:
    """A table to register: its table name and the file it comes from."""

    name: str
    path: Path


@attrs.frozen
class Discovered:
    """``structure`` is ``single_file``, ``kaggle`` or ``multi_file``."""

    structure: str
    tables: tuple[SourceTable, ...]


def data_stem(path: Path) -> str | None:
    """The file name without the suffix chain of an installed source format
    (:func:`mdm_core.sources.table_suffixes`), or None if no format reads it."""
    lower = path.name.lower()
    for suffix in table_suffixes():
        if lower.endswith(suffix) and len(lower) > len(suffix):
            return path.name[: -len(suffix)]
    return None


def discover(path: Path) -> Discovered:
    """Find the tables under ``path``; DatasetError if there is nothing to register."""
    if not path.exists():
        raise DatasetError(f"Path {path} does not exist.")
    if path.is_file():
        return Discovered("single_file", (SourceTable("data", path),))
    if not path.is_dir():
        raise DatasetError(f"{path} is neither a file nor a folder.")
    try:
        entries = list(path.iterdir())
    except PermissionError:
        raise DatasetError(f"Folder {path} cannot be read: permission denied (check its permissions).") from None
    files = sorted(p for p in entries if p.is_file() and not p.name.startswith(".") and data_stem(p) is not None)
    if not files:
        others = sorted(p.name + ("/" if p.is_dir() else "") for p in entries if not p.name.startswith("."))
        held = "it is empty" if not others else "it holds " + ", ".join(others[:5]) + (", ..." if len(others) > 5 else "")
        raise DatasetError(
            f"Folder {path} holds no CSV, TSV, Parquet or JSON files to register ({held})."
        )
    splits: dict[str, Path] = {}
    for file in files:
        split = SPLIT_ALIASES.get((data_stem(file) or "").lower())
        if split:
            if split in splits:
                raise DatasetError(
                    f"Folder {path} has two files for the '{split}' split: "
                    f"{splits[split].name} and {file.name}."
                )
            splits[split] = file
    if "train" in splits:
        order = ["train", "test", "validation", "sample_submission"]
        return Discovered("kaggle", tuple(SourceTable(s, splits[s]) for s in order if s in splits))
    tables: dict[str, Path] = {}
    for file in files:
        name = data_stem(file) or file.name
        if name in tables:
            raise DatasetError(f"Folder {path} has two files named '{name}': {tables[name].name}, {file.name}.")
        tables[name] = file
    return Discovered("multi_file", tuple(SourceTable(n, p) for n, p in tables.items()))
