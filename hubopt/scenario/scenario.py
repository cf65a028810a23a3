"""A loaded scenario: validated config plus typed tables, what-ifs applied."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from hubopt.data.dataset import Tables, check_tables, horizon, read_tables, table_labels
from hubopt.data.plausibility import check_coordinates
from hubopt.errors import InputWarning
from hubopt.scenario.load import absolutise_paths, load_config, validate_config
from hubopt.scenario.schema import ScenarioConfig
from hubopt.scenario.whatif import apply_whatifs


@dataclass(frozen=True)
class Scenario:
    """Everything a solve needs: the config (what-ifs folded in) and the tables.

    Attributes
    ----------
    config:
        The scenario after `extends` merging and what-ifs (campaign changes applied).
    tables:
        Typed tables with the what-ifs applied.
    path:
        The YAML file it was loaded from (None when built in memory).
    files:
        Every YAML file of the `extends` chain, base first.
    warnings:
        Input warnings found while loading (implausible coordinates); the checks that
        need the arcs run on :class:`~hubopt.data.problem.ProblemData` (see
        :func:`hubopt.diagnose.structural.collect_warnings`).
    """

    config: ScenarioConfig
    tables: Tables
    path: Path | None = None
    files: list[Path] = field(default_factory=list)
    warnings: tuple[InputWarning, ...] = ()

    @property
    def label(self) -> str:
        """How messages name the scenario file."""
        return str(self.path) if self.path is not None else "<dict>"

    @property
    def name(self) -> str:
        """Scenario name."""
        return self.config.name

    @property
    def periods(self) -> int:
        """Horizon T."""
        return horizon(self.tables, self.config)

    def resolved_yaml(self) -> str:
        """The scenario as one YAML document: `extends` merged, paths absolute, reloadable."""
        doc = self.config.model_dump(mode="json", exclude_none=True)
        # Campaign what-ifs are already folded into `campaigns`; keep only the table ones,
        # so that loading this file gives the same scenario (the manifest lists them all).
        doc["whatif"] = [
            w for w in doc.get("whatif", []) if not ({"set_campaign", "add_campaign"} & set(w))
        ]
        return yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)

    def input_hash(self) -> str:
        """SHA-256 over the resolved YAML and every input file's bytes."""
        return input_hash_of(self.resolved_yaml(), self.tables.files)

    def file_hashes(self) -> dict[str, str]:
        """SHA-256 of every input file (YAML chain and tables)."""
        out = {str(p): file_sha256(p) for p in self.files}
        out |= {str(p): file_sha256(p) for p in self.tables.files.values()}
        return out


def input_hash_of(resolved_yaml: str, files: Mapping[str, Path]) -> str:
    """SHA-256 over a resolved YAML text and the bytes of each table file (by table key).

    A batch that ships tables to a worker hashes the YAML as the client wrote it (its
    own paths) with the shipped copies' bytes: the same hash as on the client.
    """
    digest = hashlib.sha256(resolved_yaml.encode())
    for table, path in sorted(files.items()):
        digest.update(table.encode())
        digest.update(file_sha256(path).encode())
    return digest.hexdigest()


def file_sha256(path: Path) -> str:
    """SHA-256 of a file, streamed."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load_scenario(path: str | Path) -> Scenario:
    """Load, validate and resolve a scenario YAML file.

    Raises
    ------
    hubopt.errors.ScenarioError, hubopt.errors.DataValidationError
        With every problem found, each naming the file and the row or key.
    """
    path = Path(path)
    config, files = load_config(path)
    return build_scenario(config, str(path), path=path, files=files)


def scenario_from_dict(doc: dict[str, Any], base_dir: str | Path = ".") -> Scenario:
    """Build a scenario from an in-memory mapping; data paths are relative to ``base_dir``."""
    doc = absolutise_paths(doc, Path(base_dir).resolve(), "<dict>")
    return build_scenario(validate_config(doc, "<dict>"), "<dict>")


def build_scenario(
    config: ScenarioConfig, label: str, path: Path | None = None, files: list[Path] | None = None
) -> Scenario:
    """Read tables for a validated config, apply what-ifs and re-check."""
    tables = read_tables(config, label)
    if config.whatif:
        config, tables = apply_whatifs(config, tables)
        check_tables(tables, config)
    warnings = check_coordinates(tables, config, table_labels(tables))
    return Scenario(
        config=config, tables=tables, path=path, files=files or [], warnings=tuple(warnings)
    )
