"""Doctor checks of the home itself: free space on its disk, and that the home and its
datasets folder can be written."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

from mdm_core.health.model import Check, fail, ok, warn

HOME = "home"
#: Free space below either limit is a warning.
MIN_FREE_BYTES = 1 << 30
MIN_FREE_RATIO = 0.05


def check_home(home: Path, datasets_dir: Path) -> list[Check]:
    return [check_disk(home), *(check_writable(label, path) for label, path in
                                (("home writable", home), ("datasets folder writable", datasets_dir)))]


def check_disk(home: Path) -> Check:
    from mdm_core.cli.output import human_size

    usage = shutil.disk_usage(_existing(home))
    detail = f"{human_size(usage.free)} free of {human_size(usage.total)} ({usage.free / usage.total:.0%})."
    if usage.free < MIN_FREE_BYTES or usage.free < usage.total * MIN_FREE_RATIO:
        return warn(HOME, "disk space", detail, f"Free space on the disk of {home} (below "
                    f"{human_size(MIN_FREE_BYTES)} or {MIN_FREE_RATIO:.0%} MDM may fail to register or back up).")
    return ok(HOME, "disk space", detail)


def check_writable(label: str, path: Path) -> Check:
    """A folder that exists must be writable; one that does not must be creatable."""
    target = _existing(path)
    if os.access(target, os.W_OK | os.X_OK):
        return ok(HOME, label, f"{path} is writable." if target == path else f"{path} will be created.")
    return fail(HOME, label, f"{target} is not writable by this user.",
                f"Run as the owner of {target} or give write access: chmod u+w {target}")


def _existing(path: Path) -> Path:
    """``path`` or its nearest existing parent."""
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def sizes(path: Path) -> dict[str, Any]:
    """Bytes under ``path`` (all files, followed no links) and its disk's total and free."""
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            try:
                total += (Path(root) / name).lstat().st_size
            except OSError:
                continue
    usage = shutil.disk_usage(_existing(path))
    return {"path": str(path), "bytes": total, "disk_total": usage.total, "disk_free": usage.free}
