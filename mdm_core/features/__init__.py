"""Feature generation: runs the winning feature engine and the custom features.

Registration calls :func:`mdm_core.features.runner.generate_features` with an open store
and the dataset's metadata (data tables with semantic column types, target, id columns);
it writes ``<table>_features`` for every data table and returns their TableInfo records.
"""
