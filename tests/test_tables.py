"""The table contract (hubopt.data.tables) and its generated reference, docs/tables.md."""

from __future__ import annotations

from pathlib import Path

from hubopt.data.tables import TABLES, render_markdown

DOC = Path(__file__).parents[1] / "docs" / "tables.md"


def test_docs_tables_md_is_generated_from_the_contract() -> None:
    """docs/tables.md equals the generator's output (regenerate it when a column changes)."""
    assert DOC.read_text(encoding="utf-8") == render_markdown(), (
        "docs/tables.md is stale: python -c 'from hubopt.data.tables import render_markdown; "
        'print(render_markdown(), end="")\' > docs/tables.md'
    )


def test_optional_presentation_columns_are_documented() -> None:
    """Local names, province and population are declared columns, not names in page code."""
    regions = {c.name for c in TABLES["regions"].columns}
    assert {"name_local", "province", "population"} <= regions
    assert "name_local" in {c.name for c in TABLES["hubs"].columns}
    assert "name_local" in {c.name for c in TABLES["sources"].columns}
