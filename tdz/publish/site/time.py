"""The pages of a time season: the GC per classification and a table per stage course.

A classification is a page of its own (`gc/group-a.html`), chosen with the group and gender pickers. A stage
course is one page with every rider; its group picker hides the other groups' rows in the browser (without
JavaScript the page shows everyone).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import pandas as pd

from tdz.publish.site.model import (
    TIME_DIMS,
    TableView,
    clocks,
    gc_pools,
    link,
    mark,
    penalties,
    pickers,
    pickers_html,
    rider_links,
    text,
)
from tdz.publish.site.pages import Page, round_rows, round_summary

# The columns a phone shows without scrolling come first: place, rider, the time that ranks.
GC_HEAD = [("Place", "num"), ("Rider", "rider"), ("GC time", "num"), ("Gap", "num"), ("Group", "text"),
           ("Stages", "num"), ("Stage time", "num"), ("Handicap", "num")]
STAGE_HEAD = [("Place", "num"), ("Rider", "rider"), ("Total", "num"), ("Group", "text"), ("Group place", "num"),
              ("Time", "num"), ("Penalty", "text"), ("Result from", "text")]


def _gc_cells(gc: pd.DataFrame) -> list[list]:
    ranked = gc["gc_status"].astype(str).eq("ranked").tolist()
    places = [p if ok else mark("DNS", "dns") for p, ok in zip(text(gc["place"]), ranked, strict=True)]
    return [list(c) for c in zip(places, rider_links(gc), text(gc["gc_time"]), text(gc["gap"]),
                                 text(gc["rider_group"]), text(gc["stages_completed"]), clocks(gc["stage_time_s"]),
                                 clocks(gc["handicap_s"].where(gc["handicap_s"] != 0)), strict=True)]


def stage_cells(stages: pd.DataFrame) -> list[list]:
    sources = [s.removeprefix("manual: ") if s != "zwiftpower" else "" for s in text(stages["source"])]
    return [list(c) for c in zip(text(stages["place"]), rider_links(stages), text(stages["total_time"]),
                                 text(stages["rider_group"]), text(stages["group_place"]), clocks(stages["raw_time_s"]),
                                 penalties(stages), sources, strict=True)]


def time_pages(tables: Mapping[str, pd.DataFrame]) -> Iterator[Page]:
    gc, stages = tables["gc"], tables["stage_results"]
    pools = gc_pools(gc)
    choosers = pickers(pools, TIME_DIMS)
    forms = {p.slug: pickers_html(choosers, p) for p in pools}
    cells = _gc_cells(gc)
    by_pool = gc.groupby(gc["classification"].astype(str), sort=False).indices
    for pool in pools:
        rows = [(cells[i], {}) for i in by_pool.get(pool.name, [])]
        ranked = sum(1 for row, _ in rows if not isinstance(row[0], dict))
        view = TableView("gc", f"General classification, {pool.label}: {ranked} ranked riders (all stages ridden), "
                         "GC time = stage times + the group's handicap.", GC_HEAD, rows)
        yield Page(f"gc/{pool.slug}.html", "gc.html", {
            "title": f"GC · {pool.label}", "section": "standings", "pool": pool, "table": view,
            "pickers_html": forms[pool.slug]})

    rounds = round_summary(tables)
    yield Page("stages/index.html", "rounds.html", {
        "title": "Stages", "section": "rounds", "rounds": round_rows(rounds, "stages/{}.html", "Stage")})
    cells = stage_cells(stages)
    letters = [g[:1] for g in text(stages["rider_group"])]
    by_course = stages.groupby(stages["round_id"].astype(str), sort=False).indices
    group_picker = [p for p in choosers if p.dim == "group"]
    round_ids = rounds["round_id"].tolist()
    for k, rnd in enumerate(rounds.to_dict("records")):
        round_id, route = rnd["round_id"], rnd["route"]
        rows = [(cells[i], {"group": letters[i]}) for i in by_course.get(round_id, [])]
        view = TableView("stage", f"Stage {round_id} ({route}): {len(rows)} riders, by total time "
                         "(time + penalties).", STAGE_HEAD, rows)
        yield Page(f"stages/{round_id}.html", "stage.html", {
            "title": f"Stage {round_id}", "section": "rounds", "round": rnd, "table": view,
            "filters": group_picker, "previous": _neighbour(round_ids, k - 1), "next": _neighbour(round_ids, k + 1)})


def _neighbour(round_ids: list[str], k: int) -> dict[str, str] | None:
    return link(f"Stage {round_ids[k]}", f"stages/{round_ids[k]}.html") if 0 <= k < len(round_ids) else None  # type: ignore[return-value]


def time_leaders(tables: Mapping[str, pd.DataFrame]) -> tuple[TableView, None]:
    gc = tables["gc"]
    pools = {p.name: p for p in gc_pools(gc)}
    first = gc[gc["place"].eq(1)]
    rows = [([link(pools[name].label, f"gc/{pools[name].slug}.html"), rider_links(group),
              text(group["gc_time"].head(1))[0]], {}) for name, group in
            first.groupby(first["classification"].astype(str), sort=False)]
    head = [("Classification", "rider"), ("Leader", "text"), ("GC time", "num")]
    return TableView("leaders", "Leader of each classification (lowest GC time)", head, rows), None

