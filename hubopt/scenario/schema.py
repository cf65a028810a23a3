"""The scenario YAML schema as pydantic models (DESIGN §2).

Every block forbids unknown keys; :func:`hubopt.scenario.load.load_scenario` turns
pydantic's errors into :class:`~hubopt.errors.ScenarioError` with "did you mean" hints.
"""

from __future__ import annotations

import itertools
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator

from hubopt.scenario.block import Block
from hubopt.scenario.solver_settings import Backend as Backend
from hubopt.scenario.solver_settings import Method as Method
from hubopt.scenario.solver_settings import RootCutSettings as RootCutSettings
from hubopt.scenario.solver_settings import SolverSettings

TABLE_KEYS = (
    "hubs",
    "regions",
    "products",
    "demand",
    "sources",
    "supply",
    "inventory",
    "modes",
    "lanes",
    "channels",
    "hub_capacity",
    "pickup_points",
    "vehicles",
)


# A region filter: ``all``, a list of region ids, or a mapping attribute -> allowed values.
RegionFilter = Literal["all"] | list[str] | dict[str, list[str]]


class DataPaths(Block):
    """Paths of the data tables, relative to the YAML file that declares them."""

    hubs: str | None = Field(default=None, description="Hubs table (required).")
    regions: str | None = Field(
        default=None, description="Regions table or GeoJSON/GeoPackage (required)."
    )
    products: str | None = Field(default=None, description="Products table (required).")
    demand: str | None = Field(default=None, description="Demand table (required).")
    sources: str | None = Field(
        default=None, description="Sources table; absent = hubs are replenished freely."
    )
    supply: str | None = Field(
        default=None, description="Supply per source, product and period (with sources)."
    )
    inventory: str | None = Field(default=None, description="Stock on hand at the start.")
    modes: str | None = Field(default=None, description="Transport modes; absent = one road mode.")
    lanes: str | None = Field(
        default=None, description="Lane overrides: distance, transit, cost, or forbidden arcs."
    )
    channels: str | None = Field(
        default=None, description="Sales channels: windows, return rates and costs."
    )
    hub_capacity: str | None = Field(
        default=None, description="Per-period throughput and peak capacity of hubs."
    )
    pickup_points: str | None = Field(
        default=None, description="Stores and lockers for pickup-channel demand."
    )
    vehicles: str | None = Field(default=None, description="Vehicle fleet for delivery routes.")


class Campaign(Block):
    """A promotion: demand uplift in a scope, a delivery window and a service level."""

    id: str = Field(min_length=1, description="Campaign id, unique in the scenario.")
    name: str | None = Field(default=None, description="Display name.")
    regions: RegionFilter = Field(default="all", description="Regions in scope.")
    products: list[str] | Literal["all"] = Field(default="all", description="Products in scope.")
    periods: list[Annotated[int, Field(ge=1)]] | Literal["all"] = Field(
        default="all", description="Periods in scope (1..T)."
    )
    channels: list[str] | Literal["all"] = Field(default="all", description="Channels in scope.")
    uplift: float = Field(default=1.0, ge=0, description="Multiplies base demand (and its std).")
    delivery_window_hours: float | None = Field(
        default=None, gt=0, description="On time means transit within this many hours."
    )
    service_level: float = Field(
        default=0.0, ge=0, le=1, description="Share of campaign units that must be on time."
    )
    spend: float = Field(default=0.0, ge=0, description="Marketing spend, for promotion ROI.")
    footprint: Literal["fixed", "optimize"] = Field(
        default="fixed",
        description="fixed: run in every region in scope; optimize: the regions are candidates "
        "and the model decides where the campaign runs (its uplift must be > 1).",
    )
    spend_per_region: float = Field(
        default=0.0, ge=0, description="Spend per included region (footprint: optimize)."
    )
    min_regions: int | None = Field(
        default=None, ge=0, description="Fewest included regions (footprint: optimize)."
    )
    max_regions: int | None = Field(
        default=None, ge=0, description="Most included regions (footprint: optimize)."
    )

    @model_validator(mode="after")
    def _footprint_fields(self) -> Campaign:
        optimize_only = {
            "spend_per_region": self.spend_per_region > 0,
            "min_regions": self.min_regions is not None,
            "max_regions": self.max_regions is not None,
        }
        given = [name for name, set_ in optimize_only.items() if set_]
        if self.footprint == "fixed" and given:
            raise ValueError(
                f"{', '.join(given)} only apply with footprint: optimize (campaign {self.id!r} "
                "has footprint: fixed)"
            )
        if self.footprint == "optimize" and self.uplift <= 1.0:
            raise ValueError(
                f"footprint: optimize needs uplift > 1 (campaign {self.id!r} has uplift "
                f"{self.uplift:g}): the model chooses where the incremental units are worth it"
            )
        if (
            self.min_regions is not None
            and self.max_regions is not None
            and self.min_regions > self.max_regions
        ):
            raise ValueError(
                f"min_regions ({self.min_regions}) must be <= max_regions ({self.max_regions})"
            )
        return self


