"""Load a scenario YAML: `extends` inheritance, path resolution and schema validation."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from hubopt.errors import Problem, ScenarioError, hint_text
from hubopt.scenario.schema import ScenarioConfig


class _UniqueKeyLoader(yaml.SafeLoader):
    """PyYAML's safe loader, refusing a key repeated in one mapping (it keeps the last)."""

    def construct_mapping(self, node: yaml.Node, deep: bool = False) -> dict[Any, Any]:
        if isinstance(node, yaml.MappingNode):
            seen: set[Any] = set()
            for key_node, _ in node.value:
                key = self.construct_object(key_node, deep=deep)  # type: ignore[no-untyped-call]
                if isinstance(key, str | int | float | bool) and key in seen:
                    raise yaml.constructor.ConstructorError(
                        "while constructing a mapping",
                        node.start_mark,
                        f"the key {key!r} twice (keep one)",
                        key_node.start_mark,
                    )
                seen.add(key)
        return super().construct_mapping(node, deep=deep)  # type: ignore[arg-type]


def read_yaml_mapping(path: Path) -> dict[str, Any]:
    """Read a YAML file that must hold a mapping; safe loader only (no object construction)."""
    label = str(path)
    if not path.exists():
        raise ScenarioError(Problem(label, "an existing scenario file", "no such file"))
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise ScenarioError(
            Problem(label, "UTF-8 text", f"undecodable bytes at offset {err.start}")
        ) from err
    try:
        doc = yaml.load(text, Loader=_UniqueKeyLoader)  # a SafeLoader: no object construction
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"{label}, line {mark.line + 1}, column {mark.column + 1}" if mark else label
        problem = getattr(err, "problem", None) or str(err)
        raise ScenarioError(Problem(where, "valid YAML", str(problem))) from err
    if not isinstance(doc, dict):
        raise ScenarioError(
            Problem(
                label,
                "a YAML mapping (key: value lines) at the top level",
                type(doc).__name__ if doc is not None else "an empty file",
            )
        )
    return doc


def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Merge ``override`` over ``base``: mappings merge recursively, everything else replaces."""
    merged = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def absolutise_paths(doc: dict[str, Any], folder: Path, label: str) -> dict[str, Any]:
    """Make the data and output paths of one file absolute, relative to that file."""
    doc = dict(doc)
    data = doc.get("data")
    if isinstance(data, dict):
        doc["data"] = {
            k: (str((folder / v).resolve()) if isinstance(v, str) else v) for k, v in data.items()
        }
    elif data is not None:
        raise ScenarioError(
            Problem(f"{label}, key 'data'", "a mapping table -> path", type(data).__name__)
        )
    bounds = doc.get("bounds")
    if isinstance(bounds, dict) and isinstance(bounds.get("polygon"), str):
        doc["bounds"] = {**bounds, "polygon": str((folder / bounds["polygon"]).resolve())}
    output = doc.get("output")
    if isinstance(output, dict) and isinstance(output.get("dir"), str):
        doc["output"] = {**output, "dir": str((folder / output["dir"]).resolve())}
    return doc


def resolve_extends(path: Path, _chain: tuple[Path, ...] = ()) -> tuple[dict[str, Any], list[Path]]:
    """Return the merged document of ``path`` and its `extends` ancestors, and the files read."""
    path = path.resolve()
    if path in _chain:
        cycle = " -> ".join(str(p.name) for p in (*_chain, path))
        raise ScenarioError(
            Problem(
                f"{path}, key 'extends'", "a chain of scenarios without cycles", f"a cycle {cycle}"
            )
        )
    doc = absolutise_paths(read_yaml_mapping(path), path.parent, str(path))
    parent = doc.pop("extends", None)
    if parent is None:
        return doc, [path]
    parents = [parent] if isinstance(parent, str) else parent
    if not isinstance(parents, list) or not all(isinstance(p, str) for p in parents):
        raise ScenarioError(
            Problem(f"{path}, key 'extends'", "a path or a list of paths", repr(parent))
        )
    merged: dict[str, Any] = {}
    files: list[Path] = []
    for ref in parents:
        base, base_files = resolve_extends(path.parent / ref, (*_chain, path))
        merged = deep_merge(merged, base)
        files += base_files
    return deep_merge(merged, doc), [*files, path]


def load_config(path: str | Path) -> tuple[ScenarioConfig, list[Path]]:
    """Load and validate a scenario YAML (with `extends`); return the config and its files."""
    path = Path(path)
    doc, files = resolve_extends(path)
    return validate_config(doc, str(path)), files


def validate_config(doc: dict[str, Any], label: str) -> ScenarioConfig:
    """Validate a merged scenario document against the schema, with "did you mean" hints."""
    try:
        return ScenarioConfig.model_validate(doc)
    except ValidationError as err:
        raise ScenarioError(
            [_problem_from_pydantic(e, label) for e in err.errors()], "Invalid scenario"
        ) from None


def _problem_from_pydantic(error: Any, label: str) -> Problem:
    loc = [str(p) for p in error["loc"]]
    key = ".".join(loc) or "(top level)"
    where = f"{label}, key '{key}'"
    kind = error["type"]
    if kind == "extra_forbidden":
        allowed = _allowed_keys(loc[:-1])
        fix = hint_text(
            loc[-1], allowed, f"Allowed keys here: {', '.join(allowed)}." if allowed else ""
        )
        return Problem(where, "a known key", f"unknown key {loc[-1]!r}", fix)
    if kind == "missing":
        return Problem(where, "a value (the key is required)", "nothing")
    return Problem(where, *pydantic_reason(error))


def pydantic_reason(error: Any) -> tuple[str, str]:
    """(expected, found) of one pydantic error: the limit checked and the value given."""
    found = repr(error.get("input"))
    if len(found) > 80:
        found = found[:77] + "..."
    return error["msg"].replace("Input should be", "").strip() or "a valid value", found


def _allowed_keys(loc: list[str]) -> list[str]:
    """Field names of the model found at ``loc`` inside ScenarioConfig (best effort)."""
    model: Any = ScenarioConfig
    for part in loc:
        if part.isdigit():
            continue
        field = getattr(model, "model_fields", {}).get(part)
        if field is None:
            return []
        model = model_in(field.annotation)
        if model is None:
            return []
    return list(getattr(model, "model_fields", {}))


def model_in(annotation: Any, through_lists: bool = True) -> type[BaseModel] | None:
    """The pydantic model inside a field annotation (``X | None``, ``list[X]``...), if any.

    With ``through_lists=False`` a ``list[...]`` annotation yields None.
    """
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if not through_lists and getattr(annotation, "__origin__", None) is list:
        return None
    for arg in getattr(annotation, "__args__", ()) or ():
        found = model_in(arg, through_lists)
        if found is not None:
            return found
    return None
