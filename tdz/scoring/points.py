"""Points scoring (the CTT way): position points per round, segment and PB bonuses, terrain quota, pools.

Lowest total wins. Every number comes from `PointsScoring` in the season file.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from tdz.scoring.pools import pool_dimensions, pool_membership
from tdz.scoring.ranking import first_per_group, sort_key, sorted_shared_place
from tdz.scoring.tiebreaks import place_with_tie_breaks
from tdz.season import PointsScoring, Season


def mark_pbs(efforts: pd.DataFrame) -> pd.Series:
    """True for each effort strictly faster than the rider's best so far on the same route (by event start).

    The first ride on a route is never a PB; every attempt of every round counts, not just best efforts. A
    disqualified effort earns no PB but still sets the best so far, so a DQ can never add PBs to a rider's later
    rides. An attempt listed for two rounds is one ride: its first row decides, and every ok row of it is marked.
    """
    status = efforts["status"]
    ok = status.eq("ok").to_numpy(dtype=bool, na_value=False)
    dq = status.eq("dq").to_numpy(dtype=bool, na_value=False)
    finish = efforts["finish_time_s"].to_numpy(dtype=float, na_value=np.nan)
    event = sort_key(efforts["event_id"])
    rider = efforts["rider_id"].to_numpy(dtype=np.int64)
    attempt = _attempt_codes(event, rider)
    ride_rows = np.flatnonzero((ok | dq) & ~np.isnan(finish) & efforts["event_id"].notna().to_numpy())
    rides = ride_rows[first_per_group(np.argsort(attempt[ride_rows], kind="stable"), attempt[ride_rows])]

    route = pd.factorize(efforts["route"].to_numpy()[rides])[0]
    order = np.lexsort((event[rides], sort_key(efforts["event_start"])[rides], route, rider[rides]))
    ride = rides[order]
    starts = np.ones(len(ride), dtype=bool)
    starts[1:] = (rider[ride][1:] != rider[ride][:-1]) | (route[order][1:] != route[order][:-1])
    running_best = pd.Series(finish[ride]).groupby(np.cumsum(starts)).cummin().to_numpy()
    best_before = np.full(len(ride), np.nan)
    best_before[1:] = np.where(starts[1:], np.nan, running_best[:-1])
    is_pb = (finish[ride] < best_before) & ok[ride]
    pb_attempt = np.zeros(attempt.max(initial=-1) + 1, dtype=bool)
    pb_attempt[attempt[ride[is_pb]]] = True
    return pd.Series(pb_attempt[attempt] & ok, index=efforts.index)


def _attempt_codes(event: np.ndarray, rider: np.ndarray) -> np.ndarray:
    """One integer per (event, rider) pair: a rider's attempt, whatever the rounds it is listed for."""
    event_code = pd.factorize(event)[0].astype(np.int64)
    rider_code = pd.factorize(rider)[0].astype(np.int64)
    return pd.factorize(event_code * (rider_code.max(initial=0) + 1) + rider_code)[0]


@dataclass(frozen=True)
class _Join:
    """Pools × best efforts as index arrays, member-major: each member row (pool, rider) followed by the rider's
    best efforts by terrain, then round. A rider's rounds of one terrain in one pool are contiguous there."""

    member: np.ndarray  # member row of each pair
    effort: np.ndarray  # best effort (sorted by rider, terrain, round) of each pair
    member_start: np.ndarray  # first pair of each member row
    effort_start: np.ndarray  # first best effort of each rider code


def _join(member_rider: np.ndarray, efforts_of_rider: np.ndarray) -> _Join:
    """Every member row paired with each best effort of its rider, without a merge."""
    effort_start = np.cumsum(efforts_of_rider) - efforts_of_rider
    per_member = efforts_of_rider[member_rider]
    member_start = np.cumsum(per_member) - per_member
    member = np.repeat(np.arange(len(member_rider)), per_member)
    slot = np.arange(len(member)) - member_start[member]
    return _Join(member, effort_start[member_rider][member] + slot, member_start, effort_start)


