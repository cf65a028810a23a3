"""The base of every scenario YAML block (:mod:`hubopt.scenario.schema`)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Block(BaseModel):
    """Base of every YAML block: unknown keys are errors, values are validated on assignment."""

    # Ids are strings, but YAML reads `[26110]` as numbers: accept them as their text.
    model_config = ConfigDict(extra="forbid", validate_assignment=True, coerce_numbers_to_str=True)
