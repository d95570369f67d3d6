"""The ``legacy-config`` migration step (phase ``config``): MDM 1.x settings -> new ``mdm.yaml``.

- ``plan`` reads the 1.x settings of the home (nested ``mdm.yaml``, flat ``config.yaml``,
  the flat legacy variables) and computes the new ``mdm.yaml``
  (:mod:`mdm_plugin_legacy.config_migration_1x`): one unit, ``mdm.yaml``, when the home
  has a 1.x settings file or a legacy variable set. No unit when the home already reads
  ``mdm.yaml`` with the new config loader (``flags.use_new_config`` on: a migrated or a
  new home) and has no ``config.yaml``, nor once this step's unit is done. Notes name
  every key mapped (old -> new), every key left out and why, every legacy variable set
  with its new name, and a password to supply another way. Its fingerprint is that of
  the content it would write and of the legacy variables' values
  (:func:`~mdm_plugin_legacy.config_migration_1x.config_fingerprint`). Writes nothing.
- ``apply`` saves ``mdm.yaml`` with ``ctx.backup_file`` (its absence too), then writes the
  new file atomically (a temp file in the home, fsync, ``os.replace``). The content
  comes from the unit's data (computed by the plan of the same run); environment values
  are reported by the plan, never written. ``config.yaml`` is left as is.
- ``verify`` reads the written file as the new config loader does once the flag flips
  (its YAML, then the settings model; the environment is not part of the file) and
  reports one line per problem: a key the model lacks (``paths.configs_path`` excepted),
  a password, a value the model rejects, a setting whose value is not the one the 1.x
  source gave. ``flags`` are not compared: the orchestrator flips them after this phase.
- ``rollback`` removes only a temp file an interrupted ``apply`` may have left: the
  orchestrator restores ``mdm.yaml`` byte for byte (or removes it if it did not exist).
- ``cleanup`` removes the flat ``config.yaml``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from mdm_core.durable import write_atomically
from mdm_core.errors import ConfigError
from mdm_core.migration.step import StepCheck, StepContext, StepPlan, Unit, UnitResult
from mdm_core.yamlio import dump_yaml
from mdm_plugin_legacy.config_1x import FLAT_FILE, NESTED_FILE
from mdm_plugin_legacy.config_migration_1x import (
    config_fingerprint,
    holds_password,
    legacy_env,
    new_config_of,
)

UNIT_ID = NESTED_FILE
#: The temp file ``apply`` writes before renaming it onto ``mdm.yaml``.
TEMP_FILE = ".mdm.yaml.migrating"


class LegacyConfigStep:
    """MDM 1.x settings -> the new ``mdm.yaml`` (see the module doc)."""

    name = "legacy-config"
    phase = "config"

    def plan(self, ctx: StepContext) -> StepPlan:
        env, env_notes = legacy_env(os.environ)
        fingerprint = config_fingerprint({}, os.environ)  # of a plan without a unit
        flat = (ctx.home / FLAT_FILE).is_file()
        nested = (ctx.home / NESTED_FILE).is_file()
        base = {"mapped": {}, "unknown": [], "no_new_home": [], "kept": [], "env": env, "password_dropped": False}
        if UNIT_ID in ctx.results.get(self.name, {}):
            summary = "mdm.yaml was migrated" + (f" ({FLAT_FILE} is removed by `mdm-migrate cleanup`)" if flat else "")
            return StepPlan(summary, notes=tuple(env_notes), details=base, fingerprint=fingerprint)
        if ctx.settings.flags.use_new_config and not flat:
            return StepPlan(f"{NESTED_FILE} is in the new format already and there is no {FLAT_FILE}: nothing "
                            "to migrate", notes=tuple(env_notes), details=base, fingerprint=fingerprint)
        if not (flat or nested or env):
            return StepPlan(f"no MDM 1.x settings ({NESTED_FILE}, {FLAT_FILE} or legacy variables): nothing to "
                            "migrate", details=base, fingerprint=fingerprint)
        new = new_config_of(ctx.home)
        read = " and ".join(name for name, present in ((FLAT_FILE, flat), (NESTED_FILE, nested)) if present)
        kept_out = len(new.details["unknown"]) + len(new.details["no_new_home"]) + new.details["password_dropped"]
        written = len(set(new.details["mapped"].values()))
        summary = (f"{_count(written, 'setting')} from {read or 'no file'} -> new {NESTED_FILE}; "
                   f"{_count(kept_out, 'key')} kept out; {_count(len(env), 'legacy variable')} set")
        unit = Unit(UNIT_ID, detail="1.x settings -> new mdm.yaml",
                    data={"document": new.document, "expected": new.expected})
        return StepPlan(summary, units=(unit,), notes=(*new.notes, *env_notes), details={**new.details, "env": env},
                        fingerprint=config_fingerprint(new.document, os.environ))

    def apply(self, ctx: StepContext, unit: Unit) -> UnitResult:
        path = ctx.home / NESTED_FILE
        ctx.backup_file(path)
        write_atomically(path, dump_yaml(dict(unit.data["document"])), temp=path.with_name(TEMP_FILE))
        return UnitResult(created={"file": NESTED_FILE})

    def verify(self, ctx: StepContext, unit: Unit, result: UnitResult, *, deep: bool = True) -> StepCheck:
        problems = check_new_config(ctx.home, unit.data.get("expected", {}))
        return StepCheck(not problems, tuple(problems))

    def rollback(self, ctx: StepContext, unit: Unit, result: UnitResult | None) -> None:
        (ctx.home / TEMP_FILE).unlink(missing_ok=True)

    def cleanup(self, ctx: StepContext, unit: Unit, result: UnitResult) -> list[str]:
        """Remove the flat 1.x ``config.yaml``; returns its path when it was there."""
        path = ctx.home / FLAT_FILE
        if not path.is_file():
            return []
        path.unlink()
        return [str(path)]


def check_new_config(home: Path, expected: dict[str, Any]) -> list[str]:
    """One line per way ``<home>/mdm.yaml`` is not the new config ``expected`` describes
    (dotted -> value as the new model reads it); [] when it is."""
    from mdm_core.config.loader import read_yaml_mapping
    from mdm_core.config.model import build_settings, converter, get_dotted, leaves
    from mdm_plugin_legacy.config_loader import READ_BY_THIS_PLUGIN

    path = home / NESTED_FILE
    if not path.is_file():
        return [f"{path} is missing"]
    try:
        values = read_yaml_mapping(path)
    except ConfigError as exc:
        return [str(exc)]
    model = leaves()
    problems = []
    for dotted, value in _leaves_of(values).items():
        leaf = model.get(dotted)
        if leaf is None and dotted not in READ_BY_THIS_PLUGIN:
            problems.append(f"{path}: unknown key '{dotted}'")
        elif leaf is not None and holds_password(leaf.secret, value):
            problems.append(f"{path}: '{dotted}' holds a password")
    try:
        built = converter.unstructure(build_settings(home, values, dict.fromkeys(_leaves_of(values), str(path))))
    except ConfigError as exc:
        return [*problems, str(exc)]
    for dotted, want in expected.items():
        present, got = get_dotted(values, dotted)
        if not present:
            problems.append(f"{path}: '{dotted}' is missing (the 1.x setting was {want!r})")
        elif get_dotted(built, dotted)[1] != want:
            problems.append(f"{path}: '{dotted}' is {get_dotted(built, dotted)[1]!r}, the 1.x setting was {want!r}")
    return problems


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _leaves_of(values: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """dotted -> value of every leaf of nested ``values`` (an empty section has none)."""
    found: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, dict):
            found.update(_leaves_of(value, f"{prefix}{key}."))
        else:
            found[f"{prefix}{key}"] = value
    return found
