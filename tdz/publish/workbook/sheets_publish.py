"""The plan of a publish to a Google Sheet: every output tab replaced whole in one atomic `batchUpdate`.

A publish whose typed cells fit in one request (Google refuses bodies over 10 MiB) is that one request: each tab
added or resized, then written as typed `userEnteredValue`s. A bigger one is staged:

1. one `batchUpdate` adds a hidden staging tab per output tab, sized to the new grid (and deletes staging tabs a
   failed publish left behind);
2. the new grids go into the staging tabs as RAW values (`values.batchUpdate`, which is about a quarter of the
   typed body), in as many requests as the size needs: readers see none of it, as the real tabs are untouched;
3. one `batchUpdate` switches every tab at once: each real tab resized to its new grid, its values cleared and the
   staging tab's values pasted over it (`copyPaste`, `PASTE_VALUES`), the content hash with them (it is in the
   staged `about` grid), and the staging tabs deleted. The API applies a `batchUpdate` all or nothing, so a reader
   sees the last publish or this one, whole, and never a half-new tab.

Either way no real tab is ever deleted or added again, so each keeps its gid (Looker Studio binds its data
sources to the gid), and RAW and typed values alike keep a rider named `=IMPORTXML(…)` as text.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from tdz.publish.workbook.cells import Cell
from tdz.publish.workbook.sheets_requests import (
    Tab,
    body_size,
    grid_props,
    new_gid,
    protect,
    quote,
    row_data,
)

STAGING_PREFIX = "tdz staging: "
"""Title of a staging tab: the prefix, then the output tab's name. Hidden, and gone once a publish switches."""


def grid_range(gid: int, rows: int, cols: int) -> dict[str, int]:
    return {"sheetId": gid, "startRowIndex": 0, "endRowIndex": rows, "startColumnIndex": 0, "endColumnIndex": cols}


@dataclass
class Planned:
    """One output tab of a publish: its new grid, the tab as it was (None when new) and as it will be."""

    grid: list[list[Cell]]
    old: Tab | None
    new: Tab

    def structure(self) -> list[dict[str, Any]]:
        """Add the tab, or size it to the new grid, and freeze and protect it where missing."""
        rows, cols = self.new.rows, self.new.cols
        if self.old is None:
            return [{"addSheet": {"properties": {"sheetId": self.new.gid, "title": self.new.title, "gridProperties": {
                "rowCount": rows, "columnCount": cols, "frozenRowCount": 1}}}}, protect(self.new.gid, self.new.title)]
        out: list[dict[str, Any]] = []
        resize = {"rows": rows, "cols": cols} if (self.old.rows, self.old.cols) != (rows, cols) else {}
        if self.old.frozen == 0:
            resize["frozen"] = 1
        if resize:
            out.append(grid_props(self.old.gid, **resize))
        if not self.old.protected:
            out.append(protect(self.old.gid, self.old.title))
        return out

    def typed_cells(self) -> dict[str, Any]:
        """Every cell of the new grid as a typed value, blank cells included (they clear what was there)."""
        return {"updateCells": {"range": grid_range(self.new.gid, self.new.rows, self.new.cols),
                                "rows": [row_data(r) for r in self.grid], "fields": "userEnteredValue"}}


def one_request(plan: Iterable[Planned]) -> dict[str, Any]:
    """The whole publish as one `batchUpdate` body."""
    plan = list(plan)
    return {"requests": [r for p in plan for r in p.structure()] + [p.typed_cells() for p in plan]}


def staging_tabs(plan: Iterable[Planned], used: set[int]) -> list[Tab]:
    return [Tab(new_gid(STAGING_PREFIX + p.new.title, used), STAGING_PREFIX + p.new.title, p.new.rows, p.new.cols,
                0, False) for p in plan]


def add_staging(staging: Iterable[Tab], leftovers: Iterable[Tab]) -> dict[str, Any]:
    """Delete staging tabs a failed publish left, add this publish's (hidden): one `batchUpdate` body."""
    requests = [{"deleteSheet": {"sheetId": t.gid}} for t in leftovers]
    requests += [{"addSheet": {"properties": {"sheetId": t.gid, "title": t.title, "hidden": True, "gridProperties": {
        "rowCount": t.rows, "columnCount": t.cols}}}} for t in staging]
    return {"requests": requests}


def staging_values(plan: Iterable[Planned], staging: Iterable[Tab], max_bytes: int) -> list[dict[str, Any]]:
    """The new grids as RAW values into the staging tabs: `values.batchUpdate` bodies of at most `max_bytes`."""
    budget = int(max_bytes * 0.95)
    calls: list[list[dict[str, Any]]] = [[]]
    size = 0
    for p, tab in zip(plan, staging, strict=True):
        first, piece = 0, []
        for index, row in enumerate(p.grid):
            cost = body_size(row) + 1
            if size + cost > budget and (piece or calls[-1]):
                if piece:
                    calls[-1].append({"range": f"{quote(tab.title)}!A{first + 1}", "values": piece})
                calls.append([])
                first, piece, size = index, [], 0
            piece.append(row)
            size += cost
        if piece:
            calls[-1].append({"range": f"{quote(tab.title)}!A{first + 1}", "values": piece})
    return [{"valueInputOption": "RAW", "data": data} for data in calls if data]


def switch(plan: Iterable[Planned], staging: Iterable[Tab]) -> dict[str, Any]:
    """Every real tab sized, cleared and pasted over from its staging tab, then the staging tabs deleted: one
    `batchUpdate` body, applied all or nothing."""
    requests: list[dict[str, Any]] = []
    staging = list(staging)
    for p, tab in zip(plan, staging, strict=True):
        requests += p.structure()
        size = (p.new.rows, p.new.cols)
        if p.old is not None:
            requests.append({"updateCells": {"range": grid_range(p.new.gid, *size), "fields": "userEnteredValue"}})
        requests.append({"copyPaste": {"source": grid_range(tab.gid, *size),
                                       "destination": grid_range(p.new.gid, *size),
                                       "pasteType": "PASTE_VALUES", "pasteOrientation": "NORMAL"}})
    requests += [{"deleteSheet": {"sheetId": t.gid}} for t in staging]
    return {"requests": requests}
