"""Commands that file permissions apply to, also when the tests run as root."""

from __future__ import annotations

import os
import shutil

import pytest

#: The capabilities that let root read and write any file whatever its mode.
ROOT_FILE_POWERS = "-dac_override,-dac_read_search"


def without_root_powers(command: list[str]) -> list[str]:
    """``command`` as given for an ordinary user; as root, run through ``setpriv`` without
    the capabilities that bypass file modes, so a file of mode 000 or a folder of mode 555
    stops it as it would stop a user (the test is skipped when ``setpriv`` is missing)."""
    if os.geteuid() != 0:
        return command
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root without setpriv: file modes cannot be made to apply")
    return [setpriv, f"--inh-caps={ROOT_FILE_POWERS}", f"--bounding-set={ROOT_FILE_POWERS}", "--", *command]
