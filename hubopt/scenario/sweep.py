"""Parameter sweeps (DESIGN §2): one YAML file expands to one scenario per combination.

A sweep file holds a single ``sweep:`` block::

    sweep:
      base: korea-small.yaml          # relative to the sweep file
      name: korea                     # prefix of the generated names (default: base's name)
      grid:                           # every combination (cartesian product)
        campaigns[id=winter-sale].delivery_window_hours: [24, 48, 72]
        campaigns[id=winter-sale].uplift: [1.8, 2.2]
      zip:                            # lists of equal length, varied together
        policy.carbon.price_per_t: [0, 100000]
        solver.seed: [0, 1]
      set: {solver.time_limit_s: 30}  # fixed for every point
      labels: {policy.carbon.price_per_t: carbon}   # short names used in generated names

A **path** is dotted YAML keys; a list item is picked by ``[id=VALUE]`` (campaigns) or
``[INDEX]`` (e.g. ``whatif[0].scale_demand.factor``). Paths are checked against the
scenario schema when the sweep is expanded. Each point is named
``NAME--LABEL=VALUE--...``, e.g. ``korea--window=24--uplift=2.2``.
"""

from __future__ import annotations

import copy
import itertools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from hubopt.errors import Problem, ScenarioError, did_you_mean
from hubopt.scenario.load import model_in, read_yaml_mapping, resolve_extends, validate_config
from hubopt.scenario.scenario import Scenario, build_scenario
from hubopt.scenario.schema import ScenarioConfig

SEGMENT = re.compile(r"^(?P<key>[A-Za-z_][A-Za-z0-9_]*)(?:\[(?P<sel>[^\]]+)\])?$")
SHORT_LABELS = {
    "delivery_window_hours": "window",
    "default_delivery_window_hours": "default_window",
    "service_level": "service",
    "price_per_t": "carbon_price",
    "cap_t": "carbon_cap",
    "time_limit_s": "time_limit",
    "max_open_hubs": "max_hubs",
    "min_open_hubs": "min_hubs",
    "late_penalty_per_unit": "late_penalty",
}
UNSAFE = re.compile(r"[^A-Za-z0-9._+=-]+")


class SweepSpec(BaseModel):
    """The ``sweep:`` block of a sweep file."""

    model_config = ConfigDict(extra="forbid")

    base: str = Field(min_length=1, description="Base scenario YAML, relative to the sweep file.")
    name: str | None = Field(default=None, description="Name prefix; default: the base's name.")
    grid: dict[str, list[Any]] = Field(default_factory=dict, description="Path -> values.")
    zip: dict[str, list[Any]] = Field(
        default_factory=dict, description="Path -> values, equal lengths, varied together."
    )
    set: dict[str, Any] = Field(default_factory=dict, description="Path -> value for all points.")
    labels: dict[str, str] = Field(default_factory=dict, description="Path -> short label.")

    @model_validator(mode="after")
    def _shape(self) -> SweepSpec:
        if not self.grid and not self.zip:
            raise ValueError("a sweep needs a 'grid' or a 'zip' with at least one path")
        empty = [p for p, v in {**self.grid, **self.zip}.items() if not v]
        if empty:
            raise ValueError(f"every path needs at least one value; empty: {empty}")
        lengths = {len(v) for v in self.zip.values()}
        if len(lengths) > 1:
            raise ValueError(f"'zip' lists must have equal lengths; found {sorted(lengths)}")
        return self


@dataclass(frozen=True)
class SweepPoint:
    """One expanded scenario of a sweep.

    Attributes
    ----------
    name:
        Generated scenario name, e.g. ``korea--window=24--uplift=2.2``.
    doc:
        The resolved scenario mapping (`extends` merged, data paths absolute, values set).
    base_dir:
        Folder of the base scenario (relative paths left in ``doc`` resolve against it).
    params:
        Short label -> value of the varied paths, in sweep order.
    files:
        The sweep file and the base's `extends` chain (for manifests).
    """

    name: str
    doc: dict[str, Any]
    base_dir: Path
    params: dict[str, Any] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)


def is_sweep_file(path: str | Path) -> bool:
    """Whether a YAML file is a sweep (its top level has a ``sweep:`` key)."""
    try:
        return "sweep" in read_yaml_mapping(Path(path))
    except ScenarioError:
        return False


