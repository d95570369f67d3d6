"""No PostgreSQL password is ever shown: config show (every form), config validate, the
settings reprs, error messages, terminal logs (-v/--debug) and the log file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mdm_core.testing.distributions import install_distribution

SECRET = "Zq7-S3cr3t-pw"
SPACED = "se cr3t Zq7"

#: Every form a connection string can carry a password in, with the password to hide.
DSNS = {
    "uri": (f"postgresql://alice:{SECRET}@db.example:5432/mdm", SECRET),
    "uri-at-in-password": ("postgresql://alice:p@ss/Zq7w0rd@db.example/mdm", "p@ss/Zq7w0rd"),
    "uri-query": (f"postgresql://db.example/mdm?user=alice&password={SECRET}&sslmode=prefer", SECRET),
    "key-value": (f"host=db.example user=alice password={SECRET} dbname=mdm", SECRET),
    "key-value-quoted": (f"host=db.example password='{SPACED}' dbname=mdm", SPACED),
}
#: Where the DSN (or password) can be set.
PLACES = ["env-dsn", "yaml-dsn"]


def _secret_parts(secret: str) -> list[str]:
    """The secret and its longer pieces: a masked value must not leak half of it either."""
    return [secret] + [p for p in secret.replace("@", " ").replace("/", " ").split() if len(p) >= 4]


def _assert_hidden(text: str, secret: str) -> None:
    for part in _secret_parts(secret):
        assert part not in text, f"{part!r} shown in: {text[:2000]}"


def _set(place: str, home: Path, monkeypatch, dsn: str | None = None, password: str | None = None) -> None:
    if place == "env-dsn":
        if dsn:
            monkeypatch.setenv("MDM_DATABASE_POSTGRESQL_DSN", dsn)
        if password:
            monkeypatch.setenv("MDM_DATABASE_POSTGRESQL_PASSWORD", password)
    else:
        lines = ["database:", "  postgresql:"]
        if dsn:
            lines.append(f"    dsn: {json.dumps(dsn)}")
        if password:
            lines.append(f"    password: {json.dumps(password)}")
        (home / "mdm.yaml").write_text("\n".join(lines) + "\n")


@pytest.mark.parametrize("place", PLACES)
@pytest.mark.parametrize("form", sorted(DSNS))
def test_config_show_masks_dsn_passwords_in_every_form(cli, home, monkeypatch, form, place):
    dsn, secret = DSNS[form]
    _set(place, home, monkeypatch, dsn=dsn, password=secret)
    outputs = [
        cli("config", "show"),
        cli("config", "show", "--sources"),
        cli("config", "show", "--format", "json"),
        cli("config", "show", "--sources", "--format", "json"),
    ]
    for result in outputs:
        assert result.exit_code == 0, result.output
        _assert_hidden(result.stdout + result.stderr, secret)
    data = json.loads(outputs[3].stdout)
    shown = data["values"]["database.postgresql.dsn"]
    assert "***" in shown and "db.example" in shown  # masked, not dropped: the rest stays readable
    assert data["values"]["database.postgresql.password"] == "***"


@pytest.mark.parametrize("form", sorted(DSNS))
def test_settings_repr_and_str_mask_passwords(home, monkeypatch, form):
    from mdm_core.datasets.client import MDMClient

    dsn, secret = DSNS[form]
    monkeypatch.setenv("MDM_DATABASE_POSTGRESQL_DSN", dsn)
    monkeypatch.setenv("MDM_DATABASE_POSTGRESQL_PASSWORD", secret)
    settings = MDMClient().settings
    assert settings.database.postgresql.dsn == dsn  # the real value is still there to connect
    for text in (repr(settings), str(settings), repr(settings.database), repr(settings.database.postgresql),
                 str(settings.database.postgresql)):
        _assert_hidden(text, secret)
        assert "***" in text


def test_config_validate_errors_do_not_echo_secrets(run_mdm, home):
    (home / "mdm.yaml").write_text(f"database:\n  postgresql:\n    password: [{SECRET}, other]\n")
    bad_password = run_mdm("config", "validate")
    assert bad_password.returncode == 1
    assert "database.postgresql.password" in bad_password.stderr
    _assert_hidden(bad_password.stderr, SECRET)
    (home / "mdm.yaml").write_text(
        f"database:\n  postgresql:\n    dsn:\n      url: postgresql://alice:{SECRET}@db/mdm\n"
    )
    bad_dsn = run_mdm("config", "validate")
    assert bad_dsn.returncode == 1
    assert "database.postgresql.dsn" in bad_dsn.stderr and str(home / "mdm.yaml") in bad_dsn.stderr
    _assert_hidden(bad_dsn.stderr, SECRET)
    # a valid password next to an invalid key: the error is about the key, the password stays hidden
    (home / "mdm.yaml").write_text(
        f"database:\n  connection_timeout: {SECRET}\n  postgresql:\n    password: {SECRET}\n"
    )
    other = run_mdm("config", "validate")
    assert other.returncode == 1 and "database.connection_timeout" in other.stderr
    _assert_hidden(other.stderr, SECRET)


@pytest.mark.parametrize("form", sorted(DSNS))
def test_debug_and_verbose_logs_and_log_file_mask_passwords(run_mdm, home, form):
    dsn, secret = DSNS[form]
    (home / "mdm.yaml").write_text("logging:\n  level: DEBUG\n  file: mdm.log\n  format: json\n")
    env = {"MDM_DATABASE_POSTGRESQL_DSN": dsn, "MDM_DATABASE_POSTGRESQL_PASSWORD": secret}
    for flag in ("--debug", "-v"):
        result = run_mdm(flag, "config", "show", env=env)
        assert result.returncode == 0, result.stderr
        _assert_hidden(result.stdout + result.stderr, secret)
    debug = run_mdm("--debug", "config", "show", env=env)
    assert "settings loaded" in debug.stderr and "database.postgresql.dsn" in debug.stderr
    log_text = (home / "logs" / "mdm.log").read_text()
    assert "settings loaded" in log_text
    _assert_hidden(log_text, secret)


def test_connection_errors_mask_the_password(run_mdm, home, tmp_path):
    """A real connection failure (nothing listens on port 1), password in the DSN and in
    the password key: the error names the problem, never the password."""
    (tmp_path / "d.csv").write_text("a,b\n1,2\n")
    (home / "mdm.yaml").write_text("logging:\n  level: DEBUG\n  file: mdm.log\n")
    for env in (
        {"MDM_DATABASE_POSTGRESQL_DSN": f"postgresql://alice:{SECRET}@127.0.0.1:1/mdm?connect_timeout=3"},
        {"MDM_DATABASE_POSTGRESQL_DSN": "host=127.0.0.1 port=1 user=alice connect_timeout=3",
         "MDM_DATABASE_POSTGRESQL_PASSWORD": SECRET},
    ):
        for flags in ((), ("--debug",)):
            result = run_mdm(*flags, "dataset", "register", "d", str(tmp_path / "d.csv"), "--backend", "postgresql",
                             "--no-features", env=env)
            assert result.returncode == 1
            assert result.stderr.startswith("Error:") or "Traceback" in result.stderr
            _assert_hidden(result.stdout + result.stderr, SECRET)
    _assert_hidden((home / "logs" / "mdm.log").read_text(), SECRET)
    assert not (home / "datasets" / "d").exists()


def test_unexpected_errors_are_masked_too(home, tmp_path):
    """An exception MDM did not anticipate that quotes a DSN: masked in the one-line error
    and in the --debug traceback."""
    env = _crashing_plugin(tmp_path, f"cannot reach postgresql://alice:{SECRET}@db/mdm")
    mdm = str(Path(sys.executable).with_name("mdm"))
    (tmp_path / "d.csv").write_text("a\n1\n")
    args = ["dataset", "register", "d", str(tmp_path / "d.csv"), "--backend", "crashing"]
    plain = subprocess.run([mdm, *args], capture_output=True, text=True, env=env)
    assert plain.returncode == 1
    assert plain.stderr.strip() == (
        "Error: unexpected RuntimeError: cannot reach postgresql://alice:***@db/mdm "
        "(run with --debug for the traceback)."
    )
    debug = subprocess.run([mdm, "--debug", *args], capture_output=True, text=True, env=env)
    assert debug.returncode == 1 and "Traceback" in debug.stderr
    _assert_hidden(debug.stderr, SECRET)


def test_mask_function_covers_every_form():
    from mdm_core.secrets import mask

    for dsn, secret in DSNS.values():
        masked = mask(f"failed to connect with {dsn!r}: timeout")
        _assert_hidden(masked, secret)
        assert "***" in masked and "timeout" in masked
    assert mask('{"password": "Zq7-xx", "user": "bob"}') == '{"password": "***", "user": "bob"}'
    assert mask("no secret here: a=1 b=2") == "no secret here: a=1 b=2"


def _crashing_plugin(tmp_path: Path, message: str) -> dict:
    """A storage plugin whose backend factory raises RuntimeError(message); returns the env
    that makes ``mdm`` load it."""
    site = tmp_path / "site"
    site.mkdir(exist_ok=True)
    (site / "mdm_crashing.py").write_text(
        "from mdm_core import hookimpl\n"
        "from mdm_core.hookspecs import Implementation\n"
        f"MESSAGE = {message!r}\n"
        "def _factory(settings):\n"
        "    raise RuntimeError(MESSAGE)\n"
        "@hookimpl\n"
        "def mdm_storage_backends():\n"
        "    return [Implementation(kind='storage', name='crashing', generation='new', factory=_factory)]\n"
    )
    install_distribution(site, "mdm-crashing", "mdm_crashing = mdm_crashing")
    return {**os.environ, "PYTHONPATH": str(site)}
