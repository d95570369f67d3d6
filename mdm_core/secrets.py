"""Keeping secrets (database passwords) out of everything MDM shows or logs.

One place for masking, used by ``mdm config show``/``validate``, the settings reprs, error
messages on the command line and every log record (terminal and ``logging.file``):

- :func:`mask` scrubs passwords from any text: the password of a PostgreSQL URI
  (``postgresql://user:secret@host/db``), ``password=...`` in ``key=value`` connection
  strings (quoted values too: ``password='se cret'``) and URI query strings, and every
  password MDM has been told about (:func:`remember`), wherever it appears;
- :func:`mask_setting` shows one setting: keys naming a password are hidden entirely.

Settings loading remembers the value of every setting declared secret (a password, or
the password inside a DSN), so a password set in ``mdm.yaml`` or in
``MDM_DATABASE_POSTGRESQL_PASSWORD``/``MDM_DATABASE_POSTGRESQL_DSN`` is masked even where
it shows up outside a connection string (a driver's error message, for example).
"""

from __future__ import annotations

import re
import threading
from typing import Any

MASK = "***"

#: Setting names whose whole value is a secret.
_SECRET_KEY = re.compile(r"(^|[._])(password|passwd|pwd|secret|token|api_key)$", re.IGNORECASE)

#: ``scheme://user:password@host``: everything between the first ``:`` after the user and
#: the last ``@`` of the token is the password (a password may hold ``@`` or ``/``).
_URI_PASSWORD = re.compile(r"([a-z][a-z0-9+.-]*://[^:/@\s'\"]*:)\S*@", re.IGNORECASE)
#: ``password=value`` in a conninfo string (value quoted with '' or bare) or a URI query.
_KV_PASSWORD = re.compile(
    r"""(\b(?:password|passwd|pwd|sslpassword)\s*=\s*)('(?:[^'\\]|\\.)*'?|"(?:[^"\\]|\\.)*"?|[^\s&'"]+)""",
    re.IGNORECASE,
)
#: ``"password": "value"`` / ``'password': 'value'`` (a mapping printed as text).
_MAPPING_PASSWORD = re.compile(
    r"""((['"])(?:password|passwd|pwd|sslpassword)\2\s*:\s*)('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|[^\s,}]+)""",
    re.IGNORECASE,
)

#: Passwords shorter than this are not replaced as plain substrings (a one-letter password
#: would garble every message); they are still masked inside connection strings.
MIN_REMEMBERED = 4

_known: set[str] = set()
_lock = threading.Lock()


def remember(secret: str | None) -> None:
    """Mask ``secret`` wherever it appears in text from now on (in this process)."""
    if secret is None:
        return
    secret = str(secret)
    if len(secret) >= MIN_REMEMBERED:
        with _lock:
            _known.add(secret)


def dsn_password(dsn: str | None) -> str | None:
    """The password written in a connection string (URI or ``key=value``), if any."""
    if not dsn:
        return None
    match = re.match(r"\s*[a-z][a-z0-9+.-]*://[^:/@\s]*:(\S*)@", dsn, re.IGNORECASE)
    if match:
        from urllib.parse import unquote

        return unquote(match.group(1))
    match = _KV_PASSWORD.search(dsn)
    if match:
        value = match.group(2)
        if len(value) >= 2 and value[0] in "'\"" and value[-1] == value[0]:
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        return value
    return None


def mask(text: Any) -> str:
    """``text`` with every password replaced by ``***``."""
    text = str(text)
    if not text:
        return text
    with _lock:
        known = sorted(_known, key=len, reverse=True)
    for secret in known:
        if secret in text:
            text = text.replace(secret, MASK)
    text = _URI_PASSWORD.sub(rf"\1{MASK}@", text)
    text = _KV_PASSWORD.sub(rf"\1{MASK}", text)
    return _MAPPING_PASSWORD.sub(_masked_mapping_value, text)


def _masked_mapping_value(match: re.Match) -> str:
    value = match.group(3)
    quote = value[0] if value[:1] in ("'", '"') else ""
    return f"{match.group(1)}{quote}{MASK}{quote}"


def is_secret_key(key: str) -> bool:
    """True for setting/field names whose value is a secret (``database.postgresql.password``)."""
    return bool(_SECRET_KEY.search(str(key)))


def mask_setting(key: str, value: Any) -> Any:
    """The value of setting ``key`` as it may be shown: secrets hidden, text scrubbed."""
    if value is None or value == "":
        return value
    if is_secret_key(key):
        return MASK
    return mask_value(value)


def mask_value(value: Any) -> Any:
    """``value`` with :func:`mask` applied to every string inside it (lists, dicts too)."""
    if isinstance(value, str):
        return mask(value)
    if isinstance(value, dict):
        return {k: (MASK if is_secret_key(str(k)) and v not in (None, "") else mask_value(v)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(mask_value(v) for v in value)
    return value


def masked_repr(value: Any) -> str:
    """``repr`` of a possibly secret-bearing value with the secret masked (attrs ``repr=``)."""
    return repr(mask_value(value))


def secret_repr(value: Any) -> str:
    """``repr`` of a secret: ``'***'`` when set, ``None`` when not (attrs ``repr=``)."""
    return repr(MASK) if value not in (None, "") else repr(value)
