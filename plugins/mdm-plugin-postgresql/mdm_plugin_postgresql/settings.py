"""``database.postgresql``: the settings of the PostgreSQL backend (psycopg is not
imported here)."""

from __future__ import annotations

import attrs

from mdm_core.secrets import masked_repr, secret_repr


@attrs.frozen
class PostgreSQLSettings:
    """``database.postgresql``: where the server is and how many connections to keep.

    ``dsn`` (a ``postgresql://`` URI or ``key=value`` conninfo) wins over ``host``/``port``/
    ``user``/``password``/``dbname``/``sslmode``; prefer a password from the environment
    (``MDM_DATABASE_POSTGRESQL_PASSWORD``, ``PGPASSWORD``) or a connection service over one
    written in ``mdm.yaml``. ``pool_size`` connections are kept open, ``max_overflow`` more
    may be opened under load; both also size the pool of a SQLAlchemy engine
    (``MDMClient.get_engine``), which waits at most ``pool_timeout`` seconds for a free
    connection and replaces connections older than ``pool_recycle`` seconds. The repr masks the password (field and inside the DSN): the
    host masks every field declared with ``repr=secret_repr`` or ``repr=masked_repr``.
    """

    dsn: str | None = attrs.field(default=None, repr=masked_repr)
    host: str = "localhost"
    port: int = 5432
    user: str | None = None
    password: str | None = attrs.field(default=None, repr=secret_repr)
    dbname: str = "postgres"
    sslmode: str = "prefer"
    pool_size: int = 5
    max_overflow: int = 10
    pool_timeout: float = 30.0
    pool_recycle: int = 1800
