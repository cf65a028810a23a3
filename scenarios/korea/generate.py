"""Generate the built-in Korea winter-campaign scenario (``korea-winter-2026``).

Reads only ``source/sigungu.geojson`` (250 si-gun-gu, KOSTAT 2018 boundaries with the
2020 census population; see ``source/SOURCES.md``) and writes every table of the
scenario:

* ``data/``        the full scenario: 10 weekly periods, 6 products (``korea.yaml``);
* ``data-small/``  the test variant: weeks 5-7 only, 3 products (``korea-small.yaml``);
  it reuses the regions, hubs, sources, modes, lanes and channels of ``data/``.

Run from the repository root::

    .venv/bin/python scenarios/korea/generate.py

The output is deterministic: the only randomness is ``numpy.random.default_rng(2026)``,
drawn in a fixed order; rows are sorted and numbers rounded before writing, so two runs
give byte-identical files.  Every number below is explained in ``README.md``; the
script ends with consistency checks and raises if one fails.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

HERE = Path(__file__).resolve().parent
SOURCE = HERE / "source" / "sigungu.geojson"

SEED = 2026
PERIODS = 10  # weekly; period 1 = Mon 2026-11-02 .. Sun 2026-11-08
CAMPAIGN_PERIODS = (4, 5, 6, 7)  # winter-sale in korea.yaml (23 Nov - 20 Dec 2026)
CAMPAIGN_UPLIFT = 1.8
LAUNCH_PERIODS = (6, 7)  # ltd-launch in korea.yaml (7 - 20 Dec 2026)
SMALL_FIRST_PERIOD = 5  # data-small period 1 = full period 5 (30 Nov 2026)
SMALL_PRODUCTS = ("PADDED-JACKET", "HEATER-MINI", "LTD-SNEAKER")

SIMPLIFY_TOLERANCE_M = 400.0  # coverage_simplify in EPSG:5179
KOREA_CRS = 5179  # Korea 2000 / Unified CS, metres
# Ongjin-gun is all islands; its interior point would fall on Baengnyeong-do, 190 km out at
# sea. Use Yeongheung-do instead: bridged to the mainland and the most populous island.
POINT_OVERRIDES = {"23320": (37.2540, 126.4740)}
CIRCUITY = 1.25  # road km per great-circle km (policy.circuity)
EARTH_RADIUS_KM = 6371.0

METRO_SIDO = ("Seoul", "Incheon", "Gyeonggi-do", "Busan")  # regions with an express channel
EXPRESS_SHARE = 0.10  # share of regular-product demand ordered for express delivery
LTD_EXPRESS_SHARE = 0.20  # hyped launch: more buyers pay for express
LTD_SIDO = ("Seoul", "Busan")

# ---- products ------------------------------------------------------------------------
# National base demand (units/week, all regular products, seasonality index 1.0),
# about 3.9 units per 1,000 inhabitants per week.
NATIONAL_BASE_UNITS = 200_000
HOLDING_RATE_PER_YEAR = 0.30  # cost of capital + markdown/obsolescence risk, on COGS
VAT = 1.10


@dataclass(frozen=True)
class Product:
    product_id: str
    name: str
    unit_volume: float  # m3 per unit, packed
    unit_weight_kg: float  # kg per unit, packed
    price: int  # KRW average selling price incl. VAT, after the usual discount
    cogs: int  # KRW landed cost of goods
    goodwill: int  # KRW, customer-goodwill cost of a stock-out on top of the lost margin
    mix: float  # share of NATIONAL_BASE_UNITS (0 for the limited edition)
    cv: float  # forecast error std / mean
    season: tuple[float, ...]  # weekly index, periods 1..10


# fmt: off
PRODUCTS = (
    # id, name, m3, kg, price, COGS, goodwill, mix, cv; then the weekly season index
    Product("PADDED-JACKET", "Padded jacket", 0.018, 1.2, 99_000, 42_000, 10_000, 0.18, 0.30,
            (0.70, 0.80, 0.90, 1.00, 1.10, 1.20, 1.25, 1.15, 1.00, 0.80)),
    Product("THERMAL-INNER", "Thermal innerwear", 0.0025, 0.35, 17_900, 6_500, 2_000, 0.34, 0.25,
            (0.60, 0.75, 0.90, 1.05, 1.15, 1.25, 1.30, 1.25, 1.15, 1.00)),
    Product("WINTER-BOOTS", "Winter boots", 0.011, 1.6, 69_000, 29_000, 7_000, 0.12, 0.30,
            (0.60, 0.70, 0.85, 1.00, 1.15, 1.25, 1.30, 1.20, 1.00, 0.85)),
    Product("KNIT-SET", "Knit set", 0.006, 0.8, 49_000, 19_000, 5_000, 0.22, 0.30,
            (0.85, 0.90, 1.00, 1.05, 1.10, 1.15, 1.20, 1.25, 1.00, 0.80)),
    Product("HEATER-MINI", "Mini fan heater", 0.024, 2.8, 39_900, 22_000, 4_000, 0.14, 0.25,
            (0.50, 0.70, 0.90, 1.10, 1.30, 1.45, 1.50, 1.45, 1.40, 1.30)),
    Product("LTD-SNEAKER", "Limited-edition sneaker", 0.009, 1.3, 189_000, 80_000, 40_000, 0, 0.6,
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0)),
)
# fmt: on
REGULAR = tuple(p.product_id for p in PRODUCTS if p.mix > 0)
LTD_UNITS = {6: 36_000, 7: 14_000}  # launch-week demand, Seoul + Busan (pairs)

# Regional demand factors by sido (climate; e-commerce propensity) - README "Demand".
COLD = {
    "Gangwon-do": 1.35,
    "Chungcheongbuk-do": 1.15,
    "Gyeongsangbuk-do": 1.10,
    "Jeollabuk-do": 1.05,
}
MILD = {
    "Busan": 0.80,
    "Ulsan": 0.85,
    "Gyeongsangnam-do": 0.85,
    "Jeollanam-do": 0.85,
    "Gwangju": 0.90,
    "Jeju-do": 0.60,
}
CLIMATE_WEIGHT = {  # how strongly each product follows the climate factor (0 = not at all)
    "PADDED-JACKET": 0.6,
    "THERMAL-INNER": 0.5,
    "WINTER-BOOTS": 0.8,
    "KNIT-SET": 0.0,
    "HEATER-MINI": 1.0,
}
ONLINE = {"Seoul": 1.10, "Incheon": 1.05, "Gyeonggi-do": 1.10, "Sejong": 1.10}  # others 0.95

# ---- hubs ----------------------------------------------------------------------------
WEEKS_PER_MONTH = 52 / 12
# KRW per m2 per month: warehouse rent by zone (README "Hubs").
RENT = {"capital": 10_000, "central": 7_000, "yeongnam": 7_500, "other": 6_000, "jeju": 8_000}
FIXED_OPEX_PER_M2_MONTH = 5_500  # fixed staff (~1 FTE per 900 m2) + utilities, WMS, insurance
THROUGHPUT_M3_PER_M2_WEEK = 0.025  # outbound m3 per week per m2 of floor
STORAGE_M3_PER_M2 = 0.30  # m3 of goods held per m2 of floor (racks, minus docks/pack area)
OPENING_COST_PER_M2 = 8_000  # racking, WMS integration, hiring and training
CLOSING_COST_PER_M2 = 5_000  # lease break and restoration
# KRW per unit shipped out: pick, pack, packaging, label.
HANDLING = {"capital": 1_100, "central": 1_000, "yeongnam": 1_000, "other": 950, "jeju": 1_200}
EXISTING = ("H-ICHEON", "H-DAEGU", "H-GIMHAE")  # already run by the retailer
OPEN_FROM = {"H-SEJONG": 3}  # new building, handed over in week 3

# hub_id, name, name_ko, lat, lon, floor area m2, cost zone
HUBS = (
    ("H-ICHEON", "Icheon (Majang)", "이천 마장", 37.245, 127.395, 36_000, "capital"),
    ("H-YONGIN", "Yongin (Yangji)", "용인 양지", 37.236, 127.283, 32_000, "capital"),
    ("H-PYEONGTAEK", "Pyeongtaek (Cheongbuk)", "평택 청북", 37.02, 126.92, 28_000, "capital"),
    ("H-ANSEONG", "Anseong (Wongok)", "안성 원곡", 37.035, 127.2, 26_000, "capital"),
    ("H-GIMPO", "Gimpo (Goyang-myeon)", "김포 고촌", 37.61, 126.77, 24_000, "capital"),
    ("H-NAMYANGJU", "Namyangju (Jingeon)", "남양주 진건", 37.64, 127.21, 20_000, "capital"),
    ("H-CHEONAN", "Cheonan (Seobuk)", "천안 서북", 36.86, 127.16, 22_000, "central"),
    ("H-CHEONGJU", "Cheongju (Ochang)", "청주 오창", 36.717, 127.433, 20_000, "central"),
    ("H-SEJONG", "Sejong (Jeonui)", "세종 전의", 36.65, 127.2, 18_000, "central"),
    ("H-DAEJEON", "Daejeon (Daedeok)", "대전 대덕", 36.43, 127.43, 22_000, "central"),
    ("H-OKCHEON", "Okcheon", "옥천", 36.31, 127.57, 16_000, "central"),
    ("H-GUMI", "Gumi", "구미", 36.12, 128.34, 14_000, "yeongnam"),
    ("H-CHILGOK", "Chilgok (Waegwan)", "칠곡 왜관", 35.99, 128.4, 20_000, "yeongnam"),
    ("H-DAEGU", "Daegu (Buk-gu)", "대구 북구", 35.91, 128.6, 24_000, "yeongnam"),
    ("H-GIMHAE", "Gimhae (Hallim)", "김해 한림", 35.26, 128.82, 28_000, "yeongnam"),
    ("H-YANGSAN", "Yangsan (Dong-myeon)", "양산 동면", 35.36, 129.03, 24_000, "yeongnam"),
    ("H-BUSAN", "Busan (Gangseo)", "부산 강서", 35.12, 128.88, 20_000, "yeongnam"),
    ("H-CHANGWON", "Changwon (Uichang)", "창원 의창", 35.24, 128.65, 14_000, "yeongnam"),
    ("H-ULSAN", "Ulsan (Buk-gu)", "울산 북구", 35.58, 129.35, 12_000, "yeongnam"),
    ("H-POHANG", "Pohang", "포항", 36.02, 129.36, 8_000, "other"),
    ("H-GWANGJU", "Gwangju (Gwangsan)", "광주 광산", 35.15, 126.8, 20_000, "other"),
    ("H-JEONJU", "Jeonju", "전주", 35.87, 127.13, 14_000, "other"),
    ("H-SUNCHEON", "Suncheon", "순천", 34.95, 127.49, 8_000, "other"),
    ("H-MOKPO", "Mokpo", "목포", 34.81, 126.39, 7_000, "other"),
    ("H-WONJU", "Wonju (Munmak)", "원주 문막", 37.31, 127.82, 14_000, "other"),
    ("H-GANGNEUNG", "Gangneung", "강릉", 37.75, 128.88, 7_000, "other"),
    ("H-JEJU", "Jeju", "제주", 33.5, 126.53, 6_000, "jeju"),
)

# ---- sources and supply --------------------------------------------------------------
SOURCES = (
    ("S-BUSAN-PORT", "Busan New Port", "부산신항", 35.0800, 128.8000),
    ("S-INCHEON-PORT", "Incheon New Port", "인천신항", 37.3450, 126.6300),
    ("S-PYEONGTAEK-PLANT", "Pyeongtaek heater plant (Jinwi)", "평택 진위 공장", 37.1100, 127.0800),
)
# source_id, product_id, period (None = every period), capacity (None = unlimited), unit_cost
SUPPLY = (
    ("S-INCHEON-PORT", "PADDED-JACKET", None, None, 400),
    ("S-INCHEON-PORT", "THERMAL-INNER", None, None, 400),
    ("S-INCHEON-PORT", "KNIT-SET", None, None, 400),
    ("S-INCHEON-PORT", "LTD-SNEAKER", 4, 40_000, 400),
    ("S-INCHEON-PORT", "LTD-SNEAKER", 5, 40_000, 400),
    ("S-BUSAN-PORT", "PADDED-JACKET", None, None, 300),
    ("S-BUSAN-PORT", "THERMAL-INNER", None, None, 300),
    ("S-BUSAN-PORT", "KNIT-SET", None, None, 300),
    ("S-BUSAN-PORT", "WINTER-BOOTS", None, 48_000, 300),
    ("S-PYEONGTAEK-PLANT", "HEATER-MINI", None, 55_000, 150),
)
# data-small starts in week 5: its LTD allocation lands in small period 1.
SUPPLY_SMALL = (
    ("S-INCHEON-PORT", "PADDED-JACKET", None, None, 400),
    ("S-BUSAN-PORT", "PADDED-JACKET", None, None, 300),
    ("S-INCHEON-PORT", "LTD-SNEAKER", 1, 80_000, 400),
    ("S-PYEONGTAEK-PLANT", "HEATER-MINI", None, 55_000, 150),
)
# Starting stock (units) at two of the three existing hubs. H-DAEGU starts empty, so the
# "Daegu closed" what-if can close it without stranding stock.
INVENTORY = {
    "H-ICHEON": {
        "PADDED-JACKET": 8_000,
        "THERMAL-INNER": 15_000,
        "WINTER-BOOTS": 4_000,
        "KNIT-SET": 10_000,
        "HEATER-MINI": 6_000,
    },
    "H-GIMHAE": {
        "PADDED-JACKET": 4_000,
        "THERMAL-INNER": 8_000,
        "WINTER-BOOTS": 3_000,
        "KNIT-SET": 5_000,
        "HEATER-MINI": 3_000,
    },
}
# data-small opens in week 5 with the heaters pre-built in weeks 1-4 (plant at capacity).
INVENTORY_SMALL = {
    "H-ICHEON": {"PADDED-JACKET": 25_000, "HEATER-MINI": 60_000},
    "H-GIMHAE": {"PADDED-JACKET": 13_000, "HEATER-MINI": 35_000},
}

# ---- modes, lanes, channels ----------------------------------------------------------
MODE_COLUMNS = [
    "mode_id",
    "name",
    "leg",
    "cost_per_kg",
    "cost_per_kg_km",
    "speed_kmh",
    "handling_hours",
    "co2_g_per_tkm",
    "max_distance_km",
    "requires_lane",
]
MODES = (
    ("LINEHAUL", "11 t line-haul truck", "inbound", 10, 0.25, 60, 4, 80, None, False),
    ("PARCEL", "Parcel network (van last mile)", "outbound", 1_500, 1.5, 25, 10, 180, None, False),
    ("EXPRESS", "Same-day / dawn express van", "outbound", 3_000, 4.0, 50, 3, 250, 250, False),
    ("SEA", "Ro-Ro ferry", "both", 40, 0.25, 30, 10, 35, None, True),
    ("AIR", "Domestic air cargo", "both", 2_200, 2.0, 500, 4, 800, None, True),
)
ROAD_OUTBOUND = ("PARCEL", "EXPRESS")
# Delivery vans for the routes of the launch (routing: in korea.yaml). One type at every
# hub: a 1-ton box van (Hyundai Porter II / Kia Bongo III class, ~8 m3 cargo box), 50 per
# hub and day; 180,000 KRW per route (driver day and van hire), 320 KRW/km (diesel and
# wear), 30 km/h average in town, 10 h shift, 0.75 h per stop (a stop is the van's drop
# run inside one si-gun-gu: parking and handing over its parcels).
VEHICLE_COLUMNS = [
    "vehicle_type",
    "hub_id",
    "name",
    "capacity",
    "count",
    "fixed_cost",
    "cost_per_km",
    "speed_kmh",
    "max_route_hours",
    "service_hours_per_stop",
]
VEHICLES = (("VAN-1T", "", "1-ton box van", 8.0, 50, 180_000, 320, 30, 10, 0.75),)
CHANNELS = (
    ("parcel", "Standard parcel", 72, 0.15, 3_500),
    ("express", "Express (same-day / dawn)", 24, 0.12, 4_000),
)
JEJU_PREFIX = "39"
ULLEUNG = "37430"
# Outbound island lanes: hub, region, mode, distance km (road + sea/air), transit h, KRW/unit
# (blank cost = the mode's per-kg rates).
ISLAND_LANES = (
    ("H-BUSAN", "39010", "SEA", 300, 30, 3_800),
    ("H-BUSAN", "39020", "SEA", 340, 33, 3_800),
    ("H-MOKPO", "39010", "SEA", 150, 22, 3_500),
    ("H-MOKPO", "39020", "SEA", 190, 24, 3_500),
    ("H-GWANGJU", "39010", "SEA", 230, 25, 3_800),
    ("H-GWANGJU", "39020", "SEA", 270, 27, 3_800),
    ("H-GIMPO", "39010", "AIR", 460, 10, None),
    ("H-GIMPO", "39020", "AIR", 500, 12, None),
    ("H-BUSAN", "39010", "AIR", 310, 9, None),
    ("H-BUSAN", "39020", "AIR", 350, 11, None),
    ("H-GWANGJU", "39010", "AIR", 200, 9, None),
    ("H-GWANGJU", "39020", "AIR", 240, 11, None),
    ("H-POHANG", ULLEUNG, "SEA", 225, 30, 4_500),
    ("H-GANGNEUNG", ULLEUNG, "SEA", 185, 30, 4_500),
)
# Inbound sea lanes to the Jeju hub: source, hub, distance km, transit h.
JEJU_INBOUND = (
    ("S-BUSAN-PORT", "H-JEJU", 300, 20),
    ("S-INCHEON-PORT", "H-JEJU", 460, 24),
    ("S-PYEONGTAEK-PLANT", "H-JEJU", 470, 26),  # truck to Mokpo, then the Mokpo-Jeju ferry
)


# ---- regions -------------------------------------------------------------------------


def build_regions() -> gpd.GeoDataFrame:
    """Regions with simplified coverage geometry and an interior lat/lon point."""
    src = gpd.read_file(SOURCE).sort_values("code").reset_index(drop=True)
    projected = src.to_crs(KOREA_CRS)
    simplified = shapely.coverage_simplify(projected.geometry.values, SIMPLIFY_TOLERANCE_M)
    points = gpd.GeoSeries(shapely.point_on_surface(simplified), crs=KOREA_CRS).to_crs(4326)
    geometry = gpd.GeoSeries(simplified, crs=KOREA_CRS).to_crs(4326).values
    # Shared vertices round identically, so the coverage stays clean; set_precision keeps validity.
    geometry = shapely.orient_polygons(shapely.set_precision(geometry, 1e-5), exterior_cw=False)
    geometry = np.array(
        [g if g.geom_type == "MultiPolygon" else shapely.MultiPolygon([g]) for g in geometry]
    )
    lat, lon = points.y.round(5).to_numpy().copy(), points.x.round(5).to_numpy().copy()
    codes = src["code"].astype(str).to_numpy()
    for code, (plat, plon) in POINT_OVERRIDES.items():
        (i,) = np.flatnonzero(codes == code)
        if not geometry[i].contains(shapely.Point(plon, plat)):
            raise RuntimeError(f"override point of {code} is outside its polygon")
        lat[i], lon[i] = plat, plon
    return gpd.GeoDataFrame(
        {
            "region_id": src["code"].astype(str),
            "name": src["name_en"],
            "name_local": src["name_ko"],
            "province": src["sido_name_en"],
            "province_local": src["sido_name_ko"],
            "population": src["population"].astype(int),
            "lat": lat,
            "lon": lon,
        },
        geometry=geometry,
        crs=4326,
    )


def write_regions(regions: gpd.GeoDataFrame, path: Path) -> None:
    """Write RFC 7946 GeoJSON by hand, so the bytes do not depend on the GDAL version."""
    features = []
    for row in regions.itertuples(index=False):
        props = {
            k: getattr(row, k)
            for k in (
                "region_id",
                "name",
                "name_local",
                "province",
                "province_local",
                "population",
                "lat",
                "lon",
            )
        }
        props["population"] = int(props["population"])
        props["lat"], props["lon"] = float(props["lat"]), float(props["lon"])
        geometry = shapely.geometry.mapping(row.geometry)
        coords = [
            [[[round(x, 5), round(y, 5)] for x, y in ring] for ring in poly]
            for poly in geometry["coordinates"]
        ]
        features.append(
            {
                "type": "Feature",
                "properties": props,
                "geometry": {"type": "MultiPolygon", "coordinates": coords},
            }
        )
    doc = {"type": "FeatureCollection", "name": "regions", "features": features}
    text = json.dumps(doc, ensure_ascii=False, separators=(",", ":"))
    path.write_text(
        text.replace('{"type":"Feature"', '\n{"type":"Feature"') + "\n", encoding="utf-8"
    )


# ---- tables --------------------------------------------------------------------------


def build_hubs() -> pd.DataFrame:
    rows = []
    for hub_id, name, name_ko, lat, lon, area, zone in HUBS:
        status = "existing" if hub_id in EXISTING else "candidate"
        fixed = area * (RENT[zone] + FIXED_OPEX_PER_M2_MONTH) / WEEKS_PER_MONTH
        rows.append(
            {
                "hub_id": hub_id,
                "name": name,
                "name_local": name_ko,
                "lat": lat,
                "lon": lon,
                "fixed_cost": round(fixed, -5),
                "opening_cost": 0 if status == "existing" else area * OPENING_COST_PER_M2,
                "closing_cost": area * CLOSING_COST_PER_M2,
                "throughput_capacity": round(area * THROUGHPUT_M3_PER_M2_WEEK, -1),
                "storage_capacity": round(area * STORAGE_M3_PER_M2, -1),
                "handling_cost": HANDLING[zone],
                "status": status,
                "open_from_period": OPEN_FROM.get(hub_id, 1),
            }
        )
    frame = pd.DataFrame(rows).sort_values("hub_id").reset_index(drop=True)
    for col in (
        "fixed_cost",
        "opening_cost",
        "closing_cost",
        "throughput_capacity",
        "storage_capacity",
    ):
        frame[col] = frame[col].astype(int)
    return frame


def build_products() -> pd.DataFrame:
    rows = []
    for p in PRODUCTS:
        margin = round(p.price / VAT - p.cogs, -2)
        rows.append(
            {
                "product_id": p.product_id,
                "name": p.name,
                "unit_volume": p.unit_volume,
                "unit_weight_kg": p.unit_weight_kg,
                "holding_cost": round(p.cogs * HOLDING_RATE_PER_YEAR / 52),
                "lost_sale_penalty": int(margin + p.goodwill),
                "unit_margin": int(margin),
            }
        )
    return pd.DataFrame(rows).sort_values("product_id").reset_index(drop=True)


def regional_factors(regions: pd.DataFrame, product_id: str) -> np.ndarray:
    """Climate and online-propensity factor of each region for one product."""
    climate = regions["province"].map(lambda s: COLD.get(s, MILD.get(s, 1.0))).to_numpy(dtype=float)
    online = regions["province"].map(lambda s: ONLINE.get(s, 0.95)).to_numpy(dtype=float)
    return (1.0 + CLIMATE_WEIGHT[product_id] * (climate - 1.0)) * online


def build_demand(regions: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Weekly demand per region, product, period and channel (base demand, before uplift)."""
    pop = regions["population"].to_numpy(dtype=float)
    metro = regions["province"].isin(METRO_SIDO).to_numpy()
    frames = []
    for p in PRODUCTS:
        if p.mix > 0:
            taste = rng.uniform(0.9, 1.1, size=len(regions))  # regional preference, +-10 %
            weight = pop * regional_factors(regions, p.product_id) * taste
            weekly = NATIONAL_BASE_UNITS * p.mix * weight / weight.sum()
            noise = rng.uniform(0.95, 1.05, size=(len(regions), PERIODS))  # week-to-week, +-5 %
            qty = weekly[:, None] * np.asarray(p.season)[None, :] * noise
            express_share = np.where(metro, EXPRESS_SHARE, 0.0)
        else:
            in_scope = regions["province"].isin(LTD_SIDO).to_numpy()
            hype = rng.uniform(0.8, 1.2, size=len(regions))
            weight = np.where(in_scope, pop * hype, 0.0)
            qty = np.zeros((len(regions), PERIODS))
            for period, units in LTD_UNITS.items():
                qty[:, period - 1] = units * weight / weight.sum()
            express_share = np.where(in_scope, LTD_EXPRESS_SHARE, 0.0)
        total = np.rint(qty)
        express = np.rint(total * express_share[:, None])
        for channel, values in (("parcel", total - express), ("express", express)):
            frame = pd.DataFrame(values, columns=range(1, PERIODS + 1))
            frame["region_id"] = regions["region_id"].to_numpy()
            frame = frame.melt(id_vars="region_id", var_name="period", value_name="quantity")
            frame["product_id"] = p.product_id
            frame["channel"] = channel
            frame["std"] = (frame["quantity"] * p.cv).round(1)
            frames.append(frame)
    demand = pd.concat(frames, ignore_index=True)
    demand = demand[demand["quantity"] > 0].copy()
    demand["quantity"] = demand["quantity"].astype(int)
    demand["period"] = demand["period"].astype(int)
    demand = demand[["region_id", "product_id", "period", "quantity", "std", "channel"]]
    return demand.sort_values(["region_id", "product_id", "period", "channel"]).reset_index(
        drop=True
    )


