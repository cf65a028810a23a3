"""Read data tables (CSV, Parquet, GeoJSON/GeoPackage) and coerce them to the contract.

Reading never raises on a bad value: every problem is collected as a
:class:`~hubopt.errors.Problem` naming the file, row and column, so that the caller can
report all of them at once.
"""

from __future__ import annotations

import codecs
import csv
import dataclasses
import itertools
import logging
import math
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hubopt.data.tables import Column, TableSchema
from hubopt.errors import Problem, hint_text

log = logging.getLogger(__name__)

# Refuse files whose size says they cannot be a planning table (protects memory).
MAX_TABLE_BYTES = int(os.environ.get("HUBOPT_MAX_TABLE_BYTES", 512 * 1024**2))
MAX_TABLE_ROWS = int(os.environ.get("HUBOPT_MAX_TABLE_ROWS", 5_000_000))
TRUE_WORDS = {"true", "1", "yes", "y", "t"}
FALSE_WORDS = {"false", "0", "no", "n", "f"}
MAX_PROBLEMS_PER_COLUMN = 5


@dataclass(frozen=True)
class RawTable:
    """A table as read from disk: strings (CSV) or typed values (Parquet), plus geometry."""

    frame: pd.DataFrame
    label: str  # how messages name the file, e.g. ``data/hubs.csv``
    geometry: Any = None  # a GeoSeries for regions read from GeoJSON/GeoPackage


def read_raw_table(path: Path, label: str, table: str) -> tuple[RawTable | None, list[Problem]]:
    """Read ``path`` without interpreting values; return problems instead of raising."""
    if not path.exists():
        return None, [
            Problem(label, "an existing file", "no such file", f"Check the `data.{table}` path.")
        ]
    if path.is_dir():
        return None, [Problem(label, "a file", "a directory")]
    size = path.stat().st_size
    if size > MAX_TABLE_BYTES:
        return None, [
            Problem(
                label,
                f"a table of at most {MAX_TABLE_BYTES // 1024**2} MB (HUBOPT_MAX_TABLE_BYTES)",
                f"{size / 1024**2:.0f} MB",
                "Aggregate the data (e.g. demand per region and week) before loading it.",
            )
        ]
    suffix = path.suffix.lower()
    try:
        if suffix in {".csv", ".txt"}:
            return _read_csv(path, label)
        if suffix in {".parquet", ".pq"}:
            frame = pd.read_parquet(path)
            return _checked_rows(RawTable(frame, label), table)
        if suffix in {".geojson", ".json", ".gpkg", ".shp"}:
            return _read_geo(path, label, table)
    except UnicodeDecodeError as err:
        return None, [
            Problem(
                label,
                "UTF-8 text",
                f"undecodable bytes at offset {err.start}",
                "Save the file as UTF-8.",
            )
        ]
    except Exception as err:  # third-party readers raise many types; report, don't crash
        return None, [
            Problem(label, f"a readable {suffix or 'table'} file", f"{type(err).__name__}: {err}")
        ]
    return None, [
        Problem(label, "a .csv, .parquet, .geojson or .gpkg file", f"extension {suffix!r}")
    ]


def _read_csv(path: Path, label: str) -> tuple[RawTable | None, list[Problem]]:
    with path.open("rb") as fh:
        head = fh.read(65536)
    encoding = "utf-8-sig" if head.startswith(b"\xef\xbb\xbf") else "utf-8"  # a BOM is harmless
    _check_decodes(path, encoding)
    first_line = head.split(b"\n", 1)[0].decode(encoding, errors="replace")
    if "," not in first_line and ";" in first_line:
        return None, [
            Problem(
                label,
                "comma-separated columns",
                f"semicolons in the header {first_line.strip()!r}",
                "Save as CSV with ',' separators.",
            )
        ]
    if not head.strip():
        return None, [Problem(label, "a header row and data rows", "an empty file")]
    shifted = _field_count_problems(path, encoding, label)
    if shifted:  # pandas would shift the columns (or take the first as an index): refuse
        return None, shifted
    frame = pd.read_csv(
        path,
        dtype=str,
        keep_default_na=False,
        encoding=encoding,
        skipinitialspace=True,
        nrows=MAX_TABLE_ROWS + 1,
    )
    frame.columns = [str(c).strip() for c in frame.columns]
    return _checked_rows(RawTable(frame, label), None)


