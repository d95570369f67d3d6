"""The plugin's hook: three formats, cheap to offer, readers that fulfil the contract."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from mdm_plugin_files import plugin

from mdm_core.sources import SourceFormat, SourceReader


def test_hook_offers_parquet_json_and_csv():
    offered = plugin.mdm_source_formats()
    assert [f.name for f in offered] == ["parquet", "json", "csv"]
    assert all(isinstance(f, SourceFormat) and f.description for f in offered)


def test_offering_the_formats_imports_no_pyarrow():
    code = (
        "import sys\nfrom mdm_plugin_files import plugin\nplugin.mdm_source_formats()\n"
        "print([m for m in sys.modules if m.split('.')[0] == 'pyarrow'])"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                            env={k: v for k, v in os.environ.items() if not k.startswith("MDM_")})
    assert result.stdout.strip() == "[]", result.stderr


def _write(path, kind):
    if kind == "parquet":
        pq.write_table(pa.table({"a": [1, 2]}), path)
    elif kind == "json":
        path.write_text(json.dumps([{"a": 1}, {"a": 2}]))
    else:
        path.write_text("a\n1\n2\n")


@pytest.mark.parametrize(("name", "kind"), [("f.parquet", "parquet"), ("f.json", "json"), ("f.csv", "csv")])
def test_every_factory_builds_a_source_reader(tmp_path, name, kind):
    path = tmp_path / name
    _write(path, kind)
    offered = {f.name: f for f in plugin.mdm_source_formats()}[kind]
    assert offered.claims(path) > 0
    reader = offered.factory(path, 1, {"a": "numeric"})
    assert isinstance(reader, SourceReader)
    assert reader.column_names() == ["a"]
    assert [b.num_rows for b in reader.open()] == [1, 1]
    assert reader.open().read_all().column("a").to_pylist() == [1, 2]
