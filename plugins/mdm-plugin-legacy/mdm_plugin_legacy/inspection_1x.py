"""Checking a 1.x dataset record against its database, read-only.

:func:`inspect_dataset` opens the database (:mod:`mdm_plugin_legacy.databases_1x`),
counts the rows of every table and compares with the record:

- a data table missing from the database makes the dataset broken;
- a feature table listed but missing is dropped (a problem is noted);
- a feature table whose row count differs from its source table's (1.x wrote features
  chunk by chunk and could stop half-way), or present in the database but missing from
  the YAML (1.x stopped before recording it), is *incomplete*: listed in
  ``incomplete_features`` and in ``feature_tables``, never to be served as complete;
- other tables not in the record are noted and not served (a discovered dataset without
  any metadata takes every non-feature table as a data table);
- a database that cannot be opened makes the dataset broken with the reason.
"""

from __future__ import annotations

import attrs

from mdm_core.errors import StorageError
from mdm_plugin_legacy.dataset_1x import LegacyDataset, broken
from mdm_plugin_legacy.metadata_1x import FEATURE_SUFFIX
from mdm_plugin_legacy.open_1x import open_legacy_database


def inspect_dataset(dataset: LegacyDataset, *, connect_timeout: int = 5) -> LegacyDataset:
    """``dataset`` checked against its database (opened read-only): row counts of every
    table, missing data tables (broken), missing/partial/undeclared feature tables
    (``incomplete_features``). A database that cannot be opened makes it broken."""
    if not dataset.ok or dataset.location is None:
        return attrs.evolve(dataset, inspected=True)
    try:
        with open_legacy_database(dataset, connect_timeout=connect_timeout) as db:
            counts = {table: db.row_count(table) for table in db.list_tables()}
    except StorageError as exc:
        return attrs.evolve(broken(dataset, str(exc)), inspected=True)
    return _checked(dataset, counts)


def _checked(dataset: LegacyDataset, counts: dict[str, int]) -> LegacyDataset:
    problems: list[str] = []
    status = dataset.status
    tables = dict(dataset.tables)
    if not tables and dataset.origin == "discovered" and not dataset.feature_tables:
        tables = {t: t for t in counts if not t.endswith(FEATURE_SUFFIX)}
    for table in tables.values():
        if table not in counts:
            status = "broken"
            problems.append(f"Data table {table!r} is missing from the database.")
    by_table = {table: key for key, table in tables.items()}
    features = {}
    incomplete: list[str] = []
    for key, table in dataset.feature_tables.items():
        if table not in counts:
            problems.append(f"Feature table {table!r} is listed but missing from the database; ignored.")
            continue
        features[key] = table
        source = tables.get(key[: -len(FEATURE_SUFFIX)]) if key.endswith(FEATURE_SUFFIX) else None
        if source in counts and counts[table] < counts[source]:
            incomplete.append(table)
            problems.append(f"Feature table {table!r} has {counts[table]:,} of {counts[source]:,} rows of "
                            f"{source!r} (incomplete): not served; the migration regenerates it.")
        elif source in counts and counts[table] > counts[source]:
            incomplete.append(table)
            problems.append(f"Feature table {table!r} has {counts[table]:,} rows but {source!r} has "
                            f"{counts[source]:,}: not trusted, not served; the migration regenerates it.")
    known = set(tables.values()) | set(features.values())
    for table in counts:
        if table in known:
            continue
        base = table[: -len(FEATURE_SUFFIX)] if table.endswith(FEATURE_SUFFIX) else None
        if base in by_table:
            features[f"{by_table[base]}{FEATURE_SUFFIX}"] = table
            incomplete.append(table)
            if dataset.origin == "discovered":
                why = "its YAML is gone, so nothing says 1.x finished it"
            else:
                why = "1.x stopped before recording it"
            problems.append(f"Feature table {table!r} is in the database but not in the YAML ({why}; "
                            f"{counts[table]:,} of {counts[base]:,} rows): incomplete, not served; the migration "
                            "regenerates it.")
        else:
            problems.append(f"Table {table!r} is in the database but not in the dataset's tables; not served.")
    return attrs.evolve(dataset, status=status, tables=tables, feature_tables=features,
                        row_counts=counts, incomplete_features=incomplete,
                        problems=[*dataset.problems, *problems], inspected=True)
