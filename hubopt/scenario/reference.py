"""The scenario YAML reference (``docs/scenario-reference.md``), generated from the schema.

Every key of :class:`hubopt.scenario.schema.ScenarioConfig` with its type, default,
constraints and description, one section per YAML block, walked from the pydantic models
themselves so the page cannot drift from what the loader accepts. Regenerate with::

    python -m hubopt.scenario.reference > docs/scenario-reference.md
"""

from __future__ import annotations

import enum
import types
import typing
from typing import Any, Literal, get_args, get_origin

from annotated_types import Ge, Gt, Le, Lt, MinLen
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from hubopt.scenario.schema import ScenarioConfig

HEADER = """\
# Scenario YAML reference

Generated from the pydantic schema in `hubopt/scenario/schema.py` by
`hubopt.scenario.reference.render_markdown()` (a test fails when this page is stale):
`python -m hubopt.scenario.reference > docs/scenario-reference.md`.

A scenario file is one YAML mapping. Unknown keys are errors with a "did you mean" hint;
`extends: base.yaml` (a key read before validation) deep-merges the file over a base
scenario: mappings merge, lists replace. `hubopt schema` prints the same schema as JSON
Schema for editors. The data tables the `data:` paths point at are described in
[tables.md](tables.md); what-ifs in [whatif.md](whatif.md); sweeps in [batch.md](batch.md).

Notation: *type* `A | B` means either; `list[T]` a YAML list; `{K: V}` a mapping;
`"all"` the literal word `all`. *default* "required" means the key must be given.
"""

REGION_FILTER_NOTE = (
    "A region filter is `all`, a list of region ids, or a mapping from a regions-table "
    "column to the allowed values (`{province: [Seoul, Busan]}`)."
)


def type_label(annotation: Any) -> str:
    """Readable YAML type of a pydantic annotation (``int``, ``list[str] | "all"``...)."""
    origin = get_origin(annotation)
    if origin is typing.Annotated:
        return type_label(get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        parts = [type_label(a) for a in get_args(annotation) if a is not type(None)]
        label = " | ".join(dict.fromkeys(parts))
        return f"{label} | null" if type(None) in get_args(annotation) else label
    if origin is Literal:
        return " | ".join(f'"{v}"' for v in get_args(annotation))
    if origin is list:
        return f"list[{type_label(get_args(annotation)[0])}]"
    if origin is dict:
        key, value = get_args(annotation)
        return f"{{{type_label(key)}: {type_label(value)}}}"
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return " | ".join(f'"{m.value}"' for m in annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return f"[{annotation.__name__}](#{anchor(annotation)})"
    if annotation is typing.Any:
        return "any"
    return getattr(annotation, "__name__", str(annotation))


def anchor(model: type[BaseModel]) -> str:
    """The Markdown anchor of a model's section."""
    return model.__name__.lower()


def default_label(info: FieldInfo) -> str:
    """The default as YAML would spell it, or ``required``."""
    if info.is_required():
        return "required"
    if info.default_factory is not None:
        value = info.default_factory()  # type: ignore[call-arg]
        if isinstance(value, BaseModel):
            return "(block defaults)"
        return "`[]`" if value == [] else "`{}`" if value == {} else f"`{value}`"
    value = info.default
    if value is None or value is PydanticUndefined:
        return "`null`"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, enum.Enum):
        return f"`{value.value}`"
    return f"`{value}`"


def constraint_label(info: FieldInfo) -> str:
    """Bounds of a field (``>= 0``, ``<= 1``, ``non-empty``) from its metadata."""
    words = []
    for meta in info.metadata:
        if isinstance(meta, Ge):
            words.append(f"≥ {meta.ge}")
        elif isinstance(meta, Gt):
            words.append(f"> {meta.gt}")
        elif isinstance(meta, Le):
            words.append(f"≤ {meta.le}")
        elif isinstance(meta, Lt):
            words.append(f"< {meta.lt}")
        elif isinstance(meta, MinLen) and meta.min_length == 1:
            words.append("non-empty")
    return ", ".join(words)


def nested_models(annotation: Any) -> list[type[BaseModel]]:
    """Pydantic models inside an annotation (``list[Campaign] -> [Campaign]``)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in get_args(annotation) for m in nested_models(arg)]


def walk_models(root: type[BaseModel]) -> list[tuple[str, type[BaseModel]]]:
    """(YAML path, model) of every block reachable from ``root``, depth first, each once."""
    seen: set[type[BaseModel]] = set()
    out: list[tuple[str, type[BaseModel]]] = []

    def visit(path: str, model: type[BaseModel]) -> None:
        if model in seen:
            return
        seen.add(model)
        out.append((path, model))
        for name, info in model.model_fields.items():
            for child in nested_models(info.annotation):
                suffix = "[]" if get_origin(_strip(info.annotation)) is list else ""
                visit(f"{path}.{name}{suffix}" if path else f"{name}{suffix}", child)

    visit("", root)
    return out


def _strip(annotation: Any) -> Any:
    """The annotation without ``| None``."""
    if get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        return args[0] if len(args) == 1 else annotation
    return annotation


def _doc(model: type[BaseModel]) -> str:
    text = (model.__doc__ or "").strip()
    return " ".join(line.strip() for line in text.splitlines() if line.strip()).replace("``", "`")


def render_model(path: str, model: type[BaseModel]) -> list[str]:
    """One section: heading, the block's docstring, and a row per key."""
    title = f"`{path}`" if path else "top level"
    lines = [f"## {title}", "", f'<a id="{anchor(model)}"></a>', ""]
    lines += [f"{_doc(model)} (`{model.__name__}`)", ""]
    lines += ["| key | type | default | allowed | description |", "|---|---|---|---|---|"]
    for name, info in model.model_fields.items():
        description = (info.description or "").replace("|", "\\|").replace("\n", " ")
        kind = type_label(info.annotation).replace("|", "\\|")
        lines.append(
            f"| `{name}` | {kind} | {default_label(info)} | {constraint_label(info)} "
            f"| {description} |"
        )
    if any(_is_region_filter(info) for info in model.model_fields.values()):
        lines += ["", REGION_FILTER_NOTE]
    return [*lines, ""]


def _is_region_filter(info: FieldInfo) -> bool:
    return "{str: list[str]}" in type_label(info.annotation)


def render_markdown(root: type[BaseModel] = ScenarioConfig) -> str:
    """The whole reference page as Markdown."""
    lines = [HEADER]
    for path, model in walk_models(root):
        lines += render_model(path, model)
    return "\n".join(lines).rstrip("\n") + "\n"


if __name__ == "__main__":  # pragma: no cover - documentation generator
    import sys

    sys.stdout.write(render_markdown())
