"""``database.postgresql`` proposals for ``mdm config tune`` (the ``tune`` of this plugin's
Implementation; see :mod:`mdm_core.performance.tuner`). No driver is imported, no server
is contacted."""

from __future__ import annotations

from typing import Any

#: Connections per core, and the bounds of the proposed pool.
PER_CORE, LOWEST, HIGHEST = 2, 5, 20


def tune(context: Any) -> list[Any]:
    """pool_size for this machine's cores."""
    from mdm_core.performance.tuner import Proposal

    key = "database.postgresql.pool_size"
    proposed = max(LOWEST, min(HIGHEST, PER_CORE * context.cores))
    return [Proposal(key, context.current(key), proposed,
                     f"{PER_CORE} connections per core ({context.cores} cores), between {LOWEST} and {HIGHEST}")]
