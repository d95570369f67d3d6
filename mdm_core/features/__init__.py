"""Feature generation: runs the winning feature engine and the custom features.

Registration calls :func:`mdm_core.features.runner.generate_features` with an open store
and the dataset's metadata (data tables with semantic column types, target, id columns);
it writes ``<table>_features`` for every data table and returns their TableInfo records.

Plugin authors use :func:`custom_feature` (see :mod:`mdm_core.features.custom`); engine
authors implement :class:`mdm_core.features.contract.FeatureEngine`. Scripts register a
feature for their process with :func:`register_feature` and list what would run with
:func:`discover_custom_features`. Importing this package is cheap (no pandas, no pyarrow).
"""

from mdm_core.features.custom import (
           CustomFeature,
           CustomOperation,
           custom_feature,
           register_feature,
)
from mdm_core.features.discovery import DiscoveredFeature, discover_custom_features

__all__ = ["CustomFeature", "CustomOperation", "DiscoveredFeature", "custom_feature", "discover_custom_features",
           "register_feature"]
