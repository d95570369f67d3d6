"""MDM 1.x's ``mdm stats dataset``, ``logs``, ``cleanup`` and ``dashboard``: run through the
real CLI against a temp home, over an operations history and a log file that MDM wrote or
that the test wrote in their formats; every command also with ``--format json``."""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest

from mdm_core.performance.data import write_csv
from mdm_core.performance.history import append, read_history
from mdm_core.performance.history_cleanup import cutoff, remove_older

NOW = datetime.now(UTC)


def ago(days: float = 0, hours: float = 0) -> str:
    return (NOW - timedelta(days=days, hours=hours)).isoformat(timespec="seconds")


def history(home: Path) -> Path:
    return home / "logs" / "operations.jsonl"


def record(operation: str, dataset: str | None, started: str, seconds: float, rows: int | None,
           status: str = "ok", error: str | None = None) -> dict:
    return {"operation": operation, "dataset": dataset, "backend": "sqlite", "started": started,
            "seconds": seconds, "rows": rows, "status": status, "error": error}


@pytest.fixture
def sales_history(home) -> list[dict]:
    """Seven records: five on ``sales`` (two registrations, one failed; two exports; one
    removal), one on ``other``, one migration; oldest first."""
    records = [
        record("register", "sales", ago(days=3), 2.0, 1_000),
        record("export", "sales", ago(days=2), 0.5, 1_000),
        record("register", "other", ago(days=2), 9.0, 50),
        record("export", "sales", ago(days=1), 1.5, 1_000),
        record("register", "sales", ago(hours=5), 1.0, None, "failed", "File 'x.csv' not found."),
        record("migration", None, ago(hours=2), 4.0, 0),
        record("remove", "sales", ago(hours=1), 0.25, 1_000),
    ]
    for r in records:
        append(history(home), r)
    return records


# -- mdm stats dataset NAME -------------------------------------------------------------------
def test_dataset_figures_per_operation_come_from_the_history(cli, sales_history):
    result = cli("stats", "dataset", "Sales", "--format", "json")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {
        "export": {"count": 2, "failed": 0, "rows": 2_000, "average_seconds": 1.0, "last": sales_history[3]["started"]},
        "register": {"count": 2, "failed": 1, "rows": 1_000, "average_seconds": 1.5,
                     "last": sales_history[4]["started"]},
        "remove": {"count": 1, "failed": 0, "rows": 1_000, "average_seconds": 0.25,
                   "last": sales_history[6]["started"]},
    }
    table = cli("stats", "dataset", "sales").stdout
    assert "Operations on dataset 'sales'" in table
    rows = {line.split("│")[1].strip(): [c.strip() for c in line.split("│")[2:6]]
            for line in table.splitlines() if line.startswith("│")}
    assert rows == {"export": ["2", "0", "2,000", "1.00"], "register": ["2", "1", "1,000", "1.50"],
                    "remove": ["1", "0", "1,000", "0.25"]}
    assert sales_history[4]["started"].replace("T", " ")[:19] in table


def test_a_dataset_without_history_says_so_and_exits_0(cli, sales_history):
    result = cli("stats", "dataset", "nothing_here")
    assert result.exit_code == 0
    assert result.stdout.strip() == "No operations recorded for dataset 'nothing_here'."
    assert json.loads(cli("stats", "dataset", "nothing_here", "--format", "json").stdout) == {}


def test_dataset_figures_of_a_real_registration_and_export(client, cli, tmp_path):
    client.register_dataset("flights", write_csv(tmp_path / "f.csv", 321), generate_features=False)
    client.export_dataset("flights", tmp_path / "out", format="csv")
    shown = json.loads(cli("stats", "dataset", "flights", "--format", "json").stdout)
    assert {op: (s["count"], s["failed"], s["rows"]) for op, s in shown.items()} == {
        "register": (1, 0, 321), "export": (1, 0, 321)}


def test_summary_still_counts_the_whole_history(cli, sales_history):
    summary = json.loads(cli("stats", "summary", "--format", "json").stdout)
    assert summary["register"] == {"count": 3, "failed": 1, "rows": 1_050, "average_seconds": 4.0,
                                   "last": sales_history[4]["started"]}
    assert set(summary) == {"export", "migration", "register", "remove"}


