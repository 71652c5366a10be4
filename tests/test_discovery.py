"""Discovery and the Events tab: pure functions, given the KWCC season file's rules."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from tdz.ingest.discovery import (
    ListedEvent,
    discover,
    parse_event_list,
    score_candidate,
)
from tdz.season import Season, load_season

SEASONS = Path(__file__).resolve().parent.parent / "seasons"


@pytest.fixture(scope="module")
def kwcc() -> Season:
    return load_season(SEASONS / "kwcc-tdz-2026.toml")


def at(day: int, hour: int = 18) -> datetime:
    return datetime(2026, 1, day, hour, tzinfo=timezone.utc)


def listed(event_id: int, title: str, start: datetime | None) -> ListedEvent:
    return ListedEvent(event_id=event_id, title=title, start=start)


@pytest.mark.parametrize(
    ("title", "start", "expected"),
    [
        # the rules: +2 series word, +5 route, +3 in window, -5 outside, -2 "advanced", -10 "run"
        ("Tour de Zwift 2026 | Stage 1: Turf N Surf", at(6), 2 + 5 + 3),
        ("TOUR DE ZWIFT stage 1 - turf-n-surf", at(6), 2 + 5 + 3),
        ("Tour de Zwift Stage 1 (Advanced)", at(6), 2 + 3 - 2),
        ("Tour de Zwift Stage 1 Run", at(6), 2 + 3 - 10),
        ("Stage 1 Turf N Surf group ride", at(6), 5 + 3),
        ("Tour de Zwift Stage 1: Turf N Surf", at(2), 2 + 5 - 5),
        ("Tour de Zwift Stage 1: Turf N Surf", None, 2 + 5 - 5),
    ],
)
def test_scores_follow_the_season_rules(kwcc: Season, title: str, start: datetime | None, expected: float) -> None:
    stage_1 = kwcc.round("1")
    scored = score_candidate(listed(1, title, start), stage_1, kwcc)
    assert scored is not None
    assert scored[0] == expected
    assert scored[1].startswith(f"discovery score {expected:g} (")


@pytest.mark.parametrize("title", ["Tour de Zwift Stage 11: Turf N Surf", "Tour de Zwift Stage 2", "Turf N Surf"])
def test_a_title_not_naming_the_stage_is_no_candidate(kwcc: Season, title: str) -> None:
    assert score_candidate(listed(1, title, at(6)), kwcc.round("1"), kwcc) is None


def test_makeup_week_counts_as_in_window(kwcc: Season) -> None:
    makeup_day = kwcc.season.makeup.opens + timedelta(days=1)
    scored = score_candidate(listed(1, "Tour de Zwift Stage 1", makeup_day), kwcc.round("1"), kwcc)
    assert scored is not None and scored[0] == 2 + 3


def test_discover_suggests_the_whole_stage_for_courses_that_share_events(kwcc: Season) -> None:
    stage_3 = [kwcc.round("3.1"), kwcc.round("3.2")]
    events = [
        listed(31, "Tour de Zwift Stage 3: Yorkshire Double Loop", at(20)),
        listed(32, "Tour de Zwift Stage 3 - BRAE-k Fast", at(21)),
        listed(33, "Tour de Zwift Stage 3 run", at(21)),  # 2 + 3 - 10 < 0: dropped
        listed(34, "Tour de Zwift Stage 3", at(22)),  # no route: first course on the tie
        listed(35, "Tour de Zwift Stage 3: BRAE-k Fast", at(22)),
    ]
    rows = discover(kwcc, events, stage_3, known_event_ids={35})
    # Both courses of stage 3 ride the same events (told apart by pen), so a suggestion names the stage.
    assert [(r.event_id, r.round, r.round_ids, r.status) for r in rows] == [
        (31, "3", ("3.1", "3.2"), "suggested"), (32, "3", ("3.1", "3.2"), "suggested"),
        (34, "3", ("3.1", "3.2"), "suggested"),
    ]
    assert rows[0].note.startswith("discovery score 10")


def test_discover_keeps_at_most_max_events_per_stage(kwcc: Season) -> None:
    limit = kwcc.discovery.max_events
    events = [listed(100 + i, "Tour de Zwift Stage 2", at(13) + timedelta(hours=i)) for i in range(limit + 3)]
    events.append(listed(99, "Tour de Zwift Stage 2: Hell of the North", at(18)))
    rows = discover(kwcc, events, [kwcc.round("2")])
    assert len(rows) == limit
    assert rows[0].event_id == 99  # the route makes it the best
    assert [r.event_id for r in rows[1:]] == [100 + i for i in range(limit - 1)]  # then the earliest


def test_no_discovery_table_no_suggestions() -> None:
    ctt = load_season(SEASONS / "ctt-winter-2025-26.toml")
    assert ctt.discovery is None
    assert discover(ctt, [listed(1, "Round 1", ctt.rounds[0].opens)], list(ctt.rounds)) == []


def test_parse_event_list_unescapes_titles_and_fingerprints_rows() -> None:
    body = json.dumps({"data": [
        {"DT_RowId": "5188741", "t": "Tour de Zwift &amp; Friends: Stage 1", "tm": 1767718800, "r": 12},
        {"zid": 5188742, "t": "No start", "tm": ""},
        {"t": "no id at all"},
    ]}).encode()
    events, problems = parse_event_list(body)
    assert [e.event_id for e in events] == [5188741, 5188742]
    assert events[0].title == "Tour de Zwift & Friends: Stage 1"
    assert events[0].start == datetime.fromtimestamp(1767718800, tz=timezone.utc)
    assert events[1].start is None
    assert len(problems) == 1 and problems[0].row == 3

    changed = json.dumps({"data": [{"DT_RowId": "5188741", "t": "Tour de Zwift &amp; Friends: Stage 1",
                                    "tm": 1767718800, "r": 13}]}).encode()
    assert parse_event_list(changed)[0][0].fingerprint != events[0].fingerprint


@pytest.mark.parametrize("body", [b"<html>login</html>", b'{"data": {"oops": 1}}', b'{"dat'])
def test_parse_event_list_bad_bodies_are_problems(body: bytes) -> None:
    events, problems = parse_event_list(body)
    assert events == [] and len(problems) == 1 and problems[0].source == "zwiftpower"
