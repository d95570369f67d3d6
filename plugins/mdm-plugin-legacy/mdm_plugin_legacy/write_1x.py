"""Writing a dataset the way MDM 1.x wrote it, into a 1.x-layout home: the legacy side of
``mdm storage compare`` (:mod:`mdm_core.testing.storage_comparison`) and of tests.

1.x turned each table into a pandas DataFrame and wrote it with ``DataFrame.to_sql``
through SQLAlchemy, chunk by chunk (``chunksize`` = its batch size; the first chunk
created the table, so its dtypes fixed the declared types: BIGINT, FLOAT/DOUBLE, TEXT,
BOOLEAN, DATETIME/TIMESTAMP). So here: SQLite and DuckDB go to
``datasets/<name>/<name>.sqlite|duckdb``, PostgreSQL to a database ``mdm_<name>`` created
on the given server. The dataset is recorded in ``config/datasets/<name>.yaml`` (1.x's
keys, in 1.x's order) with a JSON copy in ``datasets/<name>/dataset_info.json``. What
pandas did to the values is kept on purpose: NaN and NULL both become NULL, integer
columns with NULLs become floats.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import yaml

from mdm_core.errors import StorageError

FILE_ENGINES = {"sqlite": "sqlite", "duckdb": "duckdb"}


def write_1x_dataset(home: Path, name: str, backend: str, tables: Mapping[str, pa.Table], *,
                     batch_size: int = 5_000, datetime_columns: Sequence[str] = (),
                     postgres_conninfo: str | None = None) -> dict[str, Any]:
    """Write ``tables`` as 1.x dataset ``name`` (already normalised: lower-case letters,
    digits, ``_``) on ``backend`` into ``home``; returns the YAML's content.
    ``postgres_conninfo`` (libpq conninfo of a server where the caller may create
    databases) is needed for ``postgresql``: database ``mdm_<name>`` is created there and
    :func:`drop_1x_postgres_database` removes it."""
    home = Path(home)
    folder = home / "datasets" / name
    folder.mkdir(parents=True, exist_ok=True)
    (home / "config" / "datasets").mkdir(parents=True, exist_ok=True)
    if backend in FILE_ENGINES:
        path = folder / f"{name}.{FILE_ENGINES[backend]}"
        database: dict[str, Any] = {"backend": backend, "path": str(path)}
        engine = _engine(f"{backend}:///{path}")
    elif backend == "postgresql":
        if not postgres_conninfo:
            raise StorageError("Writing a 1.x PostgreSQL dataset needs the server's connection string.")
        params = _create_database(postgres_conninfo, f"mdm_{name}")
        database = {"backend": "postgresql", **{k: params[k] for k in ("host", "port", "user") if params.get(k)},
                    "database": f"mdm_{name}"}
        engine = _engine("postgresql+psycopg://", conninfo=_with_dbname(postgres_conninfo, f"mdm_{name}"))
    else:
        raise StorageError(f"MDM 1.x had no '{backend}' backend (sqlite, duckdb or postgresql).")
    try:
        for table, data in tables.items():
            data.to_pandas().to_sql(table, engine, if_exists="append", index=False, chunksize=batch_size)
    finally:
        engine.dispose()
    info = _yaml_record(name, database, list(tables), list(datetime_columns), sum(t.num_rows for t in tables.values()))
    (home / "config" / "datasets" / f"{name}.yaml").write_text(
        yaml.safe_dump(info, default_flow_style=False, sort_keys=False, allow_unicode=True), encoding="utf-8")
    (folder / "dataset_info.json").write_text(json.dumps(info, indent=2), encoding="utf-8")
    return info


def drop_1x_postgres_database(postgres_conninfo: str, name: str) -> None:
    """Drop database ``mdm_<name>`` written by :func:`write_1x_dataset` (if it exists)."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(postgres_conninfo, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(f"mdm_{name}")))


def _create_database(conninfo: str, dbname: str) -> dict[str, Any]:
    import psycopg
    from psycopg import sql
    from psycopg.conninfo import conninfo_to_dict

    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
    return dict(conninfo_to_dict(conninfo))


def _with_dbname(conninfo: str, dbname: str) -> str:
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    return make_conninfo(**{**conninfo_to_dict(conninfo), "dbname": dbname})


def _engine(url: str, *, conninfo: str | None = None) -> Any:
    import sqlalchemy

    if conninfo is None:
        return sqlalchemy.create_engine(url)
    import psycopg

    return sqlalchemy.create_engine(url, creator=lambda: psycopg.connect(conninfo))


def _yaml_record(name: str, database: dict[str, Any], tables: list[str], datetime_columns: list[str],
                 rows: int) -> dict[str, Any]:
    now = dt.datetime.now(dt.UTC)
    return {
        "name": name, "display_name": name, "description": "", "database": database,
        "tables": {t: t for t in tables}, "problem_type": None, "target_column": None, "id_columns": [],
        "time_column": None, "group_column": None, "feature_tables": {},
        "registered_at": now.isoformat(), "last_updated_at": None, "tags": [], "source": f"{name}.csv",
        "version": "1.0.0",
        "metadata": {"datetime_columns": datetime_columns,
                     "statistics": {"row_count": rows, "computed_at": now.replace(tzinfo=None).isoformat()}},
    }
