"""Places with shared ranks over composite keys, vectorised."""

from __future__ import annotations

import pandas as pd


def shared_place(frame: pd.DataFrame, by: list[str], keys: list[str], ascending: list[bool]) -> pd.Series:
    """Place within each `by` group ordered by `keys`; rows equal on every key share the better place (1, 1, 3).

    Rows with a missing key are given no place.
    """
    if frame.empty:
        return pd.Series(pd.array([], dtype="Int64"), index=frame.index)
    complete = frame[keys].notna().all(axis=1)
    ranked = frame.loc[complete, by + keys].sort_values(by + keys, ascending=[True] * len(by) + ascending,
                                                        kind="stable")
    position = ranked.groupby(by, sort=False, observed=True).cumcount() + 1
    previous = ranked.shift()
    starts_tie = ranked.ne(previous).any(axis=1)
    place = position.where(starts_tie).ffill()
    return place.reindex(frame.index).astype("Int64")
