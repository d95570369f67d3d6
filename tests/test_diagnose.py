"""``mdm diagnose``: the bundle holds what a bug report needs and never a password or DSN
secret, wherever one was planted (mdm.yaml, MDM_* variables, PGPASSWORD, DSNs in URI and
key=value form, the log file)."""

from __future__ import annotations

import json

import pytest

SECRETS = {
    "yaml password": "Yaml-Pw-4711",
    "yaml URI DSN": "Dsn-Uri-8152",
    "env password": "Env-Pw-9273",
    "env key=value DSN": "Env-Kv-3364",
    "PGPASSWORD": "Pg-Pw-5485",
    "other MDM_* DSN": "Env-Uri-6606",
    "log URI DSN": "Log-Uri-7727",
    "log key=value": "Log-Kv-8848",
}


def _plant(home, monkeypatch) -> None:
    (home / "mdm.yaml").write_text(
        "database:\n  postgresql:\n"
        f"    password: {SECRETS['yaml password']}\n"
        f"    dsn: postgresql://alice:{SECRETS['yaml URI DSN']}@127.0.0.1:1/db\n"
        "logging:\n  file: mdm.log\n", encoding="utf-8")
    monkeypatch.setenv("MDM_DATABASE_POSTGRESQL_PASSWORD", SECRETS["env password"])
    monkeypatch.setenv("MDM_DATABASE_POSTGRESQL_DSN", f"host=127.0.0.1 port=1 user=bob password={SECRETS['env key=value DSN']}")
    monkeypatch.setenv("PGPASSWORD", SECRETS["PGPASSWORD"])
    monkeypatch.setenv("MDM_BACKUP_TARGET_DSN", f"postgresql://carol:{SECRETS['other MDM_* DSN']}@db.example/x")
    (home / "logs").mkdir()
    (home / "logs" / "mdm.log").write_text(
        f"2026-11-30 error connecting, password was {SECRETS['yaml password']}\n"
        f"2026-11-30 dsn=postgresql://u:{SECRETS['log URI DSN']}@h/db\n"
        f"2026-11-30 conninfo host=h password={SECRETS['log key=value']} dbname=x\n", encoding="utf-8")


@pytest.mark.slow
def test_no_planted_secret_reaches_the_bundle(home, run_mdm, monkeypatch, tmp_path):
    _plant(home, monkeypatch)
    written = tmp_path / "bundle.json"
    out = run_mdm("diagnose", "-o", str(written))
    assert out.returncode == 0, out.stderr
    assert out.stdout == "" and "Wrote the diagnostic bundle" in out.stderr
    leaked = [where for where, secret in SECRETS.items() if secret in written.read_text() + out.stderr]
    assert not leaked, leaked
    bundle = json.loads(written.read_text())
    assert bundle["environment"]["MDM_DATABASE_POSTGRESQL_PASSWORD"] == "***"
    assert bundle["environment"]["MDM_BACKUP_TARGET_DSN"] == "postgresql://carol:***@db.example/x"
    assert bundle["config"]["values"]["database.postgresql.password"] == "***"
    assert bundle["config"]["sources"]["database.postgresql.dsn"] == "env MDM_DATABASE_POSTGRESQL_DSN"
    assert bundle["log"]["lines"][1] == "2026-11-30 dsn=postgresql://u:***@h/db"
    assert bundle["comprehensive"] is False


@pytest.mark.slow
def test_bundle_describes_the_installation_and_the_home(home, client, run_mdm, tmp_path):
    source = tmp_path / "flowers.csv"
    source.write_text("id,amount\n" + "".join(f"{i},{i / 2}\n" for i in range(12)), encoding="utf-8")
    client.register_dataset("flowers", str(source), generate_features=False)
    out = run_mdm("diagnose", "--comprehensive")
    assert out.returncode == 0, out.stderr
    bundle = json.loads(out.stdout)
    assert {"platform", "python", "mdm", "plugins", "drivers", "environment", "config", "datasets", "disk", "log",
            "migration", "doctor"} <= set(bundle)
    assert bundle["drivers"]["duckdb"] and bundle["drivers"]["pyarrow"]
    assert any(p["name"] == "sqlite" and p["status"] == "loaded" for p in bundle["plugins"])
    (flowers,) = bundle["datasets"]
    assert flowers["backend"] == "sqlite" and flowers["tables"][0]["rows"] == 12 and flowers["bytes"] > 0
    assert [c["name"] for c in flowers["tables"][0]["columns"]] == ["id", "amount"]
    assert bundle["disk"]["bytes"] >= flowers["bytes"]
    assert [p["phase"] for p in bundle["migration"]["phases"]][0] == "config"
    assert bundle["doctor"]["exit_code"] == 0 and bundle["doctor"]["deep"] is True
