"""Places with shared ranks over composite keys, vectorised."""

from __future__ import annotations

import numpy as np
import pandas as pd


def shared_place(frame: pd.DataFrame, by: list[str], keys: list[str], ascending: list[bool]) -> pd.Series:
    """Place within each `by` group ordered by `keys`; rows equal on every key share the better place (1, 1, 3).

    Rows with a missing key, or a missing group (a rider with no group has no group place), are given no place.
    Keys must be numeric; groups are numbered once and the ranking is one `np.lexsort`, which keeps this fast on
    millions of rows.
    """
    if frame.empty:
        return pd.Series(pd.array([], dtype="Int64"), index=frame.index)
    complete = frame[keys + by].notna().all(axis=1).to_numpy()
    groups = (frame.groupby(by, sort=False, observed=True).ngroup().to_numpy() if by
              else np.zeros(len(frame), dtype=np.int64))[complete]
    values = [frame[k].to_numpy(dtype=float)[complete] * (1.0 if asc else -1.0) for k, asc in zip(keys, ascending)]
    order = np.lexsort([*values[::-1], groups])
    count = len(order)
    sorted_groups = groups[order]
    starts_group = np.ones(count, dtype=bool)
    starts_group[1:] = sorted_groups[1:] != sorted_groups[:-1]
    starts_tie = starts_group.copy()
    for value in values:
        ordered = value[order]
        starts_tie[1:] |= ordered[1:] != ordered[:-1]
    index = np.arange(count)
    group_start = np.maximum.accumulate(np.where(starts_group, index, 0))
    tie_start = np.maximum.accumulate(np.where(starts_tie, index, 0))
    place = np.empty(count, dtype=np.int64)
    place[order] = tie_start - group_start + 1
    full = np.zeros(len(frame), dtype=np.int64)
    full[complete] = place
    return pd.Series(pd.arrays.IntegerArray(full, ~complete), index=frame.index)


def sorted_shared_place(starts_group: np.ndarray, value: np.ndarray) -> np.ndarray:
    """Shared places (1, 1, 3) of rows already sorted by group, then by `value`; `starts_group` flags each group's
    first row. The cheap end of `shared_place`, for callers that can produce the order without a lexsort: the
    place is worked out once per run of equal values and repeated over the run."""
    count = len(value)
    if not count:
        return np.zeros(0, dtype=np.int64)
    starts_tie = starts_group.copy()
    starts_tie[1:] |= value[1:] != value[:-1]
    tie_rows = np.flatnonzero(starts_tie)
    group_rows = np.flatnonzero(starts_group)
    group_of_tie = group_rows[np.cumsum(starts_group)[tie_rows] - 1]
    return np.repeat(tie_rows - group_of_tie + 1, np.diff(tie_rows, append=count))


def whole_ms(seconds: pd.Series) -> pd.Series:
    """Seconds to the whole millisecond (ZwiftPower's precision), as the float nearest to that many ms.

    Times are compared and tied to the millisecond: every time enters scoring through this (finish, segment and
    total times; GC sums are rounded the same way), so two times equal to the millisecond are the same float
    whatever arithmetic made them (a manual 20:32.053 and ZwiftPower's 1232.053 tie)."""
    return seconds.round(3)


def sort_key(values: pd.Series) -> np.ndarray:
    """A numpy sort key ordering like `sort_values` does, missing values last: int64 for datetimes and nullable
    integers (missing = the largest int64), float for the rest (numpy already sorts NaN last)."""
    values = values.infer_objects()  # manual results appended to efforts leave object columns of timestamps
    if isinstance(values.dtype, pd.DatetimeTZDtype) or values.dtype.kind == "M":
        return np.where(values.isna().to_numpy(), np.iinfo(np.int64).max, values.array.asi8)
    if isinstance(values.dtype, pd.Int64Dtype) or values.dtype.kind in "iu":
        return values.to_numpy(dtype=np.int64, na_value=np.iinfo(np.int64).max)
    return values.to_numpy(dtype=float, na_value=np.nan)


def first_per_group(order: np.ndarray, *groups: np.ndarray) -> np.ndarray:
    """Rows (of `order`) that come first in their group, `order` being sorted by the `groups` keys first."""
    if not len(order):
        return order
    first = np.ones(len(order), dtype=bool)
    for group in groups:
        ordered = group[order]
        first[1:] &= ordered[1:] == ordered[:-1]
    first[0] = False
    return order[~first]