def small_demand(demand: pd.DataFrame) -> pd.DataFrame:
    """Weeks 5-7 of the full demand, renumbered 1-3, for the small products only."""
    last = SMALL_FIRST_PERIOD + 2
    keep = demand["product_id"].isin(SMALL_PRODUCTS) & demand["period"].between(
        SMALL_FIRST_PERIOD, last
    )
    out = demand[keep].copy()
    out["period"] = out["period"] - SMALL_FIRST_PERIOD + 1
    return out.sort_values(["region_id", "product_id", "period", "channel"]).reset_index(drop=True)


def build_sources() -> pd.DataFrame:
    return pd.DataFrame(
        SOURCES, columns=["source_id", "name", "name_local", "lat", "lon"]
    ).sort_values("source_id")


def build_supply(rows: tuple) -> pd.DataFrame:
    frame = pd.DataFrame(
        rows, columns=["source_id", "product_id", "period", "capacity", "unit_cost"]
    )
    for col in ("period", "capacity"):
        frame[col] = frame[col].astype("Int64")
    return frame.sort_values(
        ["source_id", "product_id", "period"], na_position="first"
    ).reset_index(drop=True)


def build_inventory(stock: dict[str, dict[str, int]]) -> pd.DataFrame:
    rows = [(h, p, q) for h, per in stock.items() for p, q in per.items()]
    frame = pd.DataFrame(rows, columns=["hub_id", "product_id", "quantity"])
    return frame.sort_values(["hub_id", "product_id"]).reset_index(drop=True)


