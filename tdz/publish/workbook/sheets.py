"""The Google Sheets workbook: organiser tabs read and output tabs published with few, atomic API calls.

A run costs one metadata read (cached for the run), one `values:batchGet` of every organiser tab plus the `about`
tab, and per publish one write, or three for a season too big for one request (`sheets_publish`: staged, then
switched in one atomic request); none when the content hash in the `about` tab is unchanged. Either way a reader
sees the last publish or the new one whole, a rider named `=IMPORTXML(…)`, `+1` or `@x` stays text, and no output
tab is deleted: Looker Studio binds each data source to a tab's gid.

Structure (header notes, dropdowns, frozen header, warning-only protection, plain-text format on organiser columns)
is added only where the metadata shows it missing.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import gspread
import pandas as pd
import requests
from google.auth.exceptions import GoogleAuthError
from gspread.urls import (
    SPREADSHEET_BATCH_UPDATE_URL,
    SPREADSHEET_VALUES_BATCH_UPDATE_URL,
)

from tdz.publish.looker import create_report_url
from tdz.publish.tables import ORGANISER_TABS, OrganiserTab, Table
from tdz.publish.workbook import (
    Grid,
    PublishProgress,
    PublishReport,
    WorkbookCalls,
    refuse_clashes,
)
from tdz.publish.workbook.cells import (
    CONTENT_HASH_KEY,
    Cell,
    content_hash,
    publish_grids,
)
from tdz.publish.workbook.sheets_auth import (
    RetryingHTTPClient,
    SheetsError,
    credentials,
    explain,
    key_info,
    make_client,
)
from tdz.publish.workbook.sheets_publish import (
    STAGING_PREFIX,
    Planned,
    add_staging,
    one_request,
    staging_tabs,
    staging_values,
    switch,
)
from tdz.publish.workbook.sheets_requests import (
    ABOUT_TAB,
    Tab,
    body_size,
    grid_props,
    new_gid,
    organiser_tab_requests,
    protect,
    quote,
    row_data,
)
from tdz.retry import RetryPolicy
from tdz.settings import Settings

MAX_REQUEST_BYTES = 8_000_000
"""Google refuses request bodies over 10 MiB; a publish bigger than this is staged (`sheets_publish`)."""
FAILURES = (gspread.exceptions.APIError, GoogleAuthError, requests.RequestException)
KEPT = ("no tab is ever half-written (every output tab is switched in one request), so the Sheet shows a "
        "publish whole; the next run publishes again")


class SheetPublishError(SheetsError):
    """A publish that failed after its retries. The Sheet shows the last publish, or this one if its final
    request landed though its answer was lost: never a mix. The next run's publish writes again, as the content
    hash the Sheet holds is not this publish's."""

    def __init__(self, message: str) -> None:
        super().__init__(f"{message}; {KEPT}")


