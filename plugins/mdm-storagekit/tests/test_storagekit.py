"""The shared pieces on their own: filters bind every value, schema checks name what is wrong."""

from __future__ import annotations

import pyarrow as pa
import pytest
from mdm_storagekit import (
    PositionalParams,
    check_column_names,
    check_extension_schema,
    check_filter,
    limit_sql,
    project_schema,
    schema_without,
    where_sql,
)

from mdm_core.errors import StorageError

HOSTILE = "x'; DROP TABLE t; --"


def test_where_sql_binds_every_value_and_quotes_columns():
    bind = PositionalParams()
    sql = where_sql("t", [("we\"ird", "=", HOSTILE), ("n", ">=", 3), ("n", "is null", None)], {"we\"ird", "n"}, bind)
    assert HOSTILE not in sql
    assert sql == ' WHERE "we""ird" = ? AND "n" >= ? AND "n" IS NULL'
    assert bind.values == [HOSTILE, 3]
    assert limit_sql(5, bind) == " LIMIT ?" and bind.values[-1] == 5


def test_comparison_with_none_matches_nothing_and_unknown_columns_are_named():
    assert where_sql("t", [("a", "=", None)], {"a"}, PositionalParams()) == " WHERE FALSE"
    with pytest.raises(StorageError, match="no column 'zz'"):
        where_sql("t", [("zz", "=", 1)], {"a"}, PositionalParams())
    with pytest.raises(StorageError, match="Invalid filter"):
        check_filter([("a", "LIKE", "%")])


def test_schema_checks_name_the_table_and_columns():
    full = pa.schema([("a", pa.int64()), ("b", pa.string())])
    assert project_schema("t", full, ["b"]).names == ["b"]
    with pytest.raises(StorageError, match="'t' has no column.*'c'"):
        project_schema("t", full, ["a", "c"])
    assert schema_without("t", full, ["a"]).names == ["b"]
    with pytest.raises(StorageError, match="every column"):
        schema_without("t", full, ["a", "b"])
    check_extension_schema("t_features", "t", full, pa.schema(list(full) + [("f", pa.float64())]))
    with pytest.raises(StorageError, match="must start with the columns"):
        check_extension_schema("t_features", "t", full, pa.schema([("f", pa.float64())]))


def test_column_names_checked_against_limits_and_case():
    check_column_names("t", ["a", "A"], engine="E", max_columns=2, case_insensitive=False)
    with pytest.raises(StorageError, match="case-insensitive"):
        check_column_names("t", ["a", "A"], engine="E", max_columns=None, case_insensitive=True)
    with pytest.raises(StorageError, match="3 columns; E stores at most 2"):
        check_column_names("t", ["a", "b", "c"], engine="E", max_columns=2, case_insensitive=False)
    with pytest.raises(StorageError, match="NUL"):
        check_column_names("t", ["a\x00"], engine="E", max_columns=None, case_insensitive=False)