def _places_by_pool(
    join: _Join, value: np.ndarray, effort_round: np.ndarray, effort_rider: np.ndarray,
    member_pool: np.ndarray, member_rider: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Shared places by `value` inside each pool and round, for the pairs whose best effort has a value.

    The best efforts are ranked once for everyone (round, value, rider id: a sort of the best efforts, not of
    the pairs); each is then listed once per pool of its rider and the list is stable-sorted by pool number,
    a radix sort on small integers that keeps the round and value order inside each pool. Returns the pairs'
    positions in `join`, in (pool, round, value, rider id) order, and their places.
    """
    has = np.flatnonzero(~np.isnan(value))
    ranked = has[np.lexsort((effort_rider[has], value[has], effort_round[has]))]
    members_by_rider = np.argsort(member_rider, kind="stable")
    pools_of_rider = np.bincount(member_rider, minlength=len(join.effort_start))
    first_pool_of_rider = np.cumsum(pools_of_rider) - pools_of_rider
    repeats = pools_of_rider[effort_rider[ranked]]
    effort = np.repeat(ranked, repeats)
    nth_pool = np.arange(len(effort)) - np.repeat(np.cumsum(repeats) - repeats, repeats)
    member = members_by_rider[first_pool_of_rider[effort_rider[effort]] + nth_pool]
    pool = member_pool[member]
    by_pool = np.argsort(pool.astype(np.uint16) if pool.max(initial=0) < 2**16 else pool, kind="stable")
    effort, member, pool = effort[by_pool], member[by_pool], pool[by_pool]
    round_ = effort_round[effort]
    starts = np.ones(len(effort), dtype=bool)
    starts[1:] = (pool[1:] != pool[:-1]) | (round_[1:] != round_[:-1])
    places = sorted_shared_place(starts, value[effort])
    return join.member_start[member] + effort - join.effort_start[effort_rider[effort]], places


def _within_quota(group_starts: np.ndarray, score: np.ndarray, quota: np.ndarray) -> np.ndarray:
    """True for the best `quota` scores of each group (lowest first, earlier round first on equal scores).

    Rows come grouped (one group per pool, rider and terrain: at most one row per round) and in round order
    inside each group. Only groups with more rounds than their quota need ranking: there each row's rank is one
    plus the rows of its group that beat it, counted by comparing each row with its neighbours 1, 2… rows away
    (groups are as small as the season's rounds of one terrain).
    """
    group = np.cumsum(group_starts) - 1
    size = np.bincount(group)[group]
    counted = np.ones(len(score), dtype=bool)
    over = np.flatnonzero(size > quota)
    if not len(over):
        return counted
    group, score = group[over], score[over]
    rank = np.ones(len(over), dtype=np.int64)
    for k in range(1, int(size[over].max())):
        same = group[k:] == group[:-k]
        rank[k:] += same & (score[:-k] <= score[k:])  # an earlier round wins on an equal score
        rank[:-k] += same & (score[k:] < score[:-k])
    counted[over] = rank <= quota[over]
    return counted


def round_results(
    best: pd.DataFrame, membership: pd.DataFrame, profiles: pd.DataFrame, season: Season
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Round results (grain: pool × round × rider with a best effort in that round) in output order (pool,
    round, position, rider id), and the member rows of riders with a best effort (grain: pool × rider) with
    `rounds_ridden`, `rounds_counted` and `round_score_sum`.

    Riders, pools and rounds are integer codes throughout; text columns are categoricals made at the end.
    """
    scoring = season.scoring
    assert isinstance(scoring, PointsScoring)
    round_ids = [r.id for r in season.rounds]
    route_names, route_of_round = np.unique([r.route for r in season.rounds], return_inverse=True)
    terrains = [r.terrain or "" for r in season.rounds]
    terrain_names, terrain_of_round = np.unique(terrains, return_inverse=True)
    quota_of_round = np.array([scoring.counting.get(t, 0) for t in terrains], dtype=np.int64)

    rider_of_best = profiles.index.get_indexer(best["rider_id"])
    round_of_best = best["round_order"].to_numpy(dtype=np.int64)
    order = np.lexsort((round_of_best, terrain_of_round[round_of_best], rider_of_best))
    effort_rider, effort_round = rider_of_best[order], round_of_best[order]
    finish = best["finish_time_s"].to_numpy(dtype=float)[order]
    segment = best["segment_time_s"].to_numpy(dtype=float, na_value=np.nan)[order]
    event = best["event_id"].array[order]
    efforts_of_rider = np.bincount(effort_rider, minlength=len(profiles))

    member_rider_all = profiles.index.get_indexer(membership["rider_id"])
    members = membership[efforts_of_rider[member_rider_all] > 0].reset_index(drop=True)
    member_rider = profiles.index.get_indexer(members["rider_id"])
    member_pool = members["pool_index"].to_numpy(dtype=np.int64)
    join = _join(member_rider, efforts_of_rider)
    pair_rounds = effort_round[join.effort]

    output, position = _places_by_pool(join, finish, effort_round, effort_rider, member_pool, member_rider)
    position_of_pair = np.empty(len(join.effort), dtype=np.int64)
    position_of_pair[output] = position
    in_segment, segment_place = _places_by_pool(join, segment, effort_round, effort_rider, member_pool, member_rider)
    segment_place_of_pair = np.zeros(len(join.effort), dtype=np.int64)
    segment_place_of_pair[in_segment] = segment_place
    has_segment_place = np.zeros(len(join.effort), dtype=bool)
    has_segment_place[in_segment] = True

    bonus = np.asarray(scoring.segment_bonus + (0.0,), dtype=float)
    bonus_of_pair = bonus[np.where(has_segment_place, np.minimum(segment_place_of_pair, len(bonus)), len(bonus)) - 1]
    score = position_of_pair - bonus_of_pair
    group_starts = np.ones(len(join.effort), dtype=bool)
    group_starts[1:] = (join.member[1:] != join.member[:-1]) | (
        terrain_of_round[pair_rounds[1:]] != terrain_of_round[pair_rounds[:-1]])
    counted = _within_quota(group_starts, score, quota_of_round[pair_rounds])

    members["rounds_ridden"] = efforts_of_rider[member_rider]
    members["rounds_counted"] = np.bincount(join.member, weights=counted, minlength=len(members)).astype(np.int64)
    members["round_score_sum"] = np.bincount(join.member, weights=np.where(counted, score, 0.0),
                                             minlength=len(members))

    member, effort = join.member[output], join.effort[output]
    round_ = effort_round[effort]
    name_codes, name_categories = pd.factorize(profiles["rider_name"])
    results = pd.DataFrame({
        "pool_index": member_pool[member],
        "pool": pd.Categorical.from_codes(member_pool[member], membership["pool"].cat.categories),
        **pool_dimensions(membership, member_pool[member]),
        "round_order": round_,
        "round_id": pd.Categorical.from_codes(round_, round_ids),
        "route": pd.Categorical.from_codes(route_of_round[round_], list(route_names)),
        "terrain": pd.Categorical.from_codes(terrain_of_round[round_], list(terrain_names)),
        "rider_id": profiles.index.to_numpy(dtype=np.int64)[effort_rider[effort]],
        "rider_name": pd.Categorical.from_codes(name_codes[effort_rider[effort]], name_categories),
        "event_id": event.take(effort),
        "finish_time_s": finish[effort],
        "position": position,
        "segment_time_s": segment[effort],
        "segment_place": pd.arrays.IntegerArray(segment_place_of_pair[output], ~has_segment_place[output]),
        "segment_bonus": bonus_of_pair[output],
        "round_score": score[output],
        "counted": counted[output],
    }, copy=False)  # keeps each column its own block: consolidating 4-5 million rows copies them all again
    return results, members


def standings(
    results: pd.DataFrame, members: pd.DataFrame, pb_counts: pd.Series, scoring: PointsScoring
) -> pd.DataFrame:
    """One row per pool and rider with a best effort (members from `round_results`, their sums filled): PB bonus,
    total and the place (more counted rounds, then lowest total), ordered by pool, place and rider id."""
    table = members.copy()
    table["pb_bonus"] = table["rider_id"].map(pb_counts).fillna(0).astype(float) * scoring.pb_bonus
    table["total"] = scoring.base_total + table["round_score_sum"] - table["pb_bonus"]
    round_places = results[["pool_index", "rider_id", "round_order", "position"]].rename(
        columns={"position": "round_place"})
    place = place_with_tie_breaks(table, ["pool_index"], ["rounds_counted", "total"], [False, True], round_places,
                                  scoring.tie_breaks)
    table["place"] = place
    order = np.lexsort((table["rider_id"].to_numpy(), place.to_numpy(dtype=np.int64), table["pool_index"].to_numpy()))
    return table.take(order).reset_index(drop=True)


def score_points(season: Season, efforts: pd.DataFrame, profiles: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Round results and standings for every pool of a points season, plus the efforts with PBs marked."""
    scoring = season.scoring
    assert isinstance(scoring, PointsScoring)
    efforts = efforts.assign(is_pb=mark_pbs(efforts))
    # One ride, one PB: an event listed for two rounds has a row in each, both marked, and earns one bonus.
    pb_counts = efforts.loc[efforts["is_pb"]].drop_duplicates(["event_id", "rider_id"])["rider_id"].value_counts()
    best = efforts.loc[efforts["is_best"], ["round_order", "rider_id", "event_id", "finish_time_s", "segment_time_s"]]
    membership = pool_membership(profiles, scoring.pools)
    results, members = round_results(best, membership, profiles, season)
    table = standings(results, members, pb_counts, scoring)
    return {"efforts": efforts, "round_results": results, "standings": table}
