"""The built-in plugin contributing the ``move-store`` step (moving new-layout datasets
between engines; see :mod:`mdm_core.migration.move_store`). The step loads when a
migration uses it, so loading the plugins stays light."""

from __future__ import annotations

from typing import Any

from mdm_core.hookspecs import hookimpl


@hookimpl
def mdm_migration_steps() -> list[Any]:
    from mdm_core.migration.step import LazyStep

    return [LazyStep("move-store", "storage", "mdm_core.migration.move_store:MoveStore")]
