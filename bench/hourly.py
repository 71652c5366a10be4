"""The hourly run with nothing new: how long it takes under a real Prefect server, and where the time goes.

    uv run python bench/hourly.py [--season seasons/kwcc-tdz-2026.toml] [--runs 3] [--api-url http://…/api]

Starts a Prefect server on a free port (own PREFECT_HOME) unless `--api-url` names one, the fake ZwiftPower,
Zwift and Google Sheets servers of the tests, and a fully archived demo season. One warm-up `update-season` run
publishes the Sheet; the timed runs then find nothing new. Target: under 10 s wall, zero result fetches, zero Sheet
writes. Prints the wall time, the calls to each outside system, and each task's share of the run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RESULT_ENDPOINTS = ("results_view", "event_results_api3", "results_zwift", "event_sprints")


def start_server(home: Path) -> tuple[subprocess.Popen[bytes], str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    api = f"http://127.0.0.1:{port}/api"
    env = dict(os.environ, PREFECT_HOME=str(home), PREFECT_API_URL=api, PREFECT_SERVER_ANALYTICS_ENABLED="false",
               PREFECT_SERVER_SERVICES_SCHEDULER_ENABLED="false", PREFECT_SERVER_UI_ENABLED="false")
    proc = subprocess.Popen([sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port",
                             str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    started = time.monotonic()
    while time.monotonic() - started < 120:
        try:
            if httpx.get(f"{api}/health", timeout=2).status_code == 200:
                print(f"prefect server up in {time.monotonic() - started:.1f} s at {api}")
                return proc, api
        except httpx.HTTPError:
            time.sleep(0.5)
    os.killpg(proc.pid, signal.SIGTERM)
    raise SystemExit("prefect server did not start within 120 s")


def task_times(api: str, flow_run_id: str) -> list[tuple[str, float]]:
    runs = httpx.post(f"{api}/task_runs/filter", timeout=10, json={
        "flow_runs": {"id": {"any_": [flow_run_id]}}, "limit": 200, "offset": 0, "sort": "EXPECTED_START_TIME_ASC"})
    return [(r["name"].rsplit("-", 1)[0], float(r["total_run_time"])) for r in runs.json()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--season", default="seasons/kwcc-tdz-2026.toml")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--api-url", default=None)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="tdz-bench-"))
    server = None
    api = args.api_url
    if api is None:
        server, api = start_server(work / "prefect-home")
    os.environ.update(PREFECT_API_URL=api, PREFECT_SERVER_ANALYTICS_ENABLED="false")
    try:
        bench(api, ROOT / args.season, args.runs, work)
    finally:
        if server is not None:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)


def bench(api: str, season_file: Path, runs: int, work: Path) -> None:
    from flows.update_season import update_season
    from tdz.demo import ensure_demo
    from tdz.publish.tables import ORGANISER_TABS
    from tdz.publish.workbook.sheets import SheetsWorkbook
    from tdz.season import load_season
    from tdz.settings import Settings
    from tests.fakes.sheets_api import FakeSheetsAPI
    from tests.fakes.zwift_server import FakeZwiftApi
    from tests.fakes.zwiftpower_server import FakeZwiftPower

    season = load_season(season_file)
    zp, zwift = FakeZwiftPower().start(), FakeZwiftApi().start()
    zp.add_user("bench@club.example", "bench-password")
    with FakeSheetsAPI() as sheets:
        key = sheets.new_key("tdz@club.iam.gserviceaccount.com")
        sheets.create_spreadsheet("1Bench", editors=("tdz@club.iam.gserviceaccount.com",))
        env = {"ARCHIVE_DIR": work / "archive", "OUT_DIR": work / "out", "WORKBOOK": "sheets", "SHEET_ID": "1Bench",
               "SHEETS_API_URL": sheets.url, "GOOGLE_SERVICE_ACCOUNT_JSON": json.dumps(key),
               "ZWIFTPOWER_URL": zp.url, "ZWIFT_API_URL": zwift.url, "ZWIFTPOWER_USERNAME": "bench@club.example",
               "ZWIFTPOWER_PASSWORD": "bench-password"}
        os.environ.update({f"TDZ_{k}": str(v) for k, v in env.items()})
        demo = ensure_demo(season, work / "archive")
        SheetsWorkbook(Settings()).ensure_organiser_tabs(list(ORGANISER_TABS.values()), demo.organiser_seed)
        parameters = {"run": {"season_file": str(season_file)}, "fetch_retries": 0}

        started = time.perf_counter()
        asyncio.run(update_season(**parameters))
        print(f"warm-up run (first publish, {demo.events} archived events): {time.perf_counter() - started:.2f} s")
        for n in range(1, runs + 1):
            zp.reset_log()
            sheets.clear_log()
            started = time.perf_counter()
            state = asyncio.run(update_season(**parameters, return_state=True))
            wall = time.perf_counter() - started
            writes = len(sheets.calls("batchUpdate", "values.batchUpdate", "values.update"))
            reads = len(sheets.calls("get", "values.batchGet"))
            fetches = sum(zp.counts()[e] for e in RESULT_ENDPOINTS)
            verdict = "OK" if wall < 10 and fetches == 0 and writes == 0 else "MISSED"
            print(f"\nrun {n}: {state.name}, {wall:.2f} s wall [{verdict}: target < 10 s, 0 fetches, 0 writes]")
            print(f"  ZwiftPower: {sum(zp.counts().values())} requests ({fetches} result fetches, "
                  f"{zp.logins()} logins); Sheets: {reads} reads, {writes} writes")
            times = task_times(api, str(state.state_details.flow_run_id))
            in_tasks = sum(t for _, t in times)
            for name, seconds in times:
                print(f"  {name:<22} {seconds:6.2f} s  {100 * seconds / wall:4.0f} %")
            print(f"  {'flow + server round trips':<22} {wall - in_tasks:6.2f} s  {100 * (wall - in_tasks) / wall:4.0f} %")
    zp.stop()
    zwift.stop()
    from prefect.logging.handlers import APILogHandler

    APILogHandler.flush()


if __name__ == "__main__":
    main()