class SafetyStock(Block):
    """Safety stock policy: ``stock >= z * sigma`` of the demand a hub serves."""

    z: float = Field(default=0.0, ge=0, description="Service factor (1.65 ~ 95 % cycle service).")
    pooling: bool = Field(
        default=False,
        description="Risk-pooled requirement z * sqrt(sum (sigma_k * share_k)^2) per hub, product "
        "and period (outer-approximation cuts, re-solved until within pooling_tolerance); "
        "false = z * sum sigma_k * share_k.",
    )
    pooling_tolerance: float = Field(
        default=0.001,
        gt=0,
        lt=1,
        description="Largest accepted shortfall below the pooled requirement, as a share of it.",
    )
    max_cut_rounds: int = Field(
        default=50, ge=1, description="Most re-solves of the pooled safety-stock cut loop."
    )


class Carbon(Block):
    """Carbon price and cap."""

    price_per_t: float = Field(default=0.0, ge=0, description="Money per tonne CO2.")
    cap_t: float | None = Field(default=None, ge=0, description="Cap on tonnes CO2 (all periods).")


class Policy(Block):
    """Network and service policy."""

    periods: int | None = Field(
        default=None, ge=1, description="Horizon T; default: the largest period in demand."
    )
    period_days: float = Field(default=7.0, gt=0, description="Length of a period in days (KPIs).")
    circuity: float = Field(default=1.25, ge=1.0, description="Road km per great-circle km.")
    min_open_hubs: int = Field(default=0, ge=0, description="Minimum open hubs per period.")
    max_open_hubs: int | None = Field(
        default=None, ge=0, description="Maximum open hubs per period."
    )
    fixed_cost_budget: float | None = Field(
        default=None, ge=0, description="Cap on fixed + opening + closing cost over the horizon."
    )
    single_sourcing: bool = Field(default=False, description="Each region served by one hub.")
    allow_closing: bool = Field(default=False, description="Open hubs may close in later periods.")
    default_delivery_window_hours: float | None = Field(
        default=None, gt=0, description="Window for streams with no campaign or channel window."
    )
    late_penalty_per_unit: float | None = Field(
        default=None, ge=0, description="Cost per unit delivered late; absent = late not allowed."
    )
    nearest_hubs: int | None = Field(
        default=None,
        ge=1,
        description="Arc pruning: only the N fastest allowed hubs may serve each region.",
    )
    linking: Literal["auto", "stream", "region", "hub"] = Field(
        default="auto",
        description="Hub-open linking rows: per stream (strong), region-period, hub-period, or auto by size.",
    )
    safety_stock: SafetyStock = Field(
        default_factory=SafetyStock, description="Safety stock held at hubs."
    )
    carbon: Carbon = Field(default_factory=Carbon, description="Carbon price and cap.")
    strict: bool = Field(
        default=False,
        description="Refuse the scenario (exit 2) when any input warning is found (like --strict).",
    )


