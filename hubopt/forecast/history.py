"""Read and validate order history: one row per region, product, date (and channel).

Columns: ``region_id``, ``product_id``, ``date`` (ISO ``YYYY-MM-DD``), ``quantity``
(units, >= 0), optional ``campaign_id`` (blank = no campaign) and ``channel`` (blank =
``parcel``). Extra columns are ignored. Every problem is collected and raised at once as
a :class:`~hubopt.errors.DataValidationError` naming the rows (row 1 = first data row).
"""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

import numpy as np
import pandas as pd

from hubopt.data.read import read_raw_table
from hubopt.errors import DataValidationError, Problem

REQUIRED_COLUMNS = ("region_id", "product_id", "date", "quantity")
KEY = ("region_id", "product_id", "date", "channel")
DEFAULT_CHANNEL = "parcel"
MAX_ROWS_NAMED = 8


def read_history(
    history: str | Path | pd.DataFrame,
    regions: Collection[str] | None = None,
    label: str | None = None,
) -> pd.DataFrame:
    """Read order history (CSV, gzip CSV or Parquet, or a DataFrame) and validate it.

    Parameters
    ----------
    history:
        A file path or a DataFrame with the history columns.
    regions:
        The known region ids (e.g. a scenario's regions table); rows naming another
        region are errors. ``None`` skips the check.
    label:
        How messages name the input (default: the file name, or ``history``).

    Returns
    -------
    pandas.DataFrame
        ``region_id, product_id, date (datetime64), quantity (float), campaign_id, channel``
        in input row order; ``campaign_id`` is ``""`` outside campaigns.

    Raises
    ------
    DataValidationError
        Listing every bad row: missing column, blank id, unknown region, unparseable date,
        negative or non-numeric quantity, duplicate key.
    """
    frame, label = _read_frame(history, label)
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if missing:
        raise DataValidationError(
            [
                Problem(
                    label,
                    f"columns {', '.join(REQUIRED_COLUMNS)} (optional campaign_id, channel)",
                    f"no column {c!r} (columns: {', '.join(map(str, frame.columns))})",
                )
                for c in missing
            ],
            title="Invalid order history",
        )
    text = {c: _text(frame[c]) for c in (*REQUIRED_COLUMNS, "campaign_id", "channel") if c in frame}
    problems: list[Problem] = []
    for column in ("region_id", "product_id"):
        problems += _rows_problem(label, text[column] == "", column, "an id", "a blank")
    dates = pd.to_datetime(text["date"], errors="coerce", format="ISO8601")
    problems += _rows_problem(
        label,
        dates.isna().to_numpy(),
        "date",
        "a date YYYY-MM-DD",
        _examples(text["date"], dates.isna().to_numpy()),
    )
    quantity = pd.to_numeric(text["quantity"], errors="coerce")
    bad_number = quantity.isna().to_numpy() | ~np.isfinite(quantity.fillna(0).to_numpy())
    problems += _rows_problem(
        label, bad_number, "quantity", "a number", _examples(text["quantity"], bad_number)
    )
    negative = (quantity < 0).fillna(False).to_numpy()
    problems += _rows_problem(
        label, negative, "quantity", "a quantity >= 0", _examples(text["quantity"], negative)
    )
    if regions is not None:
        known = {str(r) for r in regions}
        unknown = (~text["region_id"].isin(known) & (text["region_id"] != "")).to_numpy()
        problems += _rows_problem(
            label,
            unknown,
            "region_id",
            "a region of the regions table",
            _examples(text["region_id"], unknown),
            fix="Add the region to the regions table or drop its rows.",
        )
    channel = text.get("channel", pd.Series([""] * len(frame), index=frame.index))
    channel = channel.where(channel != "", DEFAULT_CHANNEL)
    out = pd.DataFrame(
        {
            "region_id": text["region_id"],
            "product_id": text["product_id"],
            "date": dates.dt.normalize(),
            "quantity": quantity.astype(float),
            "campaign_id": text.get("campaign_id", pd.Series([""] * len(frame), index=frame.index)),
            "channel": channel,
        }
    ).reset_index(drop=True)
    problems += _duplicate_problems(out, label)
    if problems:
        raise DataValidationError(problems, title="Invalid order history")
    if out.empty:
        raise DataValidationError(
            [Problem(label, "at least one history row", "none")], title="Invalid order history"
        )
    return out


