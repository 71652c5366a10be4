"""A page per rider: the profile, their place in every pool or classification, each round's result, and every
effort with its best and PB marks and why an effort did not count.

Every table is formatted once for all riders and each rider's rows are picked by index, so 300 rider pages cost
little more than one.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np
import pandas as pd

from tdz.publish.site.model import (
    TableView,
    clocks,
    flags,
    gc_pools,
    link,
    mark,
    numbers,
    penalties,
    standings_pools,
    text,
    utc_text,
)
from tdz.publish.site.pages import Page

STATUS = {"dnf": "DNF", "dq": "DQ", "excluded": "not counted"}


def _by_rider(frame: pd.DataFrame) -> dict[int, np.ndarray]:
    return frame.groupby(frame["rider_id"].astype("int64"), sort=False).indices


def _pick(cells: list[list], positions: np.ndarray | None) -> list[tuple[list, dict[str, str]]]:
    return [] if positions is None else [(cells[i], {}) for i in positions]


def _effort_cells(efforts: pd.DataFrame, kind: str) -> list[list]:
    marks = [[m for m in (best, pb) if m] for best, pb in zip(
        flags(efforts["is_best"], "best" if kind == "points" else "counted", "best"),
        flags(efforts["is_pb"], "PB", "pb"), strict=True)]
    status = [mark(STATUS.get(s, ""), f"status {s}") for s in text(efforts["status"])]
    folder = "rounds/{}/overall.html" if kind == "points" else "stages/{}.html"
    rounds = [link(r, folder.format(r)) for r in text(efforts["round_id"])]
    columns = [utc_text(efforts["event_start"]), rounds, text(efforts["event_name"]), text(efforts["pen"]),
               clocks(efforts["finish_time_s"])]
    if kind == "points":
        columns += [clocks(efforts["segment_time_s"]), numbers(efforts["avg_wkg"])]
    else:
        columns += [penalties(efforts), text(efforts["total_time"])]
    columns += [marks, status, text(efforts["status_reason"])]
    return [list(c) for c in zip(*columns, strict=True)]


def _effort_head(kind: str) -> list[tuple[str, str]]:
    middle = [("Segment", "num"), ("W/kg", "num")] if kind == "points" else [("Penalty", "text"), ("Total", "num")]
    return [("Start", "rider"), ("Round" if kind == "points" else "Stage", "text"), ("Event", "text"),
            ("Pen", "text"), ("Time", "num"), *middle, ("Marks", "text"), ("Status", "text"), ("Why", "text")]


def _profile(riders: pd.DataFrame, kind: str) -> list[dict[str, Any]]:
    """Each rider's facts as (label, value) pairs, empty values left out."""
    fields = [("Gender", "gender"), ("Age category", "age_category"), ("Team", "team"), ("Country", "country")]
    fields += ([("Power category", "power_category"), ("Women's category", "power_category_women")]
               if kind == "points" else [("Group", "rider_group")])
    values = {column: text(riders[column]) for _, column in fields}
    watts, wkg = numbers(riders["max_avg_power_w"]), numbers(riders["max_avg_wkg"])
    efforts, rounds = text(riders["efforts"]), text(riders["rounds_ridden"])
    out = []
    for i in range(len(riders)):
        facts = [(label, values[column][i]) for label, column in fields if values[column][i]]
        facts = [(label, {"F": "Female", "M": "Male"}.get(v, v) if label == "Gender" else
                  v.upper() if label == "Country" else v) for label, v in facts]
        if watts[i]:
            facts.append(("Best average power", f"{watts[i]} W, {wkg[i]} W/kg"))
        out.append({"facts": facts, "efforts": efforts[i], "rounds": rounds[i]})
    return out