class Bounds(Block):
    """Where the scenario's sites may lie: a box in degrees, or a polygon file.

    A site (hub, source, region) outside the bounds is a warning; a site inside them is
    never called an outlier, so a real far-away site (an island, an overseas port) is
    accepted by drawing the bounds around it.
    """

    south: float | None = Field(default=None, ge=-90, le=90, description="Southmost latitude.")
    west: float | None = Field(default=None, ge=-180, le=180, description="Westmost longitude.")
    north: float | None = Field(default=None, ge=-90, le=90, description="Northmost latitude.")
    east: float | None = Field(default=None, ge=-180, le=180, description="Eastmost longitude.")
    polygon: str | None = Field(
        default=None,
        description="GeoJSON/GeoPackage file of the area (relative to the YAML file).",
    )

    @model_validator(mode="after")
    def _box_or_polygon(self) -> Bounds:
        box = [self.south, self.west, self.north, self.east]
        given = [v is not None for v in box]
        if self.polygon is not None:
            if any(given):
                raise ValueError(
                    "give either a box (south, west, north, east) or a polygon, not both"
                )
            return self
        if not all(given):
            raise ValueError("give all four of south, west, north, east, or a polygon file")
        if self.south > self.north:  # type: ignore[operator]
            raise ValueError(f"south ({self.south}) must not be above north ({self.north})")
        return self

    @property
    def is_box(self) -> bool:
        """Whether the bounds are a box (else a polygon file)."""
        return self.polygon is None


class OutputSettings(Block):
    """What a run writes."""

    dir: str | None = Field(default=None, description="Run folder, relative to the YAML file.")
    map: bool = Field(default=True, description="Write map.html.")
    report: bool = Field(default=True, description="Write report.html.")
    promise_tiers_hours: list[Annotated[float, Field(gt=0)]] = Field(
        default_factory=lambda: [6.0, 12.0, 24.0, 48.0, 72.0],
        min_length=1,
        description="Delivery-promise tiers in hours, ascending (a region's tier is the "
        "first tier its fastest delivery fits in; 'later' beyond the last).",
    )
    campaign_economics: bool = Field(
        default=False,
        description="Also solve without each campaign and report its marginal cost and ROI.",
    )

    @field_validator("promise_tiers_hours")
    @classmethod
    def _ascending(cls, value: list[float]) -> list[float]:
        if any(b <= a for a, b in itertools.pairwise(value)):
            raise ValueError(f"promise_tiers_hours must be strictly ascending; got {value}")
        return value


class FirstSolution(StrEnum):
    """OR-Tools first-solution strategies offered for routing."""

    PATH_CHEAPEST_ARC = "path_cheapest_arc"
    SAVINGS = "savings"
    PARALLEL_CHEAPEST_INSERTION = "parallel_cheapest_insertion"
    CHRISTOFIDES = "christofides"
    AUTOMATIC = "automatic"


