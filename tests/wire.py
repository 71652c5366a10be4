"""Builders of ZwiftPower / Zwift payloads in their real wire format, for small hand-checked scenarios."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd

from tdz.ingest.archive import Archive
from tests.fakes.zwift_server import zwift_event
from tests.fakes.zwiftpower_server import sprint_row as fake_sprint_row
from tests.fakes.zwiftpower_server import view_row, zwift_row


def result_row(
    zwid: int, seconds: float, *, name: str | None = None, pen: str = "A", male: bool = True, age: str = "Snr",
    watts: float = 250, wkg: float = 3.5, team: str = "", country: str = "gb", pos: int = 1,
) -> dict:
    """One `_view.json` row (the fake ZwiftPower's builder) with the fields a scenario cares about."""
    return view_row(0, zwid, name or f"Rider {zwid}", pos, pen, seconds, male=1 if male else 0, age=age,
                    flag=country, tname=team, avg_power=[watts, 0], avg_wkg=[f"{wkg:.2f}", 0])


def sprint_row(zwid: int, segments: dict[str, float]) -> dict:
    return fake_sprint_row(view_row(0, zwid, f"Rider {zwid}", 1, "A", 0.0), segments)


def store_event(
    archive_dir: Path, season_id: str, event_id: int, name: str, start: datetime, rows: list[dict],
    sprints: list[dict] | None = None, *, route_id: int = 3_368_626_651, event_type: str = "GROUP_RIDE",
    pen_routes: dict[str, tuple[int, int, float]] | None = None, details: bool = True, dq_list: bool = True,
) -> None:
    """Archive one event as the fetcher would: results view, slim results, sprints and Zwift event details (every
    pen riding `route_id` unless `pen_routes` gives it its own (routeId, laps, distanceInMeters)). `details` /
    `dq_list` False leave out the Zwift event payload / the slim `_zwift.json`, as when those were not to be had."""
    for row in rows:
        row["zid"] = str(event_id)
    payloads = {
        "results_view": json.dumps({"data": rows}).encode(),
        "event_sprints": json.dumps({"data": sprints or []}).encode(),
    }
    if dq_list:
        payloads["results_zwift"] = json.dumps({"data": [zwift_row(row) for row in rows]}).encode()
    if details:
        payloads["zwift_event"] = json.dumps(zwift_event(event_id, name, start, route_id=route_id, pens="ABCDE",
                                                         event_type=event_type, pen_routes=pen_routes)).encode()
    Archive(archive_dir, season_id).store_event(event_id, payloads, fetched_at=start + timedelta(days=1))


def rows_of(frame: pd.DataFrame, **where: object) -> pd.DataFrame:
    """The rows of an output table matching every `column=value`, indexed by rider id."""
    for column, value in where.items():
        frame = frame[frame[column] == value]
    return frame.set_index("rider_id")


def stored(path: Path, name: str) -> list[list[object]]:
    """The values stored in one tab of an .xlsx file, as openpyxl reads them (header row first, trailing empty
    cells dropped, an empty cell as '')."""
    import openpyxl

    book = openpyxl.load_workbook(path, read_only=True)
    try:
        sheet = book[name]
        sheet.reset_dimensions()
        rows = [["" if v is None else v for v in row] for row in sheet.iter_rows(values_only=True)]
    finally:
        book.close()
    width = max((max((i + 1 for i, v in enumerate(r) if v != ""), default=0) for r in rows), default=0)
    rows = [r[:width] + [""] * (width - len(r)) for r in rows]
    while rows and all(v == "" for v in rows[-1]):
        rows.pop()
    return rows
