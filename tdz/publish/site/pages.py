"""The pages every season has: home, the rider list, the statistics; and the list of rounds or stages.

Each page is a `Page`: where it goes in the season folder, its template and what the template shows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from tdz.publish.site.model import (
    TableView,
    link,
    numbers,
    rider_links,
    text,
    utc_text,
)


@dataclass
class Page:
    path: str
    """Where the page goes, from the season folder (`standings/overall.html`)."""
    template: str
    context: dict[str, Any]


def round_summary(tables: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """One row per round (points) or stage course (time) with results, in season order: round_id, round_order,
    route, status, riders (in the overall pool) and the winner(s)."""
    if "round_results" in tables:
        results = tables["round_results"]
        overall = results[results["pool"].astype(str).eq("overall")]
        status, place = "round_status", "position"
    else:
        overall = tables["stage_results"]
        status, place = "stage_status", "place"
    overall = overall.assign(round_id=overall["round_id"].astype(str)).sort_values(["round_order", place],
                                                                                   kind="stable")
    table = overall.groupby("round_id", sort=False).agg(
        round_order=("round_order", "first"), route=("route", "first"), status=(status, "first"),
        riders=("rider_id", "nunique"))
    winners = overall[overall[place].eq(1)]
    table["winners"] = pd.Series({rnd: rider_links(group) for rnd, group in winners.groupby("round_id", sort=False)},
                                 dtype=object).reindex(table.index)
    table["terrain"] = overall.groupby("round_id", sort=False)["terrain"].first() if "terrain" in overall else ""
    table["stage"] = overall.groupby("round_id", sort=False)["stage"].first() if "stage" in overall else ""
    table = table.reset_index().sort_values("round_order", kind="stable").reset_index(drop=True)
    table["terrain"] = text(table["terrain"].fillna(""))
    table["winners"] = [w if isinstance(w, list) else [] for w in table["winners"]]
    return table


def status_badge(status: str) -> dict[str, str]:
    return {"t": "Final" if status == "final" else "Provisional", "cls": f"badge {status}"}


def round_rows(rounds: pd.DataFrame, href: str, noun: str = "Round") -> TableView:
    terrain = any(rounds["terrain"])
    rows = [([link(f"{noun} {r.round_id}", href.format(r.round_id)), r.route, *([r.terrain] if terrain else []),
              status_badge(r.status), str(r.riders), r.winners], {}) for r in rounds.itertuples()]
    head = [(noun, "rider"), ("Route", "text"), *([("Terrain", "text")] if terrain else []), ("Status", "text"),
            ("Riders", "num"), ("Winner", "text")]
    return TableView("rounds", f"Every {noun.lower()} with results, in season order", head, rows)


def riders_index(tables: Mapping[str, pd.DataFrame], kind: str) -> Page:
    riders = tables["riders"].sort_values("rider_name", key=lambda s: s.astype(str).str.casefold(), kind="stable")
    category = "power_category" if kind == "points" else "rider_group"
    columns = [rider_links(riders), text(riders["gender"]), text(riders[category]), text(riders["age_category"]),
               text(riders["team"]), text(riders["country"]).copy(), text(riders["efforts"]),
               text(riders["rounds_ridden"])]
    columns[5] = [c.upper() for c in columns[5]]
    rows = [(list(cells), {}) for cells in zip(*columns, strict=True)]
    head = [("Rider", "rider"), ("Gender", "text"), ("Category" if kind == "points" else "Group", "text"),
            ("Age", "text"), ("Team", "text"), ("Country", "text"), ("Efforts", "num"),
            ("Rounds" if kind == "points" else "Stages", "num")]
    view = TableView("riders", f"All {len(rows)} riders with a result, by name", head, rows)
    return Page("riders/index.html", "riders.html", {"title": "Riders", "section": "riders", "table": view})


def stats_page(tables: Mapping[str, pd.DataFrame], kind: str) -> Page:
    """Riders per round, attempts per event and riders by category: the numbers organisers quote."""
    efforts = tables["efforts"]
    rounds = round_summary(tables)
    per_round = efforts.assign(round_id=efforts["round_id"].astype(str)).groupby("round_id").agg(
        attempts=("event_id", "size"), dnf=("status", lambda s: int(s.eq("dnf").sum())),
        refused=("status", lambda s: int(s.isin(["dq", "excluded"]).sum())))
    rounds = rounds.join(per_round, on="round_id")
    noun = "Round" if kind == "points" else "Stage"
    folder = "rounds/{}/overall.html" if kind == "points" else "stages/{}.html"
    round_view = TableView("per-round", f"Riders and attempts per {noun.lower()}", [
        (noun, "rider"), ("Route", "text"), ("Riders", "num"), ("Attempts", "num"), ("DNF", "num"),
        ("DQ or not counted", "num")], [
        ([link(f"{noun} {r.round_id}", folder.format(r.round_id)), r.route, str(r.riders),
          numbers(pd.Series([r.attempts]))[0], numbers(pd.Series([r.dnf]))[0], numbers(pd.Series([r.refused]))[0]],
         {}) for r in rounds.itertuples()])

    events = efforts[efforts["event_id"].notna()]
    per_event = events.groupby("event_id", sort=False).agg(
        start=("event_start", "first"), name=("event_name", "first"), round_id=("round_id", "first"),
        attempts=("rider_id", "size"), finished=("status", lambda s: int(s.ne("dnf").sum())))
    per_event = per_event.reset_index().sort_values(["start", "event_id"], kind="stable")
    event_view = TableView("per-event", f"Attempts per event ({len(per_event)} events)", [
        ("Event", "rider"), ("Start", "text"), (noun, "text"), ("Attempts", "num"), ("Finished", "num")], [
        (list(cells), {}) for cells in zip(text(per_event["name"]), utc_text(per_event["start"]),
                                            text(per_event["round_id"]), text(per_event["attempts"]),
                                            text(per_event["finished"]), strict=True)])

    riders = tables["riders"]
    category = "power_category" if kind == "points" else "rider_group"
    counts = pd.crosstab(riders[category].astype(object).fillna("none"), riders["gender"].astype(object).fillna("?"))
    genders = [g for g in ("F", "M", "?") if g in counts.columns]
    label = "Category" if kind == "points" else "Group"
    category_view = TableView("per-category", f"Riders by {label.lower()} and gender", [
        (label, "rider"), *[({"F": "Women", "M": "Men"}.get(g, "Unknown"), "num") for g in genders],
        ("All", "num")], [
        ([str(cat), *[str(int(counts.at[cat, g])) for g in genders], str(int(counts.loc[cat, genders].sum()))], {})
        for cat in counts.index])
    return Page("stats.html", "stats.html", {"title": "Statistics", "section": "stats",
                                             "tables": [round_view, event_view, category_view]})


def latest_round(tables: Mapping[str, pd.DataFrame], kind: str, top: int = 5) -> dict[str, Any] | None:
    """The top of the latest round or stage course with results (overall), for the home page."""
    rounds = round_summary(tables)
    if not len(rounds):
        return None
    last = rounds.iloc[-1]
    if kind == "points":
        results = tables["round_results"]
        rows = results[results["pool"].astype(str).eq("overall") & results["round_id"].astype(str).eq(last.round_id)]
        rows = rows.sort_values(["position", "rider_name"], kind="stable").head(top)
        cells = zip(text(rows["position"]), rider_links(rows), text(rows["finish_time"]), strict=True)
        href, noun = f"rounds/{last.round_id}/overall.html", "Round"
    else:
        stages = tables["stage_results"]
        rows = stages[stages["round_id"].astype(str).eq(last.round_id)].sort_values(["place", "rider_name"],
                                                                                   kind="stable").head(top)
        cells = zip(text(rows["place"]), rider_links(rows), text(rows["total_time"]), strict=True)
        href, noun = f"stages/{last.round_id}.html", "Stage"
    view = TableView("latest", f"{noun} {last.round_id} ({last.route}): the first {top}",
                     [("Pos.", "num"), ("Rider", "rider"), ("Time", "num")], [(list(c), {}) for c in cells])
    return {"table": view, "href": href, "badge": status_badge(str(last.status)), "label": f"{noun} {last.round_id}"}

