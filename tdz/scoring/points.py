"""Points scoring (the CTT way): position points per round, segment and PB bonuses, terrain quota, pools.

Lowest total wins. Every number comes from `PointsScoring` in the season file.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from tdz.scoring.ranking import shared_place
from tdz.scoring.tiebreaks import place_with_tie_breaks
from tdz.season import PointsScoring, Season

POOL_DIMENSIONS = ("gender", "power_category", "age_category")
POOL_SEPARATOR = ", "  # not "+": age categories such as 50+ hold one


def mark_pbs(efforts: pd.DataFrame) -> pd.Series:
    """True for each effort strictly faster than the rider's best so far on the same route (by event start).

    The first ride on a route is never a PB; every attempt of every round counts, not just best efforts. A
    disqualified effort earns no PB but still sets the best so far, so a DQ can never add PBs to a rider's later
    rides.
    """
    rides = efforts[efforts["status"].isin(["ok", "dq"]) & efforts["finish_time_s"].notna()
                    & efforts["event_id"].notna()]
    rides = rides.drop_duplicates(["event_id", "rider_id"]).sort_values(["event_start", "event_id"], kind="stable")
    running_best = rides.groupby(["rider_id", "route"], sort=False)["finish_time_s"].cummin()
    best_before = running_best.groupby([rides["rider_id"], rides["route"]], sort=False).shift()
    pb = rides.loc[(rides["finish_time_s"] < best_before) & rides["status"].eq("ok"), ["event_id", "rider_id"]]
    keys = pd.MultiIndex.from_frame(efforts[["event_id", "rider_id"]])
    hit = keys.isin(pd.MultiIndex.from_frame(pb)) & efforts["status"].eq("ok").to_numpy()
    return pd.Series(hit, index=efforts.index)


def pool_membership(profiles: pd.DataFrame, pools: tuple[str, ...]) -> pd.DataFrame:
    """One row per pool and rider in it: the pool name, its dimension values and the power category it uses.

    Pools split by gender use the women's power category for women; every other pool uses the open category.
    A rider lacking a pool's dimension (no age category, say) is in no pool of that dimension.
    """
    riders = profiles.reset_index()
    parts = []
    for pool_order, pool in enumerate(pools):
        dims = [] if pool == "overall" else pool.split("+")
        members = riders.copy()
        use_women = members["gender"].eq("F") & ("gender" in dims)
        members["category_used"] = members["power_category_women"].where(use_women, members["power_category"])
        values = {"gender": members["gender"], "power_category": members["category_used"],
                  "age_category": members["age_category"]}
        keep = pd.Series(True, index=members.index)
        name = pd.Series("overall" if not dims else "", index=members.index, dtype="string")
        for i, dim in enumerate(dims):
            keep &= values[dim].notna()
            name = name + (POOL_SEPARATOR if i else "") + dim + "=" + values[dim].astype("string")
        members = members[keep.fillna(False).astype(bool)]
        out = pd.DataFrame({"pool": name[members.index], "pool_order": pool_order, "rider_id": members["rider_id"],
                            "power_category": members["category_used"]})
        for dim in POOL_DIMENSIONS:
            out[f"pool_{dim}"] = values[dim][members.index] if dim in dims else pd.NA
        parts.append(out)
    membership = pd.concat(parts, ignore_index=True)
    return membership.astype({c: "category" for c in membership.columns if c not in ("rider_id", "pool_order")})


def round_results(best: pd.DataFrame, membership: pd.DataFrame, scoring: PointsScoring) -> pd.DataFrame:
    """One row per pool, round and rider: position, segment place and bonus, round score, counted flag."""
    members = membership[["pool", "pool_order", "rider_id"]].assign(pool_code=membership["pool"].cat.codes)
    table = members.merge(best, on="rider_id", how="inner")
    table["position"] = shared_place(table, ["pool_code", "round_order"], ["finish_time_s"], [True])
    table["segment_place"] = shared_place(table, ["pool_code", "round_order"], ["segment_time_s"], [True])
    bonus = np.asarray(scoring.segment_bonus + (0.0,), dtype=float)
    places = table["segment_place"].fillna(len(bonus)).clip(upper=len(bonus)).astype(int).to_numpy()
    table["segment_bonus"] = bonus[places - 1]
    table["round_score"] = table["position"].astype(float) - table["segment_bonus"]
    table["counted"] = _within_quota(table, scoring)
    return table


def _within_quota(table: pd.DataFrame, scoring: PointsScoring) -> np.ndarray:
    """True for each pool's rider's best round scores per terrain, up to the terrain's quota (lowest first)."""
    terrain_code = table["terrain"].cat.codes.to_numpy()
    pool, rider = table["pool_code"].to_numpy(), table["rider_id"].to_numpy()
    order = np.lexsort((table["round_order"].to_numpy(), table["round_score"].to_numpy(), terrain_code, rider, pool))
    key = np.stack([pool[order], rider[order], terrain_code[order]])
    starts = np.r_[True, (key[:, 1:] != key[:, :-1]).any(axis=0)]
    index = np.arange(len(order))
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = index - np.maximum.accumulate(np.where(starts, index, 0)) + 1
    return rank <= table["terrain"].map(scoring.counting).fillna(0).to_numpy()


def standings(
    results: pd.DataFrame, membership: pd.DataFrame, pb_counts: pd.Series, scoring: PointsScoring
) -> pd.DataFrame:
    """One row per pool and rider: counted rounds, totals and the place (more counted rounds, then lowest total)."""
    counted_score = results["round_score"].where(results["counted"], 0.0)
    sums = (
        results.assign(counted_score=counted_score, counted_n=results["counted"].astype(int))
        .groupby(["pool", "rider_id"], sort=False, observed=True)
        .agg(rounds_ridden=("round_id", "size"), rounds_counted=("counted_n", "sum"),
             round_score_sum=("counted_score", "sum"))
        .reset_index()
    )
    table = membership.merge(sums, on=["pool", "rider_id"], how="inner")
    table["pb_bonus"] = table["rider_id"].map(pb_counts).fillna(0).astype(float) * scoring.pb_bonus
    table["total"] = scoring.base_total + table["round_score_sum"] - table["pb_bonus"]
    round_places = results[["pool", "rider_id", "round_order", "position"]].rename(columns={"position": "round_place"})
    table["place"] = place_with_tie_breaks(table, ["pool"], ["rounds_counted", "total"], [False, True], round_places,
                                           scoring.tie_breaks)
    return table.sort_values(["pool_order", "pool", "place", "rider_id"], kind="stable").reset_index(drop=True)


def score_points(season: Season, efforts: pd.DataFrame, profiles: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Round results and standings for every pool of a points season, plus the efforts with PBs marked."""
    scoring = season.scoring
    assert isinstance(scoring, PointsScoring)
    efforts = efforts.copy()
    efforts["is_pb"] = mark_pbs(efforts)
    pb_counts = efforts[efforts["is_pb"]].groupby("rider_id").size()
    best = efforts.loc[efforts["is_best"], ["round_id", "round_order", "route", "terrain", "rider_id", "event_id",
                                           "finish_time_s", "segment_time_s", "event_start"]]
    best = best.astype({"round_id": "category", "route": "category", "terrain": "category"})
    best["rider_name"] = best["rider_id"].map(profiles["rider_name"]).astype("category")
    membership = pool_membership(profiles, scoring.pools)
    results = round_results(best, membership, scoring)
    table = standings(results, membership, pb_counts, scoring)
    return {"efforts": efforts, "round_results": results, "standings": table}
