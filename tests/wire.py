"""Builders of ZwiftPower / Zwift payloads in their real wire format, for small hand-checked scenarios."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd

from tdz.archive import Archive

PENS = {"A": "1", "B": "2", "C": "3", "D": "4", "E": "5"}


def result_row(
    zwid: int, seconds: float, *, name: str | None = None, pen: str = "A", male: bool = True, age: str = "Snr",
    watts: float = 250, wkg: float = 3.5, team: str = "", country: str = "gb", pos: int = 1,
) -> dict:
    """One `_view.json` row: [value, flag] pairs, numbers as strings where ZwiftPower sends strings."""
    return {
        "zid": "0", "pos": pos, "position_in_cat": pos, "label": PENS[pen], "category": pen, "div": 10, "divw": 0,
        "name": name or f"Rider {zwid}", "zwid": zwid, "time": [seconds, 0], "time_gun": seconds + 1.5,
        "male": 1 if male else 0, "age": age, "flag": country, "weight": ["72.0", 0], "height": [180, 0],
        "tid": "", "tname": team, "avg_power": [watts, 0], "avg_wkg": [f"{wkg:.2f}", 0],
        "penalty": "", "fl": "", "upg": 0,
    }


def sprint_row(zwid: int, segments: dict[str, float]) -> dict:
    return {"zwid": zwid, "name": f"Rider {zwid}", "label": "1", "category": "A", "male": 1,
            "msec": dict(segments), "watts": {k: "300" for k in segments}, "wkg": {k: "4.0" for k in segments}}


def zwift_event(event_id: int, name: str, start: datetime, pens: str = "ABCDE") -> dict:
    stamp = start.strftime("%Y-%m-%dT%H:%M:%S.000+0000")
    return {
        "id": event_id, "name": name, "eventStart": stamp, "routeId": 2_843_604_888, "laps": 1,
        "distanceInMeters": 20000.0, "eventType": "GROUP_RIDE", "tags": [],
        "eventSubgroups": [{"id": event_id * 10 + i, "subgroupLabel": p, "eventSubgroupStart": stamp,
                            "routeId": 2_843_604_888} for i, p in enumerate(pens)],
    }


def store_event(
    archive_dir: Path, season_id: str, event_id: int, name: str, start: datetime, rows: list[dict],
    sprints: list[dict] | None = None,
) -> None:
    """Archive one event as the fetcher would: results view, sprints and Zwift event details."""
    for row in rows:
        row["zid"] = str(event_id)
    payloads = {
        "results_view": json.dumps({"data": rows}).encode(),
        "event_sprints": json.dumps({"data": sprints or []}).encode(),
        "zwift_event": json.dumps(zwift_event(event_id, name, start)).encode(),
    }
    Archive(archive_dir, season_id).store_event(event_id, payloads, fetched_at=start + timedelta(days=1))


def rows_of(frame: pd.DataFrame, **where: object) -> pd.DataFrame:
    """The rows of an output table matching every `column=value`, indexed by rider id."""
    for column, value in where.items():
        frame = frame[frame[column] == value]
    return frame.set_index("rider_id")