DECIMAL_COMMA = re.compile(r"^-?\d+$")


def _field_count_problems(path: Path, encoding: str, label: str) -> list[Problem]:
    """Rows whose number of fields differs from the header's, named by line (streamed).

    pandas silently shifts such a row's values into the wrong columns (or, when every
    data row has one field too many, reads the first column as an index), so the table
    is refused instead, with a hint when an unquoted decimal comma is the likely cause.
    """
    problems: list[Problem] = []
    bad_rows = 0
    with path.open(encoding=encoding, newline="") as fh:
        reader = csv.reader(fh, skipinitialspace=True)
        header = next(reader, None)
        if header is None:
            return []
        expected = len(header)
        row = 0
        for fields in reader:
            if not fields or (len(fields) == 1 and not fields[0].strip()):
                continue  # a blank line, skipped like pandas does
            row += 1
            if row > MAX_TABLE_ROWS:
                break
            if len(fields) == expected:
                continue
            bad_rows += 1
            if bad_rows > MAX_PROBLEMS_PER_COLUMN:
                continue
            text = ",".join(fields)
            shown = text if len(text) <= 80 else text[:77] + "..."
            problems.append(
                Problem(
                    f"{label}, line {reader.line_num} (row {row})",
                    f"{expected} fields, as in the header",
                    f"{len(fields)} fields in {shown!r}",
                    _field_count_fix(fields, expected),
                )
            )
    if bad_rows > MAX_PROBLEMS_PER_COLUMN:
        problems.append(
            Problem(
                label,
                f"{expected} fields in every row",
                f"{bad_rows - MAX_PROBLEMS_PER_COLUMN} more row(s) with another count",
            )
        )
    return problems


def _field_count_fix(fields: list[str], expected: int) -> str:
    if len(fields) < expected:
        return (
            "A field is missing: every row needs a value or an empty field (two commas) "
            "for each column of the header."
        )
    for left, right in itertools.pairwise(fields):
        if DECIMAL_COMMA.match(left.strip()) and right.strip().isdigit():
            return (
                f"{left.strip()},{right.strip()} looks like a number with a decimal comma: "
                f"write {left.strip()}.{right.strip()} (decimal point) or quote it; "
                "otherwise every later column shifts by one."
            )
    return (
        "A value holds an unquoted comma (a decimal comma such as 0,02, or a comma in a "
        'name): use a decimal point or quote the value ("...").'
    )


def _check_decodes(path: Path, encoding: str) -> None:
    """Raise UnicodeDecodeError (file offset) unless the file decodes; streamed, not loaded."""
    decoder = codecs.getincrementaldecoder(encoding)()
    offset = 0
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            try:
                decoder.decode(block)
            except UnicodeDecodeError as err:
                raise UnicodeDecodeError(
                    err.encoding, err.object, offset + err.start, offset + err.end, err.reason
                ) from None
            offset += len(block)
    decoder.decode(b"", final=True)


def _checked_rows(raw: RawTable, table: str | None) -> tuple[RawTable | None, list[Problem]]:
    if len(raw.frame) > MAX_TABLE_ROWS:
        return None, [
            Problem(
                raw.label,
                f"at most {MAX_TABLE_ROWS:,} rows (HUBOPT_MAX_TABLE_ROWS)",
                "more",
                "Aggregate the data first.",
            )
        ]
    return raw, []


def _read_geo(path: Path, label: str, table: str) -> tuple[RawTable | None, list[Problem]]:
    import geopandas as gpd

    gdf = gpd.read_file(path)
    if gdf.crs is not None and not gdf.crs.equals("EPSG:4326"):
        gdf = gdf.to_crs("EPSG:4326")
    frame = pd.DataFrame(gdf.drop(columns="geometry"))
    geometry = gdf.geometry
    if "lat" not in frame.columns or "lon" not in frame.columns:
        # centroid (in an equal-area-ish projection would be better; representative point is inside)
        points = geometry.representative_point()
        frame["lat"] = points.y.to_numpy()
        frame["lon"] = points.x.to_numpy()
    frame = frame.astype({c: str for c in frame.columns if frame[c].dtype == object})
    return _checked_rows(RawTable(frame, label, geometry=geometry), table)


