"""mdm-plugin-legacy: MDM 1.x compatibility, so a 1.x home keeps working as it is.

Where things live:

- :mod:`mdm_plugin_legacy.plugin`: the hook implementations (the entry point);
- :mod:`mdm_plugin_legacy.custom_features`: 1.x per-dataset custom-feature files, run
  through the ``mdm_custom_features`` hook;
- :mod:`mdm_plugin_legacy.shim`: the stand-in for 1.x ``mdm.features.custom.base``;
- :mod:`mdm_plugin_legacy.layout`: names and places of a 1.x home (bookkeeping tables, ...).
"""