class RoutingSettings(Block):
    """Delivery routes from the open hubs (vehicle routing with time windows, DESIGN §1 job 5).

    With this block the run writes ``solution/routes.*``: for each open hub and each
    routed period, the vans' routes over the regions the hub serves (load = volume
    shipped, window = the stream's delivery window counted from dispatch).
    """

    periods: list[Annotated[int, Field(ge=1)]] | Literal["campaigns", "all"] = Field(
        default="campaigns",
        description="Periods to route: a list, 'all', or 'campaigns' (every campaign's periods; "
        "all periods when there is no campaign).",
    )
    campaigns: list[str] | Literal["all"] = Field(
        default="all",
        description="Flows to route: those of these campaign ids, or 'all' flows of the hub.",
    )
    modes: list[str] | Literal["all"] = Field(
        default="all", description="Flows to route: those shipped by these modes, or 'all'."
    )
    mode: Literal["post", "integrated"] = Field(
        default="post",
        description="post: route the optimal plan; integrated: iterate locate -> route -> "
        "re-estimate delivery cost per region -> re-locate, keeping the cheapest plan.",
    )
    time_limit_s: float = Field(
        default=5.0, gt=0, description="Most guided-local-search time per hub and period."
    )
    stall_s: float | None = Field(
        default=1.0,
        gt=0,
        description="Stop a hub-period's search once it has gone this many seconds, and at "
        "least as long as it took to find its best routes, without cheaper ones; blank = "
        "always search time_limit_s.",
    )
    first_solution: FirstSolution = Field(
        default=FirstSolution.PATH_CHEAPEST_ARC, description="OR-Tools first-solution strategy."
    )
    max_iterations: int = Field(
        default=6, ge=1, description="integrated: most locate/route rounds."
    )
    search_time_limit_s: float | None = Field(
        default=None,
        gt=0,
        description="integrated: start no new round after this many seconds (the final "
        "allocation round still runs); blank = max_iterations alone decides.",
    )
    late_penalty_per_hour: float | None = Field(
        default=None,
        ge=0,
        description="Routing objective cost of one hour late at a stop; blank = the cost of "
        "the dearest possible route (fixed cost + the longest possible drive) per hour.",
    )
    workers: int = Field(
        default=0, ge=0, description="Processes routing hubs in parallel; 0 = one per CPU."
    )
    seed: int = Field(default=0, ge=0, description="Seed of the routing search.")


# ---- what-if operations (DESIGN §2 `whatif:`) ------------------------------------------


class ScaleDemand(Block):
    """Multiply demand (and its std) in a scope by a factor."""

    regions: RegionFilter = Field(default="all", description="Regions in scope.")
    products: list[str] | Literal["all"] = Field(default="all", description="Products in scope.")
    periods: list[Annotated[int, Field(ge=1)]] | Literal["all"] = Field(
        default="all", description="Periods in scope (1..T)."
    )
    channels: list[str] | Literal["all"] = Field(default="all", description="Channels in scope.")
    factor: float = Field(ge=0, description="Multiplier of quantity and std (1.3 = +30 %).")


class ShiftChannel(Block):
    """Move a share of the demand in a scope from one channel to another (e.g. to pickup)."""

    regions: RegionFilter = Field(default="all", description="Regions in scope.")
    products: list[str] | Literal["all"] = Field(default="all", description="Products in scope.")
    periods: list[Annotated[int, Field(ge=1)]] | Literal["all"] = Field(
        default="all", description="Periods in scope (1..T)."
    )
    from_channel: str = Field(min_length=1, description="Channel the demand leaves.")
    to_channel: str = Field(min_length=1, description="Channel the demand moves to.")
    share: float = Field(gt=0, le=1, description="Share of each demand row that moves.")


class ScaleCapacity(Block):
    """Multiply hub capacities (throughput and/or storage) by a factor."""

    hubs: list[str] | Literal["all"] = Field(default="all", description="Hubs in scope.")
    throughput: float | None = Field(
        default=None, ge=0, description="Multiplier of throughput capacity."
    )
    storage: float | None = Field(default=None, ge=0, description="Multiplier of storage capacity.")

    @model_validator(mode="after")
    def _one_factor(self) -> ScaleCapacity:
        if self.throughput is None and self.storage is None:
            raise ValueError("give at least one of 'throughput' or 'storage'")
        return self


class ScaleCost(Block):
    """Multiply cost components by factors.

    ``transport`` scales every mode's per-kg and per-kg-km cost and every lane's
    ``cost_per_unit``; it is either one factor or a mapping ``mode_id -> factor``.
    """

    transport: float | dict[str, float] | None = Field(
        default=None, description="Factor on transport costs, or {mode_id: factor}."
    )
    fixed: float | None = Field(
        default=None, ge=0, description="Factor on hubs' fixed, opening and closing costs."
    )
    handling: float | None = Field(default=None, ge=0, description="Factor on handling costs.")
    holding: float | None = Field(default=None, ge=0, description="Factor on holding costs.")
    supply: float | None = Field(default=None, ge=0, description="Factor on supply unit costs.")

    @field_validator("transport")
    @classmethod
    def _non_negative(cls, value: float | dict[str, float] | None) -> Any:
        values = value.values() if isinstance(value, dict) else [value]
        if any(v is not None and v < 0 for v in values):
            raise ValueError("transport factors must be >= 0")
        return value


