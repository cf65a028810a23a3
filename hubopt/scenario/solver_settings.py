"""The scenario's ``solver`` block: backend, method, limits, the root cut loop and the
local search (docs/solvers.md); part of :mod:`hubopt.scenario.schema`."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field, model_validator

from hubopt.scenario.block import Block


class Backend(StrEnum):
    """Solver backends (``heuristic``: hubopt's local search alone, bound = LP relaxation)."""

    AUTO = "auto"
    HIGHS = "highs"
    SCIP = "scip"
    CBC = "cbc"
    ORTOOLS_HIGHS = "ortools-highs"
    HEURISTIC = "heuristic"


class RootCutSettings(Block):
    """The root cut loop run before the MIP (docs/solvers.md, "Root cut loop").

    The LP relaxation is solved with HiGHS; the per-(hub, stream) and per-(pickup point,
    stream) linking rows it violates are added and the LP is re-solved warm, until the
    bound stops moving. The rows that were ever tight go into the MIP. They are valid
    inequalities: the plans and the optimum do not change, only the bound gets stronger.
    """

    mode: Literal["auto", "on", "off"] = Field(
        default="auto",
        description="auto: on for the highs and auto backends on single-period models "
        "(measured: it pays on facility location, costs a multi-period 100 s solve its "
        "time); on: every model, also before scip/cbc (needs highspy); off: never.",
    )
    max_rounds: int = Field(default=30, ge=1, description="Most LP re-solves with added rows.")
    min_improvement: float = Field(
        default=1e-4,
        ge=0,
        description="Stop when a round raises the LP bound by less than this share of it.",
    )
    time_share: float = Field(
        default=0.35,
        gt=0,
        le=1,
        description="Most share of solver.time_limit_s the loop may take; the MIP gets the rest.",
    )
    max_rows_per_round: int = Field(
        default=20_000,
        ge=1,
        description="Most violated rows added per round (most violated first).",
    )


class Method(StrEnum):
    """How the model is solved."""

    AUTO = "auto"
    COMPACT = "compact"
    BENDERS = "benders"


class SolverSettings(Block):
    """Solver settings."""

    backend: Backend = Field(
        default=Backend.AUTO,
        description="Which solver to use. auto: HiGHS, or the heuristic backend (local "
        "search plus an LP bound) for multi-period models with at least 100 hub-period "
        "binaries, aggregated linking rows and no pooled safety stock (docs/solvers.md).",
    )
    method: Method = Field(
        default=Method.AUTO,
        description="compact: the whole MILP in one solve; benders: Benders decomposition "
        "(single-period facility location only: one period, no sources, every hub serving "
        "every stream; HiGHS); auto: benders where it applies and pays (large such models), "
        "else compact.",
    )
    time_limit_s: float = Field(
        default=120.0,
        gt=0,
        description="Wall-clock limit in seconds, the model's build included (the solver gets "
        "what the build leaves, at least a tenth).",
    )
    mip_gap: float = Field(default=0.005, ge=0, le=1, description="Relative MIP gap to stop at.")
    threads: int = Field(
        default=0,
        ge=0,
        description="Solver threads; 0 = solver default. A restricted solve's search scores "
        "its moves on this many HiGHS copies of the LP (0: one per core), as memory allows.",
    )
    seed: int = Field(default=0, ge=0, description="Random seed passed to the solver.")
    warm_start: bool = Field(default=True, description="Give the solver a heuristic start.")
    local_search: Literal["auto", "on", "off"] = Field(
        default="auto",
        description="Improve the start by a local search on hub-period decisions (each move "
        "scored by a warm-started LP) before and while HiGHS runs; auto = on for HiGHS "
        "when the model has at least 100 hub-period binaries. The heuristic backend always "
        "runs it.",
    )
    local_search_share: float = Field(
        default=0.2,
        gt=0,
        le=1,
        description="Share of time_limit_s the local search may use before HiGHS starts "
        "(the heuristic backend uses all of it).",
    )
    local_search_moves: int = Field(
        default=2000,
        ge=1,
        description="Most LP-scored moves one local search evaluates (the time limit "
        "usually ends it first: a warm LP takes ~0.1 s on the Korea demo).",
    )
    options: dict[str, str | int | float | bool] = Field(
        default_factory=dict,
        description="Backend-specific options passed as they are (HiGHS option names for highs).",
    )
    root_cuts: RootCutSettings = Field(
        default_factory=RootCutSettings, description="The root cut loop before the MIP."
    )
    arcs_per_stream: Literal["auto", "all"] | Annotated[int, Field(ge=1)] = Field(
        default="auto",
        description="Delivery arcs per demand stream the solve starts from (its cheapest "
        "ones); column generation on the whole LP adds the arcs that would lower it, and the "
        "search also gets every arc to the hubs of its start (the plan is re-solved on every "
        "arc to its open hubs if it opens others and time is left), memory allowing. all: "
        "every arc; a number: that many (heuristic backend); auto: every arc, or, when the "
        "whole model would not fit in memory, the most per stream that fit (backend auto or "
        "heuristic). The plan is verified against every arc and its bound is the whole "
        "model's (Lagrangian bound of the restricted LP's duals, raised beside the search "
        "by one that keeps each hub's capacity and opening plan whole, memory allowing), so "
        "the gap covers what the arcs left out could have saved.",
    )

    @model_validator(mode="after")
    def _restriction_needs_heuristic(self) -> SolverSettings:
        if isinstance(self.arcs_per_stream, int) and self.backend not in (
            Backend.AUTO,
            Backend.HEURISTIC,
        ):
            raise ValueError(
                f"solver.arcs_per_stream: {self.arcs_per_stream} needs backend auto or "
                f"heuristic (only their bound stays valid for the arcs left out), got "
                f"backend {self.backend.value}"
            )
        return self
