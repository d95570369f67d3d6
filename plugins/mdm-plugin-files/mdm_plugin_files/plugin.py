"""Entry point of the files plugin: offers the ``parquet``, ``json`` and ``csv`` source
formats. Importing it imports no pyarrow: the readers are imported by the factories."""

from __future__ import annotations

from pathlib import Path

from mdm_core import hookimpl
from mdm_core.sources import SourceFormat
from mdm_plugin_files.detection import claim_csv, claim_json, claim_parquet


def _parquet(path: Path, batch_size: int, kinds: dict[str, str]):
    from mdm_plugin_files.parquet_reader import ParquetReader

    return ParquetReader(path, batch_size, kinds)


def _json(path: Path, batch_size: int, kinds: dict[str, str]):
    from mdm_plugin_files.json_reader import JsonReader

    return JsonReader(path, batch_size, kinds)


def _csv(path: Path, batch_size: int, kinds: dict[str, str]):
    from mdm_plugin_files.csv_reader import CsvReader

    return CsvReader(path, batch_size, kinds)


@hookimpl
def mdm_source_formats() -> list[SourceFormat]:
    return [
        SourceFormat("parquet", claim_parquet, _parquet, "Parquet (.parquet, .pq, or Parquet content)",
                     suffixes=(".parquet", ".pq")),
        SourceFormat("json", claim_json, _json, "JSON arrays and JSON Lines of objects (.json, .jsonl, .ndjson; .gz, .zip)",
                     suffixes=(".json", ".jsonl", ".ndjson", ".json.gz", ".jsonl.gz")),
        SourceFormat(
            "csv", claim_csv, _csv,
            "CSV/TSV/TXT, delimiter and encoding detected (.gz, .zip); tries any other file too",
            suffixes=(".csv", ".tsv", ".txt", ".csv.gz", ".tsv.gz", ".txt.gz", ".csv.zip", ".tsv.zip", ".gz", ".zip"),
        ),
    ]
