"""Frames → cell values every backend writes the same way.

Numbers stay numbers, datetimes become ISO-8601 UTC text, missing values and non-finite numbers (NaN, ±inf) become
'' (never None, NaN or the text "inf"; this is the one place that decides it for every backend), and
every publish carries a content hash in its `about` tab so a backend can skip a publish that changes nothing.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from datetime import datetime

import pandas as pd

Cell = str | int | float | bool
CONTENT_HASH_KEY = "content_hash"


def _cell(value: object) -> Cell:
    if value is None or value is pd.NA or value is pd.NaT:
        return ""
    if isinstance(value, float):
        if not math.isfinite(value):
            return ""
        return int(value) if value.is_integer() and abs(value) < 2**53 else value
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, pd.Timestamp | datetime):
        stamp = pd.Timestamp(value)
        stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
        return stamp.strftime("%Y-%m-%dT%H:%M:%SZ")
    if hasattr(value, "item"):  # numpy scalars
        return _cell(value.item())
    return str(value)


def frame_to_grid(frame: pd.DataFrame) -> list[list[Cell]]:
    """Header row, then one list of cells per row."""
    rows: list[list[Cell]] = [list(map(str, frame.columns))]
    for record in frame.itertuples(index=False, name=None):
        rows.append([_cell(v) for v in record])
    return rows


def grids(tables: Mapping[str, pd.DataFrame]) -> dict[str, list[list[Cell]]]:
    return {name: frame_to_grid(frame) for name, frame in tables.items()}


def content_hash(tab_grids: Mapping[str, list[list[Cell]]]) -> str:
    """A hash of every tab's cells, leaving out the content-hash row itself."""
    digest = hashlib.sha256()
    for name in sorted(tab_grids):
        rows = [r for r in tab_grids[name] if not (name == "about" and r and r[0] == CONTENT_HASH_KEY)]
        digest.update(json.dumps([name, rows], separators=(",", ":"), ensure_ascii=False).encode())
    return digest.hexdigest()


def publish_grids(tables: Mapping[str, pd.DataFrame]) -> tuple[dict[str, list[list[Cell]]], str]:
    """The grids a backend writes, with `content_hash` appended to the about tab, and that hash."""
    tab_grids = grids(tables)
    digest = content_hash(tab_grids)
    if "about" in tab_grids:
        tab_grids["about"] = [r for r in tab_grids["about"] if r[0] != CONTENT_HASH_KEY]
        tab_grids["about"].append([CONTENT_HASH_KEY, digest])
    return tab_grids, digest
