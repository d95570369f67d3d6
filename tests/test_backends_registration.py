"""Registration with features on every backend gives the same tables as on SQLite."""

from __future__ import annotations

import pandas as pd
import pytest

from mdm_core.datasets.client import MDMClient

BACKENDS = ["duckdb", pytest.param("postgresql", marks=pytest.mark.postgres)]


@pytest.mark.parametrize("backend", BACKENDS)
def test_register_with_features_matches_sqlite(home, monkeypatch, penguins, backend):
    if backend == "postgresql":
        from mdm_core.testing.postgres import require_server

        monkeypatch.setenv("MDM_DATABASE_POSTGRESQL_DSN", require_server())
    client = MDMClient()
    baseline = MDMClient(home=home.parent / "sqlite-home")
    info = client.register_dataset("p", penguins, backend=backend)
    try:
        expected = baseline.register_dataset("p", penguins)
        assert info.backend == backend
        assert [(t.name, t.kind, t.row_count) for t in info.tables] == [
            (t.name, t.kind, t.row_count) for t in expected.tables
        ]
        for table in ("train", "test", "train_features", "test_features"):
            got = client.load_dataset("p", table=table)
            want = baseline.load_dataset("p", table=table)
            pd.testing.assert_frame_equal(got, want, check_dtype=False)
    finally:
        client.remove_dataset("p")
    assert not client.dataset_exists("p")


@pytest.mark.postgres
def test_postgres_password_never_in_metadata_or_info(home, monkeypatch, penguins, run_mdm):
    from mdm_core.testing.postgres import require_server

    dsn = require_server()
    if "://" in dsn:
        scheme, rest = dsn.split("://", 1)
        user, host = rest.split("@", 1)
        secret_dsn = f"{scheme}://{user.split(':')[0]}:Sup3rS3cret@{host}"
    else:
        secret_dsn = f"{dsn} password=Sup3rS3cret"
    assert "Sup3rS3cret" in secret_dsn  # trust auth accepts it; it must still never be stored
    monkeypatch.setenv("MDM_DATABASE_POSTGRESQL_DSN", secret_dsn)
    result = run_mdm("dataset", "register", "pg", str(penguins), "--backend", "postgresql", "--no-features")
    try:
        assert result.returncode == 0, result.stderr
        info = run_mdm("dataset", "info", "pg", "--format", "json")
        assert '"backend": "postgresql"' in info.stdout
        assert "Sup3rS3cret" not in info.stdout
        assert "Sup3rS3cret" not in (home / "datasets" / "pg" / "dataset.yaml").read_text()
    finally:
        run_mdm("dataset", "remove", "pg", "--force")
