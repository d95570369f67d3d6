"""Shared helpers of the files plugin's tests."""

from __future__ import annotations

import pyarrow as pa
import pytest


def _ingest(reader) -> tuple[list[bool], pa.Table]:
    """Registration's loop: read, widen on a conversion error, else its sentence."""
    widened = []
    while True:
        try:
            return widened, reader.open().read_all()
        except pa.ArrowInvalid as exc:
            widened.append(reader.widen_for(exc))
            if not widened[-1]:
                raise reader.error_for(exc) from None


@pytest.fixture
def ingest():
    """``ingest(reader)``: (the widenings made, the table read), as registration reads."""
    return _ingest
