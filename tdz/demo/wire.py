"""The demo season's riders, efforts and events, and how they are written in ZwiftPower's and Zwift's wire format.

`tdz.demo` decides who rides what; this module renders it as the payloads the real sites send (see the quirks
listed in `tdz.demo`).
"""

from __future__ import annotations

import html
import json
import random
from dataclasses import dataclass, field
from datetime import datetime

from tdz.ingest.archive import PayloadKind

PENS = "ABCDE"
_NOTES = ("Trainer difficulty 50%", "Power from smart trainer", "Late start, joined from pen B")


@dataclass
class Rider:
    zwid: int
    name: str  # HTML-escaped, as on the wire
    male: bool
    age: str
    country: str
    weight: float
    height: int
    wkg: float  # ability: the W/kg the rider holds for about half an hour
    tid: str
    tname: str
    weight_known: bool = True
    zwid_as_text: bool = False
    group: str = ""
    guest: bool = False


@dataclass
class Effort:
    rider: Rider
    pen: str
    time_s: float  # 0 = DNF
    wkg: float  # W/kg held in this effort
    segments: dict[str, float]  # ZwiftPower segment id -> seconds
    dq: str = ""  # "", "ZP" or "UPG"
    notes: str | None = None


@dataclass
class Event:
    id: int
    round: str  # round or stage the event belongs to
    name: str
    start: datetime
    event_type: str
    routes: dict[str, tuple[int, int]]  # pen -> (routeId, distance m)
    efforts: list[Effort] = field(default_factory=list)


def sprinkle(events: list[Event], rng: random.Random) -> None:
    """DQs, upgrades, DNFs, missing segment times and notes: by chance, and each forced on the first events."""
    for i, ev in enumerate(events):
        if len(ev.efforts) < 6:
            continue
        dq, upgraded, dnf, no_segment, noted = rng.sample(ev.efforts[1:], 5)
        if i == 0 or rng.random() < 0.12:
            dq.dq = "ZP"
        if i == 1 or rng.random() < 0.04:
            upgraded.dq = "UPG"
        if i == 0 or rng.random() < 0.25:
            dnf.time_s = 0.0
        if i == 0 or rng.random() < 0.3:
            no_segment.segments = {}
        if i == 2 or rng.random() < 0.3:
            noted.notes = rng.choice(_NOTES)


def view_row(ev: Event, e: Effort, pos: int, pos_in_cat: int, gun: float) -> dict[str, object]:
    """A `_view.json` row; every third row carries the other encoding of its numbers (text vs number)."""
    r, pen_i, alt = e.rider, PENS.index(e.pen), pos % 3 == 0
    time_s, watts = round(e.time_s, 3), round(e.wkg * r.weight)
    row: dict[str, object] = {
        "zid": str(ev.id), "pos": str(pos) if alt else pos, "position_in_cat": pos_in_cat,
        "label": str(pen_i + 1), "category": e.pen, "div": 10 * (pen_i + 1), "divw": 0 if r.male else 10 * (pen_i + 1),
        "name": r.name, "zwid": str(r.zwid) if r.zwid_as_text else r.zwid,
        "time": [time_s, int(pos_in_cat == 1)] if time_s else [0, 0], "time_gun": gun,
        "male": int(r.male), "age": r.age, "flag": r.country,
        "weight": [r.weight if alt else f"{r.weight:.1f}", 0] if r.weight_known else [0, 0],
        "height": [r.height, 0] if r.weight_known else [0, 0], "tid": r.tid, "tname": r.tname,
        "avg_power": [str(watts) if alt else watts, 0], "avg_wkg": [round(e.wkg, 1) if alt else f"{e.wkg:.1f}", 0],
        "np": [str(round(watts * 1.03)), 0], "w5": [str(round(watts * 2.6)), 0], "w60": [str(round(watts * 1.45)), 0],
        "w1200": [str(round(watts * 0.98)), 0], "wkg1200": [f"{e.wkg * 0.98:.1f}", 0],
        "penalty": "", "fl": "", "upg": 0,
    }
    if e.notes is not None:
        row["notes"] = e.notes
    return row


def payloads(ev: Event, rng: random.Random) -> dict[PayloadKind, bytes]:
    ordered = sorted(ev.efforts, key=lambda e: (e.time_s == 0, e.time_s))
    leader = round(ordered[0].time_s, 3) if ordered else 0.0
    view: list[dict[str, object]] = []
    slim: list[dict[str, object]] = []
    sprints: list[dict[str, object]] = []
    in_cat: dict[str, int] = {}
    for e in ordered:
        r, label, time_s, watts = e.rider, str(PENS.index(e.pen) + 1), round(e.time_s, 3), round(e.wkg * e.rider.weight)
        slim.append({"DT_RowId": str(r.zwid), "zwid": str(r.zwid), "pos": str(len(slim) + 1), "name": r.name,
                     "label": label, "category": e.pen, "race_time": [time_s, 0],
                     "time_diff": round(time_s - leader, 3) if time_s else 0, "watts": [str(watts), 0],
                     "wkg": [f"{e.wkg:.1f}", 0], "wkg1200": [round(e.wkg * 0.98, 2), 0], "dq_cat": e.dq})
        sprints.append({"zwid": r.zwid, "name": r.name, "label": label, "category": e.pen, "male": int(r.male),
                        "msec": {k: round(v, 3) for k, v in e.segments.items()},
                        "watts": {k: str(round(watts * 1.08)) for k in e.segments},
                        "wkg": {k: f"{e.wkg * 1.08:.1f}" for k in e.segments}})
        if not e.dq:
            in_cat[e.pen] = in_cat.get(e.pen, 0) + 1
            later_pen = e.pen != "A" and time_s
            gun = round(time_s + 0.04 * int(label) + rng.uniform(0, 0.2), 3) if later_pen else time_s
            view.append(view_row(ev, e, len(view) + 1, in_cat[e.pen], gun))
    stamp = ev.start.strftime("%Y-%m-%dT%H:%M:%S.000+0000")
    zwift = {
        "id": ev.id, "name": html.unescape(ev.name), "eventStart": stamp, "routeId": ev.routes["A"][0], "laps": 1,
        "distanceInMeters": ev.routes["A"][1], "eventType": ev.event_type, "tags": ["demo", f"round{ev.round}"],
        "eventSubgroups": [{"id": ev.id * 10 + i + 1, "subgroupLabel": pen, "eventSubgroupStart": stamp,
                            "routeId": ev.routes[pen][0], "laps": 1, "distanceInMeters": ev.routes[pen][1]}
                           for i, pen in enumerate(PENS)],
    }
    bodies: dict[PayloadKind, object] = {"results_view": {"data": view}, "results_zwift": {"data": slim},
                                         "event_sprints": {"data": sprints}, "zwift_event": zwift}
    return {kind: json.dumps(body, separators=(",", ":")).encode() for kind, body in bodies.items()}