def build_modes() -> pd.DataFrame:
    frame = pd.DataFrame(MODES, columns=MODE_COLUMNS)
    frame["max_distance_km"] = frame["max_distance_km"].astype("Int64")
    frame["requires_lane"] = frame["requires_lane"].map({True: "true", False: "false"})
    return frame


def build_lanes(regions: pd.DataFrame, hubs: pd.DataFrame) -> pd.DataFrame:
    """Island rules: Jeju and Ulleung only by sea/air; the Jeju hub has no road to the mainland."""
    region_ids = regions["region_id"].tolist()
    jeju = [r for r in region_ids if r.startswith(JEJU_PREFIX)]
    islands = set(jeju) | {ULLEUNG}
    mainland_hubs = [h for h in hubs["hub_id"] if h != "H-JEJU"]
    rows = []
    blank = {"distance_km": None, "transit_hours": None, "cost_per_unit": None, "allowed": "false"}
    for hub in mainland_hubs:  # no road (parcel/express van) from the mainland to an island
        for region in sorted(islands):
            rows += [
                {"from_id": hub, "to_id": region, "mode_id": m, **blank} for m in ROAD_OUTBOUND
            ]
    for region in region_ids:  # the Jeju hub's vans stay on Jeju
        if region not in jeju:
            rows += [
                {"from_id": "H-JEJU", "to_id": region, "mode_id": m, **blank} for m in ROAD_OUTBOUND
            ]
    for source, *_ in SOURCES:  # no line-haul truck to the Jeju hub
        rows.append({"from_id": source, "to_id": "H-JEJU", "mode_id": "LINEHAUL", **blank})
    for hub, region, mode, distance, hours, cost in ISLAND_LANES:
        rows.append(
            {
                "from_id": hub,
                "to_id": region,
                "mode_id": mode,
                "distance_km": distance,
                "transit_hours": hours,
                "cost_per_unit": cost,
                "allowed": "true",
            }
        )
    for source, hub, distance, hours in JEJU_INBOUND:
        rows.append(
            {
                "from_id": source,
                "to_id": hub,
                "mode_id": "SEA",
                "distance_km": distance,
                "transit_hours": hours,
                "cost_per_unit": None,
                "allowed": "true",
            }
        )
    frame = pd.DataFrame(rows)
    for col in ("distance_km", "transit_hours", "cost_per_unit"):
        frame[col] = frame[col].astype("Int64")
    return frame.sort_values(["from_id", "to_id", "mode_id"]).reset_index(drop=True)