def load_sweep(path: str | Path) -> list[SweepPoint]:
    """Read a sweep file and expand it; see :func:`expand_sweep`."""
    path = Path(path).resolve()
    doc = read_yaml_mapping(path)
    extra = sorted(set(doc) - {"sweep"})
    if extra or not isinstance(doc.get("sweep"), dict):
        raise ScenarioError(
            Problem(
                str(path),
                "a single top-level 'sweep:' mapping",
                f"keys {extra}" if extra else repr(doc.get("sweep")),
                "Put base, grid, zip, set and labels under 'sweep:'.",
            ),
            "Invalid sweep",
        )
    try:
        spec = SweepSpec.model_validate(doc["sweep"])
    except ValidationError as err:
        problems = [
            Problem(
                f"{path}, key 'sweep.{'.'.join(str(p) for p in e['loc'])}'".replace(
                    "sweep.'", "sweep'"
                ),
                "a valid sweep block",
                e["msg"],
            )
            for e in err.errors()
        ]
        raise ScenarioError(problems, "Invalid sweep") from None
    return expand_sweep(spec, path)


def expand_sweep(spec: SweepSpec, sweep_file: Path) -> list[SweepPoint]:
    """One :class:`SweepPoint` per combination: grid (cartesian) x zip (row by row).

    Raises
    ------
    hubopt.errors.ScenarioError
        Listing every path that does not exist in the schema or in the base scenario.
    """
    base_path = (sweep_file.parent / spec.base).resolve()
    base_doc, files = resolve_extends(base_path)
    label = f"{sweep_file}, sweep"
    paths = [*spec.grid, *spec.zip, *spec.set]
    problems = [p for path in paths for p in check_path(path, base_doc, label)]
    problems += [
        Problem(f"{label}.labels", "a path that the sweep varies", repr(p))
        for p in spec.labels
        if p not in spec.grid and p not in spec.zip
    ]
    if problems:
        raise ScenarioError(problems, "Invalid sweep")
    labels = _labels([*spec.grid, *spec.zip], spec.labels)
    prefix = spec.name or str(base_doc.get("name") or base_path.stem)
    zipped = list(zip(*spec.zip.values(), strict=True)) if spec.zip else [()]
    points = []
    for grid_values in itertools.product(*spec.grid.values()):
        for zip_values in zipped:
            values = dict(zip([*spec.grid, *spec.zip], [*grid_values, *zip_values], strict=True))
            doc = copy.deepcopy(base_doc)
            for path, value in {**spec.set, **values}.items():
                set_path(doc, path, value)
            params = {labels[p]: v for p, v in values.items()}
            name = "--".join([prefix, *(f"{k}={format_value(v)}" for k, v in params.items())])
            doc["name"] = safe_name(name)
            output = doc.get("output")
            if isinstance(output, dict) and isinstance(output.get("dir"), str):
                # each point gets its own run folder beside the base's
                output["dir"] = str(Path(output["dir"]).parent / doc["name"])
            points.append(
                SweepPoint(doc["name"], doc, base_path.parent, params, [sweep_file, *files])
            )
    names = [p.name for p in points]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ScenarioError(
            Problem(label, "distinct generated names", f"repeated {dupes}", "Add 'labels:'."),
            "Invalid sweep",
        )
    return points


def load_point(point: SweepPoint) -> Scenario:
    """Validate a sweep point and load its tables (what-ifs applied) into a Scenario."""
    label = f"{point.files[0] if point.files else '<sweep>'} [{point.name}]"
    config = validate_config(point.doc, label)
    return build_scenario(
        config, label, path=point.files[0] if point.files else None, files=point.files
    )


# ---- paths -------------------------------------------------------------------------------


def parse_path(path: str) -> list[tuple[str, str | None]]:
    """``"campaigns[id=x].uplift"`` -> ``[("campaigns", "id=x"), ("uplift", None)]``."""
    parts = []
    for segment in path.split("."):
        match = SEGMENT.match(segment.strip())
        if match is None:
            raise ValueError(f"bad segment {segment!r}")
        parts.append((match["key"], match["sel"]))
    return parts


