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


def content_hash(tables: Mapping[str, pd.DataFrame]) -> str:
    """A hash of every table's name, columns, types and values, vectorised (`pd.util.hash_pandas_object`, whose
    key is fixed, so equal tables hash equal in every run): a backend compares it with the one stored by the last
    publish without turning a single cell into a Python value."""
    digest = hashlib.sha256()
    for name in sorted(tables):
        frame = tables[name]
        digest.update(json.dumps([name, list(map(str, frame.columns)), list(map(str, frame.dtypes))]).encode())
        digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    return digest.hexdigest()


def with_content_hash(tables: Mapping[str, pd.DataFrame], digest: str) -> dict[str, pd.DataFrame]:
    """The tables a backend writes: the `about` table ends with the `content_hash` row."""
    out = dict(tables)
    if "about" in out:
        about = out["about"]
        about = about[about["key"] != CONTENT_HASH_KEY]
        stamp = pd.DataFrame({"key": [CONTENT_HASH_KEY], "value": [digest]}).astype(about.dtypes.to_dict())
        out["about"] = pd.concat([about, stamp], ignore_index=True)
    return out


def publish_grids(tables: Mapping[str, pd.DataFrame], digest: str | None = None) -> tuple[dict[str, list[list[Cell]]],
                                                                                        str]:
    """The grids a backend writes (`with_content_hash`), and the content hash (`digest`, or computed)."""
    digest = digest or content_hash(tables)
    return grids(with_content_hash(tables, digest)), digest
