"""Entry point of the MDM 1.x compatibility plugin.

Today it runs 1.x per-dataset custom-feature files through ``mdm_custom_features``; the
1.x config loader, dataset catalog and storage readers join it here as legacy-generation
implementations.
"""

from __future__ import annotations

from typing import Any

from mdm_core import hookimpl


@hookimpl
def mdm_custom_features(settings: Any, dataset: str | None) -> list[Any]:
    """The operations of ``dataset``'s 1.x custom-feature file, if it has one."""
    from mdm_plugin_legacy.custom_features import dataset_items

    return dataset_items(settings, dataset)
