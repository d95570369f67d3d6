"""Connection details for the PostgreSQL backend, and keeping the password out of sight.

The connection comes from ``database.postgresql.dsn`` (URI or ``key=value`` form) or from
host/port/user/dbname/sslmode; the password from the DSN, ``database.postgresql.password``,
``PGPASSWORD`` or ``~/.pgpass`` (libpq reads the last two itself). :func:`mask` scrubs a
password from any text before it reaches a message or a log.
"""

from __future__ import annotations

import re
from typing import Any

import attrs
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from mdm_core.errors import StorageError

_URI_PASSWORD = re.compile(r"(postgres(?:ql)?://[^:/@\s]*:)[^@\s]*@")
_KV_PASSWORD = re.compile(r"(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)", re.IGNORECASE)


@attrs.frozen
class Target:
    """Where to connect: the libpq conninfo (may hold a password: never show it) and the
    password itself (for masking)."""

    conninfo: str
    password: str | None

    @classmethod
    def from_settings(cls, settings: Any, *, timeout: int | None = None) -> Target:
        try:
            params: dict[str, Any] = dict(conninfo_to_dict(settings.dsn)) if settings.dsn else {}
        except Exception as exc:
            raise StorageError(f"database.postgresql.dsn is not a valid connection string: {mask(str(exc))}") from None
        if not settings.dsn:
            params.update(host=settings.host, port=settings.port, dbname=settings.dbname, sslmode=settings.sslmode)
            if settings.user:
                params["user"] = settings.user
        if settings.password and "password" not in params:
            params["password"] = settings.password
        if timeout and "connect_timeout" not in params:
            params["connect_timeout"] = int(timeout)
        params.setdefault("application_name", "mdm")
        password = params.get("password")
        return cls(make_conninfo(**{k: v for k, v in params.items() if v is not None}), password)

    def public(self) -> dict[str, Any]:
        """Host, port, database and user: what may be shown (never the password)."""
        params = conninfo_to_dict(self.conninfo)
        return {k: params.get(k) for k in ("host", "port", "dbname", "user") if params.get(k) is not None}

    def mask(self, text: str) -> str:
        """``text`` with this target's password (and any DSN password) replaced by ``***``."""
        if self.password:
            text = text.replace(str(self.password), "***")
        return mask(text)


def mask(text: str) -> str:
    """Replace passwords inside any DSN-looking text by ``***``."""
    text = _URI_PASSWORD.sub(r"\1***@", text)
    return _KV_PASSWORD.sub(r"\1***", text)
