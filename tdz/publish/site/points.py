"""The pages of a points season: standings per pool and round results per round and pool, with the pool pickers.

A pool is a page of its own (`standings/gender-f.html`, `rounds/3/gender-f.html`): each page is small enough for
a phone, works without JavaScript, and can be bookmarked; the pickers only choose which page to open. Every round
has a page for every pool, empty when no rider of the pool rode it, so a link never breaks.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import numpy as np
import pandas as pd

from tdz.publish.site.model import (
    POINTS_DIMS,
    Pool,
    TableView,
    choice_order,
    clocks,
    flags,
    link,
    numbers,
    pickers,
    pickers_html,
    rider_links,
    standings_pools,
    text,
)
from tdz.publish.site.pages import Page, round_rows, round_summary


def standings_columns(frame: pd.DataFrame) -> dict[str, list]:
    return {
        "place": text(frame["place"]), "rider": rider_links(frame), "total": numbers(frame["total"]),
        "counted": text(frame["rounds_counted"]), "ridden": text(frame["rounds_ridden"]),
        "scores": numbers(frame["round_score_sum"]), "pb": numbers(frame["pb_bonus"]),
        "gender": text(frame["gender"]), "category": text(frame["power_category"]), "age": text(frame["age_category"]),
    }


# The columns a phone shows without scrolling come first: place, rider, what ranks them.
STANDINGS_HEAD = [("Place", "num"), ("Rider", "rider"), ("Total", "num"), ("Counted", "num"), ("Rounds", "num"),
                  ("Round points", "num"), ("PB bonus", "num"), ("Gender", "text"), ("Cat.", "text"), ("Age", "text")]
ROUND_HEAD = [("Pos.", "num"), ("Rider", "rider"), ("Time", "num"), ("Score", "num"), ("Counted", "text"),
              ("Segment", "num"), ("Seg. place", "num"), ("Bonus", "num")]


def round_columns(frame: pd.DataFrame) -> dict[str, list]:
    return {
        "position": text(frame["position"]), "rider": rider_links(frame), "time": text(frame["finish_time"]),
        "score": numbers(frame["round_score"]), "counted": flags(frame["counted"], "counted", "counted"),
        "segment": clocks(frame["segment_time_s"]), "segment_place": text(frame["segment_place"]),
        "bonus": numbers(frame["segment_bonus"].where(frame["segment_bonus"] != 0)),
    }


def _rows(columns: Mapping[str, list], positions: np.ndarray) -> list[tuple[list, dict[str, str]]]:
    keys = list(columns)
    return [([columns[k][i] for k in keys], {}) for i in positions]


def points_pages(tables: Mapping[str, pd.DataFrame]) -> Iterator[Page]:
    standings, results = tables["standings"], tables["round_results"]
    pools = standings_pools(standings)
    choosers = pickers(pools, POINTS_DIMS)
    forms = {p.slug: pickers_html(choosers, p) for p in pools}

    columns = standings_columns(standings)
    by_pool = standings.groupby(standings["pool"].astype(str), sort=False).indices
    for pool in pools:
        rows = _rows(columns, by_pool.get(pool.name, np.array([], dtype=int)))
        view = TableView("standings", f"Standings, {pool.label}: {len(rows)} riders. More counted rounds first, "
                         "then the lowest total.", STANDINGS_HEAD, rows)
        yield Page(f"standings/{pool.slug}.html", "standings.html", {
            "title": f"Standings · {pool.label}", "section": "standings", "pool": pool, "table": view,
            "pickers_html": forms[pool.slug], "pool_links": _pool_links(pools, "standings/")})

    rounds = round_summary(tables)
    yield Page("rounds/index.html", "rounds.html", {
        "title": "Rounds", "section": "rounds", "rounds": round_rows(rounds, "rounds/{}/overall.html")})
    columns = round_columns(results)
    by_round_pool = results.groupby([results["round_id"].astype(str), results["pool"].astype(str)],
                                    sort=False).indices
    round_ids = rounds["round_id"].tolist()
    for k, rnd in enumerate(rounds.to_dict("records")):
        round_id = rnd["round_id"]
        for pool in pools:
            rows = _rows(columns, by_round_pool.get((round_id, pool.name), np.array([], dtype=int)))
            view = TableView("round", f"Round {round_id}, {pool.label}: {len(rows)} riders. Score = position − "
                             "segment bonus; lowest wins.", ROUND_HEAD, rows,
                             empty=f"No rider of {pool.label} has a result in round {round_id} yet.")
            yield Page(f"rounds/{round_id}/{pool.slug}.html", "round.html", {
                "title": f"Round {round_id} · {pool.label}", "section": "rounds", "round": rnd, "pool": pool,
                "table": view, "pickers_html": forms[pool.slug],
                "previous": _neighbour(round_ids, k - 1, pool), "next": _neighbour(round_ids, k + 1, pool),
                "standings_href": f"standings/{pool.slug}.html"})


def _neighbour(round_ids: list[str], k: int, pool: Pool) -> dict[str, str] | None:
    if 0 <= k < len(round_ids):
        return {"t": f"Round {round_ids[k]}", "href": f"rounds/{round_ids[k]}/{pool.slug}.html"}
    return None


def _pool_links(pools: list[Pool], folder: str) -> list[dict[str, str]]:
    return [link(p.label, f"{folder}{p.slug}.html") for p in pools]  # type: ignore[misc]


def _pool_order(pool: Pool) -> tuple:
    """Overall, then pools by the dimensions they split by, each dimension's values in the sport's order."""
    split = tuple(dim for dim, _ in POINTS_DIMS if pool.dims.get(dim))
    return (len(split), [d for d, _ in POINTS_DIMS].index(split[0]) if split else -1, split,
            [choice_order(pool.dims[d]) for d in split])


def points_leaders(tables: Mapping[str, pd.DataFrame]) -> tuple[TableView, TableView]:
    """Leaders of the overall and single-dimension pools, and of the combined pools."""
    standings = tables["standings"]
    pools = {p.name: p for p in standings_pools(standings)}
    first = standings[standings["place"].eq(1)]
    rows: dict[bool, list] = {True: [], False: []}
    groups = first.groupby(first["pool"].astype(str), sort=False)
    for name, group in sorted(groups, key=lambda item: _pool_order(pools[item[0]])):
        pool = pools[name]
        cells = [link(pool.label, f"standings/{pool.slug}.html"), rider_links(group), numbers(group["total"].head(1))[0]]
        rows[pool.level <= 1].append((cells, {}))
    head = [("Pool", "rider"), ("Leader", "text"), ("Total", "num")]
    return (TableView("leaders", "Leader of each pool (lowest total)", head, rows[True]),
            TableView("leaders-combined", "Leaders of the combined pools", head, rows[False]))