def build_channels() -> pd.DataFrame:
    cols = ["channel_id", "name", "delivery_window_hours", "return_rate", "return_cost"]
    return pd.DataFrame(CHANNELS, columns=cols)


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    frame.to_csv(path, index=False, lineterminator="\n", encoding="utf-8")


# ---- checks --------------------------------------------------------------------------


def haversine_km(
    lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray
) -> np.ndarray:
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dlat, dlon = p2 - p1, np.radians(lon2) - np.radians(lon1)
    a = np.sin(dlat / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlon / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(a))


def uplifted(
    demand: pd.DataFrame, products: tuple[str, ...], periods: tuple[int, ...], uplift: float
) -> pd.Series:
    factor = np.where(
        demand["product_id"].isin(products) & demand["period"].isin(periods), uplift, 1.0
    )
    return demand["quantity"] * factor


def check_tables(
    tables: dict[str, pd.DataFrame],
    campaign: dict,
    max_open_hubs: int,
    max_headroom: float,
    label: str,
) -> dict:
    """Raise if a consistency rule fails; return summary numbers for the report."""
    hubs, products, demand = tables["hubs"], tables["products"], tables["demand"]
    regions, supply, inventory = tables["regions"], tables["supply"], tables["inventory"]
    lanes, sources = tables["lanes"], tables["sources"]
    problems = []

    def need(ok: object, message: str) -> None:
        if not ok:
            problems.append(message)

    ids = {
        "hub": set(hubs.hub_id),
        "region": set(regions.region_id),
        "product": set(products.product_id),
        "source": set(sources.source_id),
        "mode": {m[0] for m in MODES},
        "channel": {c[0] for c in CHANNELS},
    }
    need(set(demand.region_id) <= ids["region"], "demand region ids")
    need(set(demand.product_id) <= ids["product"], "demand product ids")
    need(set(demand.channel) <= ids["channel"], "demand channels")
    need(
        set(supply.source_id) <= ids["source"] and set(supply.product_id) <= ids["product"],
        "supply ids",
    )
    need(
        set(inventory.hub_id) <= ids["hub"] and set(inventory.product_id) <= ids["product"],
        "inventory ids",
    )
    need(set(lanes.from_id) <= ids["hub"] | ids["source"], "lane from ids")
    need(set(lanes.to_id) <= ids["hub"] | ids["region"], "lane to ids")
    need(set(lanes.mode_id) <= ids["mode"], "lane modes")
    need(not lanes.duplicated(["from_id", "to_id", "mode_id"]).any(), "duplicate lanes")
    need(
        not demand.duplicated(["region_id", "product_id", "period", "channel"]).any(),
        "duplicate demand",
    )
    need((demand.quantity > 0).all() and (demand["std"] >= 0).all(), "demand quantities")
    need(
        not demand.isna().any().any()
        and not hubs.isna().any().any()
        and not products.isna().any().any(),
        "NaN",
    )
    for frame in (hubs, sources, regions):
        need(
            frame.lat.between(33.0, 38.7).all() and frame.lon.between(124.5, 132.0).all(),
            "lat/lon outside Korea",
        )
    # Islands: no allowed road arc into Jeju/Ulleung, and the Jeju hub has no road to the mainland.
    islands = {r for r in ids["region"] if r.startswith(JEJU_PREFIX)} | {ULLEUNG}
    road = lanes[lanes.mode_id.isin(ROAD_OUTBOUND)]
    for hub in ids["hub"] - {"H-JEJU"}:
        for region in islands:
            for mode in ROAD_OUTBOUND:
                rows = road[(road.from_id == hub) & (road.to_id == region) & (road.mode_id == mode)]
                need(
                    len(rows) == 1 and (rows.allowed == "false").all(),
                    f"road {hub}->{region} {mode} not forbidden",
                )
    need((road.allowed == "false").all(), "an allowed road lane")
    island_in = lanes[lanes.to_id.isin(islands) & (lanes.allowed == "true")]
    need(set(island_in.to_id) == islands, "every island region has a sea/air lane")
    # Capacity: the max_open_hubs largest hubs carry the peak week with headroom.
    volume = products.set_index("product_id").unit_volume
    demand = demand.assign(
        units=uplifted(demand, campaign["products"], campaign["periods"], campaign["uplift"])
    )
    demand["m3"] = demand.units * demand.product_id.map(volume)
    weekly_m3 = demand.groupby("period").m3.sum()
    peak_period = int(weekly_m3.index.to_numpy()[weekly_m3.to_numpy().argmax()])
    best = hubs.throughput_capacity.nlargest(max_open_hubs).sum()
    headroom = best / weekly_m3.max()
    need(
        1.2 <= headroom <= max_headroom,
        f"peak-week headroom {headroom:.2f} outside 1.20-{max_headroom}",
    )
    # Supply + starting stock cover demand (incl. uplift) over the horizon, per product.
    horizon = int(demand.period.max())
    per_product = {}
    for product_id, units in demand.groupby("product_id").units.sum().items():
        rows = supply[supply.product_id == product_id]
        if rows.capacity.isna().any():
            cap = math.inf
        else:
            cap = float((rows.capacity * np.where(rows.period.isna(), horizon, 1)).sum())
        cap += float(inventory[inventory.product_id == product_id].quantity.sum())
        per_product[product_id] = (units, cap)
        need(cap >= units * 1.05, f"{product_id}: supply {cap:,.0f} < demand {units:,.0f} + 5 %")
    if problems:
        raise RuntimeError(f"{label}: checks failed:\n  " + "\n  ".join(problems))
    base_weekly = tables["demand"].groupby("period").quantity.sum()
    return {
        "base_units_per_week": base_weekly,
        "weekly_m3": weekly_m3,
        "peak_period": peak_period,
        "peak_m3": weekly_m3.max(),
        "best_capacity_m3": best,
        "headroom": headroom,
        "supply": per_product,
    }


