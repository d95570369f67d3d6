"""MDM: register ML datasets, store them in pluggable backends, serve them back.

``import mdm_core`` is cheap: plugins are discovered on first use.
"""

from mdm_core.hookspecs import hookimpl

__version__ = "2.0.0.dev0"

__all__ = ["MDMClient", "hookimpl", "__version__"]


def __getattr__(name: str):
    if name == "MDMClient":
        from mdm_core.datasets.client import MDMClient

        return MDMClient
    raise AttributeError(name)
