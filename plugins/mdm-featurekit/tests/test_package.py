"""The kit is a library, not a plugin: no ``mdm`` entry point; every public name is
exported from the package and documented."""

from __future__ import annotations

import importlib.metadata
import inspect

import mdm_featurekit


def test_no_mdm_entry_point():
    dist = importlib.metadata.distribution("mdm-featurekit")
    assert [ep for ep in dist.entry_points if ep.group == "mdm"] == []


def test_every_public_name_is_exported_and_documented():
    for name in mdm_featurekit.__all__:
        obj = getattr(mdm_featurekit, name)
        if inspect.isfunction(obj) or inspect.isclass(obj):
            assert inspect.getdoc(obj), f"{name} has no docstring"
    assert len(set(mdm_featurekit.__all__)) == len(mdm_featurekit.__all__)


def test_the_cli_does_not_import_the_kit():
    """``mdm --help`` and ``mdm plugins list`` stay fast: engines import the kit only when
    they are made, not when their plugin module is loaded."""
    import subprocess
    import sys

    probe = (
        "import sys\n"
        "from mdm_core.cli.main import main\n"
        "for args in (['--help'], ['plugins', 'list']):\n"
        "    sys.argv = ['mdm', *args]\n"
        "    try:\n"
        "        main()\n"
        "    except SystemExit:\n"
        "        pass\n"
        "print('KIT', 'mdm_featurekit' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.strip().endswith("KIT False"), out[-500:]
