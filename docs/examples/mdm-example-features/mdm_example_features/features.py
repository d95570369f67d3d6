"""The features: each takes a pandas DataFrame batch and returns one Series per row."""

from __future__ import annotations

import pandas as pd

from mdm_core.features import custom_feature


@custom_feature(name="speed_mph", input_columns=["distance", "air_time"], output_type="float64")
def speed_mph(df: pd.DataFrame) -> pd.Series:
    """Average ground speed in miles per hour (air_time is in minutes)."""
    minutes = df["air_time"].where(df["air_time"] > 0)
    return df["distance"] / (minutes / 60.0)


@custom_feature(name="is_long_haul", input_columns=["distance"], output_type="bool")
def is_long_haul(df: pd.DataFrame) -> pd.Series:
    """Whether the flight is longer than 1,500 miles."""
    return df["distance"] > 1500


@custom_feature(name="sched_dep_minutes", input_columns=["sched_dep_time"], output_type="int64")
def sched_dep_minutes(df: pd.DataFrame) -> pd.Series:
    """Scheduled departure as minutes after midnight (HHMM -> minutes)."""
    hhmm = df["sched_dep_time"]
    return (hhmm // 100) * 60 + hhmm % 100