def coerce_table(raw: RawTable, schema: TableSchema) -> tuple[pd.DataFrame, list[Problem]]:
    """Check columns and convert values to the contract's kinds, applying defaults.

    Returns the typed frame (columns in contract order, then extra attribute columns)
    and the problems found. Rows with problems are kept (with NaN) so later checks can run.
    """
    frame = raw.frame
    problems: list[Problem] = []
    if frame.empty and len(frame.columns) == 0:
        return frame, [Problem(raw.label, "a header row", "no columns")]
    known = set(schema.names)
    for col in frame.columns:
        if col in known or schema.extra_columns_allowed or col.startswith(("name_", "note")):
            continue
        fix = hint_text(col, schema.names, f"Allowed columns: {', '.join(schema.names)}.")
        problems.append(
            Problem(
                f"{raw.label}, column {col!r}",
                f"a column of the {schema.name} table",
                "an unknown column",
                fix,
            )
        )
    out: dict[str, pd.Series] = {}
    for column in schema.columns:
        if column.name not in frame.columns:
            if column.required:
                problems.append(
                    Problem(
                        raw.label,
                        f"a column {column.name!r} ({column.description.lower()})",
                        f"columns {list(frame.columns)}",
                    )
                )
                out[column.name] = pd.Series([np.nan] * len(frame), index=frame.index)
            else:
                out[column.name] = _default_series(column, len(frame), frame.index)
            continue
        series, col_problems = _coerce_column(frame[column.name], column, raw.label)
        out[column.name] = series
        problems += col_problems
    typed = pd.DataFrame(out, index=frame.index)
    if "lat" in out and "lon" in out:
        problems = [_swap_hint(p, typed) for p in problems]
    extra = [c for c in frame.columns if c not in known]
    for col in extra:
        typed[col] = frame[col].astype(str) if frame[col].dtype == object else frame[col]
    if len(frame) == 0:
        problems.append(Problem(raw.label, "at least one data row", "a header only"))
    return typed.reset_index(drop=True), problems


def _swap_hint(problem: Problem, typed: pd.DataFrame) -> Problem:
    """Add "latitude and longitude look swapped" to a latitude range problem when the
    longitude of those rows would be a valid latitude."""
    if not problem.where.endswith("column 'lat'") or not problem.expected.startswith("a value"):
        return problem
    lat = typed["lat"].to_numpy(float)
    lon = typed["lon"].to_numpy(float)
    swapped = np.flatnonzero((np.abs(lat) > 90) & (np.abs(lon) <= 90))
    if not len(swapped):
        return problem
    row = swapped[0]
    return dataclasses.replace(
        problem,
        fix=(
            f"Latitude and longitude look swapped (row {row + 1}: lat {lat[row]:g} is a "
            f"longitude, lon {lon[row]:g} fits a latitude): exchange the two values."
        ),
    )


def _default_series(column: Column, n: int, index: pd.Index) -> pd.Series:
    if column.kind in {"id", "str"}:
        return pd.Series(
            [column.default if column.default is not None else ""] * n, index=index, dtype=object
        )
    if column.kind == "bool":
        return pd.Series([bool(column.default)] * n, index=index, dtype=bool)
    value = np.nan if column.default is None else float(column.default)  # type: ignore[arg-type]
    return pd.Series(np.full(n, value), index=index)


def _row_label(label: str, positions: np.ndarray, column: str) -> str:
    rows = ", ".join(str(int(p) + 1) for p in positions[:MAX_PROBLEMS_PER_COLUMN])
    more = (
        f" and {len(positions) - MAX_PROBLEMS_PER_COLUMN} more"
        if len(positions) > MAX_PROBLEMS_PER_COLUMN
        else ""
    )
    noun = "row" if len(positions) == 1 else "rows"
    return f"{label}, {noun} {rows}{more}, column {column!r}"


