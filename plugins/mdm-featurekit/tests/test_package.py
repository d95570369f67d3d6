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
