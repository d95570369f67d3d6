"""MDM source-file formats: CSV/TSV (gzip, zip), Parquet, JSON arrays and JSON Lines,
each read as a stream of Arrow record batches."""
