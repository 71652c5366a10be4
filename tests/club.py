"""One club's hourly world, shared by the pipeline, flow and CLI tests: a KWCC season with stage 1's event 6001 in
the Events tab and stage 2's 6101 for discovery to find, a Zwift login, a chat webhook and a local workbook."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import openpyxl

from tdz.publish.tables import ORGANISER_TABS
from tdz.publish.workbook.xlsx import XlsxWorkbook
from tests.fakes.zwift_server import FakeZwiftApi, zwift_event
from tests.fakes.zwiftpower_server import (
    FakeZwiftPower,
    list_row,
    sprint_row,
    view_row,
    zwift_row,
)

USER, PASSWORD = "organiser@kwcc.example", "Tour-de-Zwift-pa55!"
HOOK_TOKEN = "T0KWCC/B0ALERTS/hook-secret-7f3a9c"
RESULT_ENDPOINTS = ("results_view", "event_results_api3", "results_zwift", "event_sprints")
STARTS = {6001: datetime(2026, 1, 6, 17, tzinfo=timezone.utc), 6101: datetime(2026, 1, 13, 18, tzinfo=timezone.utc)}
COURSE_ROUTES = {6001: 4258943387, 6101: 1793712753}  # Zwift route ids of Turf N Surf and Hell of the North
RIDERS = [["2000", "Ann", "A1", "", "", ""], ["2001", "Bob", "B2", "", "", ""], ["2002", "Cy", "B4", "", "", ""]]


class Receiver:
    """A webhook on 127.0.0.1 that keeps every JSON body posted to it and answers `status`."""

    def __init__(self, status: int = 204) -> None:
        self.bodies: list[dict[str, object]] = []
        self.paths: list[str] = []
        self.status = status
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                receiver.bodies.append(json.loads(self.rfile.read(length)))
                receiver.paths.append(self.path)
                self.send_response(receiver.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@dataclass
class ClubServers:
    zwiftpower: FakeZwiftPower
    zwift: FakeZwiftApi
    hook: Receiver

    def reset(self) -> None:
        self.zwiftpower.reset_log()  # and its faults
        self.zwift.reset_log()
        self.hook.bodies.clear()

    def stop(self) -> None:
        self.zwiftpower.stop()
        self.zwift.stop()
        self.hook.stop()

    def result_fetches(self) -> int:
        return sum(self.zwiftpower.counts()[e] for e in RESULT_ENDPOINTS)


def start_club_servers() -> ClubServers:
    zp, api, hook = FakeZwiftPower().start(), FakeZwiftApi().start(), Receiver()
    zp.add_user(USER, PASSWORD)
    for zid, start in STARTS.items():
        rows = [view_row(zid, 2000 + i, RIDERS[i][1], i + 1, "C", 2400 + 9 * i + zid % 7) for i in range(3)]
        zp.results[zid], zp.slim[zid] = rows, [zwift_row(r) for r in rows]
        zp.sprints[zid] = [sprint_row(r, {"35": 60.0 + i}) for i, r in enumerate(rows)]
        api.events[zid] = zwift_event(zid, f"Tour de Zwift Stage {1 if zid == 6001 else 2}", start,
                                      route_id=COURSE_ROUTES[zid])
    zp.event_list = [list_row(6001, "Tour de Zwift Stage 1: Turf N Surf", STARTS[6001]),
                     list_row(6101, "Tour de Zwift Stage 2: Hell of the North", STARTS[6101]),
                     list_row(6102, "Sunday social ride", STARTS[6101])]
    return ClubServers(zp, api, hook)


def club_env(servers: ClubServers, folder: Path) -> dict[str, str]:
    """A club's worker environment: TDZ_* variables with real secrets, an empty archive, a local workbook."""
    values = {"ARCHIVE_DIR": folder / "archive", "OUT_DIR": folder / "out", "ZWIFTPOWER_URL": servers.zwiftpower.url,
              "ZWIFT_API_URL": servers.zwift.url, "ZWIFTPOWER_USERNAME": USER, "ZWIFTPOWER_PASSWORD": PASSWORD,
              "REQUESTS_PER_SECOND": 500, "REQUEST_TIMEOUT_SECONDS": 2, "MAX_RETRIES": 0,
              "WEBHOOK_URL": servers.hook.url(f"/services/{HOOK_TOKEN}")}
    return {f"TDZ_{name}": str(value) for name, value in values.items()}


def club_workbook(folder: Path) -> Path:
    """The organiser's workbook: event 6001 confirmed for stage 1, three registered riders."""
    workbook = XlsxWorkbook(folder / "out" / "kwcc-tdz-2026.xlsx")
    workbook.ensure_organiser_tabs(list(ORGANISER_TABS.values()), {
        "Events": [list(ORGANISER_TABS["Events"].header), ["6001", "1", "confirmed", ""]],
        "Rider registry": [list(ORGANISER_TABS["Rider registry"].header), *RIDERS]})
    return workbook.path


def tab(path: Path, name: str) -> list[dict[str, object]]:
    book = openpyxl.load_workbook(path, read_only=True)
    try:
        rows = [list(r) for r in book[name].iter_rows(values_only=True)]
    finally:
        book.close()
    return [dict(zip(rows[0], r)) for r in rows[1:]]
