"""Plan → fetch → archive against fake ZwiftPower and Zwift servers: incremental, polite, nothing lost."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from pydantic import SecretStr

from tdz.events import EventListing
from tdz.ingest.archive import Archive
from tdz.ingest.discovery import Discovered, discover_events
from tdz.ingest.fetch import FetchReport, fetch_events
from tdz.ingest.sources import RetryPolicy, Sources, ZwiftPowerLoginError
from tdz.season import Season, load_season
from tdz.settings import Settings
from tests.fakes.zwift_server import FakeZwiftApi, zwift_event
from tests.fakes.zwiftpower_server import (
    FakeZwiftPower,
    list_row,
    sprint_row,
    view_row,
    zwift_row,
)

USER, PASSWORD = "organiser@example.com", "tour-de-zwift-2026"
SEASON_FILE = Path(__file__).resolve().parent.parent / "seasons" / "kwcc-tdz-2026.toml"
NOW = datetime(2026, 1, 13, 12, tzinfo=timezone.utc)  # stage 1 closed (final 48 h later), stage 2 open
FAST = RetryPolicy(max_retries=2, backoff_base_seconds=0.001, backoff_max_seconds=1.0)
RESULT_ENDPOINTS = ("results_view", "event_results_api3", "results_zwift", "event_sprints")

ROWS = [
    EventListing(event_id=6001, round="1", round_ids=("1",)),
    EventListing(event_id=6002, round="1", round_ids=("1",)),
    EventListing(event_id=6003, round="1", round_ids=("1",), status="excluded"),
    EventListing(event_id=6009, round="4", round_ids=("4",)),
]


@pytest.fixture(scope="module")
def season() -> Season:
    return load_season(SEASON_FILE)


@pytest.fixture(scope="module")
def servers() -> tuple[FakeZwiftPower, FakeZwiftApi]:
    zp, api = FakeZwiftPower().start(), FakeZwiftApi().start()
    zp.add_user(USER, PASSWORD)
    yield zp, api
    zp.stop()
    api.stop()


@pytest.fixture
def zp(servers: tuple[FakeZwiftPower, FakeZwiftApi]) -> FakeZwiftPower:
    """Stage 1 has two listed events (and one excluded); stage 2 lists none, so discovery finds 6101."""
    zp, api = servers
    zp.reset_log()
    api.reset_log()
    zp.expire_sessions()
    zp.view_missing.clear()
    zp.results.clear()
    zp.slim.clear()
    zp.sprints.clear()
    starts = {6001: datetime(2026, 1, 6, 17, tzinfo=timezone.utc), 6002: datetime(2026, 1, 8, 7, tzinfo=timezone.utc),
              6003: datetime(2026, 1, 9, 7, tzinfo=timezone.utc), 6101: datetime(2026, 1, 12, 18, tzinfo=timezone.utc)}
    for zid, start in starts.items():
        rows = [view_row(zid, 2000 + i, f"Rider {i}", i + 1, "C", 2000 + 7 * i) for i in range(3)]
        zp.results[zid] = rows
        zp.slim[zid] = [zwift_row(r) for r in rows]
        zp.sprints[zid] = [sprint_row(r, {"35": 60.0 + i}) for i, r in enumerate(rows)]
        api.events[zid] = zwift_event(zid, f"Tour de Zwift: event {zid}", start)
    zp.event_list = [
        list_row(6001, "Tour de Zwift Stage 1: Turf N Surf", starts[6001]),
        list_row(6002, "Tour de Zwift Stage 1: Turf N Surf", starts[6002]),
        list_row(6101, "Tour de Zwift Stage 2: Hell of the North", starts[6101]),
        list_row(6102, "Tour de Zwift Stage 2 Run", starts[6101]),
        list_row(6103, "Sunday social ride", starts[6101]),
    ]
    return zp


@pytest.fixture
def api(servers: tuple[FakeZwiftPower, FakeZwiftApi]) -> FakeZwiftApi:
    return servers[1]


def settings_for(zp: FakeZwiftPower, api: FakeZwiftApi, folder: Path, **overrides: object) -> Settings:
    values: dict[str, object] = dict(
        zwiftpower_url=zp.url, zwift_api_url=api.url, zwiftpower_username=USER,
        zwiftpower_password=SecretStr(PASSWORD), archive_dir=folder, requests_per_second=500,
        request_timeout_seconds=1, max_retries=2, fetch_concurrency=4,
    )
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


async def _discover_and_fetch(season: Season, settings: Settings, rows: list[EventListing], now: datetime,
                              **options: object) -> tuple[Discovered, FetchReport]:
    """Discovery then fetching over one run's sources, as the pipeline's `discover` and `fetch` steps run them."""
    async with Sources.open(settings, FAST) as sources:
        discovered = Discovered()
        if options.get("event_id") is None:
            discovered = await discover_events(sources.zwiftpower, season, rows, now=now,
                                               round_ids=options.get("round_ids", ()))  # type: ignore[arg-type]
        report = await fetch_events(sources, season, Archive(settings.archive_dir, season.id),
                                    [*rows, *discovered.suggestions], discovered=discovered, now=now,
                                    **options)  # type: ignore[arg-type]
    return discovered, report


def discover_and_fetch(season: Season, settings: Settings, now: datetime = NOW, rows: list[EventListing] = ROWS,
                       **options: object) -> tuple[Discovered, FetchReport]:
    return asyncio.run(_discover_and_fetch(season, settings, rows, now, **options))


def fetch(season: Season, settings: Settings, now: datetime = NOW, **options: object) -> FetchReport:
    return discover_and_fetch(season, settings, now, **options)[1]


def stored_riders(archive: Archive, event_id: int, kind: str = "results_view") -> list[int]:
    return [int(r["zwid"]) for r in json.loads(archive.read(event_id, kind))["data"]]  # type: ignore[arg-type]


def result_requests(zp: FakeZwiftPower) -> int:
    counts = zp.counts()
    return sum(counts[e] for e in RESULT_ENDPOINTS)


def test_first_run_fetches_all_then_a_rerun_fetches_nothing(
    season: Season, zp: FakeZwiftPower, api: FakeZwiftApi, tmp_path: Path
) -> None:
    settings = settings_for(zp, api, tmp_path)
    discovered, first = discover_and_fetch(season, settings)
    assert first.fetched == [6001, 6002, 6101]
    assert [(s.event_id, s.round_ids, s.status) for s in discovered.suggestions] == [(6101, ("2",), "suggested")]
    assert discovered.suggestions[0].note.startswith("discovery score 10")
    assert first.skipped[6003].startswith("excluded") and first.skipped[6009] == "round not open yet"
    assert first.failed == [] and first.logins == 1 and zp.logins() == 1

    archive = Archive(tmp_path, season.id)
    for zid in (6001, 6002, 6101):
        assert stored_riders(archive, zid) == [r["zwid"] for r in zp.results[zid]]
        assert stored_riders(archive, zid, "results_zwift") == [int(r["zwid"]) for r in zp.slim[zid]]
        assert stored_riders(archive, zid, "event_sprints") == [r["zwid"] for r in zp.sprints[zid]]
        assert json.loads(archive.read(zid, "zwift_event"))["id"] == zid  # type: ignore[arg-type]
    assert not any("6003" in path or "6009" in path for _, path, _ in zp.log + api.log)
    server = zp.counts() + api.counts()
    for endpoint in (*RESULT_ENDPOINTS, "event_list", "zwift_event"):
        assert first.requests.get(endpoint, 0) == server[endpoint]
    assert first.result_requests == 9

    zp.reset_log()
    api.reset_log()
    hash_before = archive.input_hash()
    again = fetch(season, settings, NOW + timedelta(hours=1))
    assert again.result_requests == 0 and result_requests(zp) == 0 and api.counts()["zwift_event"] == 0
    assert again.logins == 0 and zp.logins() == 0  # the saved session was enough
    assert zp.counts()["event_list"] == 1
    assert again.fetched == [] and {again.skipped[z] for z in (6001, 6002, 6101)} == {"fresh"}
    assert Archive(tmp_path, season.id).input_hash() == hash_before
    assert "0 changed" in again.summary() and "| 6101 | 2 |" in discovered.to_markdown()


def test_suggestions_wait_for_the_organiser_when_the_season_says_so(
    season: Season, zp: FakeZwiftPower, api: FakeZwiftApi, tmp_path: Path
) -> None:
    assert season.discovery is not None
    waits = season.model_copy(update={"discovery": season.discovery.model_copy(update={"count_suggested": False})})
    typo = EventListing(event_id=6010, round="99", round_ids=("99",))
    discovered, report = discover_and_fetch(waits, settings_for(zp, api, tmp_path), rows=[*ROWS, typo])
    assert report.fetched == [6001, 6002]
    assert report.skipped[6010] == "round 99 is not in the season file"
    assert report.skipped[6101] == "suggested by discovery, not confirmed yet"
    assert [s.event_id for s in discovered.suggestions] == [6101]
    assert not any("6101" in path for _, path, _ in zp.log)


def test_provisional_events_are_refetched_on_a_list_change_or_age_and_final_ones_never(
    season: Season, zp: FakeZwiftPower, api: FakeZwiftApi, tmp_path: Path
) -> None:
    settings = settings_for(zp, api, tmp_path)
    fetch(season, settings)
    zp.event_list[1]["r"] = 11  # ZwiftPower rewrote 6002's list entry
    zp.reset_log()
    changed_entry = fetch(season, settings, NOW + timedelta(hours=1))
    assert changed_entry.unchanged == [6002] and changed_entry.fetched == []
    assert zp.counts()["results_view"] == 1

    zp.reset_log()
    old = fetch(season, settings, NOW + timedelta(hours=13), refetch_after=timedelta(hours=12))
    assert old.unchanged == [6001, 6002, 6101] and zp.counts()["results_view"] == 3

    # Without a make-up week (which keeps every stage open until it ends), stage 1 is final before stage 2.
    no_makeup = season.model_copy(update={"season": season.season.model_copy(update={"makeup": None})})
    final_time = season.round("1").closes + timedelta(hours=season.season.settle_hours)
    assert "1" in no_makeup.final_round_ids(final_time) and "2" not in no_makeup.final_round_ids(final_time)
    assert not season.final_round_ids(final_time)
    zp.reset_log()
    later = fetch(no_makeup, settings, final_time, refetch_after=timedelta(hours=12))
    assert later.skipped[6001] == later.skipped[6002] == "final"
    assert later.unchanged == [6101] and zp.counts()["results_view"] == 1

    zp.reset_log()
    finality_from_scoring = fetch(season, settings, NOW + timedelta(hours=14), is_final=lambda r: True,
                                  refetch_after=timedelta(hours=1))
    assert finality_from_scoring.result_requests == 0


def test_a_late_zwiftpower_dq_replaces_the_event_whole(
    season: Season, zp: FakeZwiftPower, api: FakeZwiftApi, tmp_path: Path
) -> None:
    settings = settings_for(zp, api, tmp_path)
    fetch(season, settings)
    archive = Archive(tmp_path, season.id)
    assert stored_riders(archive, 6001) == [2000, 2001, 2002]

    dq = zp.results[6001].pop(1)
    zp.slim[6001][1]["dq_cat"] = "ZP"
    report = fetch(season, settings, NOW + timedelta(hours=13))
    assert 6001 in report.fetched
    archive = Archive(tmp_path, season.id)
    assert stored_riders(archive, 6001) == [2000, 2002]
    slim = json.loads(archive.read(6001, "results_zwift"))["data"]  # type: ignore[arg-type]
    assert [r["dq_cat"] for r in slim if r["zwid"] == str(dq["zwid"])] == ["ZP"]


def test_a_truncated_body_never_replaces_a_good_payload(
    season: Season, zp: FakeZwiftPower, api: FakeZwiftApi, tmp_path: Path
) -> None:
    settings = settings_for(zp, api, tmp_path)
    fetch(season, settings)
    archive = Archive(tmp_path, season.id)
    before = archive.read(6001, "results_view"), archive.record(6001, "results_view")
    zp.results[6001].pop()
    zp.add_faults("/6001_view.json", "truncated")

    report = fetch(season, settings, NOW + timedelta(hours=1), event_id=6001)
    assert report.mode == "event 6001" and report.fetched == []
    assert [(f.event_id, f.rounds) for f in report.failed] == [(6001, ["1"])]
    assert "not JSON" in report.failed[0].error and "stored payloads kept" in report.failed[0].error
    assert [p.event_id for p in report.problems] == [6001]
    archive = Archive(tmp_path, season.id)
    assert (archive.read(6001, "results_view"), archive.record(6001, "results_view")) == before


def test_an_event_that_keeps_failing_is_reported_and_the_others_go_on(
    season: Season, zp: FakeZwiftPower, api: FakeZwiftApi, tmp_path: Path
) -> None:
    settings = settings_for(zp, api, tmp_path)
    zp.add_faults("/6002_view.json", "500", "500", "500")
    zp.add_faults("/6001_view.json", "429:0.05")
    zp.add_faults("/6101_zwift.json", "sleep:0.5")
    report = fetch(season, settings_for(zp, api, tmp_path, request_timeout_seconds=0.25))
    assert report.fetched == [6001, 6101]
    assert [(f.event_id, f.error) for f in report.failed] == [
        (6002, "HTTP 500 (after 3 attempts) (/cache3/results/6002_view.json)")
    ]
    assert report.requests["results_view"] == 3 + 2 + 1 and report.requests["results_zwift"] == 2 + 1
    assert Archive(tmp_path, season.id).record(6002, "results_view") is None

    fetch(season, settings, NOW + timedelta(hours=13))
    zp.add_faults("/6002_view.json", "500", "500", "500")
    retry_failed = fetch(season, settings, NOW + timedelta(hours=26))
    assert [f.event_id for f in retry_failed.failed] == [6002]
    assert stored_riders(Archive(tmp_path, season.id), 6002) == [2000, 2001, 2002]  # nothing archived is lost


def test_an_expired_session_costs_one_login_per_run(
    season: Season, zp: FakeZwiftPower, api: FakeZwiftApi, tmp_path: Path
) -> None:
    settings = settings_for(zp, api, tmp_path)
    fetch(season, settings)
    zp.expire_sessions()
    zp.reset_log()
    report = fetch(season, settings, NOW + timedelta(hours=13))
    assert report.logins == 1 and zp.logins() == 1
    assert report.unchanged == [6001, 6002, 6101] and report.failed == []


def test_wrong_password_stops_the_run_with_one_attempt(
    season: Season, zp: FakeZwiftPower, api: FakeZwiftApi, tmp_path: Path
) -> None:
    settings = settings_for(zp, api, tmp_path, zwiftpower_password=SecretStr("guess"))
    with pytest.raises(ZwiftPowerLoginError, match=f"^ZwiftPower login failed for {USER}: Invalid"):
        fetch(season, settings)
    assert zp.sign_in.counts()["sso_post"] == 1
    zp.reset_log()
    with pytest.raises(ZwiftPowerLoginError) as refused:
        fetch(season, settings)
    assert "guess" not in str(refused.value)
    assert result_requests(zp) == 0 and zp.sign_in.counts()["sso_post"] == 1
    assert not Archive(tmp_path, season.id).exists()


def test_one_round_mode_and_empty_answers(
    season: Season, zp: FakeZwiftPower, api: FakeZwiftApi, tmp_path: Path
) -> None:
    settings = settings_for(zp, api, tmp_path)
    only_stage_2 = fetch(season, settings, round_ids=["2"])
    assert only_stage_2.mode == "round 2" and only_stage_2.fetched == [6101]
    assert only_stage_2.requests["results_view"] == 1

    fetch(season, settings)
    zp.results[6001] = []
    report = fetch(season, settings, force=True)
    assert report.skipped[6001] == "empty answer"
    assert report.requests["event_results_api3"] == 1  # the empty cache file made it ask api3 too
    assert "stored results are kept" in str(report.problems[0])
    assert stored_riders(Archive(tmp_path, season.id), 6001) == [2000, 2001, 2002]


def test_missing_zwift_details_do_not_block_the_results(
    season: Season, zp: FakeZwiftPower, api: FakeZwiftApi, tmp_path: Path
) -> None:
    settings = settings_for(zp, api, tmp_path)
    saved = api.events.pop(6101)
    report = fetch(season, settings)
    assert 6101 in report.fetched
    assert [(p.source, p.event_id) for p in report.problems] == [("zwift", 6101)]
    api.events[6101] = saved
    zp.reset_log()
    later = fetch(season, settings, NOW + timedelta(hours=1))
    assert later.fetched == [6101] and later.result_requests == 0 and later.requests["zwift_event"] == 1


def test_an_empty_answer_never_wipes_stored_dqs_or_segment_times(
    season: Season, zp: FakeZwiftPower, api: FakeZwiftApi, tmp_path: Path
) -> None:
    settings = settings_for(zp, api, tmp_path)
    fetch(season, settings)
    archive = Archive(tmp_path, season.id)
    kept = {kind: archive.read(6001, kind) for kind in ("results_zwift", "event_sprints")}
    zp.slim[6001][1]["dq_cat"] = "ZP"
    dq = zp.results[6001].pop(1)
    zp.sprints[6001] = []
    report = fetch(season, settings, force=True)
    assert 6001 in report.fetched
    archive = Archive(tmp_path, season.id)
    assert stored_riders(archive, 6001) == [2000, 2002]  # the results and the DQ still replace the event
    slim = json.loads(archive.read(6001, "results_zwift"))["data"]  # type: ignore[arg-type]
    assert [r["dq_cat"] for r in slim if r["zwid"] == str(dq["zwid"])] == ["ZP"]
    assert archive.read(6001, "event_sprints") == kept["event_sprints"]
    assert [p.why for p in report.problems if p.event_id == 6001] == [
        "ZwiftPower answered no rows for event_sprints; the stored segment times are kept"
    ]

    zp.slim[6001] = []
    zp.sprints[6001] = [sprint_row(r, {"35": 61.5}) for r in zp.results[6001]]
    again = fetch(season, settings, force=True)
    archive = Archive(tmp_path, season.id)
    assert json.loads(archive.read(6001, "results_zwift"))["data"] == slim  # type: ignore[arg-type]
    assert stored_riders(archive, 6001, "event_sprints") == [2000, 2002]
    assert ["results_zwift" in p.why and "DQs" in p.why for p in again.problems if p.event_id == 6001] == [True]

    zp.sprints[6002] = []  # with nothing stored before, an empty answer is stored as it is
    fresh = fetch(season, settings_for(zp, api, tmp_path / "fresh"))
    assert 6002 in fresh.fetched and not any(p.event_id == 6002 for p in fresh.problems)
    assert stored_riders(Archive(tmp_path / "fresh", season.id), 6002, "event_sprints") == []


def test_a_missing_or_broken_zwift_json_is_asked_for_again_with_backoff(
    season: Season, zp: FakeZwiftPower, api: FakeZwiftApi, tmp_path: Path
) -> None:
    settings = settings_for(zp, api, tmp_path)
    slim = zp.slim.pop(6001)  # ZwiftPower has no _zwift.json for the event yet (404)
    zp.add_faults("/6002_zwift.json", "truncated")  # and half a body for another
    first = fetch(season, settings)
    archive = Archive(tmp_path, season.id)
    assert {6001, 6002} <= set(first.fetched)
    assert archive.read(6001, "results_zwift") is None and archive.read(6001, "results_view") is not None
    assert archive.read(6002, "results_zwift") is None and archive.read(6002, "event_sprints") is not None
    assert [p.why for p in first.problems if p.event_id == 6002][0].startswith("results_zwift not stored: ")

    zp.reset_log()
    soon = fetch(season, settings, NOW + timedelta(minutes=30))
    assert zp.counts()["results_zwift"] == 0 and soon.skipped[6001].startswith("missing results_zwift; asked 1")
    zp.slim[6001] = slim
    later = fetch(season, settings, NOW + timedelta(hours=1))
    assert zp.counts()["results_zwift"] == 2 and zp.counts()["results_view"] == 0  # only what was missing
    assert 6001 in later.fetched and 6002 in later.fetched
    assert stored_riders(Archive(tmp_path, season.id), 6001, "results_zwift") == [int(r["zwid"]) for r in slim]


def test_missing_zwift_details_are_asked_for_hourly_then_daily_not_every_run(
    season: Season, zp: FakeZwiftPower, api: FakeZwiftApi, tmp_path: Path
) -> None:
    settings = settings_for(zp, api, tmp_path)
    saved = api.events.pop(6101)
    try:
        fetch(season, settings)
        asked = [0]
        for hours in (0.5, 1, 1.5, 3, 7, 15, 31, 55, 79):  # misses at 0, 1, 3, 7, 15, 31, 55, 79 h
            api.reset_log()
            fetch(season, settings, NOW + timedelta(hours=hours))
            asked.append(api.counts()["zwift_event"])
        assert asked == [0, 0, 1, 0, 1, 1, 1, 1, 1, 1]  # the wait doubles from an hour, then holds at a day
    finally:
        api.events[6101] = saved
