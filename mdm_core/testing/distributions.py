"""Installed plugin distributions for tests: a module plus a ``.dist-info`` with an ``mdm``
entry point in a folder that goes on ``PYTHONPATH``, found by ``importlib.metadata``
exactly like a pip-installed package (third-party plugin authors can use it too)."""

from __future__ import annotations

import textwrap
from pathlib import Path


def install_distribution(
    site: Path, dist: str, entry_points: str, *, version: str = "0.1.0", module: str | None = None,
    source: str | None = None,
) -> Path:
    """Write the dist-info of ``dist`` (``entry_points``: lines ``name = module[:attr]``
    of the ``mdm`` group) into ``site``, and ``module``.py holding ``source`` (dedented)
    when given; returns ``site``."""
    site.mkdir(parents=True, exist_ok=True)
    if module is not None and source is not None:
        (site / f"{module}.py").write_text(textwrap.dedent(source))
    info = site / f"{dist.replace('-', '_')}-{version}.dist-info"
    info.mkdir(exist_ok=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
    (info / "entry_points.txt").write_text(f"[mdm]\n{entry_points}\n")
    return site


def install_plugin_module(site: Path, dist: str, module: str, source: str, *, version: str = "0.1.0") -> Path:
    """A one-module plugin ``module`` (entry point of the same name) installed as ``dist``."""
    return install_distribution(site, dist, f"{module} = {module}", version=version, module=module, source=source)
