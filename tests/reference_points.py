"""The points rules (CTT) written once more in plain Python, straight from series-rules.md, as a test oracle.

Slow and obvious on purpose: loops and dictionaries, no pandas. Property tests compare tdz's vectorised scoring
with this on generated seasons.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tdz.season import PointsScoring, PowerCategory, Season


@dataclass(frozen=True)
class Ride:
    event_id: int
    start: datetime
    round_id: str
    rider_id: int
    gender: str
    age: str | None
    watts: float
    wkg: float
    time: float
    segment: float | None  # time on the round's segment, None when not recorded
    status: str = "ok"


def _category(watts: float, wkg: float, thresholds: tuple[PowerCategory, ...], fallback: str) -> str:
    for t in thresholds:
        if watts >= t.min_watts and wkg >= t.min_wkg:
            return t.category
    return fallback


def reference_standings(season: Season, rides: list[Ride]) -> dict[tuple[str, int], tuple[int, float, int]]:
    """(pool, rider) → (place, total, rounds counted), ties shared."""
    rules = season.scoring
    assert isinstance(rules, PointsScoring)
    rounds = {r.id: r for r in season.rounds}
    by_time = sorted(rides, key=lambda r: (r.start, r.event_id))

    profile: dict[int, dict] = {}
    for ride in by_time:
        p = profile.setdefault(ride.rider_id, {"age": None, "watts": 0.0, "wkg": 0.0})
        p["gender"] = ride.gender  # the latest result wins
        if p["age"] is None and ride.age:
            p["age"] = ride.age
        p["watts"], p["wkg"] = max(p["watts"], ride.watts), max(p["wkg"], ride.wkg)
    cats = rules.power_categories
    for p in profile.values():
        p["open"] = _category(p["watts"], p["wkg"], cats.open, cats.fallback)
        p["women"] = _category(p["watts"], p["wkg"], cats.women, cats.fallback)

    pbs: dict[int, int] = {}
    best_so_far: dict[tuple[int, str], float] = {}
    for ride in by_time:
        key = (ride.rider_id, rounds[ride.round_id].route)
        if key in best_so_far and ride.time < best_so_far[key] and ride.status == "ok":
            pbs[ride.rider_id] = pbs.get(ride.rider_id, 0) + 1
        best_so_far[key] = min(best_so_far.get(key, ride.time), ride.time)

    best: dict[tuple[str, int], Ride] = {}
    for ride in by_time:
        if ride.status != "ok":
            continue
        key = (ride.round_id, ride.rider_id)
        if key not in best or ride.time < best[key].time:
            best[key] = ride

    def pool_of(pool: str, rider: int) -> str | None:
        if pool == "overall":
            return "overall"
        p = profile[rider]
        parts = []
        for dim in pool.split("+"):
            if dim == "gender":
                value = p["gender"]
            elif dim == "age_category":
                value = p["age"]
            else:
                value = p["women"] if ("gender" in pool and p["gender"] == "F") else p["open"]
            if value is None:
                return None
            parts.append(f"{dim}={value}")
        return ", ".join(parts)

    out: dict[tuple[str, int], tuple[int, float, int]] = {}
    for pool in rules.pools:
        groups: dict[str, list[int]] = {}
        for rider in profile:
            name = pool_of(pool, rider)
            if name is not None:
                groups.setdefault(name, []).append(rider)
        for name, members in groups.items():
            scores: dict[int, list[tuple[str, float]]] = {m: [] for m in members}
            for round_id in rounds:
                field = [best[(round_id, m)] for m in members if (round_id, m) in best]
                for ride in field:
                    position = 1 + sum(other.time < ride.time for other in field)
                    bonus = 0.0
                    if ride.segment is not None:
                        place = 1 + sum(o.segment is not None and o.segment < ride.segment for o in field)
                        if place <= len(rules.segment_bonus):
                            bonus = rules.segment_bonus[place - 1]
                    scores[ride.rider_id].append((rounds[round_id].terrain, position - bonus))
            totals: dict[int, tuple[int, float]] = {}
            for rider, rider_scores in scores.items():
                if not rider_scores:
                    continue
                counted: list[float] = []
                for terrain, quota in rules.counting.items():
                    counted += sorted(s for t, s in rider_scores if t == terrain)[:quota]
                total = rules.base_total + sum(counted) - pbs.get(rider, 0) * rules.pb_bonus
                totals[rider] = (len(counted), total)
            for rider, (n, total) in totals.items():
                ahead = sum(on > n or (on == n and ot < total) for on, ot in totals.values())
                out[(name, rider)] = (1 + ahead, total, n)
    return out