def rider_pages(tables: Mapping[str, pd.DataFrame], kind: str) -> Iterator[Page]:
    riders, efforts = tables["riders"], tables["efforts"]
    efforts = efforts.sort_values(["event_start", "round_order"], kind="stable", na_position="last")
    effort_cells, effort_rows = _effort_cells(efforts, kind), _by_rider(efforts)
    effort_head = _effort_head(kind)
    if kind == "points":
        board, results = tables["standings"], tables["round_results"]
        pools = {p.name: p for p in standings_pools(board)}
        board_cells = [[link(pools[p].label, f"standings/{pools[p].slug}.html"), place, total, counted]
                       for p, place, total, counted in zip(text(board["pool"]), text(board["place"]),
                                                           numbers(board["total"]), text(board["rounds_counted"]),
                                                           strict=True)]
        board_head = [("Pool", "rider"), ("Place", "num"), ("Total", "num"), ("Rounds counted", "num")]
        overall = results[results["pool"].astype(str).eq("overall")]
        round_cells = [list(c) for c in zip(
            [link(f"Round {r}", f"rounds/{r}/overall.html") for r in text(overall["round_id"])],
            text(overall["route"]), text(overall["finish_time"]), text(overall["position"]),
            text(overall["segment_place"]), numbers(overall["round_score"]),
            flags(overall["counted"], "counted", "counted"), strict=True)]
        round_head = [("Round", "rider"), ("Route", "text"), ("Time", "num"), ("Position", "num"),
                      ("Seg. place", "num"), ("Score", "num"), ("Counted", "text")]
        round_caption = "Each round (overall pool): position, score and whether it counted under the terrain quota"
        board_caption = "Place in every pool the rider is in"
    else:
        board, overall = tables["gc"], tables["stage_results"]
        pools = {p.name: p for p in gc_pools(board)}
        ranked = board["gc_status"].astype(str).eq("ranked").tolist()
        board_cells = [[link(pools[c].label, f"gc/{pools[c].slug}.html"), place if ok else mark("DNS", "dns"), gc_time, gap]
                       for c, place, gc_time, gap, ok in zip(text(board["classification"]), text(board["place"]),
                                                             text(board["gc_time"]), text(board["gap"]), ranked,
                                                             strict=True)]
        board_head = [("Classification", "rider"), ("Place", "num"), ("GC time", "num"), ("Gap", "num")]
        round_cells = [list(c) for c in zip(
            [link(f"Stage {r}", f"stages/{r}.html") for r in text(overall["round_id"])], text(overall["route"]),
            clocks(overall["raw_time_s"]), penalties(overall), text(overall["total_time"]), text(overall["place"]),
            text(overall["group_place"]), strict=True)]
        round_head = [("Stage", "rider"), ("Route", "text"), ("Time", "num"), ("Penalty", "text"), ("Total", "num"),
                      ("Place", "num"), ("Group place", "num")]
        round_caption = "Each stage course: the counted effort, penalties and places"
        board_caption = "Place in each general classification"
    efforts_caption = ("Every effort, oldest first: best = the round's best effort (the one scored), PB = faster than "
                       "the rider had ever been on this route" if kind == "points" else
                       "Every effort, oldest first: counted = the stage course's effort in GC")
    board_rows, round_rows = _by_rider(board), _by_rider(overall)
    profiles = _profile(riders, kind)
    for i, (rider_id, name) in enumerate(zip(riders["rider_id"].astype("int64"), text(riders["rider_name"]),
                                             strict=True)):
        yield Page(f"riders/{rider_id}.html", "rider.html", {
            "title": name, "section": "riders", "rider": {"id": int(rider_id), "name": name, **profiles[i]},
            "tables": [
                TableView("places", board_caption, board_head, _pick(board_cells, board_rows.get(rider_id)),
                          empty="Not in the standings (yet)."),
                TableView("rounds", round_caption, round_head, _pick(round_cells, round_rows.get(rider_id)),
                          empty="No counted result yet."),
                TableView("efforts", efforts_caption, effort_head, _pick(effort_cells, effort_rows.get(rider_id)))]})
