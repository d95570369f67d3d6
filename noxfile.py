"""nox sessions: lint, host tests, each plugin in its own venv, integration, postgres, benchmarks.

CI runs the whole suite in one venv through `.ci/run` (faster); these sessions prove each
piece also works installed alone.
"""

from __future__ import annotations

from pathlib import Path

import nox

nox.options.sessions = ["lint", "core", "plugins"]
nox.options.reuse_existing_virtualenvs = True

PLUGINS = sorted(p.name for p in Path("plugins").iterdir() if (p / "pyproject.toml").is_file())

#: Local distributions (not on any index) that a plugin's own tests need beside it: the
#: legacy plugin's tests generate features, so they need the feature engines.
TEST_NEEDS = {
    "mdm-plugin-legacy": ("mdm-featurekit", "mdm-plugin-features-new", "mdm-plugin-features-legacy"),
}


@nox.session
def lint(session: nox.Session) -> None:
    """ruff over the host, plugins, tests and benchmarks."""
    session.install("ruff")
    session.run("ruff", "check", "mdm_core", "plugins", "tests", "benchmarks", "noxfile.py")


@nox.session
def core(session: nox.Session) -> None:
    """Host tests with only the default SQLite plugin and the source-file formats installed."""
    session.install("-e", ".[test]", "-e", "plugins/mdm-plugin-sqlite", "-e", "plugins/mdm-plugin-files")
    session.run("pytest", "tests", "-m", "not postgres", *session.posargs)


@nox.session
@nox.parametrize("plugin", PLUGINS)
def plugins(session: nox.Session, plugin: str) -> None:
    """One plugin's own tests, in a venv with just the host, SQLite, the source-file formats
    (registration needs them) and that plugin."""
    session.install("-e", ".[test]", "-e", "plugins/mdm-plugin-sqlite", "-e", "plugins/mdm-plugin-files",
                    "-e", f"plugins/{plugin}")
    needs = [arg for need in TEST_NEEDS.get(plugin, ()) for arg in ("-e", f"plugins/{need}")]
    if needs:
        session.install(*needs)
    session.run("pytest", f"plugins/{plugin}", *session.posargs)


@nox.session
def integration(session: nox.Session) -> None:
    """The whole suite with everything installed (what CI runs)."""
    session.install("-r", "requirements-dev.txt")
    session.run("pytest", "-n", "2", *session.posargs)


@nox.session
def postgres(session: nox.Session) -> None:
    """Only the tests that need a real PostgreSQL server (CI=true: fail, never skip)."""
    session.install("-r", "requirements-dev.txt")
    session.run("pytest", "-m", "postgres", *session.posargs, env={"CI": "true"})


@nox.session
def benchmarks(session: nox.Session) -> None:
    """Speed and memory against native baselines measured in the same run."""
    session.install("-r", "requirements-dev.txt")
    scripts = sorted(p.name for p in Path("benchmarks").glob("bench_*.py"))
    session.chdir("benchmarks")
    for script in scripts:
        session.run("python", script)