class WhatIf(Block):
    """One what-if operation; exactly one key is set."""

    scale_demand: ScaleDemand | None = Field(
        default=None, description="Multiply demand in a scope."
    )
    open_hubs: list[str] | None = Field(
        default=None, description="Hub ids set to status forced_open."
    )
    close_hubs: list[str] | None = Field(
        default=None, description="Hub ids set to status forced_closed."
    )
    scale_capacity: ScaleCapacity | None = Field(
        default=None, description="Multiply hub capacities."
    )
    scale_cost: ScaleCost | None = Field(default=None, description="Multiply cost components.")
    shift_channel: ShiftChannel | None = Field(
        default=None, description="Move a share of demand in a scope to another channel."
    )
    set_campaign: dict[str, Any] | None = Field(
        default=None, description="{id: CAMPAIGN, FIELD: VALUE, ...}: change a campaign."
    )
    add_campaign: Campaign | None = Field(
        default=None, description="A new campaign (same keys as `campaigns[]`)."
    )

    @model_validator(mode="after")
    def _exactly_one(self) -> WhatIf:
        given = [k for k, v in self.__dict__.items() if v is not None]
        if len(given) != 1:
            raise ValueError(
                f"each what-if item must have exactly one operation; found {given or 'none'}"
            )
        return self

    @property
    def operation(self) -> str:
        """Name of the operation this item carries."""
        return next(k for k, v in self.__dict__.items() if v is not None)


class ScenarioConfig(Block):
    """A whole scenario file (after `extends` has been merged)."""

    name: str = Field(min_length=1, description="Scenario name (used for run folders).")
    description: str | None = Field(default=None, description="Free text, shown in the report.")
    currency: str | None = Field(default=None, description="Money unit shown in reports, e.g. KRW.")
    crs: str | None = Field(
        default=None,
        description="Projected CRS for distances, e.g. EPSG:5179: straight-line km in that "
        "CRS x circuity instead of great-circle km (tables keep lat/lon in WGS84).",
    )
    data: DataPaths = Field(description="Paths of the data tables.")
    bounds: Bounds | None = Field(
        default=None, description="Area the sites must lie in (coordinate plausibility)."
    )
    campaigns: list[Campaign] = Field(default_factory=list, description="Promotions.")
    policy: Policy = Field(default_factory=Policy, description="Network and service policy.")
    whatif: list[WhatIf] = Field(
        default_factory=list, description="What-if operations, applied in order after loading."
    )
    solver: SolverSettings = Field(default_factory=SolverSettings, description="Solver settings.")
    output: OutputSettings = Field(default_factory=OutputSettings, description="What a run writes.")
    routing: RoutingSettings | None = Field(
        default=None, description="Delivery routes from the open hubs (needs data.vehicles)."
    )

    @field_validator("crs")
    @classmethod
    def _projected_crs(cls, value: str | None) -> str | None:
        if value is None:
            return value
        from pyproj import CRS
        from pyproj.exceptions import CRSError

        try:
            crs = CRS.from_user_input(value)
        except CRSError as err:
            raise ValueError(
                f"{value!r} is not a coordinate reference system pyproj knows"
            ) from err
        if not crs.is_projected:
            raise ValueError(
                f"{value!r} is not a projected CRS (distances need metres, e.g. EPSG:5179)"
            )
        return value

    @model_validator(mode="after")
    def _unique_campaigns(self) -> ScenarioConfig:
        ids = [c.id for c in self.campaigns]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"campaign ids must be unique; repeated: {dupes}")
        return self
