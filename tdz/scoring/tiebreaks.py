"""Tie-breaks: an ordered list from the season file, applied to riders equal on the main ranking keys.

- `countback`: the better set of round places wins (most 1st places, then most 2nd places…).
- `best_single`: the better best single round place wins.
- `last_round`: the better place in the latest round both (all) rode wins.
- `shared`: riders still equal share the place (always the end of the list, stated or not).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from tdz.scoring.ranking import shared_place
from tdz.season import TieBreak


def _countback_keys(round_places: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Per rider, their round places sorted best first, as columns cb_0, cb_1… (missing = worse than any)."""
    ordered = round_places.sort_values(by + ["rider_id", "round_place"], kind="stable")
    slot = ordered.groupby(by + ["rider_id"], sort=False).cumcount()
    wide = ordered.assign(slot=slot).pivot_table(index=by + ["rider_id"], columns="slot", values="round_place",
                                                 aggfunc="first")
    wide.columns = [f"cb_{int(c)}" for c in wide.columns]
    return wide.fillna(np.inf).reset_index()


def place_with_tie_breaks(
    table: pd.DataFrame,
    by: list[str],
    keys: list[str],
    ascending: list[bool],
    round_places: pd.DataFrame,
    tie_breaks: tuple[TieBreak, ...],
) -> pd.Series:
    """Places within `by` groups by `keys`, riders still equal separated by the season's tie-breaks in order.

    `round_places` has one row per (`by`…, rider_id, round_order) with `round_place`, the rider's place in that
    round within the same group.
    """
    chain = list(tie_breaks[: tie_breaks.index("shared")] if "shared" in tie_breaks else tie_breaks)
    if not chain or table.empty:
        return shared_place(table, by, keys, ascending)
    work = table[by + ["rider_id"] + keys].copy()
    sort_keys, sort_asc = list(keys), list(ascending)
    for rule in chain:
        if rule == "countback":
            wide = _countback_keys(round_places, by)
            work = work.merge(wide, on=by + ["rider_id"], how="left")
            cb = [c for c in wide.columns if c.startswith("cb_")]
            work[cb] = work[cb].fillna(np.inf)
            sort_keys += cb
            sort_asc += [True] * len(cb)
        elif rule == "best_single":
            best = round_places.groupby(by + ["rider_id"])["round_place"].min().rename("best_single").reset_index()
            work = work.merge(best, on=by + ["rider_id"], how="left")
            work["best_single"] = work["best_single"].fillna(np.inf)
            sort_keys.append("best_single")
            sort_asc.append(True)
        elif rule == "last_round":
            work["last_round"] = _last_round_order(work, by, sort_keys, sort_asc, round_places)
            sort_keys.append("last_round")
            sort_asc.append(True)
    work.index = table.index
    return shared_place(work, by, sort_keys, sort_asc)


def _last_round_order(
    work: pd.DataFrame, by: list[str], keys: list[str], ascending: list[bool], round_places: pd.DataFrame
) -> pd.Series:
    """For riders still tied, their place in the latest round every rider of the tie rode (0 when none)."""
    tied = work.assign(_tie=shared_place(work, by, keys, ascending).to_numpy())
    tie_size = tied.groupby(by + ["_tie"])["rider_id"].transform("size")
    tied = tied[tie_size > 1].assign(_size=tie_size[tie_size > 1])
    rode = round_places.merge(tied[by + ["rider_id", "_tie", "_size"]].reset_index(), on=by + ["rider_id"])
    riders_in_round = rode.groupby(by + ["_tie", "round_order"])["rider_id"].transform("size")
    common = rode[riders_in_round == rode["_size"]]
    latest = common.groupby(by + ["_tie"])["round_order"].transform("max")
    chosen = common[common["round_order"] == latest].set_index("index")["round_place"]
    return chosen.reindex(work.index).fillna(0.0).astype(float)
