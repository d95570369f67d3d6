"""``database.postgresql``: the settings of the PostgreSQL backend (psycopg is not
imported here)."""

from __future__ import annotations

import attrs

from mdm_core.config.fields import setting
from mdm_core.secrets import masked_repr, secret_repr


@attrs.frozen
class PostgreSQLSettings:
    """``database.postgresql``: where the server is and how many connections to keep.

    Prefer a password from the environment (``MDM_DATABASE_POSTGRESQL_PASSWORD``,
    ``PGPASSWORD``) or a connection service over one written in ``mdm.yaml``. The pool
    settings also size the pool of a SQLAlchemy engine (``MDMClient.get_engine``). The repr
    masks the password (field and inside the DSN): the host masks every field declared with
    ``repr=secret_repr`` or ``repr=masked_repr``.
    """

    dsn: str | None = setting(None, "Connection string (`postgresql://` URI or `key=value` conninfo); "
                              "wins over host/port/user/password/dbname/sslmode.", repr=masked_repr)
    host: str = setting("localhost", "Server host name or address.")
    port: int = setting(5432, "Server port.")
    user: str | None = setting(None, "User name; none: libpq's default (`PGUSER`, the login name).")
    password: str | None = setting(None, "Password; prefer the environment, `~/.pgpass` or a DSN "
                                   "from the environment.", repr=secret_repr)
    dbname: str = setting("postgres", "Database holding one schema per dataset.")
    sslmode: str = setting("prefer", "libpq `sslmode` (`disable`, `prefer`, `require`, `verify-full`, ...).")
    pool_size: int = setting(5, "Connections kept open in the pool.")
    max_overflow: int = setting(10, "Connections opened beyond `pool_size` under load.")
    pool_timeout: float = setting(30.0, "Seconds to wait for a free connection before failing.")
    pool_recycle: int = setting(1800, "Seconds after which a connection is replaced.")