def _read_frame(history: str | Path | pd.DataFrame, label: str | None) -> tuple[pd.DataFrame, str]:
    if isinstance(history, pd.DataFrame):
        return history.reset_index(drop=True), label or "history"
    path = Path(history)
    label = label or path.name
    if not path.is_file():
        raise DataValidationError(
            [Problem(label, "an existing history file", "no such file")],
            title="Invalid order history",
        )
    suffixes = [s.lower() for s in path.suffixes]
    try:
        if suffixes and suffixes[-1] in {".parquet", ".pq"}:
            frame = pd.read_parquet(path)
        else:  # CSV, optionally compressed (.csv.gz, .csv.zip, ...), inferred from the name
            frame = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
    except Exception as err:  # pandas raises many types; report, don't crash
        raise DataValidationError(
            [Problem(label, "a readable CSV or Parquet file", f"{type(err).__name__}: {err}")],
            title="Invalid order history",
        ) from err
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame, label


def _text(series: pd.Series) -> pd.Series:
    values = series.astype(str).str.strip()
    return values.mask(series.isna() | values.str.lower().isin({"nan", "none", "null"}), "")


def _rows(positions: np.ndarray) -> str:
    shown = ", ".join(str(int(p) + 1) for p in positions[:MAX_ROWS_NAMED])
    more = f" and {len(positions) - MAX_ROWS_NAMED} more" if len(positions) > MAX_ROWS_NAMED else ""
    return f"{'row' if len(positions) == 1 else 'rows'} {shown}{more}"


def _examples(text: pd.Series, mask: np.ndarray) -> str:
    values = list(dict.fromkeys(text[mask].tolist()))[:3]
    return ", ".join(repr(v) for v in values) if values else "nothing"


def _rows_problem(
    label: str, mask: np.ndarray, column: str, expected: str, found: str, fix: str = ""
) -> list[Problem]:
    positions = np.flatnonzero(mask)
    if len(positions) == 0:
        return []
    return [Problem(f"{label}, {_rows(positions)}, column {column!r}", expected, found, fix)]


def _duplicate_problems(frame: pd.DataFrame, label: str) -> list[Problem]:
    valid = frame["date"].notna()
    repeated = frame.duplicated(list(KEY), keep=False) & valid
    if not repeated.any():
        return []
    groups = frame[repeated].groupby(list(KEY), sort=False).groups
    problems = []
    for key, index in list(groups.items())[:MAX_ROWS_NAMED]:
        region, product, date, channel = key
        problems.append(
            Problem(
                f"{label}, {_rows(np.asarray(index))}",
                "one row per region_id, product_id, date and channel",
                f"duplicate rows for {region} / {product} / {date:%Y-%m-%d} / {channel}",
                "Sum the quantities into one row or drop the repeated row.",
            )
        )
    if len(groups) > MAX_ROWS_NAMED:
        problems.append(
            Problem(
                label, "no duplicate rows", f"{len(groups) - MAX_ROWS_NAMED} more duplicate keys"
            )
        )
    return problems


def read_regions(path: Path) -> pd.DataFrame:
    """Read a scenario regions table (CSV, Parquet, GeoJSON, GeoPackage) as plain columns."""
    raw, problems = read_raw_table(path, path.name, "regions")
    if raw is not None and "region_id" not in raw.frame.columns:
        problems.append(
            Problem(path.name, "a region_id column", f"columns {', '.join(raw.frame.columns)}")
        )
    if problems or raw is None:
        raise DataValidationError(problems, title="Invalid regions table")
    frame = raw.frame.copy()
    frame["region_id"] = frame["region_id"].astype(str).str.strip()
    return frame
