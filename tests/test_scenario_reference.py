"""The scenario YAML reference (hubopt.scenario.reference) and docs/scenario-reference.md."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field

from hubopt.scenario.reference import render_markdown, walk_models
from hubopt.scenario.schema import ScenarioConfig

DOC = Path(__file__).parents[1] / "docs" / "scenario-reference.md"


def test_docs_scenario_reference_is_generated_from_the_schema() -> None:
    """docs/scenario-reference.md equals the generator's output (regenerate it on change)."""
    assert DOC.read_text(encoding="utf-8") == render_markdown(), (
        "docs/scenario-reference.md is stale: "
        "python -m hubopt.scenario.reference > docs/scenario-reference.md"
    )


def test_every_scenario_key_has_a_description() -> None:
    """Each key of every YAML block carries a Field(description=...) for the reference."""
    missing = [
        f"{path or 'top level'}.{name}"
        for path, model in walk_models(ScenarioConfig)
        for name, info in model.model_fields.items()
        if not (info.description or "").strip()
    ]
    assert not missing, f"add Field(description=...) in hubopt/scenario/schema.py for {missing}"


def test_reference_walks_nested_blocks_with_types_defaults_and_bounds() -> None:
    """Nested keys appear under their YAML path with type, default and allowed range."""
    page = render_markdown()
    assert "## `policy.safety_stock`" in page
    assert "## `whatif[].scale_cost`" in page
    assert "| `circuity` | float | `1.25` | ≥ 1.0 | Road km per great-circle km. |" in page
    assert '| `linking` | "auto" \\| "stream" \\| "region" \\| "hub" | `auto` |' in page
    assert "| `name` | str | required | non-empty |" in page


def test_reference_of_a_hand_made_schema() -> None:
    """A two-level toy schema renders exactly: the table rows are worked out by hand."""

    class Inner(BaseModel):
        """Inner block."""

        size: int = Field(default=3, ge=1, description="How many.")

    class Outer(BaseModel):
        """Outer block."""

        label: str = Field(description="A label.")
        inner: Inner = Field(default_factory=Inner, description="Nested.")
        tags: list[str] | None = Field(default=None, description="Optional tags.")

    page = render_markdown(Outer)
    assert "| `label` | str | required |  | A label. |" in page
    assert "| `inner` | [Inner](#inner) | (block defaults) |  | Nested. |" in page
    assert "| `tags` | list[str] \\| null | `null` |  | Optional tags. |" in page
    assert "## `inner`" in page
    assert "| `size` | int | `3` | ≥ 1 | How many. |" in page
