"""A reader of ``mdm``'s output that leaves early (``| head``) is not an error."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def test_output_piped_into_a_reader_that_stops_early_exits_quietly(home):
    exe = Path(sys.executable).with_name("mdm")
    proc = subprocess.Popen([str(exe), "config", "show", "--sources"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    first = proc.stdout.readline()
    proc.stdout.close()  # the reader goes away with most of the table unread
    stderr = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 0
    assert first.startswith(b"Home:")
    assert "BrokenPipe" not in stderr and "Error" not in stderr, stderr
