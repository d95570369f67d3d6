"""``logging.file``: MDM's records land in the file at ``logging.level`` (lower with -v or
--debug), as JSON lines or console lines per ``logging.format``, and never on a quiet
terminal."""

from __future__ import annotations

import json


def _records(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def test_relative_log_file_gets_the_registration_as_json(run_mdm, home, penguins):
    (home / "mdm.yaml").write_text("logging:\n  level: INFO\n  file: mdm.log\n  format: json\n")
    result = run_mdm("dataset", "register", "pen", str(penguins), "--no-features")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # quiet terminal: the info record went to the file only
    log_file = home / "logs" / "mdm.log"  # relative: under the home's logs folder
    records = _records(log_file)
    registered = [r for r in records if r["event"] == "registered dataset"]
    assert len(registered) == 1
    record = registered[0]
    assert record["dataset"] == "pen" and record["level"] == "info" and record["backend"] == "sqlite"
    assert record["tables"] == ["train", "test", "sample_submission"]
    assert record["logger"] == "mdm_core.datasets.registration" and record["timestamp"][:2] == "20"
    # a second command appends
    run_mdm("dataset", "remove", "pen", "--force")
    run_mdm("dataset", "register", "pen", str(penguins), "--no-features")
    assert len([r for r in _records(log_file) if r["event"] == "registered dataset"]) == 2


def test_absolute_log_file_console_format(run_mdm, home, tmp_path, penguins):
    log_file = tmp_path / "elsewhere" / "mdm-console.log"
    (home / "mdm.yaml").write_text(f"logging:\n  level: info\n  file: {log_file}\n")
    result = run_mdm("dataset", "register", "pen", str(penguins), "--no-features")
    assert result.returncode == 0 and result.stderr == ""
    lines = [line for line in log_file.read_text().splitlines() if "registered dataset" in line]
    assert len(lines) == 1 and "dataset=pen" in lines[0] and "[info" in lines[0]
    # the log went where it was told; the home's logs folder holds at most the operations history
    assert {p.name for p in (home / "logs").glob("*")} <= {"operations.jsonl"}


def test_level_filters_the_file_and_verbose_lowers_it(run_mdm, home, penguins):
    (home / "mdm.yaml").write_text("logging:\n  file: mdm.log\n  format: json\n")  # level WARNING
    run_mdm("dataset", "register", "pen", str(penguins), "--no-features")
    log_file = home / "logs" / "mdm.log"
    assert not log_file.exists() or not [r for r in _records(log_file) if r["event"] == "registered dataset"]
    verbose = run_mdm("-v", "dataset", "register", "pen2", str(penguins), "--no-features")
    assert verbose.returncode == 0
    assert "registered dataset" in verbose.stderr  # -v: the terminal shows it too
    assert [r["dataset"] for r in _records(log_file) if r["event"] == "registered dataset"] == ["pen2"]


def test_failures_are_logged_to_the_file_only(run_mdm, home, tmp_path):
    (home / "mdm.yaml").write_text("logging:\n  level: INFO\n  file: mdm.log\n  format: json\n")
    result = run_mdm("dataset", "register", "x", str(tmp_path / "nope.csv"))
    assert result.returncode == 1
    assert result.stderr.strip().startswith("Error: Path ") and result.stderr.strip().count("\n") == 0
    failed = [r for r in _records(home / "logs" / "mdm.log") if r["event"] == "command failed"]
    assert len(failed) == 1
    assert failed[0]["error_type"] == "DatasetError" and "does not exist" in failed[0]["error"]
    assert failed[0]["command"].startswith("dataset register x ")


def test_unwritable_log_file_warns_and_the_command_still_works(run_mdm, home, penguins):
    (home / "logs" / "mdm.log").mkdir(parents=True)  # a folder where the file should be
    (home / "mdm.yaml").write_text("logging:\n  level: INFO\n  file: mdm.log\n")
    result = run_mdm("dataset", "register", "pen", str(penguins), "--no-features")
    assert result.returncode == 0
    assert "Warning: cannot write the log file" in result.stderr and "logging to it is off" in result.stderr


def test_config_validate_rejects_unknown_level_and_format(run_mdm, home):
    (home / "mdm.yaml").write_text("logging:\n  level: chatty\n")
    bad_level = run_mdm("config", "validate")
    assert bad_level.returncode == 1
    assert "logging.level" in bad_level.stderr and "debug, info, warning" in bad_level.stderr
    (home / "mdm.yaml").write_text("logging:\n  format: xml\n")
    bad_format = run_mdm("config", "validate")
    assert bad_format.returncode == 1 and "console, json" in bad_format.stderr
    (home / "mdm.yaml").write_text("logging:\n  level: debug\n  format: JSON\n  file: x.log\n")
    assert run_mdm("config", "validate").returncode == 0
