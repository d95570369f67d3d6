"""``database.duckdb`` proposals for ``mdm config tune`` (the ``tune`` of this plugin's
Implementation; see :mod:`mdm_core.performance.tuner`). No driver is imported."""

from __future__ import annotations

import shutil
import tempfile
from typing import Any

#: Share of the machine's memory DuckDB may take (DuckDB's own default is 80%; MDM keeps
#: room for the Arrow batches it streams in and out).
MEMORY_SHARE = 0.5


def tune(context: Any) -> list[Any]:
    """memory_limit, threads (unset: follows ``performance.max_workers``) and temp_directory
    for this machine."""
    from mdm_core.performance.tuner import Proposal, size_text

    section = "database.duckdb"
    memory = size_text(int(context.memory_bytes * MEMORY_SHARE))
    workers = int(context.current("performance.max_workers"))
    proposals = [
        Proposal(f"{section}.memory_limit", context.current(f"{section}.memory_limit"), memory,
                 f"half of this machine's {context.memory_bytes // 2**20:,} MiB of memory"),
        Proposal(f"{section}.threads", context.current(f"{section}.threads"), None,
                 f"none: follows performance.max_workers ({workers}; {context.cores} cores here)"),
    ]
    current_temp = context.current(f"{section}.temp_directory")
    needed = 2 * (context.largest.bytes if context.largest else 0)
    temp_dir = tempfile.gettempdir()
    if current_temp is None and needed > context.free_disk_bytes and shutil.disk_usage(temp_dir).free > needed:
        proposed, reason = (f"{temp_dir}/mdm-duckdb", f"the home's disk has {context.free_disk_bytes // 2**20:,} "
                            f"MiB free, less than twice the largest table; {temp_dir} has room to spill")
    else:
        proposed, reason = current_temp, (f"spilling next to each database file: the home's disk has "
                                          f"{context.free_disk_bytes // 2**20:,} MiB free")
    proposals.append(Proposal(f"{section}.temp_directory", current_temp, proposed, reason))
    return proposals