def _coerce_column(
    series: pd.Series, column: Column, label: str
) -> tuple[pd.Series, list[Problem]]:
    problems: list[Problem] = []
    text = (
        series.astype(str).str.strip()
        if series.dtype == object or pd.api.types.is_string_dtype(series)
        else None
    )
    blank = (
        (text == "") | text.str.lower().isin({"nan", "none", "null"})
        if text is not None
        else series.isna()
    )
    blank = np.array(blank, dtype=bool)
    if column.kind in {"id", "str"}:
        values = (text if text is not None else series.astype(str)).to_numpy(dtype=object)
        values[blank] = column.default if isinstance(column.default, str) else ""
        if column.required and blank.any():
            problems.append(
                Problem(_row_label(label, np.flatnonzero(blank), column.name), "a value", "a blank")
            )
        if column.choices:
            bad = ~np.isin(values, column.choices) & ~blank
            if bad.any():
                problems.append(
                    Problem(
                        _row_label(label, np.flatnonzero(bad), column.name),
                        f"one of {', '.join(column.choices)}",
                        repr(values[np.flatnonzero(bad)[0]]),
                    )
                )
        return pd.Series(values, index=series.index, dtype=object), problems
    if column.kind == "bool":
        words = (text if text is not None else series.astype(str).str.lower()).str.lower()
        is_true = words.isin(TRUE_WORDS).to_numpy()
        is_false = words.isin(FALSE_WORDS).to_numpy()
        bad = ~(is_true | is_false | blank)
        if bad.any():
            problems.append(
                Problem(
                    _row_label(label, np.flatnonzero(bad), column.name),
                    "true or false",
                    repr(words.iloc[np.flatnonzero(bad)[0]]),
                )
            )
        values = np.where(blank, bool(column.default) if not column.required else False, is_true)
        return pd.Series(values.astype(bool), index=series.index), problems
    # numeric
    numbers = np.array(
        pd.to_numeric(text if text is not None else series, errors="coerce"), dtype=float
    )
    unparsable = np.isnan(numbers) & ~blank
    if text is not None:
        # "nan" typed explicitly is a value problem, not a blank
        explicit_nan = text.str.lower().isin({"nan"}).to_numpy()
        unparsable |= explicit_nan
        blank &= ~explicit_nan
    if unparsable.any():
        first = series.iloc[np.flatnonzero(unparsable)[0]]
        problems.append(
            Problem(
                _row_label(label, np.flatnonzero(unparsable), column.name),
                f"a number ({column.unit or column.kind})",
                repr(first),
            )
        )
    if blank.any():
        if column.required:
            problems.append(
                Problem(
                    _row_label(label, np.flatnonzero(blank), column.name), "a number", "a blank"
                )
            )
        elif column.default is not None:
            numbers[blank] = float(column.default)  # type: ignore[arg-type]
    checkable = ~np.isnan(numbers)
    if column.kind == "int":
        frac = checkable & np.isfinite(numbers) & (numbers != np.round(numbers))
        if frac.any():
            problems.append(
                Problem(
                    _row_label(label, np.flatnonzero(frac), column.name),
                    "a whole number",
                    repr(series.iloc[np.flatnonzero(frac)[0]]),
                )
            )
    if column.minimum is not None:
        low = checkable & (numbers < column.minimum)
        if low.any():
            problems.append(
                Problem(
                    _row_label(label, np.flatnonzero(low), column.name),
                    f"a value >= {column.minimum:g}",
                    f"{numbers[np.flatnonzero(low)[0]]:g}",
                )
            )
    if column.maximum is not None:
        high = checkable & (numbers > column.maximum)
        if high.any():
            problems.append(
                Problem(
                    _row_label(label, np.flatnonzero(high), column.name),
                    f"a value <= {column.maximum:g}",
                    f"{numbers[np.flatnonzero(high)[0]]:g}",
                )
            )
    # inf is a value only where the contract's default is inf (capacities, max distance)
    infinite = checkable & np.isinf(numbers) & (column.default is not math.inf)
    if infinite.any():
        problems.append(
            Problem(
                _row_label(label, np.flatnonzero(infinite), column.name), "a finite number", "inf"
            )
        )
    return pd.Series(numbers, index=series.index), problems
