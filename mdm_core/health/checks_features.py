"""Doctor checks of the feature engines and custom features: every engine and plugin
custom feature passes the self-test of ``mdm features test`` on the built-in sample, and
every per-dataset custom-feature file loads."""

from __future__ import annotations

from typing import Any

from mdm_core.health.model import Check, fail, ok
from mdm_core.secrets import mask

FEATURES = "features"


def check_features(settings: Any) -> list[Check]:
    return [*check_engines(settings), *check_custom_files(settings)]


def check_engines(settings: Any) -> list[Check]:
    from mdm_core.features.selftest import check_components, synthetic_sample

    try:
        sample, kinds = synthetic_sample(200, [])
        results = check_components(settings, sample, kinds)
    except Exception as exc:  # the self-test itself could not run: that is the finding
        return [fail(FEATURES, "feature self-test", f"{type(exc).__name__}: {mask(exc)}",
                     "Run `mdm features test` for details.")]
    failed = [r for r in results if r.status == "failed"]
    rows = [fail(FEATURES, f"{r.kind} {r.component}", f"{r.source}: {mask(r.error)}",
                 f"mdm features test (then fix or reinstall {r.source})") for r in failed]
    passed = [r.component for r in results if r.status == "ok"]
    if passed or not rows:
        rows.insert(0, ok(FEATURES, "feature self-test", f"passed: {', '.join(passed) or 'nothing installed'}."))
    return rows


def check_custom_files(settings: Any) -> list[Check]:
    """One FAIL per ``<custom_features_dir>/NAME.py`` that fails to load (its error names
    the line of a syntax error), or one OK row."""
    from mdm_core.features.discovery import file_load_error

    folder = settings.custom_features_dir
    files = sorted(folder.glob("*.py")) if folder.is_dir() else []
    rows = [fail(FEATURES, f"custom features {path.name}", mask(error),
                 f"Correct {path} (check with `mdm features test --dataset {path.stem}`) or move it aside.")
            for path in files if (error := file_load_error(settings, path))]
    return rows or [ok(FEATURES, "custom feature files", f"{len(files)} file(s) load.")]
