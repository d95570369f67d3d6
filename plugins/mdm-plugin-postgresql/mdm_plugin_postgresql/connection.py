"""Connection details for the PostgreSQL backend, and keeping the password out of sight.

The connection comes from ``database.postgresql.dsn`` (URI or ``key=value`` form) or from
host/port/user/dbname/sslmode; the password from the DSN, ``database.postgresql.password``,
``PGPASSWORD`` or ``~/.pgpass`` (libpq reads the last two itself). :func:`mdm_core.secrets.mask`
scrubs a password from any text before it reaches a message or a log.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import attrs
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from mdm_core.errors import StorageError
from mdm_core.secrets import mask, masked_repr, remember, secret_repr

#: What a store's location records of its server (never the password).
PUBLIC_KEYS = ("host", "port", "dbname", "user")


@attrs.frozen
class Target:
    """Where to connect: the libpq conninfo (may hold a password: never show it), the
    password itself (for masking), and whether this is a dataset's recorded server
    rather than the configured one."""

    conninfo: str = attrs.field(repr=masked_repr)
    password: str | None = attrs.field(repr=secret_repr)
    recorded: bool = False

    @classmethod
    def from_settings(cls, settings: Any, *, timeout: int | None = None) -> Target:
        remember(os.environ.get("PGPASSWORD"))  # libpq may send it: masked in its messages too
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

    def moved_to(self, location: Mapping[str, Any]) -> Target:
        """This target pointed at the host, port, database and user recorded in
        ``location`` (a store's ``describe``); the password is kept only when host,
        port and user are unchanged. ``self`` when nothing differs."""
        params = dict(conninfo_to_dict(self.conninfo))
        recorded = {k: location.get(k) for k in PUBLIC_KEYS}
        if not any(k in location for k in PUBLIC_KEYS) or all(
            _same(params.get(k), recorded[k]) for k in PUBLIC_KEYS
        ):
            return self
        keep_password = all(_same(params.get(k), recorded[k]) for k in ("host", "port", "user"))
        for key, value in recorded.items():
            params.pop(key, None)
            if value is not None:
                params[key] = str(value)
        password = self.password if keep_password else None
        params.pop("password", None)
        if password:
            params["password"] = password
        return Target(make_conninfo(**params), password, recorded=True)

    def public(self) -> dict[str, Any]:
        """Host, port, database and user: what may be shown (never the password)."""
        params = conninfo_to_dict(self.conninfo)
        return {k: params.get(k) for k in PUBLIC_KEYS if params.get(k) is not None}

    def mask(self, text: str) -> str:
        """``text`` with this target's password (and any DSN password) replaced by ``***``."""
        if self.password:
            text = text.replace(str(self.password), "***")
        return mask(text)


def _same(current: Any, recorded: Any) -> bool:
    return (None if current is None else str(current)) == (None if recorded is None else str(recorded))
