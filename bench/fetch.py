"""A full-season first fetch and a nothing-new hourly re-run of the KWCC season against the local fakes.

    uv run python bench/fetch.py                 # at the default politeness (2 requests/s)
    uv run python bench/fetch.py --rate 50       # the same work without the rate limit in the way

Prints wall time, requests by endpoint (what tdz counted and what the fake servers saw), logins and archive size.
Nothing leaves 127.0.0.1: the ZwiftPower and Zwift fakes of tests/fakes serve 12 events a stage of 300 riders.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pydantic import SecretStr

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tdz.ingest.archive import Archive  # noqa: E402
from tdz.ingest.discovery import discover_events  # noqa: E402
from tdz.ingest.fetch import FetchReport, fetch_events  # noqa: E402
from tdz.ingest.sources import Sources  # noqa: E402
from tdz.season import Season  # noqa: E402
from tdz.season import load_season  # noqa: E402
from tdz.settings import Settings  # noqa: E402
from tests.fakes.zwift_server import FakeZwiftApi, zwift_event  # noqa: E402
from tests.fakes.zwiftpower_server import (  # noqa: E402
    FakeZwiftPower,
    list_row,
    sprint_row,
    view_row,
    zwift_row,
)

RESULT_ENDPOINTS = ("results_view", "results_zwift", "event_sprints", "event_results_api3")


async def discover_and_fetch(season: Season, settings: Settings, now: datetime) -> FetchReport:
    """The pipeline's discover and fetch steps over one run's sources, with no Events tab rows."""
    async with Sources.open(settings) as sources:
        discovered = await discover_events(sources.zwiftpower, season, [], now=now)
        return await fetch_events(sources, season, Archive(settings.archive_dir, season.id), discovered.suggestions,
                                  discovered=discovered, now=now)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=2.0, help="requests per second towards ZwiftPower")
    parser.add_argument("--riders", type=int, default=300, help="result rows per event")
    args = parser.parse_args()

    season = load_season(Path(__file__).resolve().parent.parent / "seasons" / "kwcc-tdz-2026.toml")
    zp, api = FakeZwiftPower().start(), FakeZwiftApi().start()
    zp.add_user("organiser@example.com", "secret")
    zid = 7000
    for stage in dict.fromkeys(r.stage for r in season.rounds):
        course = next(r for r in season.rounds if r.stage == stage)
        for i in range(12):
            zid += 1
            start = course.opens + timedelta(hours=5 + 12 * i)
            rows = [view_row(zid, 10000 + k, f"Rider {k}", k + 1, "ABCDE"[k % 5], 1800 + k)
                    for k in range(args.riders)]
            zp.results[zid], zp.slim[zid] = rows, [zwift_row(x) for x in rows]
            zp.sprints[zid] = [sprint_row(x, {"35": 60.0}) for x in rows]
            api.events[zid] = zwift_event(zid, f"Tour de Zwift Stage {stage}", start)
            zp.event_list.append(list_row(zid, f"Tour de Zwift Stage {stage}: {course.route}", start))
    folder = Path(tempfile.mkdtemp(prefix="tdz-bench-fetch-"))
    settings = Settings(_env_file=None, zwiftpower_url=zp.url, zwift_api_url=api.url, archive_dir=folder,
                        zwiftpower_username="organiser@example.com", zwiftpower_password=SecretStr("secret"),
                        requests_per_second=args.rate)
    now = datetime(2026, 2, 17, 12, tzinfo=UTC)  # the make-up week: every stage open, none final yet
    print(f"{zid - 7000} events x {args.riders} riders, {args.rate:g} requests/s, concurrency "
          f"{settings.fetch_concurrency}")
    for label, when in (("first fetch", now), ("nothing new, 1 h later", now + timedelta(hours=1))):
        started = time.perf_counter()
        report = asyncio.run(discover_and_fetch(season, settings, when))
        seen = zp.counts()
        print(f"{label}: {time.perf_counter() - started:.1f} s wall; {report.summary()}")
        print(f"  result requests: {report.result_requests} (servers saw "
              f"{sum(seen[e] for e in RESULT_ENDPOINTS)}), Zwift API: {api.counts()['zwift_event']}, "
              f"logins: {report.logins}, by endpoint: {dict(sorted(seen.items()))}")
        zp.reset_log()
        api.reset_log()
    size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 1e6
    print(f"archive: {size:.1f} MB in {folder}")


if __name__ == "__main__":
    main()
