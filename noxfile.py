"""nox sessions: lint, host tests, each plugin in its own venv, integration, postgres, benchmarks.

CI runs the whole suite in one venv through `.ci/run` (faster); these sessions prove each
piece also works installed alone.
"""

from __future__ import annotations

import re
import tomllib
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


def _project(folder: str) -> dict:
    with open(Path("plugins") / folder / "pyproject.toml", "rb") as f:
        return tomllib.load(f)["project"]


def _with_local_dependencies(*folders: str) -> list[str]:
    """``-e plugins/<folder>`` for each of ``folders`` and for every distribution under
    plugins/ they need, directly or not (a feature engine needs mdm-featurekit): those are
    on no index, so pip takes them from this checkout, in the same command. Each once,
    what is needed before what needs it."""
    local = {_project(p)["name"]: p for p in PLUGINS}
    ordered: list[str] = []

    def visit(folder: str) -> None:
        if folder in ordered:
            return
        for requirement in _project(folder).get("dependencies", []):
            name = re.match(r"[A-Za-z0-9._-]+", requirement).group(0).lower().replace("_", "-")
            if name in local:
                visit(local[name])
        ordered.append(folder)

    for folder in folders:
        visit(folder)
    return [arg for folder in ordered for arg in ("-e", f"plugins/{folder}")]


@nox.session
def lint(session: nox.Session) -> None:
    """ruff over the host, plugins, tests and benchmarks."""
    session.install("ruff")
    session.run("ruff", "check", "mdm_core", "plugins", "tests", "benchmarks", "noxfile.py")


@nox.session
def core(session: nox.Session) -> None:
    """Host tests with only the default SQLite plugin and the source-file formats installed."""
    session.install("-e", ".[test]", *_with_local_dependencies("mdm-plugin-sqlite", "mdm-plugin-files"))
    session.run("pytest", "tests", "-m", "not postgres", *session.posargs)


@nox.session
@nox.parametrize("plugin", PLUGINS)
def plugins(session: nox.Session, plugin: str) -> None:
    """One plugin's (or kit's, e.g. mdm-featurekit) own tests, in a venv with just the host,
    SQLite, the source-file formats (registration needs them), that plugin and the local
    distributions it depends on (a feature engine: mdm-featurekit)."""
    session.install("-e", ".[test]", *_with_local_dependencies("mdm-plugin-sqlite", "mdm-plugin-files", plugin))
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
