"""Where a 1.x dataset's database is: a file (SQLite, DuckDB) or a PostgreSQL database.

File databases (:func:`locate_file`), in the order of ``LEGACY_MDM_1x.md``:

1. ``database.path`` as written, when it is absolute and exists;
2. that path re-rooted under the current home (the home was moved or copied): the
   longest tail of it that exists under the home, else ``<folder>/<file name>``;
3. ``<folder>/<name>.<backend>`` (``.sqlite`` / ``.duckdb``), then the other of the two;
4. the names older 1.x versions used: ``dataset.sqlite``, ``dataset.duckdb``, ``<name>.db``.

The first existing file wins; its engine is read from its first bytes (``SQLite format
3`` / DuckDB's ``DUCK`` magic), so a ``.db`` file or a file whose YAML names the wrong
backend is still opened right. Every path tried is kept for the "database missing"
message.

PostgreSQL (:func:`locate_postgres`): database ``mdm_<name>`` (the YAML's
``database.database`` when given); host, port, user, password and sslmode taken, each
key from the highest layer that sets it: ``MDM_DATABASE_POSTGRESQL_<KEY>`` (and the
parts of ``MDM_DATABASE_POSTGRESQL_DSN``) > the dataset's YAML > the home's 1.x config
files > libpq's own defaults and environment (``PGHOST``, ``PGPASSWORD``, ``~/.pgpass``,
...), which apply to whatever is still unset. The password is kept only in a field
masked in reprs and is registered with :func:`mdm_core.secrets.remember`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from mdm_core.secrets import dsn_password, remember, secret_repr

FILE_ENGINES = ("sqlite", "duckdb")
POSTGRES_KEYS = ("host", "port", "user", "password", "sslmode")


@attrs.frozen
class FileLocation:
    """A SQLite or DuckDB database file. ``path`` is the file found (None when none was);
    ``engine`` what the file is (from its magic bytes; the YAML's backend when no file
    was found or its bytes say nothing); ``tried`` every path looked at, in order;
    ``recorded`` the YAML's ``database.path`` as written; ``how`` which rule found it
    (``"recorded path"``, ``"re-rooted"``, ``"fallback name"``, or ``"not found"``)."""

    engine: str
    path: Path | None
    tried: tuple[Path, ...] = ()
    recorded: str | None = None
    how: str = "not found"

    @property
    def found(self) -> bool:
        return self.path is not None

    def describe(self, home: Path | None = None) -> dict[str, Any]:
        """Engine and path (relative to ``home`` when inside it), for messages."""
        return {"engine": self.engine, "path": _shown(self.path, home) if self.path else None}


@attrs.frozen
class PostgresLocation:
    """A 1.x dataset's PostgreSQL database. ``None`` values are left to libpq (its
    environment and defaults). ``password`` never shows in reprs; ``origins`` says where
    each set value came from (``"dataset YAML"``, a config file, ``env NAME``)."""

    dbname: str
    host: str | None = None
    port: int | str | None = None
    user: str | None = None
    sslmode: str | None = None
    password: str | None = attrs.field(default=None, repr=secret_repr)
    origins: dict[str, str] = attrs.field(factory=dict)

    engine = "postgresql"

    @property
    def found(self) -> bool:
        return True

    def connect_params(self) -> dict[str, Any]:
        """Keyword arguments for ``psycopg.connect`` (holds the password: never show it)."""
        params = {"dbname": self.dbname, "host": self.host, "port": self.port, "user": self.user,
                  "sslmode": self.sslmode, "password": self.password}
        return {k: v for k, v in params.items() if v not in (None, "")}

    def describe(self, home: Path | None = None) -> dict[str, Any]:
        """Host, port, user and database: what may be shown (never the password)."""
        return {"engine": "postgresql", "host": self.host, "port": self.port, "user": self.user,
                "database": self.dbname}


def file_engine(path: Path) -> str | None:
    """``"sqlite"`` or ``"duckdb"`` from the first bytes of ``path``; None if neither."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(16)
    except OSError:
        return None
    if head.startswith(b"SQLite format 3\x00"):
        return "sqlite"
    if head[8:12] == b"DUCK":
        return "duckdb"
    return None


