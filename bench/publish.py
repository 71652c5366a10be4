"""The Sheets publish of both shipped demo seasons against the fake Sheets API: calls and request body sizes.

    uv run python bench/publish.py

For each season (the demo archive, scored as `tdz rescore` does): the first publish into a Sheet holding only the
organiser tabs, a re-run with nothing changed, and a publish after one DQ row is added (every tab is rewritten).
Prints every write with its kind and body size, and the reads. Nothing leaves 127.0.0.1: the fake is
tests/fakes/sheets_api.py, which refuses bodies over 10 MiB as Google does.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tdz.demo import ensure_demo  # noqa: E402
from tdz.pipeline import RunRequest, rescore_season  # noqa: E402
from tdz.publish.tables import ORGANISER_TABS  # noqa: E402
from tdz.publish.workbook.sheets import MAX_REQUEST_BYTES, SheetsWorkbook  # noqa: E402
from tdz.publish.workbook.sheets_publish import Planned, one_request  # noqa: E402
from tdz.publish.workbook.sheets_requests import Tab, body_size  # noqa: E402
from tdz.season import load_season  # noqa: E402
from tdz.settings import Settings  # noqa: E402
from tests.fakes.sheets_api import FakeSheetsAPI  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SEASONS = ("ctt-winter-2025-26", "kwcc-tdz-2026")
EMAIL = "tdz-bench@club.iam.gserviceaccount.com"


def describe(api: FakeSheetsAPI, sheet_id: str, label: str, seconds: float) -> None:
    calls = [e for e in api.calls() if e.kind != "token" and sheet_id in e.path]
    writes = [e for e in calls if e.method != "GET"]
    reads = [e for e in calls if e.method == "GET"]
    total = sum(e.size for e in writes)
    print(f"  {label}: {len(reads)} read(s), {len(writes)} write(s), {size(total)} sent ({seconds:.1f} s wall, the "
          "fake's work included)")
    for e in writes:
        names = sorted({name for r in (e.body or {}).get("requests", []) for name in r}) if e.kind == "batchUpdate" \
            else []
        print(f"    {e.kind:<19} {size(e.size):>9}  {', '.join(names)}")


def size(count: int) -> str:
    return f"{count / 1e6:.2f} MB" if count >= 100_000 else f"{count / 1e3:.1f} kB"


def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="tdz-bench-publish-"))
    with FakeSheetsAPI() as api:
        key = api.new_key(EMAIL)
        for season_id in SEASONS:
            season = load_season(ROOT / "seasons" / f"{season_id}.toml")
            demo = ensure_demo(season, folder / "archive")
            sheet_id = f"1Bench{season_id.replace('-', '')}"
            api.create_spreadsheet(sheet_id, editors=(EMAIL,))
            settings = Settings(_env_file=None, workbook="sheets", sheet_id=sheet_id, sheets_api_url=api.url,
                                google_service_account_json=json.dumps(key), archive_dir=folder / "archive",
                                out_dir=folder / "out" / season_id)
            SheetsWorkbook(settings).ensure_organiser_tabs(list(ORGANISER_TABS.values()), demo.organiser_seed)
            print(f"{season_id}:")
            request = RunRequest(season_file=str(ROOT / "seasons" / f"{season_id}.toml"))
            for label in ("first publish", "nothing changed", "after a DQ edit"):
                if label == "after a DQ edit":
                    rider = str(demo.organiser_seed["Rider registry"][1][0]) if len(
                        demo.organiser_seed["Rider registry"]) > 1 else None
                    rider = rider or _a_rider(folder, season_id)
                    api.type_into(sheet_id, "DQ", 1, 0, rider)
                    api.type_into(sheet_id, "DQ", 1, 3, "bench edit")
                api.clear_log()
                started = time.perf_counter()
                rescore_season(request, settings)
                describe(api, sheet_id, label, time.perf_counter() - started)
            cells = sum(len(api.values(sheet_id, s.title)) * s.cols for s in api.spreadsheets[sheet_id].sheets
                        if s.title not in ORGANISER_TABS)
            typed = typed_size(api, sheet_id)
            print(f"  output tabs hold about {cells:,} cells; as one request of typed cells they would be "
                  f"{size(typed)} (one request when under {MAX_REQUEST_BYTES / 1e6:.0f} MB, else staged)")


def typed_size(api: FakeSheetsAPI, sheet_id: str) -> int:
    """The body of the one-request publish of what the output tabs now hold."""
    plan = []
    for sheet in api.spreadsheets[sheet_id].sheets:
        if sheet.title in ORGANISER_TABS or sheet.title == "Sheet1":
            continue
        grid = [["" if v is None else v for v in row] for row in api.values(sheet_id, sheet.title)]
        tab = Tab(sheet.sheet_id, sheet.title, sheet.rows, sheet.cols, 1, True)
        plan.append(Planned(grid, tab, tab))
    return body_size(one_request(plan))


def _a_rider(folder: Path, season_id: str) -> str:
    manifest = json.loads((folder / "archive" / season_id / "manifest.json").read_text())
    event = next(iter(manifest["events"]))
    rows = json.loads((folder / "archive" / season_id / "events" / event / "results_view.json").read_text())
    return str(rows["data"][0]["zwid"])


if __name__ == "__main__":
    main()
