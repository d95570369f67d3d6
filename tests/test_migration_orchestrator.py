"""The migration orchestrator and ``mdm-migrate`` on a step installed as a real plugin
package: journal, lock, exit codes, resume after SIGKILL, rollback byte for byte, cleanup.

The step copies the home's ``src/*.txt`` files into ``dst/`` (one unit per file); the
environment steers it: ``FILECOPY_FAIL``/``FILECOPY_MISMATCH``/``FILECOPY_KILL`` name a
unit that raises, does not verify, or SIGKILLs its own process mid-copy; ``FILECOPY_SLEEP``
holds every unit; ``FILECOPY_SKIP`` names a file reported as skipped.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mdm_core.testing.home import snapshot

STEP_SOURCE = '''
import os, signal, time
from pathlib import Path
from mdm_core.hookspecs import hookimpl
from mdm_core.migration.step import Skipped, StepCheck, StepPlan, Unit, UnitResult


class FileCopy:
    name = "file-copy"
    phase = "storage"

    def plan(self, ctx):
        files = sorted((ctx.home / "src").glob("*.txt"))
        skip = os.environ.get("FILECOPY_SKIP")
        units = tuple(Unit(p.name, rows=len(p.read_bytes()), data={"src": p.name}) for p in files if p.name != skip)
        skipped = tuple(Skipped(p.name, "marked broken") for p in files if p.name == skip)
        return StepPlan(f"copy {len(units)} files", units, skipped,
                        fingerprint="|".join(f"{p.name}:{p.read_bytes().hex()}" for p in files))

    def apply(self, ctx, unit):
        with open(ctx.home / "applied.log", "a") as log:
            log.write(unit.id + "\\n")
        if os.environ.get("FILECOPY_SLEEP"):
            time.sleep(float(os.environ["FILECOPY_SLEEP"]))
        if unit.id == os.environ.get("FILECOPY_FAIL"):
            raise OSError(f"cannot read {unit.id}")
        dst = ctx.home / "dst"
        dst.mkdir(exist_ok=True)
        data = (ctx.home / "src" / unit.data["src"]).read_bytes()
        target = dst / unit.id
        target.write_bytes(data[: len(data) // 2])
        if unit.id == os.environ.get("FILECOPY_KILL"):
            os.kill(os.getpid(), signal.SIGKILL)
        target.write_bytes(data)
        ctx.progress(len(data))
        return UnitResult(rows_read=len(data), rows_written=len(data), created={"file": f"dst/{unit.id}"})

    def verify(self, ctx, unit, result, *, deep=True):
        if unit.id == os.environ.get("FILECOPY_MISMATCH"):
            return StepCheck(False, (f"{unit.id}: contents differ",))
        same = (ctx.home / "dst" / unit.id).read_bytes() == (ctx.home / "src" / unit.data["src"]).read_bytes()
        return StepCheck(same, () if same else (f"{unit.id}: contents differ",))

    def rollback(self, ctx, unit, result):
        (ctx.home / "dst" / unit.id).unlink(missing_ok=True)

    def cleanup(self, ctx, unit, result):
        (ctx.home / "src" / unit.data["src"]).unlink()
        return [f"src/{unit.id}"]


@hookimpl
def mdm_migration_steps():
    return [FileCopy()]
'''


@pytest.fixture
def site(tmp_path_factory) -> Path:
    from mdm_core.testing.distributions import install_plugin_module

    return install_plugin_module(tmp_path_factory.mktemp("site"), "mdm-filecopy", "mdm_filecopy_step", STEP_SOURCE)


@pytest.fixture
def migrate(home, site):
    """Run ``mdm-migrate`` in a subprocess with the file-copy plugin installed."""
    exe = Path(sys.executable).with_name("mdm-migrate")

    def run(*args: str, env: dict | None = None, background: bool = False):
        full = {**os.environ, "PYTHONPATH": str(site), **(env or {})}
        if background:
            return subprocess.Popen([str(exe), *args], env=full, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        return subprocess.run([str(exe), *args], capture_output=True, text=True, env=full, timeout=120)

    return run


@pytest.fixture
def files(home) -> dict[str, bytes]:
    src = home / "src"
    src.mkdir()
    contents = {f"f{i}.txt": f"content {i} ".encode() * (i + 1) for i in range(5)}
    for name, data in contents.items():
        (src / name).write_bytes(data)
    (home / "mdm.yaml").write_text("performance:\n  batch_size: 1234  # kept byte for byte\n", encoding="utf-8")
    return contents


def _json(result) -> dict:
    assert result.stdout, result.stderr
    return json.loads(result.stdout)


def _applied(home: Path) -> list[str]:
    log = home / "applied.log"
    return log.read_text().split() if log.exists() else []


def test_plan_writes_nothing_and_describes_every_unit(migrate, home, files):
    before = snapshot(home, files_only=True)
    plan = _json(migrate("plan", "--format", "json"))
    assert snapshot(home, files_only=True) == before
    storage = next(p for p in plan["phases"] if p["phase"] == "storage")
    assert storage["flag"] == "use_new_storage" and storage["state"] == "pending"
    step = next(s for s in storage["steps"] if s["step"] == "file-copy")  # built-in steps have no work here
    assert step["step"] == "file-copy" and step["plugin"] == "mdm_filecopy_step"
    assert [u["id"] for u in step["units"]] == sorted(files)
    assert plan["total_rows"] == sum(len(v) for v in files.values())
    assert len(plan["plan_id"]) == 12
    assert _json(migrate("plan", "--format", "json"))["plan_id"] == plan["plan_id"]
    (home / "src" / "f0.txt").write_bytes(b"changed")
    assert _json(migrate("plan", "--format", "json"))["plan_id"] != plan["plan_id"]
    status = _json(migrate("status", "--format", "json"))
    assert [u["state"] for u in status["units"]] == ["pending"] * 5
    assert not (home / ".migration").exists()


def test_run_verifies_records_and_flips_the_flag(migrate, home, files):
    result = migrate("run", "--yes", "--format", "json")
    assert result.returncode == 0, result.stderr
    report = _json(result)
    assert "storage" in report["phases_done"] and report["exit_code"] == 0
    assert {u["unit"]: (u["state"], u["rows_read"], u["rows_written"]) for u in report["units"]} == {
        name: ("done", len(data), len(data)) for name, data in files.items()}
    assert {p.name: p.read_bytes() for p in (home / "dst").iterdir()} == files
    from mdm_core.config import load_settings

    assert load_settings(home, fresh=True).settings.flags.use_new_storage is True
    assert load_settings(home, fresh=True).settings.performance.batch_size == 1234
    status = _json(migrate("status", "--format", "json"))
    assert next(p for p in status["phases"] if p["phase"] == "storage")["state"] == "done"
    assert status["next"].startswith("mdm-migrate validate"), status
    again = migrate("run", "--yes", "--format", "json")
    assert again.returncode == 0 and _json(again)["units"] == []
    assert sorted(_applied(home)) == sorted(files)  # nothing applied twice


@pytest.mark.parametrize(("env", "code", "state"), [
    ({"FILECOPY_FAIL": "f2.txt"}, 1, "failed"),
    ({"FILECOPY_MISMATCH": "f2.txt"}, 3, "failed"),
    ({"FILECOPY_SKIP": "f2.txt"}, 5, "skipped"),
])
def test_exit_codes_and_what_status_says(migrate, home, files, env, code, state):
    result = migrate("run", "--yes", "--format", "json", env=env)
    assert result.returncode == code, result.stderr
    units = {u["unit"]: u for u in _json(result)["units"]}
    assert units["f2.txt"]["state"] == state
    assert all(u["state"] == "done" for name, u in units.items() if name != "f2.txt")
    status = _json(migrate("status", "--format", "json"))
    storage = next(p for p in status["phases"] if p["phase"] == "storage")
    if code == 5:  # skipped data does not block the phase
        assert storage["state"] == "done"
        return
    assert storage["state"] == "failed"
    failed = next(u for u in status["units"] if u["unit"] == "f2.txt")
    assert failed["error"] in ("cannot read f2.txt", "f2.txt: contents differ")
    assert status["next"].startswith("mdm-migrate run")
    from mdm_core.config import load_settings

    assert not (home / "mdm.yaml").read_text().count("use_new_storage")
    assert load_settings(home, fresh=True).settings.performance.batch_size == 1234
    fixed = migrate("run", "--yes", "--format", "json")  # the cause is gone: only f2 runs again
    assert fixed.returncode == 0, fixed.stderr
    assert [u["unit"] for u in _json(fixed)["units"]] == ["f2.txt"]


@pytest.mark.parametrize("victim", ["f0.txt", "f2.txt", "f4.txt"])
def test_a_run_killed_mid_unit_resumes_without_duplicates(migrate, home, files, victim):
    killed = migrate("run", "--yes", "--format", "json", env={"FILECOPY_KILL": victim})
    assert killed.returncode == -signal.SIGKILL
    status = _json(migrate("status", "--format", "json"))
    assert next(u for u in status["units"] if u["unit"] == victim)["state"] == "running"
    assert "resumes" in status["next"]
    resumed = migrate("run", "--yes", "--format", "json")
    assert resumed.returncode == 0, resumed.stderr
    order = sorted(files)
    done_before = order[: order.index(victim)]
    assert [u["unit"] for u in _json(resumed)["units"]] == order[order.index(victim):]
    assert _applied(home) == done_before + [victim] + order[order.index(victim):]
    assert {p.name: p.read_bytes() for p in (home / "dst").iterdir()} == files


def test_changed_sources_after_an_interrupted_run_are_refused(migrate, home, files):
    assert migrate("run", "--yes", "--format", "json", env={"FILECOPY_KILL": "f1.txt"}).returncode == -signal.SIGKILL
    (home / "src" / "f3.txt").write_bytes(b"edited after the kill")
    refused = migrate("run", "--yes", "--format", "json")
    assert refused.returncode == 1
    assert "changed since the interrupted run" in refused.stderr and "--restart" in refused.stderr
    restarted = migrate("run", "--yes", "--restart", "--format", "json")
    assert restarted.returncode == 0, restarted.stderr
    assert (home / "dst" / "f3.txt").read_bytes() == b"edited after the kill"


def test_one_migration_command_at_a_time(migrate, home, files):
    holder = migrate("run", "--yes", "--format", "json", env={"FILECOPY_SLEEP": "30"}, background=True)
    try:
        lock = home / ".migration" / "lock"
        deadline = time.monotonic() + 30
        while not (lock.exists() and lock.read_text()) and time.monotonic() < deadline:
            time.sleep(0.05)
        for command in (["run", "--yes"], ["rollback", "--all", "--yes"], ["cleanup", "--yes"]):
            busy = migrate(*command)
            assert busy.returncode == 4, (command, busy.stderr)
            assert f"pid {holder.pid}" in busy.stderr and "mdm-migrate run" in busy.stderr
        before = snapshot(home / ".migration", files_only=True)
        assert migrate("status").returncode == 0 and migrate("plan").returncode == 0  # readers are not blocked
        assert snapshot(home / ".migration", files_only=True) == before
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    taken_over = migrate("run", "--yes", "--format", "json")  # the kernel released the dead holder's lock
    assert taken_over.returncode == 0, taken_over.stderr


def test_rollback_restores_every_file_byte_for_byte(migrate, home, files):
    (home / "applied.log").write_text("")
    before = snapshot(home, files_only=True)
    assert migrate("run", "--yes").returncode == 0
    assert "use_new_storage: true" in (home / "mdm.yaml").read_text()
    result = migrate("rollback", "--all", "--yes", "--format", "json")
    assert result.returncode == 0, result.stderr
    assert "storage" in _json(result)["rolled_back"]
    kept = {"applied.log"}  # the step's own log
    after = {k: v for k, v in snapshot(home, files_only=True).items() if k not in kept}
    assert after == {k: v for k, v in before.items() if k not in kept}
    assert not list((home / "dst").iterdir())
    assert not (home / ".migration").exists()


def test_rollback_of_a_home_without_mdm_yaml_removes_the_one_the_run_wrote(migrate, home, files):
    (home / "mdm.yaml").unlink()
    assert migrate("run", "--yes").returncode == 0
    assert (home / "mdm.yaml").exists()
    assert migrate("rollback", "--phase", "storage", "--yes").returncode == 0
    assert "use_new_storage" not in (home / "mdm.yaml").read_text()  # earlier phases stay done
    assert migrate("rollback", "--all", "--yes").returncode == 0
    assert not (home / "mdm.yaml").exists()


def test_validate_notices_a_changed_target(migrate, home, files):
    assert migrate("run", "--yes").returncode == 0
    before = snapshot(home, files_only=True)
    ok = migrate("validate", "--deep", "--format", "json")
    assert ok.returncode == 0 and _json(ok)["mismatches"] == 0
    assert migrate("status", "--format", "json").returncode == 0
    assert snapshot(home, files_only=True) == before  # validate and status write nothing
    (home / "dst" / "f1.txt").write_bytes(b"tampered")
    bad = migrate("validate", "--format", "json")
    assert bad.returncode == 3
    units = {u["unit"]: u["problems"] for u in _json(bad)["units"]}
    assert units["f1.txt"] == ["f1.txt: contents differ"] and not units["f0.txt"]


def test_cleanup_only_after_a_verified_run_and_then_no_rollback(migrate, home, files):
    refused = migrate("cleanup", "--yes")
    assert refused.returncode == 1 and "not complete" in refused.stderr
    assert migrate("run", "--yes", "--format", "json", env={"FILECOPY_FAIL": "f1.txt"}).returncode == 1
    assert "phases not done: storage" in migrate("cleanup", "--yes").stderr
    assert migrate("run", "--yes").returncode == 0
    (home / "dst" / "f0.txt").write_bytes(b"x")
    assert "no longer verify" in migrate("cleanup", "--yes").stderr
    (home / "dst" / "f0.txt").write_bytes(files["f0.txt"])
    done = migrate("cleanup", "--yes", "--format", "json")
    assert done.returncode == 0, done.stderr
    assert sorted(_json(done)["removed"]) == [f"src/{n}" for n in sorted(files)]
    assert not list((home / ".migration").glob("backups/*"))
    late = migrate("rollback", "--all", "--yes")
    assert late.returncode == 1 and "cannot be rolled back" in late.stderr


def test_usage_errors_exit_2(migrate, home, files):
    assert migrate("run", "--format", "json").returncode == 2  # no prompt possible: needs --yes
    assert migrate("rollback", "--yes").returncode == 2  # --phase or --all
    assert migrate("run", "--phase", "nowhere", "--yes").returncode == 2
