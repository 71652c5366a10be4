"""The request bodies tdz sends to the Sheets API v4: tab structure and typed cells (a publish's plan is
`sheets_publish`)."""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from tdz.publish.tables import OrganiserTab
from tdz.publish.workbook import Grid
from tdz.publish.workbook.cells import Cell

ORGANISER_ROWS = 1000
ABOUT_TAB = "about"


@dataclass
class Tab:
    """What the metadata says about one tab."""

    gid: int
    title: str
    rows: int
    cols: int
    frozen: int
    protected: bool


def quote(title: str) -> str:
    return "'" + title.replace("'", "''") + "'"


def cell_data(value: Cell) -> dict[str, Any]:
    """A typed cell the API stores as given: strings are never parsed as formulas, numbers or dates."""
    if value == "" or value is None:
        return {}
    if isinstance(value, bool):
        return {"userEnteredValue": {"boolValue": value}}
    if isinstance(value, int | float):
        return {"userEnteredValue": {"numberValue": value}}
    return {"userEnteredValue": {"stringValue": str(value)}}


def row_data(values: Iterable[Cell]) -> dict[str, Any]:
    return {"values": [cell_data(v) for v in values]}


def new_gid(title: str, used: set[int]) -> int:
    """A gid derived from the tab name (stable across fresh Sheets), moved on past any gid already taken."""
    gid = zlib.crc32(title.encode()) & 0x7FFFFFFF or 1
    while gid in used:
        gid = gid % 0x7FFFFFFF + 1
    used.add(gid)
    return gid


def protect(gid: int, title: str) -> dict[str, Any]:
    return {"addProtectedRange": {"protectedRange": {
        "range": {"sheetId": gid}, "warningOnly": True,
        "description": f"{title} is rewritten by tdz on every run; edits here are lost"}}}


def grid_props(gid: int, **grid: int) -> dict[str, Any]:
    names = {"rows": "rowCount", "cols": "columnCount", "frozen": "frozenRowCount"}
    return {"updateSheetProperties": {
        "properties": {"sheetId": gid, "gridProperties": {names[k]: v for k, v in grid.items()}},
        "fields": ",".join(f"gridProperties.{names[k]}" for k in grid)}}


def organiser_tab_requests(tab: OrganiserTab, gid: int, seed: Grid | None = None) -> list[dict[str, Any]]:
    """A new organiser tab: header with a note per column, plain-text cells (ids keep leading zeros), dropdowns."""
    seed_rows = [r for r in (seed or [])[1:]] if seed and seed[0] == tab.header else list(seed or [])
    rows = max(ORGANISER_ROWS, len(seed_rows) + 1 + 100)
    width = len(tab.columns)
    header = {"values": [{"userEnteredValue": {"stringValue": c.name},
                          "note": c.meaning + (f" One of: {', '.join(tab.choices[c.name])}." if c.name in tab.choices
                                               else "")} for c in tab.columns]}
    requests_: list[dict[str, Any]] = [
        {"addSheet": {"properties": {"sheetId": gid, "title": tab.name, "gridProperties": {
            "rowCount": rows, "columnCount": width, "frozenRowCount": 1}}}},
        {"repeatCell": {"range": {"sheetId": gid, "startRowIndex": 0, "endRowIndex": rows, "startColumnIndex": 0,
                                  "endColumnIndex": width},
                        "cell": {"userEnteredFormat": {"numberFormat": {"type": "TEXT"}}},
                        "fields": "userEnteredFormat.numberFormat"}},
        {"updateCells": {"start": {"sheetId": gid, "rowIndex": 0, "columnIndex": 0},
                         "rows": [header, *(row_data(r[:width]) for r in seed_rows)], "fields": "userEnteredValue,note"}},
    ]
    for index, column in enumerate(tab.columns):
        if column.name in tab.choices:
            requests_.append({"setDataValidation": {
                "range": {"sheetId": gid, "startRowIndex": 1, "endRowIndex": rows, "startColumnIndex": index,
                          "endColumnIndex": index + 1},
                "rule": {"condition": {"type": "ONE_OF_LIST",
                                       "values": [{"userEnteredValue": v} for v in tab.choices[column.name]]},
                         "inputMessage": column.meaning, "strict": False, "showCustomUi": True}}})
    return requests_


def body_size(body: object) -> int:
    return len(json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode())
