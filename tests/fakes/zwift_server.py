"""A fake of Zwift's public events API (`/api/public/events/<id>`, no login)."""

from __future__ import annotations

from datetime import datetime

from tests.fakes import Answer, FakeServer, html_answer, json_answer


def zwift_event(event_id: int, name: str, start: datetime, route_id: int = 3_368_626_651, pens: str = "ABCD",
                event_type: str = "GROUP_RIDE", pen_routes: dict[str, tuple[int, int, float]] | None = None) -> dict:
    """An event as the API answers it; `routeId` above 2^31 as real ones often are. Every pen rides `route_id`
    (one lap, distance unknown) unless `pen_routes` gives a pen its own (routeId, laps, distanceInMeters)."""
    stamp = start.strftime("%Y-%m-%dT%H:%M:%S.000+0000")
    own = pen_routes or {}
    return {
        "id": event_id, "name": name, "eventStart": stamp, "routeId": route_id, "laps": 1,
        "distanceInMeters": 24_700.0, "eventType": event_type, "tags": ["ttbikesdraft"],
        "eventSubgroups": [
            {"id": event_id * 10 + i, "subgroupLabel": pen, "eventSubgroupStart": stamp,
             "routeId": own.get(pen, (route_id, 1, 0.0))[0], "laps": own.get(pen, (route_id, 1, 0.0))[1],
             "distanceInMeters": own.get(pen, (route_id, 1, 0.0))[2]}
            for i, pen in enumerate(pens)
        ],
    }


class FakeZwiftApi(FakeServer):
    def __init__(self) -> None:
        super().__init__()
        self.events: dict[int, dict] = {}

    def route(self, method: str, path: str, query: dict[str, str], cookies: dict[str, str],
              form: dict[str, str]) -> tuple[str, Answer]:
        prefix = "/api/public/events/"
        if method == "GET" and path.startswith(prefix) and path[len(prefix):].isdigit():
            event = self.events.get(int(path[len(prefix):]))
            if event is None:
                return "zwift_event", Answer(404, b'{"message":"Event not found"}')
            return "zwift_event", json_answer(event)
        return "other", html_answer("<html>not found</html>", status=404)