class SheetsWorkbook:
    """The `Workbook` protocol on a Google Sheet. One instance per run: it reads the metadata once and keeps it."""

    def __init__(self, settings: Settings, *, retry: RetryPolicy | None = None,
                 max_request_bytes: int = MAX_REQUEST_BYTES) -> None:
        if not settings.sheet_id:
            raise SheetsError("TDZ_SHEET_ID is not set: paste the Sheet's URL or id")
        info = key_info(settings)
        self.sheet_id = settings.sheet_id
        self.service_account: str = info["client_email"]
        self.max_request_bytes = max_request_bytes
        self._client = make_client(settings, credentials(info), retry)
        http = self._client.http_client
        assert isinstance(http, RetryingHTTPClient)
        self._http = http
        self._tabs: dict[str, Tab] | None = None
        self._stored_hash: str | None = None
        self._hash_known = False

    @classmethod
    def from_settings(cls, settings: Settings) -> SheetsWorkbook:
        return cls(settings)

    def __repr__(self) -> str:
        return f"SheetsWorkbook({self.location})"

    @property
    def location(self) -> str:
        return f"https://docs.google.com/spreadsheets/d/{self.sheet_id}"

    @property
    def calls(self) -> WorkbookCalls:
        return self._http.counter

    def _fail(self, err: Exception) -> SheetsError:
        return SheetsError(explain(err, self.sheet_id, self.service_account))

    def tabs(self) -> dict[str, Tab]:
        """Every tab by title, from one metadata read per run."""
        if self._tabs is None:
            try:
                meta = self._http.fetch_sheet_metadata(self.sheet_id)
            except FAILURES as err:
                raise self._fail(err) from err
            self._tabs = {}
            for sheet in meta.get("sheets", []):
                p, grid = sheet["properties"], sheet["properties"].get("gridProperties", {})
                self._tabs[p["title"]] = Tab(p["sheetId"], p["title"], grid.get("rowCount", 0),
                                             grid.get("columnCount", 0), grid.get("frozenRowCount", 0),
                                             any(r.get("warningOnly") for r in sheet.get("protectedRanges", [])))
        return self._tabs

    def find(self, name: str) -> Tab | None:
        """The tab called `name`: exact first, then ignoring case as Google Sheets does for tab names."""
        tabs = self.tabs()
        return tabs.get(name) or next((t for t in tabs.values() if t.title.casefold() == name.casefold()), None)

    def output_tab_gids(self, names: Iterable[str]) -> dict[str, int]:
        found = {name: self.find(name) for name in names}
        return {name: tab.gid for name, tab in found.items() if tab is not None}

    def links(self, output_tabs: Iterable[str]) -> dict[str, str]:
        """The Sheet, and the Looker Studio link that creates a report on its output tabs (from the cached
        metadata: no extra call)."""
        links = {"workbook": self.location}
        gids = self.output_tab_gids(output_tabs)
        if gids:
            links["looker"] = create_report_url(self.sheet_id, gids)
        return links

    def _batch_update(self, requests_: list[dict[str, Any]]) -> dict[str, Any]:
        return self._http.batch_update(self.sheet_id, {"requests": requests_})

    # --- structure ----------------------------------------------------------------------------------------------

    def _structure_requests(self, tabs: Sequence[OrganiserTab], seed: Mapping[str, Grid] | None,
                            outputs: Sequence[Table] = ()) -> tuple[list[dict[str, Any]], list[str], list[Tab]]:
        refuse_clashes(t.name for t in outputs)
        used = {t.gid for t in self.tabs().values()}
        requests_: list[dict[str, Any]] = []
        created: list[str] = []
        new_tabs: list[Tab] = []
        for tab in tabs:
            found = self.find(tab.name)
            if found is None:
                gid = new_gid(tab.name, used)
                added = organiser_tab_requests(tab, gid, (seed or {}).get(tab.name))
                requests_ += added
                created.append(tab.name)
                rows = added[0]["addSheet"]["properties"]["gridProperties"]["rowCount"]
                new_tabs.append(Tab(gid, tab.name, rows, len(tab.columns), 1, False))
            elif found.frozen == 0:
                requests_.append(grid_props(found.gid, frozen=1))
                found.frozen = 1
        for table in outputs:
            if self.find(table.name) is None:
                gid = new_gid(table.name, used)
                requests_ += [
                    {"addSheet": {"properties": {"sheetId": gid, "title": table.name, "gridProperties": {
                        "rowCount": 2, "columnCount": len(table.columns), "frozenRowCount": 1}}}},
                    protect(gid, table.name),
                    {"updateCells": {"start": {"sheetId": gid, "rowIndex": 0, "columnIndex": 0},
                                     "rows": [row_data(table.names)], "fields": "userEnteredValue"}}]
                created.append(table.name)
                new_tabs.append(Tab(gid, table.name, 2, len(table.columns), 1, True))
        return requests_, created, new_tabs

    def _apply_structure(self, tabs: Sequence[OrganiserTab], seed: Mapping[str, Grid] | None,
                         outputs: Sequence[Table] = ()) -> list[str]:
        requests_, created, new_tabs = self._structure_requests(tabs, seed, outputs)
        if requests_:
            try:
                self._batch_update(requests_)
            except FAILURES as err:
                raise self._fail(err) from err
            self.tabs().update({t.title: t for t in new_tabs})
        return created

    def ensure_organiser_tabs(self, tabs: Sequence[OrganiserTab], seed: Mapping[str, Grid] | None = None) -> list[str]:
        """Add the missing organiser tabs (and freeze headers left unfrozen) in one write; none when all are there."""
        return self._apply_structure(tabs, seed)

    def init_sheet(self, outputs: Sequence[Table] = ()) -> list[str]:
        """`tdz sheet init`: every organiser tab and the given output tabs (header only), in one write."""
        return self._apply_structure(list(ORGANISER_TABS.values()), None, outputs)

    def append_organiser_rows(self, tab: OrganiserTab, rows: Sequence[Sequence[str]]) -> None:
        """Rows as text below the tab's last row, in one batchUpdate (appendCells); nothing when there are none."""
        if not rows:
            return
        self.ensure_organiser_tabs([tab])
        found = self.find(tab.name)
        assert found is not None
        request = {"appendCells": {"sheetId": found.gid, "rows": [row_data(list(r)) for r in rows],
                                   "fields": "userEnteredValue"}}
        try:
            self._batch_update([request])
        except FAILURES as err:
            raise self._fail(err) from err

    # --- reads --------------------------------------------------------------------------------------------------

    def read_organiser_tabs(self, tabs: Sequence[OrganiserTab]) -> dict[str, Grid]:
        """Every organiser tab as text (FORMATTED_VALUE), plus the stored content hash, in one batch read."""
        present = [(tab, found) for tab in tabs if (found := self.find(tab.name)) is not None]
        about = self.find(ABOUT_TAB)
        ranges = [quote(found.title) for _, found in present] + ([f"{quote(about.title)}!A:B"] if about else [])
        value_ranges: list[dict[str, Any]] = []
        if ranges:
            try:
                reply = self._http.values_batch_get(self.sheet_id, ranges, params={
                    "valueRenderOption": "FORMATTED_VALUE", "majorDimension": "ROWS"})
            except FAILURES as err:
                raise self._fail(err) from err
            value_ranges = reply.get("valueRanges", [])
        if about:
            self._remember_hash(value_ranges[-1].get("values", []) if value_ranges else [])
        else:
            self._remember_hash([])
        grids = {tab.name: [list(tab.header)] for tab in tabs}
        for (tab, _), block in zip(present, value_ranges, strict=False):
            rows = [[str(v) for v in row] for row in block.get("values", [])]
            width = max([len(tab.header), *(len(r) for r in rows)])
            grids[tab.name] = [r + [""] * (width - len(r)) for r in rows] or [list(tab.header)]
        return grids

    def _remember_hash(self, about_rows: Sequence[Sequence[Any]]) -> None:
        self._stored_hash = next((str(r[1]) for r in about_rows if len(r) > 1 and r[0] == CONTENT_HASH_KEY), None)
        self._hash_known = True

    def stored_hash(self) -> str | None:
        """The content hash of the last publish, read from the `about` tab (no extra call after a read)."""
        if not self._hash_known:
            about = self.find(ABOUT_TAB)
            rows: list[list[Any]] = []
            if about:
                try:
                    reply = self._http.values_batch_get(self.sheet_id, [f"{quote(about.title)}!A:B"],
                                                        params={"valueRenderOption": "FORMATTED_VALUE"})
                except FAILURES as err:
                    raise self._fail(err) from err
                rows = (reply.get("valueRanges") or [{}])[0].get("values", [])
            self._remember_hash(rows)
        return self._stored_hash

    # --- writes -------------------------------------------------------------------------------------------------

    def publish(self, tables: Mapping[str, pd.DataFrame], progress: PublishProgress | None = None) -> PublishReport:
        """Replace every output tab whole, atomically (`sheets_publish`); nothing when the content hash is
        unchanged."""
        refuse_clashes(tables)
        digest = content_hash(tables)
        reads, writes = self.calls.reads, self.calls.writes
        report = PublishReport(location=self.location)
        try:
            if self.stored_hash() == digest and all(self.find(n) for n in tables):
                report.tabs_unchanged = list(tables)
                return report
            grids = publish_grids(tables, digest)[0]
            self._write(self._plan(grids), progress)
        except (SheetsError, *FAILURES) as err:
            message = str(err) if isinstance(err, SheetsError) else explain(err, self.sheet_id, self.service_account)
            raise SheetPublishError(f"publish to {self.location} failed: {message}") from err
        finally:
            report.read_calls, report.write_calls = self.calls.reads - reads, self.calls.writes - writes
        self._stored_hash = digest
        report.tabs_written = list(tables)
        return report

    def _plan(self, grids: Mapping[str, list[list[Cell]]]) -> list[Planned]:
        used = {t.gid for t in self.tabs().values()}
        plan = []
        for name, grid in grids.items():
            old = self.find(name)
            width = max(1, *(len(r) for r in grid)) if grid else 1
            height = max(len(grid), (old.frozen if old else 1) + 1)
            gid = old.gid if old else new_gid(name, used)
            plan.append(Planned(grid, old, Tab(gid, old.title if old else name, height, width, max(1, old.frozen if old
                                                                                                    else 1), True)))
        return plan

    def _post(self, url: str, body: Mapping[str, Any]) -> Any:
        data = json.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()
        return self._http.request("post", url, data=data, headers={"Content-Type": "application/json"}).json()

    def _write(self, plan: list[Planned], progress: PublishProgress | None) -> None:
        """One atomic batchUpdate when it fits in `max_request_bytes`; else staged, then switched in one."""
        batch = SPREADSHEET_BATCH_UPDATE_URL % self.sheet_id
        body = one_request(plan)
        if body_size(body) <= self.max_request_bytes:
            self._post(batch, body)
            self.tabs().update({p.new.title: p.new for p in plan})
            if progress is not None:
                progress(1, 1)
            return
        leftovers = [t for t in self.tabs().values() if t.title.startswith(STAGING_PREFIX)]
        staging = staging_tabs(plan, {t.gid for t in self.tabs().values()} | {p.new.gid for p in plan})
        values = staging_values(plan, staging, self.max_request_bytes)
        steps = len(values) + 2
        self._post(batch, add_staging(staging, leftovers))
        for tab in leftovers:
            del self.tabs()[tab.title]
        for done, data in enumerate(values, start=1):
            if progress is not None:
                progress(done, steps)
            self._post(SPREADSHEET_VALUES_BATCH_UPDATE_URL % self.sheet_id, data)
        self._post(batch, switch(plan, staging))
        self.tabs().update({p.new.title: p.new for p in plan})
        if progress is not None:
            progress(steps, steps)
