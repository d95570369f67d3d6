"""What an engine cannot store is refused before any work starts, in one short sentence
naming the file, the table and the limit, leaving nothing behind."""

from __future__ import annotations

from pathlib import Path

import pytest


def _wide_csv(path: Path, columns: int, rows: int = 3) -> Path:
    header = ",".join(f"c{i}" for i in range(columns))
    body = "".join(",".join(str(r * i) for i in range(columns)) + "\n" for r in range(rows))
    path.write_text(header + "\n" + body)
    return path


def _leftovers(home: Path) -> list[str]:
    root = home / "datasets"
    return sorted(str(p.relative_to(root)) for p in root.rglob("*")) if root.exists() else []


@pytest.mark.parametrize(
    ("backend", "columns", "limit"),
    [("sqlite", 10_000, "2,000"), ("sqlite", 2_001, "2,000"),
     pytest.param("postgresql", 1_600, "1,599", marks=pytest.mark.postgres)],
)
def test_too_many_columns_is_one_sentence_before_any_work(home, monkeypatch, tmp_path, run_mdm, backend, columns,
                                                           limit):
    if backend == "postgresql":
        from mdm_core.testing.postgres import require_server

        monkeypatch.setenv("MDM_DATABASE_POSTGRESQL_DSN", require_server())
    data = _wide_csv(tmp_path / "wide.csv", columns)
    result = run_mdm("dataset", "register", "wide", str(data), "--backend", backend)
    assert result.returncode == 1
    message = result.stderr.strip()
    assert len(message.splitlines()) == 1 and len(message) < 300, message[:500]
    assert "wide.csv" in message and f"{columns:,} columns" in message and limit in message
    assert _leftovers(home) == []


def test_wide_table_on_a_backend_that_holds_it(home, tmp_path, client):
    data = _wide_csv(tmp_path / "wide.csv", 3_000)
    client.register_dataset("wide", data, backend="duckdb", generate_features=False)
    frame = client.load_dataset("wide")
    assert frame.shape == (3, 3_000)
    assert frame["c2999"].tolist() == [0, 2999, 5998]


def test_source_is_recorded_as_an_absolute_path(home, tmp_path, run_mdm):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "d.csv").write_text("a\n1\n")
    result = run_mdm("dataset", "register", "d", "sub/d.csv", "--no-features", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    from mdm_core.datasets.client import MDMClient

    assert MDMClient().get_dataset_info("d").source == str((tmp_path / "sub" / "d.csv").resolve())


def test_features_beyond_the_engine_limit_are_left_out_not_fatal(home, tmp_path, client):
    rows = 40
    header = ",".join(f"c{i}" for i in range(1_500))
    body = "".join(",".join(str((r * 7 + i * 13) % 97 + r / 3) for i in range(1_500)) + "\n" for r in range(rows))
    (tmp_path / "w.csv").write_text(header + "\n" + body)
    info = client.register_dataset("w", tmp_path / "w.csv")  # SQLite: 2,000 columns per table
    features = info.table("data_features")
    assert 1_500 < len(features.columns) <= 2_000
    frame = client.load_dataset("w", table="data_features")
    assert frame.shape == (rows, len(features.columns))
    assert frame["c1499"].tolist() == client.load_dataset("w")["c1499"].tolist()
