"""Facts about the layout of an MDM 1.x home and its dataset databases.

See ``LEGACY_MDM_1x.md`` (the format as observed on real homes). The 1.x storage readers
use these names; the new backends know nothing of them (they keep only ``_mdm_schema``).
"""

from __future__ import annotations

#: Bookkeeping tables recent 1.x versions keep inside a dataset's SQLite database: never
#: user data, never listed or served as tables of a 1.x dataset.
LEGACY_BOOKKEEPING_TABLES = frozenset({"_metadata", "_columns", "_statistics"})

#: Where a 1.x home keeps per-dataset custom-feature files (``<dataset>.py``), relative to
#: the home (``paths.custom_features_path``; an absolute value wins).
CUSTOM_FEATURES_DIR = "config/custom_features"