def check_path(path: str, base_doc: dict[str, Any], label: str) -> list[Problem]:
    """Problems with one sweep path: syntax, schema fields, and selected list items."""
    where = f"{label} path {path!r}"
    try:
        parts = parse_path(path)
    except ValueError as err:
        return [
            Problem(where, "dotted keys with optional [id=VALUE] or [INDEX] selectors", str(err))
        ]
    model: Any = ScenarioConfig
    node: Any = base_doc
    for depth, (key, selector) in enumerate(parts):
        here = ".".join(f"{k}[{s}]" if s else k for k, s in parts[: depth + 1])
        fields = getattr(model, "model_fields", None)
        if fields is None:
            break  # a free-form mapping (e.g. solver.options): any key goes
        if key not in fields:
            # short labels ("window") count as spellings of their field
            names = {f: f for f in fields} | {s: f for f, s in SHORT_LABELS.items() if f in fields}
            hint = did_you_mean(key, names)
            return [
                Problem(
                    where,
                    f"a field of {model.__name__} ({', '.join(fields)})",
                    f"unknown key {key!r}",
                    f"Did you mean {names[hint]!r}?" if hint else "",
                )
            ]
        annotation = fields[key].annotation
        node = node.get(key) if isinstance(node, dict) else None
        if selector is not None:
            item_model = _list_item_model(annotation)
            if item_model is None:
                return [
                    Problem(
                        where,
                        f"{here.rsplit('[', 1)[0]} to be a list",
                        "a selector on a non-list key",
                    )
                ]
            items = node
            node, found = _select(items, selector)
            if not found:
                return [
                    Problem(
                        where,
                        f"an item of {key} matching [{selector}] in the base scenario",
                        "no such item",
                        f"Items there: {_item_keys(items)}.",
                    )
                ]
            model = item_model
        else:
            model = model_in(annotation, through_lists=False)
            if model is None and depth < len(parts) - 1 and not _is_mapping(annotation):
                return [Problem(where, f"{here} to be a block with keys", "a plain value")]
    return []


def _item_keys(items: Any) -> str:
    if not isinstance(items, list):
        return "none"
    keys = [str(i.get("id", n)) if isinstance(i, dict) else str(n) for n, i in enumerate(items)]
    return ", ".join(keys) or "none"


def _select(node: Any, selector: str) -> tuple[Any, bool]:
    if not isinstance(node, list):
        return None, False
    if selector.strip().lstrip("-").isdigit():
        index = int(selector)
        return (node[index], True) if -len(node) <= index < len(node) else (None, False)
    key, _, value = selector.partition("=")
    for item in node:
        if isinstance(item, dict) and str(item.get(key.strip())) == value.strip():
            return item, True
    return None, False


def set_path(doc: dict[str, Any], path: str, value: Any) -> None:
    """Set ``path`` in ``doc`` in place, creating missing mappings (paths checked first)."""
    parts = parse_path(path)
    node: Any = doc
    for index, (key, selector) in enumerate(parts):
        last = index == len(parts) - 1
        if selector is None:
            if last:
                node[key] = copy.deepcopy(value)
                return
            if not isinstance(node.get(key), dict):
                node[key] = {}
            node = node[key]
            continue
        item, found = _select(node.get(key), selector)
        if not found:
            raise KeyError(f"{path}: no item [{selector}] in {key}")
        if last:
            items = node[key]
            items[items.index(item)] = copy.deepcopy(value)
            return
        node = item


def _list_item_model(annotation: Any) -> type[BaseModel] | None:
    if getattr(annotation, "__origin__", None) is list:
        return model_in(annotation.__args__[0], through_lists=False)
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _list_item_model(arg)
        if found is not None:
            return found
    return None


def _is_mapping(annotation: Any) -> bool:
    if getattr(annotation, "__origin__", None) is dict or annotation is dict:
        return True
    return any(_is_mapping(a) for a in getattr(annotation, "__args__", ()) or ())


# ---- names -------------------------------------------------------------------------------


def _labels(paths: list[str], given: dict[str, str]) -> dict[str, str]:
    """Short label of each varied path: given, else the last key (abbreviated), made unique."""
    labels = {}
    for path in paths:
        key = parse_path(path)[-1][0]
        labels[path] = given.get(path) or SHORT_LABELS.get(key, key)
    first = dict(labels)
    for path, label in first.items():
        clash = [p for p, other in first.items() if other == label]
        if len(clash) > 1 and path not in given:
            owner = next((s for _, s in reversed(parse_path(path)) if s), None)
            scope = owner.partition("=")[2] if owner and "=" in owner else owner
            labels[path] = f"{scope}.{label}" if scope else path
    return labels


def format_value(value: Any) -> str:
    """A value as it appears in a generated name: ``24.0`` -> ``24``, lists joined by ``+``."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list | tuple):
        return "+".join(format_value(v) for v in value)
    if isinstance(value, dict):
        return "+".join(f"{k}:{format_value(v)}" for k, v in value.items())
    return str(value)


def safe_name(name: str) -> str:
    """A name usable as a folder name on every OS (unsafe runs become ``_``)."""
    return UNSAFE.sub("_", name).strip("._") or "scenario"
