"""Both workbook backends behind one protocol: the same scored season lands as the same cells in each."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tdz.ingest.archive import Archive
from tdz.ingest.parse import parse_archive
from tdz.publish.tables import EVENTS_TAB, ORGANISER_TABS
from tdz.publish.workbook import Workbook
from tdz.publish.workbook.sheets import SheetsWorkbook
from tdz.publish.workbook.xlsx import XlsxWorkbook
from tdz.retry import RetryPolicy
from tdz.scoring import score_season
from tdz.scoring.organiser import read_overrides
from tdz.season import Season
from tdz.settings import Settings
from tests.fakes.sheets_api import FakeSheetsAPI
from tests.wire import stored

EMAIL = "tdz@club.iam.gserviceaccount.com"
ORGANISER = list(ORGANISER_TABS.values())


@pytest.fixture(scope="module")
def api() -> Iterator[FakeSheetsAPI]:
    with FakeSheetsAPI() as fake:
        yield fake


@pytest.fixture()
def backends(api: FakeSheetsAPI, tmp_path: Path) -> tuple[XlsxWorkbook, SheetsWorkbook, str]:
    sheet_id = "1backends" + tmp_path.name.replace("_", "")
    api.create_spreadsheet(sheet_id, editors=(EMAIL,))
    settings = Settings(_env_file=None, workbook="sheets", sheet_id=sheet_id, sheets_api_url=api.url,
                        google_service_account_json=json.dumps(api.new_key(EMAIL)))
    fast = RetryPolicy(max_retries=2, backoff_base_seconds=0.001, backoff_max_seconds=0.01)
    sheets = SheetsWorkbook(settings, retry=fast)
    return XlsxWorkbook(tmp_path / "season.xlsx"), sheets, sheet_id


def plain(value: object) -> object:
    """A cell as a comparable value: the Sheets API keeps every number as a double."""
    if value is None:
        return ""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return value


def test_the_same_season_lands_as_the_same_cells_in_both_backends(
    backends: tuple[XlsxWorkbook, SheetsWorkbook, str], api: FakeSheetsAPI, demo_archive_dir: Path, kwcc: Season
) -> None:
    xlsx, sheets, sheet_id = backends
    archive = Archive(demo_archive_dir, kwcc.id)
    parsed = parse_archive(archive)
    for workbook in (xlsx, sheets):
        workbook.ensure_organiser_tabs(ORGANISER)
    grids = xlsx.read_organiser_tabs(ORGANISER)
    assert sheets.read_organiser_tabs(ORGANISER) == grids
    overrides, problems = read_overrides(kwcc, grids, set(parsed.efforts["rider_id"]))
    scored = score_season(kwcc, parsed, overrides, now=datetime(2026, 9, 1, tzinfo=UTC), problems=problems)
    for workbook in (xlsx, sheets):
        workbook.publish(scored.tables)
    for name in scored.tables:
        in_xlsx = [[plain(v) for v in row] for row in stored(xlsx.path, name)]
        in_sheet = [[plain(v) for v in row] for row in api.values(sheet_id, name)]
        width = len(in_xlsx[0])
        assert [r + [""] * (width - len(r)) for r in in_sheet] == in_xlsx, name


def test_appended_event_rows_read_back_the_same_in_both_backends(
    backends: tuple[XlsxWorkbook, SheetsWorkbook, str],
) -> None:
    xlsx, sheets, _ = backends
    seed = {EVENTS_TAB.name: [EVENTS_TAB.header, ["5290001", "1", "confirmed", "typed by the organiser"]]}
    suggestions = [["5290002", "3", "suggested", "discovery score 10"], ["007", "2", "suggested", "+1"]]
    read: list[dict] = []
    for workbook in (xlsx, sheets):
        wb: Workbook = workbook
        wb.ensure_organiser_tabs(ORGANISER, seed)
        wb.append_organiser_rows(EVENTS_TAB, suggestions)
        read.append(wb.read_organiser_tabs(ORGANISER))
    assert read[0] == read[1]
    assert read[0][EVENTS_TAB.name] == [EVENTS_TAB.header, seed[EVENTS_TAB.name][1], *suggestions]


def test_non_finite_numbers_are_empty_cells_in_both_backends(
    backends: tuple[XlsxWorkbook, SheetsWorkbook, str], api: FakeSheetsAPI
) -> None:
    xlsx, sheets, sheet_id = backends
    values = [1712.345, float("nan"), float("inf"), -float("inf"), np.float64("inf"), 60.0]
    tables = {"stage_1": pd.DataFrame({"rider": [f"r{i}" for i in range(len(values))], "seconds": values})}
    for workbook in (xlsx, sheets):
        workbook.publish(tables)
    in_xlsx = [[plain(v) for v in row] for row in stored(xlsx.path, "stage_1")]
    in_sheet = [[plain(v) for v in row] for row in api.values(sheet_id, "stage_1")]
    assert [r + [""] * (2 - len(r)) for r in in_sheet] == in_xlsx
    assert [row[1] for row in in_xlsx[1:]] == [v if math.isfinite(v) else "" for v in values]
