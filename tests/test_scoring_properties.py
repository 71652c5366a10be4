"""Properties of points scoring on generated seasons, with a plain-Python reference of the rules as the oracle."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tdz.ingest.parse import EFFORT_DTYPES, EVENT_DTYPES, SEGMENT_DTYPES, ParsedArchive
from tdz.scoring import score_season
from tdz.scoring.organiser import DQEntry, Overrides
from tdz.season import Season
from tests.reference_points import Ride, reference_standings

SEASON = Season.model_validate({
    "season": {"id": "prop", "name": "Properties"},
    "scoring": {
        "kind": "points", "base_total": 50, "segment_bonus": [5, 4, 3, 2, 1], "pb_bonus": 1,
        "counting": {"flat": 1, "rolling": 1, "mountain": 1},
        "pools": ["overall", "gender", "power_category", "age_category", "gender+power_category"],
        "power_categories": {
            "open": [{"category": "A", "min_watts": 250, "min_wkg": 4.0}, {"category": "B", "min_watts": 200,
                                                                           "min_wkg": 3.0}],
            "women": [{"category": "A", "min_wkg": 3.8}, {"category": "B", "min_wkg": 3.0}],
        },
    },
    "rounds": [
        {"id": str(i + 1), "opens": datetime(2025, 11, 3, tzinfo=UTC) + timedelta(weeks=i),
         "closes": datetime(2025, 11, 10, tzinfo=UTC) + timedelta(weeks=i), "route": route, "route_id": 1000 + ord(route), "terrain": terrain,
         "segment": {"id": seg, "name": f"Segment {seg}"}}
        for i, (route, terrain, seg) in enumerate(
            [("X", "flat", "1"), ("Y", "rolling", "2"), ("X", "flat", "1"), ("Z", "mountain", "3")])
    ],
})
NOW = datetime(2026, 6, 1, tzinfo=UTC)
EVENTS_PER_ROUND = 2


def event_of(round_index: int, slot: int) -> tuple[int, datetime]:
    return 100 + round_index * 10 + slot, SEASON.rounds[round_index].opens + timedelta(days=1 + 2 * slot, hours=18)


@st.composite
def seasons(draw: st.DrawFn) -> list[Ride]:
    riders = draw(st.integers(2, 7))
    rides: list[Ride] = []
    for rider in range(1, riders + 1):
        gender = draw(st.sampled_from("MF"))
        age = draw(st.sampled_from(["Snr", "Mas", None]))
        for round_index in range(len(SEASON.rounds)):
            for slot in draw(st.sets(st.integers(0, EVENTS_PER_ROUND - 1), max_size=EVENTS_PER_ROUND)):
                event_id, start = event_of(round_index, slot)
                rides.append(Ride(
                    event_id=event_id, start=start, round_id=SEASON.rounds[round_index].id, rider_id=rider,
                    gender=gender, age=age, watts=draw(st.sampled_from([150.0, 210.0, 260.0])),
                    wkg=draw(st.sampled_from([2.5, 3.2, 3.9, 4.3])), time=float(draw(st.integers(100, 104))),
                    segment=draw(st.one_of(st.none(), st.integers(50, 53).map(float)))))
    return rides


def parsed(rides: list[Ride]) -> ParsedArchive:
    """The frames the parser would give for these rides (the parser is tested on the wire format elsewhere)."""
    efforts = pd.DataFrame({
        "event_id": [r.event_id for r in rides], "row": range(1, len(rides) + 1),
        "rider_id": [r.rider_id for r in rides], "rider_name": [f"Rider {r.rider_id}" for r in rides],
        "team": None, "country": "gb", "gender": [r.gender for r in rides], "age_category": [r.age for r in rides],
        "pen": "A", "position": 1, "time_s": [r.time for r in rides], "gun_time_s": [r.time for r in rides],
        "avg_power_w": [r.watts for r in rides], "avg_wkg": [r.wkg for r in rides], "weight_kg": 70.0,
        "status": "ok", "status_reason": None,
    }).astype(EFFORT_DTYPES)
    segments = pd.DataFrame(
        [(r.event_id, r.rider_id, SEASON.round(r.round_id).segment.id, r.segment) for r in rides
         if r.segment is not None], columns=list(SEGMENT_DTYPES)).astype(SEGMENT_DTYPES)
    events = pd.DataFrame(
        [{"event_id": event_of(i, s)[0], "event_name": f"Round {i + 1}", "event_start": event_of(i, s)[1],
          "event_type": "TIME_TRIAL", "pens": "A", "has_details": True, "has_dq_list": True}
         for i in range(len(SEASON.rounds)) for s in range(EVENTS_PER_ROUND)], columns=list(EVENT_DTYPES))
    events["event_start"] = pd.to_datetime(events["event_start"], utc=True)
    return ParsedArchive(efforts=efforts, segments=segments, events=events.astype(EVENT_DTYPES))


def standings(rides: list[Ride], overrides: Overrides | None = None) -> pd.DataFrame:
    scored = score_season(SEASON, parsed(rides), overrides or Overrides(), now=NOW)
    return scored.tables["standings"]


def as_dict(table: pd.DataFrame) -> dict[tuple[str, int], tuple[int, float, int]]:
    return {(r.pool, r.rider_id): (r.place, r.total, r.rounds_counted) for r in table.itertuples()}


PROPERTY = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(seasons())
def test_vectorised_scoring_matches_the_plain_reference(rides: list[Ride]) -> None:
    assert as_dict(standings(rides)) == reference_standings(SEASON, rides)


@PROPERTY
@given(seasons(), st.randoms(use_true_random=False))
def test_input_row_order_never_changes_any_tab(rides: list[Ride], random) -> None:
    shuffled = list(rides)
    random.shuffle(shuffled)
    first = score_season(SEASON, parsed(rides), Overrides(), now=NOW).tables
    second = score_season(SEASON, parsed(shuffled), Overrides(), now=NOW).tables
    for name, table in first.items():
        if name == "efforts":  # rows keep their payload row numbers; compare by content
            table, other = (t.sort_values(["event_id", "rider_id"]).reset_index(drop=True)
                            for t in (table, second[name]))
            pd.testing.assert_frame_equal(table, other)
        else:
            pd.testing.assert_frame_equal(table, second[name])


@PROPERTY
@given(seasons(), st.data())
def test_a_slower_later_attempt_changes_no_standings_row(rides: list[Ride], data: st.DataObject) -> None:
    ridden = sorted({(r.rider_id, r.round_id) for r in rides})
    if not ridden:
        return
    rider, round_id = data.draw(st.sampled_from(ridden))
    route = SEASON.round(round_id).route
    theirs = [r for r in rides if r.rider_id == rider]
    on_route = [r for r in theirs if SEASON.round(r.round_id).route == route]
    round_index = [r.id for r in SEASON.rounds].index(round_id)
    event_id, _ = event_of(round_index, 0)
    late = SEASON.round(round_id).closes - timedelta(hours=1)
    if any(r.start >= late for r in on_route):
        return
    extra = Ride(event_id=9000 + rider, start=late, round_id=round_id, rider_id=rider, gender=theirs[-1].gender,
                 age=theirs[0].age, watts=min(r.watts for r in theirs), wkg=min(r.wkg for r in theirs),
                 time=max(r.time for r in on_route) + 1, segment=45.0)
    before, after = standings(rides), standings(rides + [extra])
    pd.testing.assert_frame_equal(before, after)


@PROPERTY
@given(seasons(), st.data())
def test_a_dq_never_improves_the_disqualified_rider(rides: list[Ride], data: st.DataObject) -> None:
    riders = sorted({r.rider_id for r in rides})
    if not riders:
        return
    rider = data.draw(st.sampled_from(riders))
    rounds = data.draw(st.sampled_from([(), *[(r.id,) for r in SEASON.rounds]]))
    dq = Overrides(dqs=[DQEntry(rider_id=rider, round_ids=rounds, reason="test", row=2)])
    before = standings(rides).query("pool == 'overall'").set_index("rider_id")
    after = standings(rides, dq).query("pool == 'overall'").set_index("rider_id")
    if rider in after.index:
        was, now = before.loc[rider], after.loc[rider]
        assert (-now["rounds_counted"], now["total"]) >= (-was["rounds_counted"], was["total"])
        assert now["place"] >= was["place"] or len(after) < len(before)


@PROPERTY
@given(seasons())
def test_every_rider_is_once_in_each_pool_they_belong_to(rides: list[Ride]) -> None:
    table = standings(rides)
    assert not table.duplicated(["pool", "rider_id"]).any()
    overall = set(table.loc[table["pool"] == "overall", "rider_id"])
    assert overall == {r.rider_id for r in rides}
    for dimension in ("gender", "power_category"):
        pools = table[table["pool"].astype(str).str.fullmatch(f"{dimension}=[^,]+")]
        assert sorted(pools["rider_id"]) == sorted(overall)
