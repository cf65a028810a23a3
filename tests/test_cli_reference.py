"""The command-line reference (hubopt.cli_reference) and docs/cli.md."""

from __future__ import annotations

from pathlib import Path

from hubopt.cli import app
from hubopt.cli_reference import command_parameters, render_markdown

DOC = Path(__file__).parents[1] / "docs" / "cli.md"


def test_docs_cli_md_is_generated_from_the_cli() -> None:
    """docs/cli.md equals the generator's output (regenerate it when a command changes)."""
    assert DOC.read_text(encoding="utf-8") == render_markdown(), (
        "docs/cli.md is stale: python -m hubopt.cli_reference > docs/cli.md"
    )


def test_every_command_and_option_is_documented() -> None:
    """Each registered command has a section, and each of its options a row with help."""
    page = render_markdown()
    for command in app.registered_commands:
        assert f"## `hubopt {command.name}`" in page
        for parameter in command_parameters(command.callback):
            assert parameter.help, f"{command.name} {parameter.names} has no help text"
            assert f"| {parameter.names} | {parameter.type} |" in page


def test_option_names_and_defaults_are_the_ones_typed_on_the_command_line() -> None:
    """`--out` (not the Python name out_dir), `-w` alias, flags and literal defaults."""
    page = render_markdown()
    assert "| `--out` | path | `out/batch` |" in page
    assert "| `--workers`, `-w` | int |  |" in page
    assert "| `--json` | flag | off |" in page
    assert "hubopt batch PATHS... [OPTIONS]" in page


def test_exit_codes_are_kept() -> None:
    """The hand-written exit-code table survives generation (codes 0, 2-6)."""
    page = render_markdown()
    for code in (0, 2, 3, 4, 5, 6):
        assert f"\n| {code} |" in page
