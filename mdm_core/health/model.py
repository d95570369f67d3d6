"""What ``mdm doctor`` finds: one :class:`Check` per thing looked at, in a :class:`DoctorReport`.

(:class:`mdm_core.storage.HealthReport` is one backend's own answer, which a check turns
into a row; :class:`mdm_core.testing.checks.CheckResult` is one conformance test.)
"""

from __future__ import annotations

import enum

import attrs


class Status(enum.Enum):
    """OK: nothing to do. WARN: MDM works, something deserves a look. FAIL: something
    does not work (``mdm doctor`` exits 1)."""

    OK = "OK"
    WARN = "WARN"
    FAIL = "FAIL"


@attrs.frozen
class Check:
    """One row of the doctor's table: ``group`` (config, plugins, storage, datasets,
    features, home, work), what was checked (``name``), its ``status``, one line of
    ``detail``, and for WARN/FAIL the command (or action) that fixes it (``fix``)."""

    group: str
    name: str
    status: Status
    detail: str = attrs.field(converter=lambda text: " ".join(str(text).split()))
    fix: str = ""

    def as_dict(self) -> dict[str, str]:
        return {"group": self.group, "name": self.name, "status": self.status.value,
                "detail": self.detail, "fix": self.fix}


def ok(group: str, name: str, detail: str) -> Check:
    return Check(group, name, Status.OK, detail)


def warn(group: str, name: str, detail: str, fix: str) -> Check:
    return Check(group, name, Status.WARN, detail, fix)


def fail(group: str, name: str, detail: str, fix: str) -> Check:
    return Check(group, name, Status.FAIL, detail, fix)


@attrs.frozen
class DoctorReport:
    """Every check of one run; ``deep`` when content was read in full."""

    checks: tuple[Check, ...]
    deep: bool = False

    def count(self, status: Status) -> int:
        return sum(1 for c in self.checks if c.status is status)

    @property
    def exit_code(self) -> int:
        """1 when any check failed, else 0 (warnings do not fail the run)."""
        return 1 if self.count(Status.FAIL) else 0

    def as_dict(self) -> dict:
        return {"deep": self.deep, "exit_code": self.exit_code,
                "summary": {s.value.lower(): self.count(s) for s in Status},
                "checks": [c.as_dict() for c in self.checks]}
