"""YAML in and out through libyaml when PyYAML was built with it (an order of magnitude
faster on dataset metadata with hundreds of columns), the pure-Python codec otherwise.
Both are the safe subset: plain mappings, lists and scalars."""

from __future__ import annotations

from typing import Any

import yaml

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_Dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def load_yaml(text: str) -> Any:
    return yaml.load(text, Loader=_Loader)  # noqa: S506 - a safe loader


def dump_yaml(data: Any) -> str:
    """``data`` as block-style YAML, keys in the given order, unicode kept."""
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True)
