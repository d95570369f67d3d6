"""``structlog.testing.capture_logs`` sees MDM's records whatever the order: MDM's logging
configured before structlog was imported (applied at the first record, inside the
capture) or configured again inside the capture; once the capture ends, MDM's own
configuration (masking, the terminal sink) is back. Each case runs in a fresh process,
where structlog has not been imported yet."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def _run(script: str) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(script)], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    return result


def test_capture_sees_records_when_the_configuration_is_still_pending():
    result = _run("""
        import sys
        from mdm_core.logging import configure_logging, get_logger

        configure_logging("quiet")
        assert "structlog" not in sys.modules  # nothing logged yet: structlog not paid for
        from structlog.testing import capture_logs

        log = get_logger("mdm_core.example")
        with capture_logs() as logs:
            log.warning("inside", column="code")
            log.info("below the level")
        assert [(e["event"], e["column"], e["log_level"]) for e in logs] == [("inside", "code", "warning")], logs
        log.warning("after", password="hunter2")
    """)
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and "after" in lines[0] and "password=***" in lines[0], result.stderr


def test_capture_sees_records_when_logging_is_configured_inside_it():
    result = _run("""
        from mdm_core.logging import configure_logging, get_logger
        from structlog.testing import capture_logs

        log = get_logger("mdm_core.example")
        configure_logging("quiet")
        log.warning("before")
        with capture_logs() as logs:
            configure_logging("verbose")  # e.g. a CLI command run by the test
            log.info("inside", dataset="d")
        assert [(e["event"], e["log_level"]) for e in logs] == [("inside", "info")], logs
        log.info("after", dataset="d")
    """)
    lines = result.stderr.splitlines()
    assert len(lines) == 2 and "before" in lines[0] and "after" in lines[1] and "dataset=d" in lines[1], result.stderr


def test_capture_sees_records_of_a_client_created_inside_it(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    result = _run(f"""
        import os
        os.environ["MDM_HOME_DIR"] = {str(home)!r}
        from structlog.testing import capture_logs
        from mdm_core.datasets.client import MDMClient
        from mdm_core.logging import get_logger

        with capture_logs() as logs:
            MDMClient()  # configures MDM's logging (the first time in this process)
            get_logger("mdm_core.example").warning("inside")
        assert [e["event"] for e in logs] == ["inside"], logs
    """)
    assert result.stderr == ""