def locate_file(name: str, backend: str, recorded: Any, folder: Path, home: Path) -> FileLocation:
    """The database file of dataset ``name`` (see the module doc for the order)."""
    tried: list[Path] = []
    recorded_text = str(recorded) if isinstance(recorded, str | Path) and str(recorded) else None
    candidates: list[tuple[Path, str]] = []
    if recorded_text:
        written = Path(recorded_text).expanduser()
        if written.is_absolute():
            candidates.append((written, "recorded path"))
        parts = written.parts[1:] if written.is_absolute() else written.parts
        for start in range(len(parts) - 1):  # longest tail first, at least folder/file
            tail = home.joinpath(*parts[start:])
            if tail.is_file():
                candidates.append((tail, "re-rooted"))
                break
        candidates.append((folder / written.name, "re-rooted"))
    ext = backend if backend in FILE_ENGINES else "sqlite"
    other = "duckdb" if ext == "sqlite" else "sqlite"
    for file_name in (f"{name}.{ext}", f"{name}.{other}", "dataset.sqlite", "dataset.duckdb", f"{name}.db"):
        candidates.append((folder / file_name, "fallback name"))
    for path, how in candidates:
        if path in tried:
            continue
        tried.append(path)
        if path.is_file():
            return FileLocation(file_engine(path) or ext, path, tuple(tried), recorded_text, how)
    return FileLocation(ext, None, tuple(tried), recorded_text, "not found")


def locate_postgres(name: str, database: Mapping[str, Any], settings: Any) -> PostgresLocation:
    """The PostgreSQL database of dataset ``name``: ``database`` is the YAML's
    ``database`` mapping, ``settings`` the home's :class:`LegacySettings` (see the module
    doc for which value wins)."""
    params: dict[str, Any] = {}
    origins: dict[str, str] = {}

    def apply(values: Mapping[str, Any], origin: str) -> None:
        for key in POSTGRES_KEYS:
            value = values.get(key)
            if value not in (None, ""):
                params[key], origins[key] = value, origin

    def settings_layer(from_env: bool) -> None:
        sources = getattr(settings, "sources", {}) or {}
        dsn_key = "database.postgresql.dsn"
        if dsn_key in sources and sources[dsn_key].startswith("env ") == from_env:
            apply(_dsn_parts(settings.get(dsn_key)), sources[dsn_key])
        for key in POSTGRES_KEYS:
            dotted = f"database.postgresql.{key}"
            if dotted in sources and sources[dotted].startswith("env ") == from_env:
                apply({key: settings.get(dotted)}, sources[dotted])

    if settings is not None:
        settings_layer(from_env=False)
    apply(database, "dataset YAML")
    if settings is not None:
        settings_layer(from_env=True)
    dbname = database.get("database")
    dbname = dbname if isinstance(dbname, str) and dbname else f"mdm_{name}"
    password = params.get("password")
    password = None if password is None else str(password)
    remember(password)
    return PostgresLocation(
        dbname=dbname,
        host=None if params.get("host") is None else str(params["host"]),
        port=params.get("port"),
        user=None if params.get("user") is None else str(params["user"]),
        sslmode=None if params.get("sslmode") is None else str(params["sslmode"]),
        password=password,
        origins=origins,
    )


def _dsn_parts(dsn: Any) -> dict[str, Any]:
    """host/port/user/password/sslmode of a libpq DSN (URI or key=value); {} if unusable."""
    if not isinstance(dsn, str) or not dsn.strip():
        return {}
    remember(dsn_password(dsn))
    try:
        from psycopg.conninfo import conninfo_to_dict
    except ImportError:  # pragma: no cover - psycopg is how PostgreSQL is reached at all
        return {}
    try:
        parts = conninfo_to_dict(dsn)
    except Exception:
        return {}
    return {k: parts[k] for k in POSTGRES_KEYS if k in parts}


def _shown(path: Path, home: Path | None) -> str:
    if home is not None:
        try:
            return str(path.relative_to(home))
        except ValueError:
            pass
    return str(path)
