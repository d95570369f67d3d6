"""docs/configuration.md documents every key, generated from the settings classes: a key
without a meaning fails, and so does a reference out of date with the generator."""

from __future__ import annotations

import json

import pytest

from mdm_core.config.model import settings_model
from mdm_core.config.reference import (
    BEGIN,
    DOCS_FILE,
    END,
    REGENERATE,
    key_references,
    render_markdown,
    undocumented,
    with_reference,
)

#: The plugins of this repository that declare a settings section.
REPO_SECTIONS = {"database.sqlite", "database.duckdb", "database.postgresql"}


def test_every_key_has_a_meaning():
    missing = undocumented()
    assert not missing, (f"config keys without a meaning: {', '.join(missing)}; declare them with "
                         "mdm_core.config.fields.setting(default, 'what it means')")


def test_undocumented_key_is_caught():
    from mdm_core.config.reference import KeyReference

    rows = [*key_references(), KeyReference("database.bare.flush_ms", "integer", "5", "MDM_DATABASE_BARE_FLUSH_MS",
                                            (), "", "database.bare", "bare")]
    assert undocumented(rows) == ["database.bare.flush_ms"]


def test_reference_lists_every_key_with_env_aliases_and_default():
    text = render_markdown()
    for dotted, leaf in settings_model().leaves.items():
        assert f"| `{dotted}` |" in text and f"`{leaf.env_var}`" in text
    assert "`MDM_DATABASE_POSTGRESQL_POOL_SIZE`<br>alias `MDM_DATABASE_POOL_SIZE`" in text or \
        "database.postgresql.pool_size" not in settings_model().leaves
    assert "| `performance.max_workers` | integer | `cores, at most 8` |" in text


def test_docs_file_is_up_to_date():
    installed = {s.dotted for s in settings_model().sections}
    if installed != REPO_SECTIONS:
        pytest.skip(f"plugins with settings not all installed ({sorted(installed)}): the reference "
                    "documents every plugin of the repository")
    text = DOCS_FILE.read_text(encoding="utf-8")
    assert BEGIN in text and END in text
    assert with_reference(text, render_markdown()) == text, \
        f"docs/configuration.md is out of date with the settings classes; run `{REGENERATE}`"
    for prose in ("## Plugin sections", "## Logging", "## Secrets", "## Flags", "## Aliases"):
        assert prose in text


def test_generator_check_and_write(tmp_path):
    from mdm_core.config.reference import main

    doc = tmp_path / "configuration.md"
    doc.write_text(f"# Title\n\nprose\n\n{BEGIN}\nstale\n{END}\n\nmore prose\n", encoding="utf-8")
    assert main([str(doc), "--check"]) == 1
    assert main([str(doc)]) == 0
    text = doc.read_text(encoding="utf-8")
    assert "stale" not in text and text.startswith("# Title\n\nprose\n") and text.endswith("more prose\n")
    assert main([str(doc), "--check"]) == 0
    doc.write_text("no markers\n", encoding="utf-8")
    with pytest.raises(ValueError, match="markers"):
        main([str(doc)])


def test_cli_reference_json_and_markdown(cli):
    data = json.loads(cli("config", "reference", "--format", "json").stdout)
    by_key = {row["key"]: row for row in data}
    assert by_key["feature_engineering.skip_list"]["aliases"] == ["MDM_FEATURES_SKIP_LIST"]
    assert by_key["feature_engineering.skip_list"]["type"] == "list of strings"
    assert by_key["logging.max_bytes"]["default"] == str(10 * 1024 * 1024)
    assert set(by_key) == set(settings_model().leaves)
    assert cli("config", "reference").stdout == render_markdown()
