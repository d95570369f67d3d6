"""The entry point MDM loads: one hook returning the features."""

from __future__ import annotations

from mdm_core import hookimpl
from mdm_example_features.features import is_long_haul, sched_dep_minutes, speed_mph


@hookimpl
def mdm_custom_features():
    return [speed_mph, is_long_haul, sched_dep_minutes]
