"""``mdm-migrate report`` and ``MigrationMonitor`` on a copy of the MDM 1.0.6 fixture, with
the real orchestrator: a completed, a failed and a rolled-back migration, each as HTML
(parsed), JSON and Markdown."""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import attrs
import pytest

from mdm_core.migration.orchestrator import Reporter

FIXTURE_DATASETS = ["penguins", "penguins_raw", "sample", "weather"]
NASTY = "<b>&"


@pytest.fixture
def legacy_home(legacy_fixture, monkeypatch, use_home) -> Path:
    monkeypatch.chdir(legacy_fixture)
    home = legacy_fixture / "home"
    yaml = home / "config" / "datasets" / "penguins.yaml"  # a user-controlled path the plan's notes quote
    yaml.write_text(yaml.read_text(encoding="utf-8").replace("/srv/mdm-legacy/", f"/srv/mdm-{NASTY}/"),
                    encoding="utf-8")
    return use_home(home)


class _Page(HTMLParser):
    """Tags with their attributes, and the text, of an HTML page."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def _parse(html: str) -> tuple[_Page, str]:
    page = _Page()
    page.feed(html)
    page.close()
    return page, "".join(page.text)


def _check_outputs(report, tmp_path: Path, expected_states: dict[str, str], *, quotes_path: bool = False) -> dict:
    """Save the three forms and check what every form must hold; returns the JSON.
    ``quotes_path``: the plan's notes quote the 1.x path holding markup (shown escaped)."""
    html_file, json_file, md_file = (report.save(tmp_path / f"report.{s}") for s in ("html", "json", "md"))
    html = html_file.read_text(encoding="utf-8")
    page, text = _parse(html)
    names = [t for t, _ in page.tags]
    assert "svg" in names and "rect" in names, "the time chart is inline SVG"
    assert "script" not in names and "link" not in names and "img" not in names
    for tag, attributes in page.tags:
        for key in ("src", "href"):
            assert not (attributes.get(key) or "").startswith(("http://", "https://", "//")), (tag, attributes)
    for name in FIXTURE_DATASETS:
        assert name in text
    for unit in report.units:
        assert unit.unit in text and unit.state in text
    for unit, state in expected_states.items():
        assert any(u.unit == unit and u.state == state for u in report.units), (unit, state)
    assert NASTY not in html
    if quotes_path:
        assert NASTY in text and "&lt;b&gt;&amp;" in html  # escaped, shown as text
    assert "@media" in html and 'class="scroll' in html

    data = json.loads(json_file.read_text(encoding="utf-8"))
    assert data["home"] == report.home and len(data["units"]) == len(report.units)
    assert {p["phase"] for p in data["phases"]} == {"config", "storage", "features", "dataset", "cli"}
    assert data["readiness"]["status"] in ("ready", "needs attention", "blocked")

    markdown = md_file.read_text(encoding="utf-8")
    assert markdown.startswith("# Migration report") and "## Phases" in markdown and "|---|" in markdown
    for name in FIXTURE_DATASETS:
        assert name in markdown
    assert NASTY not in markdown
    if quotes_path:
        assert "&lt;b&gt;&amp;" in markdown
    return data


def test_completed_migration(legacy_home, tmp_path):
    from mdm_core.migration import MigrationMonitor
    from mdm_core.migration.orchestrator import Migration

    report_run = Migration().run()
    assert report_run.exit_code == 0, [o.record.error for o in report_run.outcomes]
    monitor = MigrationMonitor()
    status = monitor.get_migration_status()
    assert status["completed"] == ["config", "storage", "features", "dataset", "cli"] and status["failed"] == []
    report = monitor.generate_report()
    data = _check_outputs(report, tmp_path, {"penguins/train": "done", "weather/data": "done", "mdm.yaml": "done"},
                          quotes_path=True)
    weather = next(u for u in data["units"] if u["unit"] == "weather/data")
    assert weather["rows_read"] == weather["rows_written"] == 26115 and weather["rows_per_second"]
    assert weather["checksum_source"] == weather["checksum_target"]
    assert {p["phase"]: p["state"] for p in data["phases"]}["storage"] == "done"
    assert any(w["subject"] == "weather/data_features" for w in data["warnings"])  # the partial feature table
    assert any("re-rooted" in n for n in data["notes"])


class _DropTable(Reporter):
    """Drops the 1.x table of a unit the moment the run starts that unit: it fails for real."""

    def __init__(self, home: Path, unit: str) -> None:
        self.home, self.unit = home, unit

    def unit_started(self, record, unit) -> None:
        if record.unit == self.unit:
            dataset, table = self.unit.split("/")
            with sqlite3.connect(self.home / "datasets" / dataset / f"{dataset}.sqlite") as con:
                con.execute(f'DROP TABLE "{table}"')