def check_ltd_window(
    regions: pd.DataFrame, hubs: pd.DataFrame, demand: pd.DataFrame, window_h: float
) -> float:
    """Share of launch units that some hub can reach by PARCEL within the launch window."""
    ltd = demand[demand.product_id == "LTD-SNEAKER"].groupby("region_id").quantity.sum()
    reg = regions.set_index("region_id").loc[ltd.index]
    dist = (
        haversine_km(
            reg.lat.to_numpy()[:, None],
            reg.lon.to_numpy()[:, None],
            hubs.lat.to_numpy()[None, :],
            hubs.lon.to_numpy()[None, :],
        )
        * CIRCUITY
    )
    parcel = next(m for m in MODES if m[0] == "PARCEL")
    hours = dist / parcel[5] + parcel[6]
    reachable = (hours <= window_h).any(axis=1)
    return float(ltd.to_numpy()[reachable].sum() / ltd.sum())


# ---- main ----------------------------------------------------------------------------


def main(out: Path = HERE) -> None:
    """Write ``data/`` and ``data-small/`` under ``out`` (default: this folder)."""
    rng = np.random.default_rng(SEED)
    data, data_small = out / "data", out / "data-small"
    data.mkdir(parents=True, exist_ok=True)
    data_small.mkdir(parents=True, exist_ok=True)

    regions = build_regions()
    write_regions(regions, data / "regions.geojson")
    attrs = pd.DataFrame(regions.drop(columns="geometry"))
    hubs = build_hubs()
    products = build_products()
    demand = build_demand(attrs, rng)
    tables = {
        "hubs": hubs,
        "products": products,
        "demand": demand,
        "sources": build_sources(),
        "supply": build_supply(SUPPLY),
        "inventory": build_inventory(INVENTORY),
        "modes": build_modes(),
        "lanes": build_lanes(attrs, hubs),
        "channels": build_channels(),
        "vehicles": pd.DataFrame(VEHICLES, columns=VEHICLE_COLUMNS),
    }
    for name, frame in tables.items():
        write_csv(frame, data / f"{name}.csv")
    small = {
        "products": products[products.product_id.isin(SMALL_PRODUCTS)].reset_index(drop=True),
        "demand": small_demand(demand),
        "supply": build_supply(SUPPLY_SMALL),
        "inventory": build_inventory(INVENTORY_SMALL),
    }
    for name, frame in small.items():
        write_csv(frame, data_small / f"{name}.csv")

    full = check_tables(
        {**tables, "regions": attrs},
        {"products": REGULAR, "periods": CAMPAIGN_PERIODS, "uplift": CAMPAIGN_UPLIFT},
        10,
        1.45,
        "data",
    )
    small_campaign = {
        "products": ("PADDED-JACKET", "HEATER-MINI"),
        "periods": (1, 2, 3),
        "uplift": CAMPAIGN_UPLIFT,
    }
    part = check_tables(
        {**tables, **small, "regions": attrs}, small_campaign, 8, math.inf, "data-small"
    )
    ltd_reach = check_ltd_window(attrs, hubs, demand, 12.0)
    if ltd_reach < 0.95:
        raise RuntimeError(
            f"only {ltd_reach:.0%} of launch units are reachable by parcel within 12 h"
        )

    # A script's summary, not library logging.
    rows = f"{len(demand)} (small {len(small['demand'])})"
    print(f"regions {len(regions)}, hubs {len(hubs)}, demand rows {rows}")
    print("base units/week:", " ".join(f"{int(v):,}" for v in full["base_units_per_week"]))
    print("m3/week incl. uplift:", " ".join(f"{v:,.0f}" for v in full["weekly_m3"]))
    for label, res in (("full", full), ("small", part)):
        print(
            f"{label}: peak period {res['peak_period']} {res['peak_m3']:,.0f} m3; "
            f"largest hubs carry {res['best_capacity_m3']:,.0f} m3 (x{res['headroom']:.2f})"
        )
        for product_id, (units, cap) in res["supply"].items():
            print(f"  {product_id:14s} demand {units:>11,.0f}  supply+stock {cap:>11,.0f}")
    print(f"launch units reachable by parcel in 12 h: {ltd_reach:.1%}")


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="Regenerate the Korea scenario tables (seeded).")
    parser.add_argument(
        "--out", type=Path, default=HERE, help="folder to write data/ and data-small/ into"
    )
    main(parser.parse_args().out)