# -- mdm stats logs ---------------------------------------------------------------------------
@pytest.fixture(params=["console", "json"])
def mdm_log(request, home, run_mdm, tmp_path) -> tuple[dict, Path]:
    """A log file MDM wrote (``logging.format`` console or json, level INFO): two
    registrations (info records) and two failed commands (error records)."""
    env = {"MDM_LOGGING_FILE": "mdm.log", "MDM_LOGGING_LEVEL": "INFO", "MDM_LOGGING_FORMAT": request.param}
    csv = write_csv(tmp_path / "sales.csv", 20)
    for args in (["dataset", "register", "sales", str(csv), "--no-features"],
                 ["dataset", "info", "missing_one"],
                 ["dataset", "register", "penguins_x", str(csv), "--no-features"],
                 ["dataset", "info", "missing_two"]):
        run_mdm(*args, env=env)
    path = home / "logs" / "mdm.log"
    assert path.is_file()
    return env, path


def test_logs_filters_by_level_text_and_tail(run_mdm, mdm_log):
    env, path = mdm_log
    errors = run_mdm("stats", "logs", "--level", "ERROR", env=env)
    assert errors.returncode == 0, errors.stderr
    lines = errors.stdout.splitlines()
    assert len(lines) == 2 and "missing_one" in lines[0] and "missing_two" in lines[1]
    assert all(line in path.read_text().splitlines() for line in lines)  # printed as the file holds them

    assert run_mdm("stats", "logs", "-l", "error", "-n", "1", env=env).stdout.splitlines() == lines[1:]
    found = run_mdm("stats", "logs", "-g", "PENGUINS_X", env=env).stdout.splitlines()
    assert found and all("penguins_x" in line for line in found)
    info = run_mdm("stats", "logs", "-l", "info", "-g", "registered dataset", env=env).stdout.splitlines()
    assert len(info) == 2 and "sales" in info[0] and "penguins_x" in info[1]
    every = run_mdm("stats", "logs", env=env).stdout.splitlines()
    assert run_mdm("stats", "logs", "--tail", "3", env=env).stdout.splitlines() == every[-3:]

    shown = json.loads(run_mdm("stats", "logs", "-l", "WARN", "--format", "json", env=env).stdout)
    assert shown == []
    shown = json.loads(run_mdm("stats", "logs", "--level", "error", "--format", "json", env=env).stdout)
    assert [r["level"] for r in shown] == ["ERROR", "ERROR"]
    assert [r["text"] for r in shown] == lines
    assert all(re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d", r["timestamp"]) for r in shown)


def test_logs_reads_the_rotated_files_when_the_current_one_has_too_few(home, run_mdm):
    env = {"MDM_LOGGING_FILE": "mdm.log", "MDM_LOGGING_LEVEL": "INFO", "MDM_LOGGING_MAX_BYTES": "400",
           "MDM_LOGGING_BACKUP_COUNT": "20"}
    for i in range(6):
        run_mdm("dataset", "info", f"missing_{i}", env=env)
    assert (home / "logs" / "mdm.log.1").is_file()
    shown = run_mdm("stats", "logs", "-l", "error", "-n", "6", env=env).stdout.splitlines()
    assert [re.search(r"missing_\d", line)[0] for line in shown] == [f"missing_{i}" for i in range(6)]


def test_logs_of_a_1x_home_and_a_traceback_stays_with_its_record(home, cli):
    log = home / "logs" / "mdm.log"  # MDM 1.x's log file, logging.file not set
    log.parent.mkdir()
    log.write_text(textwrap.dedent("""\
        2025-05-01 10:00:00.100 | INFO | mdm.dataset.registrar:register:88 - Registering dataset penguins
        2025-05-01 10:00:01.200 | ERROR | mdm.cli.main:main:40 - Registration failed
        Traceback (most recent call last):
          File "x.py", line 1, in <module>
        ValueError: bad penguins
        2025-05-01 10:00:02.300 | WARNING | mdm.storage.sqlite:connect:12 - Slow disk
        """))
    errors = cli("stats", "logs", "-l", "ERROR")
    assert errors.exit_code == 0
    assert errors.stdout.splitlines() == log.read_text().splitlines()[1:5]
    assert cli("stats", "logs", "-g", "bad PENGUINS").stdout.splitlines() == log.read_text().splitlines()[1:5]
    shown = json.loads(cli("stats", "logs", "-l", "warning", "--format", "json").stdout)
    assert shown == [{"level": "WARNING", "timestamp": "2025-05-01 10:00:02.300",
                      "text": log.read_text().splitlines()[5]}]


def test_logs_without_a_log_file_and_with_an_unknown_level(cli):
    result = cli("stats", "logs")
    assert result.exit_code == 0 and "No log file" in result.stdout and "logging.file" in result.stdout
    assert json.loads(cli("stats", "logs", "--format", "json").stdout) == []
    bad = cli("stats", "logs", "--level", "loud")
    assert bad.exit_code == 2 and "'loud' is not a level" in bad.stderr


# -- mdm stats cleanup ------------------------------------------------------------------------
@pytest.fixture
def aged_history(home) -> Path:
    """Two records older than 30 days, two newer, and a line that is not a record."""
    path = history(home)
    for started, dataset in ((ago(days=90), "ancient"), (ago(days=31), "old"), (ago(days=29), "recent"),
                             (ago(), "today")):
        append(path, record("register", dataset, started, 1.0, 10))
    with path.open("a") as handle:
        handle.write("not json, kept: nothing says it is old\n")
    return path


def test_cleanup_asks_and_removes_exactly_the_old_records(cli, aged_history):
    before = aged_history.read_bytes()
    refused = cli("stats", "cleanup", "--days", "30", input="n\n")
    assert refused.exit_code == 0
    assert "Remove the 2 operations-history records older than 30 days?" in refused.stdout
    assert "Nothing removed." in refused.stdout and aged_history.read_bytes() == before

    done = cli("stats", "cleanup", "-d", "30", input="y\n")
    assert done.exit_code == 0 and "Removed 2 operations-history records older than 30 days." in done.stdout
    assert [r["dataset"] for r in read_history(aged_history)] == ["today", "recent"]
    assert aged_history.read_text().splitlines()[-1] == "not json, kept: nothing says it is old"
    assert stat.S_IMODE(aged_history.stat().st_mode) == 0o644
    assert not [p for p in aged_history.parent.iterdir() if p.name.endswith(".tmp")]


def test_cleanup_with_yes_and_json(cli, aged_history):
    refused = cli("stats", "cleanup", "--format", "json")
    assert refused.exit_code == 2 and "add --yes" in refused.stderr
    assert len(read_history(aged_history)) == 4
    result = cli("stats", "cleanup", "--days", "30", "--yes", "--format", "json")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {"removed": 2, "days": 30, "history": str(aged_history)}
    again = cli("stats", "cleanup", "-d", "30", "-y", "--format", "json")
    assert json.loads(again.stdout)["removed"] == 0
    nothing_old = cli("stats", "cleanup", "-d", "30")  # nothing to remove: no question
    assert nothing_old.exit_code == 0 and nothing_old.stdout.strip() == (
        "Removed 0 operations-history records older than 30 days.")


def test_cleanup_of_a_home_without_history(cli, home):
    result = cli("stats", "cleanup", "-y")
    assert result.exit_code == 0 and "Removed 0" in result.stdout
    assert not history(home).exists()


def test_cleanup_never_loses_a_record_appended_meanwhile(tmp_path):
    path = tmp_path / "logs" / "operations.jsonl"
    for i in range(300):
        append(path, record("export", f"old_{i}", ago(days=60), 0.1, i))
    code = textwrap.dedent(f"""
        from pathlib import Path
        from mdm_core.performance.history import append
        for i in range(300):
            append(Path({str(path)!r}), {{"operation": "register", "dataset": "new_%d_%d" % ({{}}, i),
                                          "started": {ago()!r}, "status": "ok"}})
    """)
    writers = [subprocess.Popen([sys.executable, "-c", code.replace("{}", str(w))]) for w in range(3)]
    removed = 0
    while any(w.poll() is None for w in writers):
        removed += remove_older(path, cutoff(30))
    assert [w.wait() for w in writers] == [0, 0, 0]
    removed += remove_older(path, cutoff(30))
    assert removed == 300
    datasets = [r["dataset"] for r in read_history(path)]
    assert sorted(datasets) == sorted(f"new_{w}_{i}" for w in range(3) for i in range(300))
    assert all(json.loads(line) for line in path.read_text().splitlines())


# -- mdm stats dashboard ----------------------------------------------------------------------
VOID = {"meta", "br", "img", "input", "link", "hr", "col", "wbr", "area", "base", "source", "line", "rect"}


class _Checker(HTMLParser):
    """Balanced tags (void and self-closed ones aside); collects the text."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.tags: set[str] = set()
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.tags.add(tag)

    def handle_endtag(self, tag):
        if tag in VOID and (not self.stack or self.stack[-1] != tag):
            return
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes <{self.stack[-1] if self.stack else None}>"
        self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)


def parsed(html: str) -> _Checker:
    checker = _Checker()
    checker.feed(html)
    checker.close()
    assert checker.stack == []
    return checker


def test_dashboard_is_one_self_contained_html_file_with_the_figures(cli, home, sales_history, tmp_path):
    append(history(home), record("export", "x<script>alert(1)</script>", ago(), 0.1, None, "failed",
                                 "Cannot write <b>out</b> & stop"))
    target = tmp_path / "reports" / "board.html"
    result = cli("stats", "dashboard", "--output", str(target), "--no-open")
    assert result.exit_code == 0 and f"Dashboard written to {target}." in result.stdout
    html = target.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>")
    page = parsed(html)
    text = " ".join(page.text)
    assert {"html", "head", "style", "body", "svg", "table"} <= page.tags
    assert not page.tags & {"script", "link", "img", "iframe", "object", "embed"}
    assert "http://" not in html and "https://" not in html and "src=" not in html and "url(" not in html
    assert "<script>" not in html and "x&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "Cannot write &lt;b&gt;out&lt;/b&gt; &amp; stop" in html
    # 8 operations, 2 not ok (75.0%), datasets sales, other and the escaped one
    for figure in ("Operations 8", "Success rate 75.0%", "Failed 2", "Datasets 3"):
        assert figure in " ".join(text.split()), figure
    assert "1,000" in text and "File 'x.csv' not found." in text
    assert "<title>" + sales_history[0]["started"][:10] + ": 1 ok, 0 failed</title>" in html
    assert "register: 4.000 s on average over 3" in html


def test_dashboard_default_path_json_and_open(cli, home, sales_history, monkeypatch):
    result = cli("stats", "dashboard", "--no-open", "--format", "json")
    assert result.exit_code == 0
    shown = json.loads(result.stdout)
    assert shown["path"] == str(home / "dashboard.html") and shown["opened"] is False
    assert (shown["total"], shown["failed"], shown["datasets"]) == (7, 1, 2)
    assert shown["operations"]["export"]["rows"] == 2_000
    first, last = (datetime.fromisoformat(sales_history[i]["started"]).date() for i in (0, -1))
    assert [d["day"] for d in shown["days"]] == [(first + timedelta(days=i)).isoformat()
                                                 for i in range((last - first).days + 1)]
    assert sum(d["ok"] for d in shown["days"]) == 6 and sum(d["failed"] for d in shown["days"]) == 1
    assert [e["dataset"] for e in shown["errors"]] == ["sales"]
    assert (home / "dashboard.html").is_file()

    opened: list[str] = []
    monkeypatch.setattr("webbrowser.open", lambda url: opened.append(url) or True)
    result = cli("stats", "dashboard")  # --open is the default, as in 1.x
    assert result.exit_code == 0 and "opened in the browser" in result.stdout
    assert opened == [(home / "dashboard.html").resolve().as_uri()]


def test_dashboard_of_an_empty_history_and_an_unwritable_target(cli, home, tmp_path):
    result = cli("stats", "dashboard", "--no-open")
    assert result.exit_code == 0
    page = parsed((home / "dashboard.html").read_text())
    assert "No operations recorded yet." in " ".join(page.text)
    blocked = tmp_path / "file"
    blocked.write_text("")
    failed = cli("stats", "dashboard", "--no-open", "-o", str(blocked / "d.html"))
    assert failed.exit_code == 1 and "Cannot write the dashboard to" in failed.stderr and "Traceback" not in failed.stderr


# -- a 1.x script keeps working ---------------------------------------------------------------
SCRIPT_1X = """\
set -e
mdm stats dataset sales
mdm stats logs --tail 5 --level ERROR --grep sales
echo y | mdm stats cleanup --days 30
mdm stats dashboard --output board.html --no-open
"""


def test_a_1x_script_of_these_commands_runs_and_is_not_rewritten(home, sales_history, tmp_path):
    from mdm_plugin_legacy.script_rewrite_1x import rewrite_text

    assert rewrite_text(SCRIPT_1X).findings == ()
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    done = subprocess.run(["bash", "-c", SCRIPT_1X], capture_output=True, text=True, env=env, cwd=tmp_path,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    assert "Operations on dataset 'sales'" in done.stdout and "No log file" in done.stdout
    assert "Removed 0 operations-history records older than 30 days." in done.stdout
    assert (tmp_path / "board.html").is_file()