def test_failed_migration(legacy_home, tmp_path):
    from mdm_core.migration import MigrationMonitor
    from mdm_core.migration.orchestrator import Migration

    run = Migration().run(reporter=_DropTable(legacy_home, "penguins/test"))
    assert run.exit_code == 1 and run.stopped_at == "storage"
    monitor = MigrationMonitor()
    assert monitor.get_migration_status()["failed"] == ["storage"]
    report = monitor.generate_report()
    data = _check_outputs(report, tmp_path, {"penguins/test": "failed", "penguins/train": "done"})
    failed = next(w for w in data["warnings"] if w["subject"] == "penguins/test")
    assert failed["kind"] == "failed" and failed["message"]
    assert {u["state"] for u in data["units"] if u["phase"] == "dataset"} == {"pending"}


def test_rolled_back_migration(legacy_home, tmp_path):
    from mdm_core.migration import MigrationMonitor
    from mdm_core.migration.orchestrator import Migration

    assert Migration().run().exit_code == 0
    assert Migration().rollback("storage") == ["storage", "features", "dataset", "cli"]
    status = MigrationMonitor().get_migration_status()
    assert status["completed"] == ["config"] and "storage" in status["pending"]
    report = MigrationMonitor().generate_report()
    data = _check_outputs(report, tmp_path, {"penguins/train": "rolled back", "mdm.yaml": "done"})
    assert {p["phase"]: p["state"] for p in data["phases"]}["dataset"] == "rolled back"


def test_cli_report_formats_and_escaping(legacy_home, tmp_path):
    """The command writes each format (from -o's suffix or --format); a unit whose
    dataset name holds markup is escaped in HTML and Markdown."""
    from mdm_core.migration.report import MigrationMonitor, UnitRow

    exe = Path(sys.executable).with_name("mdm-migrate")
    for suffix in ("html", "json", "md"):
        out = subprocess.run([str(exe), "report", "-o", str(tmp_path / f"r.{suffix}")], capture_output=True,
                             text=True, timeout=120)
        assert out.returncode == 0, out.stderr
        assert (tmp_path / f"r.{suffix}").stat().st_size > 500
    out = subprocess.run([str(exe), "report", "--format", "json"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and json.loads(out.stdout)["units"]
    bad = subprocess.run([str(exe), "report", "-o", str(tmp_path / "r.txt")], capture_output=True, text=True)
    assert bad.returncode == 2

    report = MigrationMonitor().generate_report()
    report = attrs.evolve(report, units=(*report.units, UnitRow("storage", "s", f"{NASTY}/t", "failed", NASTY,
                                                                     error=f"boom {NASTY}")))
    html = report.to_html()
    assert f"{NASTY}/t" not in html and "&lt;b&gt;&amp;/t" in html and "boom &lt;b&gt;&amp;" in html
    assert f"{NASTY}/t" not in report.to_markdown()


def _browser() -> str | None:
    return next((b for b in ("chromium", "chromium-browser", "google-chrome") if shutil.which(b)), None)


#: Appended to a copy of the report (the report itself has no script): writes the page's
#: layout width into the DOM, which ``--dump-dom`` then prints.
_MEASURE = ("<script>window.addEventListener('load',()=>{const p=document.createElement('pre');"
            "p.id='measured';p.textContent=JSON.stringify({scroll:document.documentElement.scrollWidth,"
            "view:window.innerWidth,rows:document.querySelectorAll('tbody tr').length});"
            "document.body.appendChild(p);});</script>")


def _headless(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([_browser(), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", *args],
                          capture_output=True, text=True, timeout=120, check=False)


@pytest.mark.skipif(_browser() is None and os.environ.get("CI") != "true",
                    reason="no chromium, chromium-browser or google-chrome on PATH (CI installs Debian's chromium)")
def test_report_renders_in_headless_chromium(legacy_home, tmp_path):
    """The HTML report in a real browser at a laptop and a phone width: the page is never
    wider than the window (nothing scrolls sideways), every table row is laid out, and a
    screenshot of each width is drawn."""
    from mdm_core.migration import MigrationMonitor
    from mdm_core.migration.orchestrator import Migration

    assert _browser() is not None, "CI=true needs a headless Chromium (see .ci/run)"
    assert Migration().run().exit_code == 0
    page = MigrationMonitor().generate_report().save(tmp_path / "report.html")
    html = page.read_text(encoding="utf-8")
    assert "<script" not in html
    measured_page = tmp_path / "measured.html"
    measured_page.write_text(html.replace("</body>", _MEASURE + "</body>"), encoding="utf-8")
    rows = html.count("<tr>") - html.count("<thead><tr>")
    for label, (width, height) in (("laptop", (1280, 900)), ("phone", (390, 844))):
        shot = tmp_path / f"{label}.png"
        _headless(f"--screenshot={shot}", f"--window-size={width},{height}", page.as_uri())
        assert shot.is_file() and shot.stat().st_size > 10_000, label
        dom = _headless(f"--window-size={width},{height}", "--dump-dom", measured_page.as_uri()).stdout
        found = re.search(r'<pre id="measured">(.*?)</pre>', dom)
        assert found, f"{label}: the page did not load in the browser"
        layout = json.loads(found.group(1).replace("&quot;", '"'))
        assert layout["scroll"] <= layout["view"], f"{label}: the page scrolls sideways: {layout}"
        assert layout["rows"] == rows
