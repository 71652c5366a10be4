"""The wire parser, quirk by quirk: payloads are JSON text exactly as ZwiftPower and Zwift send it."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tdz.ingest.archive import Archive, ArchiveRefused, check_payload
from tdz.ingest.parse import (
    SUBGROUP_DTYPES,
    EFFORT_DTYPES,
    EVENT_DTYPES,
    SEGMENT_DTYPES,
    parse_archive,
    parse_results,
    parse_sprints,
    parse_zwift_dq,
    parse_zwift_event,
)
from tdz.ingest.wire import is_empty_results

EVENT = 5188741
FETCHED = datetime(2026, 1, 6, 9, 0, tzinfo=UTC)

# Two rows as _view.json sends them (names and ids made up).
ROW_ONE = (
    '{"zid":"5188741","pos":1,"position_in_cat":1,"label":"1","category":"A","div":10,"divw":0,'
    '"name":"Rider One &#128304; [ABC]","zwid":1000001,"time":[1712.345,1],"time_gun":1712.345,'
    '"male":1,"age":"Mas","flag":"gb","weight":["72.0",0],"tid":"1234","tname":"ABC",'
    '"avg_power":[330,0],"avg_wkg":["4.6",0],"w1200":["332",0],"penalty":"","fl":"","upg":0}'
)
ROW_THREE = (
    '{"zid":"5188741","pos":3,"position_in_cat":1,"label":"3","category":"C","div":30,"divw":30,'
    '"name":"Rider Thr&eacute;e","zwid":1000003,"time":[2101.5,0],"time_gun":2101.62,'
    '"male":0,"age":"-","flag":"fr","weight":["57.6",1],"tid":"","tname":"","avg_power":[203,0],'
    '"avg_wkg":["3.5",0],"penalty":"","fl":"","upg":0}'
)


def payload(*rows: str) -> bytes:
    return ('{"data":[' + ",".join(rows) + "]}").encode()


def row_with(**fields: str) -> str:
    """ROW_ONE with some fields replaced by raw JSON text (or dropped when the text is empty)."""
    base = json.loads(ROW_ONE)
    for key, text in fields.items():
        if text:
            base[key] = json.loads(text)
        else:
            base.pop(key, None)
    return json.dumps(base)


def one(row: str) -> pd.Series:
    frame, problems = parse_results(EVENT, payload(row))
    assert problems == [] and len(frame) == 1
    return frame.iloc[0]


def dtypes(frame: pd.DataFrame) -> dict[str, str]:
    return {name: str(dtype) for name, dtype in frame.dtypes.items()}


# --- results_view: one test per quirk -------------------------------------------------------------------------


def test_the_documented_sample_payload() -> None:
    frame, problems = parse_results(EVENT, payload(ROW_ONE, ROW_THREE))
    assert problems == []
    assert dtypes(frame) == EFFORT_DTYPES
    assert frame["row"].tolist() == [1, 2]
    assert frame["rider_id"].tolist() == [1000001, 1000003]
    assert frame["pen"].tolist() == ["A", "C"]
    assert frame["time_s"].tolist() == [1712.345, 2101.5]
    assert frame["gun_time_s"].tolist() == [1712.345, 2101.62]
    assert frame["weight_kg"].tolist() == [72.0, 57.6]
    assert frame["status"].tolist() == ["ok", "ok"]
    assert frame["status_reason"].isna().all()


def test_pairs_and_bare_values_read_alike() -> None:
    paired = one(row_with(avg_power="[330,0]", avg_wkg='["4.6",1]', time="[1712.345,1]", weight='["72.0",0]'))
    bare = one(row_with(avg_power="330", avg_wkg='"4.6"', time="1712.345", weight="72.0"))
    for column in ("avg_power_w", "avg_wkg", "time_s", "weight_kg"):
        assert paired[column] == bare[column]
    assert (paired["avg_power_w"], paired["avg_wkg"], paired["time_s"]) == (330.0, 4.6, 1712.345)


def test_numbers_sent_as_strings_are_numbers() -> None:
    effort = one(row_with(pos='"7"', time='["1712.345",0]', time_gun='"1713.5"', avg_power='[" 245 ",0]'))
    assert effort["position"] == 7
    assert effort["time_s"] == 1712.345
    assert effort["gun_time_s"] == 1713.5
    assert effort["avg_power_w"] == 245.0


@pytest.mark.parametrize("missing", ['""', '"-"', "0", '"0"', "[0,0]", '["",0]', '["-",0]', "null", "[]", ""])
def test_missing_metric_markers_become_nan(missing: str) -> None:
    effort = one(row_with(avg_power=missing, avg_wkg=missing, time_gun=missing))
    assert math.isnan(effort["avg_power_w"]) and math.isnan(effort["avg_wkg"]) and math.isnan(effort["gun_time_s"])
    assert effort["status"] == "ok"


def test_weight_zero_pair_is_unknown_weight() -> None:
    assert math.isnan(one(row_with(weight="[0,0]"))["weight_kg"])


def test_html_escaped_names_and_team_names_are_decoded() -> None:
    effort = one(row_with(name='"Se&aacute;n O&rsquo;Brien &#128304; [K&amp;W]"', tname='"&#11088;&#65039; Stars"'))
    assert effort["rider_name"] == "Seán O\u2019Brien \U0001f530 [K&W]"
    assert effort["team"] == "\u2b50\ufe0f Stars"


def test_empty_team_is_missing() -> None:
    effort = one(row_with(tid='""', tname='""'))
    assert effort["team"] is pd.NA


@pytest.mark.parametrize("zwid", ["1000001", '"1000001"', '" 1000001 "'])
def test_rider_id_is_an_int_or_a_string(zwid: str) -> None:
    assert one(row_with(zwid=zwid))["rider_id"] == 1000001


def test_flag_is_the_country_not_a_dq_marker() -> None:
    flagged = one(row_with(flag='"GB"'))
    assert flagged["country"] == "gb" and flagged["status"] == "ok"
    assert one(row_with(flag='""'))["country"] is pd.NA


@pytest.mark.parametrize(("male", "gender"), [("1", "M"), ("0", "F"), ('"1"', "M"), ('"0"', "F"), ("", None)])
def test_male_flag_gives_gender(male: str, gender: str | None) -> None:
    got = one(row_with(male=male))["gender"]
    assert (got is pd.NA) if gender is None else got == gender


@pytest.mark.parametrize(
    ("category", "label", "pen"),
    [
        ('"B"', '"2"', "B"),
        ('"AB"', '"2"', "B"),
        ('"d"', "", "D"),
        ('""', '"5"', "E"),
        ("", '"3"', "C"),
        ("", "4", "D"),
        ('""', '""', None),
    ],
)
def test_pen_from_category_letter_else_label(category: str, label: str, pen: str | None) -> None:
    got = one(row_with(category=category, label=label))["pen"]
    assert (got is pd.NA) if pen is None else got == pen


def test_age_dash_is_missing() -> None:
    assert one(row_with(age='"-"'))["age_category"] is pd.NA
    assert one(row_with(age='"50+"'))["age_category"] == "50+"


def test_row_with_extra_notes_key_reads_like_any_row() -> None:
    plain = one(ROW_ONE)
    noted = one(row_with(notes='"Crashed out of the lead group"'))
    assert noted.equals(plain)


def test_missing_power_and_weight_keep_the_effort() -> None:
    effort = one(row_with(avg_power="", avg_wkg="", weight=""))
    assert effort["status"] == "ok" and effort["time_s"] == 1712.345
    assert math.isnan(effort["avg_power_w"]) and math.isnan(effort["weight_kg"])


@pytest.mark.parametrize("time", ["[0,0]", "0", '""', '["",0]', '"-"', "null", ""])
def test_no_finish_time_is_a_dnf(time: str) -> None:
    effort = one(row_with(time=time))
    assert math.isnan(effort["time_s"])
    assert effort["status"] == "dnf" and effort["status_reason"] is not pd.NA


# --- results_view: what is refused ----------------------------------------------------------------------------


def test_malformed_rows_become_problems_and_the_rest_is_kept() -> None:
    body = payload(
        ROW_ONE,
        '"not a row"',
        row_with(zwid='""'),
        row_with(time='["1:02:03",0]'),
        row_with(zwid="-4"),
        ROW_THREE,
    )
    frame, problems = parse_results(EVENT, body)
    assert frame["rider_id"].tolist() == [1000001, 1000003]
    assert frame["row"].tolist() == [1, 6]
    assert [(p.event_id, p.row, p.column) for p in problems] == [
        (EVENT, 2, ""),
        (EVENT, 3, "zwid"),
        (EVENT, 4, "time"),
        (EVENT, 5, "zwid"),
    ]
    assert all(p.source == "zwiftpower" and "skipped" in p.why for p in problems)
    assert "1:02:03" in problems[2].value


def test_a_bad_metric_is_reported_and_the_effort_kept() -> None:
    frame, problems = parse_results(EVENT, payload(row_with(avg_power='["n/a",0]', pos='"3rd"')))
    assert len(frame) == 1 and frame["time_s"].iloc[0] == 1712.345
    assert math.isnan(frame["avg_power_w"].iloc[0]) and frame["position"].iloc[0] is pd.NA
    assert sorted(p.column for p in problems) == ["avg_power", "pos"]
    assert all(p.row == 1 for p in problems)


@pytest.mark.parametrize(
    "body",
    [b"[]", b'{"data": {}}', b'{"error": "no results"}', b"<!DOCTYPE html><html>login</html>", b"", b'"data"'],
)
def test_a_payload_that_is_not_a_data_list_is_one_problem(body: bytes) -> None:
    frame, problems = parse_results(EVENT, body)
    assert len(frame) == 0 and dtypes(frame) == EFFORT_DTYPES
    assert len(problems) == 1 and problems[0].event_id == EVENT and problems[0].row is None


def test_decoded_documents_are_accepted_too() -> None:
    frame, problems = parse_results(EVENT, json.loads(payload(ROW_ONE, ROW_THREE)), kind="event_results")
    assert problems == [] and len(frame) == 2


ROW_KEYS = ("zwid", "time", "time_gun", "pos", "name", "tname", "male", "category", "label", "weight", "dq_cat")
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=6,
)
result_rows = (
    st.fixed_dictionaries(
        {},
        optional={key: json_values for key in (*ROW_KEYS, "msec")},
    )
    | json_values
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(result_rows, max_size=6))
def test_any_rows_give_a_typed_frame_and_an_account_of_every_skipped_row(rows: list[object]) -> None:
    body = json.dumps({"data": rows}).encode()
    frame, problems = parse_results(EVENT, body)
    assert dtypes(frame) == EFFORT_DTYPES
    skipped = {p.row for p in problems if "skipped" in p.why}
    assert set(frame["row"]) | skipped == set(range(1, len(rows) + 1))
    assert not set(frame["row"]) & skipped
    assert dtypes(parse_zwift_dq(EVENT, body)[0]) == EFFORT_DTYPES
    assert dtypes(parse_sprints(EVENT, body)[0]) == SEGMENT_DTYPES


@settings(max_examples=100, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(["id", "name", "eventStart", "routeId", "distanceInMeters", "eventSubgroups"]), json_values
    )
)
def test_any_zwift_event_gives_a_row_that_fits_the_event_schema(document: dict[str, object]) -> None:
    record, pens, problems = parse_zwift_event(json.dumps(document).encode(), event_id=EVENT)
    if record is None:
        assert len(problems) == 1 and pens == []
        return
    record = record | {"has_dq_list": True}
    frame = pd.DataFrame({k: pd.Series([record[k]], dtype=t) for k, t in EVENT_DTYPES.items()})
    assert dtypes(frame) == EVENT_DTYPES
    subgroups = pd.DataFrame({k: pd.Series([p[k] for p in pens], dtype=t) for k, t in SUBGROUP_DTYPES.items()})
    assert dtypes(subgroups) == SUBGROUP_DTYPES


def test_a_big_event_parses_whole() -> None:
    rows = [row_with(zwid=str(2000000 + i), pos=str(i + 1)) for i in range(400)]
    frame, problems = parse_results(EVENT, payload(*rows))
    assert problems == [] and len(frame) == 400
    assert frame["rider_id"].is_unique and frame["row"].tolist() == list(range(1, 401))


# --- results_zwift (slim): the DQ'd riders ----------------------------------------------------------------------

SLIM = payload(
    '{"DT_RowId":"r1","name":"Rider One","zwid":"1000001","label":"1","dq_cat":"","pos":"1",'
    '"watts":["330",0],"wkg":["4.6",0],"race_time":[1712.345,0]}',
    '{"DT_RowId":"r2","name":"Fast &amp; Furious","zwid":"1000002","label":"1","dq_cat":"ZP","pos":"2",'
    '"watts":["410",0],"wkg":["6.1",0]}',
    '{"DT_RowId":"r3","name":"Up Graded","zwid":"1000004","label":"4","dq_cat":"UPG","pos":"4"}',
    '{"DT_RowId":"r4","name":"Odd One","zwid":"1000005","label":"2","dq_cat":"HR","pos":"9"}',
    '{"DT_RowId":"r5","name":"Nobody","zwid":"","label":"2","dq_cat":"ZP","pos":"10"}',
)


def test_slim_payload_gives_only_dq_rows_with_their_reason() -> None:
    frame, problems = parse_zwift_dq(EVENT, SLIM)
    assert dtypes(frame) == EFFORT_DTYPES
    assert frame["rider_id"].tolist() == [1000002, 1000004, 1000005]
    assert frame["row"].tolist() == [2, 3, 4]
    assert frame["position"].tolist() == [2, 4, 9]
    assert frame["pen"].tolist() == ["A", "D", "B"]
    assert frame["rider_name"].iloc[0] == "Fast & Furious"
    assert frame["avg_power_w"].iloc[0] == 410.0
    assert (frame["status"] == "dq").all()
    assert frame["status_reason"].tolist() == [
        "ZwiftPower DQ (ZP)",
        "ZwiftPower upgrade (UPG)",
        "ZwiftPower HR",
    ]
    assert [(p.row, p.column) for p in problems] == [(5, "zwid")]


# --- event_sprints -----------------------------------------------------------------------------------------------


def test_sprints_become_one_row_per_rider_and_segment() -> None:
    body = payload(
        '{"zwid":1000001,"name":"Rider One","label":"1","category":"A","male":1,'
        '"msec":{"35":671.562,"34":"45.397"},"watts":{"35":"209","34":"181"},"wkg":{"35":"2.8","34":"2.4"}}',
        '{"zwid":"1000003","name":"Rider Three","msec":{"35":"702.1"}}',
        '{"zwid":1000004,"name":"No Segments","msec":[]}',
        '{"zwid":1000005,"name":"Zero","msec":{"35":0,"34":""}}',
    )
    frame, problems = parse_sprints(EVENT, body)
    assert problems == []
    assert dtypes(frame) == SEGMENT_DTYPES
    got = {(r.rider_id, r.segment_id): r.segment_time_s for r in frame.itertuples()}
    assert got == {(1000001, "35"): 671.562, (1000001, "34"): 45.397, (1000003, "35"): 702.1}
    assert (frame["event_id"] == EVENT).all()


def test_sprints_keep_a_riders_fastest_time_and_report_bad_ones() -> None:
    body = payload(
        '{"zwid":1000001,"msec":{"35":680.0}}',
        '{"zwid":1000001,"msec":{"35":"671.5","34":"fast"}}',
        '{"name":"no id","msec":{"35":600}}',
        '{"zwid":1000002,"msec":"671.5"}',
    )
    frame, problems = parse_sprints(EVENT, body)
    assert frame[["rider_id", "segment_id", "segment_time_s"]].values.tolist() == [[1000001, "35", 671.5]]
    assert [(p.row, p.column) for p in problems] == [(2, "msec.34"), (3, "zwid"), (4, "msec")]


def test_sprints_payload_of_wrong_shape_is_one_problem() -> None:
    frame, problems = parse_sprints(EVENT, b'{"data": null}')
    assert len(frame) == 0 and dtypes(frame) == SEGMENT_DTYPES and len(problems) == 1


# --- zwift_event -------------------------------------------------------------------------------------------------

ZWIFT_EVENT = (
    b'{"id":5188741,"name":"KWCC Tour de Zwift &amp; Friends - Stage 1","eventStart":"2026-01-05T17:00:00.000+0000",'
    b'"routeId":3368626651,"laps":1,"distanceInMeters":28300.5,"eventType":"RACE","tags":["ranked"],'
    b'"eventSubgroups":[{"id":1,"subgroupLabel":"B","routeId":3368626651},{"id":2,"subgroupLabel":"A"},'
    b'{"id":3,"subgroupLabel":"B"}]}'
)


def test_zwift_event_payload_gives_one_event_row_and_a_row_per_pen() -> None:
    record, pens, problems = parse_zwift_event(ZWIFT_EVENT)
    assert problems == [] and record is not None
    assert record["event_id"] == EVENT
    assert record["event_name"] == "KWCC Tour de Zwift & Friends - Stage 1"
    assert record["event_start"] == pd.Timestamp("2026-01-05 17:00", tz="UTC")
    assert record["route_id"] == 3368626651 and record["route_id"] > 2**31
    assert record["distance_m"] == 28300.5 and record["event_type"] == "RACE"
    assert record["pens"] == "A,B"
    # a pen without its own routeId rode the event's; no laps or distance given stays empty
    assert [(p["pen"], p["route_id"], p["laps"], p["distance_m"]) for p in pens] == [
        ("B", 3368626651, None, None), ("A", 3368626651, None, None), ("B", 3368626651, None, None)]


def test_each_pen_keeps_its_own_route_laps_and_distance() -> None:
    body = json.dumps({"id": EVENT, "routeId": 4258943387, "eventType": "GROUP_RIDE", "eventSubgroups": [
        {"subgroupLabel": "A", "routeId": 1788218813, "laps": 2, "distanceInMeters": 62400},
        {"subgroupLabel": "c", "routeId": "377566656", "laps": 0, "distanceInMeters": 0},
        {"subgroupLabel": "", "routeId": 1}]}).encode()
    _, pens, problems = parse_zwift_event(body, event_id=EVENT)
    assert [(p["pen"], p["route_id"], p["laps"], p["distance_m"]) for p in pens] == [
        ("A", 1788218813, 2, 62400.0), ("C", 377566656, None, None)]
    assert [p.column for p in problems] == ["eventSubgroups[2]"]


def test_zwift_event_bad_fields_are_left_empty_and_reported() -> None:
    record, _, problems = parse_zwift_event(
        b'{"id":"5188741","eventStart":"next monday","routeId":"abc","distanceInMeters":0}', event_id=EVENT
    )
    assert record is not None and record["event_id"] == EVENT
    assert record["event_start"] is None and record["route_id"] is None and record["distance_m"] is None
    assert sorted(p.column for p in problems) == ["eventStart", "routeId"]
    assert all(p.source == "zwift" and p.event_id == EVENT for p in problems)


@pytest.mark.parametrize("body", [b'{"name":"no id"}', b"[1]", b"<html></html>"])
def test_zwift_event_without_usable_id_is_one_problem(body: bytes) -> None:
    record, pens, problems = parse_zwift_event(body, event_id=EVENT)
    assert record is None and pens == [] and len(problems) == 1 and problems[0].event_id == EVENT


# --- parse_archive over real files -----------------------------------------------------------------------------


def store(archive: Archive, event_id: int, **payloads: bytes) -> None:
    archive.store_event(event_id, payloads, fetched_at=FETCHED)  # type: ignore[arg-type]


def test_parse_archive_reads_every_event_and_adds_dq_riders(tmp_path: Path) -> None:
    archive = Archive(tmp_path, "kwcc-tdz-2026")
    slim_with_dq_still_in_view = SLIM.replace(b'"dq_cat":"","pos":"1"', b'"dq_cat":"ZP","pos":"1"')
    store(
        archive,
        EVENT,
        results_view=payload(ROW_ONE, ROW_THREE),
        results_zwift=slim_with_dq_still_in_view,
        event_sprints=payload('{"zwid":1000001,"msec":{"35":671.562}}', '{"zwid":1000003,"msec":{"35":"702.1"}}'),
        zwift_event=ZWIFT_EVENT,
    )
    store(archive, 5100000, results_view=payload(row_with(zwid="1000001", time="[1800.25,0]")))
    store(archive, 5300000, zwift_event=ZWIFT_EVENT.replace(b"5188741", b"5300000"))

    parsed = parse_archive(archive)

    assert dtypes(parsed.efforts) == EFFORT_DTYPES
    assert dtypes(parsed.segments) == SEGMENT_DTYPES
    assert dtypes(parsed.events) == EVENT_DTYPES
    efforts = parsed.efforts
    assert efforts[["event_id", "row", "rider_id", "status"]].values.tolist() == [
        [5100000, 1, 1000001, "ok"],
        [EVENT, 1, 1000001, "ok"],  # in _view.json: its view row stands, the slim dq_cat does not add a row
        [EVENT, 2, 1000003, "ok"],
        [EVENT, 2, 1000002, "dq"],
        [EVENT, 3, 1000004, "dq"],
        [EVENT, 4, 1000005, "dq"],
    ]
    assert parsed.segments["rider_id"].tolist() == [1000001, 1000003]
    assert parsed.events["event_id"].tolist() == [5100000, EVENT, 5300000]
    assert parsed.events["event_name"].isna().tolist() == [True, False, False]
    assert parsed.events["route_id"].iloc[1] == 3368626651
    assert parsed.events[["has_details", "has_dq_list"]].values.tolist() == [[False, False], [True, True],
                                                                              [True, False]]
    assert [(p.event_id, p.row, p.column) for p in parsed.problems] == [(5100000, None, "results_zwift"),
                                                                       (EVENT, 5, "zwid")]


def test_no_zwift_json_is_reported_with_the_riders_only_sprints_know(tmp_path: Path) -> None:
    archive = Archive(tmp_path, "kwcc-tdz-2026")
    store(archive, EVENT, results_view=payload(ROW_ONE), zwift_event=ZWIFT_EVENT,
          event_sprints=payload('{"zwid":1000001,"msec":{"35":671.562}}', '{"zwid":1000009,"msec":{"35":650.0}}'))
    parsed = parse_archive(archive)
    assert [(p.event_id, p.column, p.value) for p in parsed.problems] == [
        (EVENT, "results_zwift", ""), (EVENT, "zwid", "1000009")]
    assert "DQs and upgrades of this event could not be read" in parsed.problems[0].why
    assert "missing from the results: disqualified upstream?" in parsed.problems[1].why
    assert parsed.events["has_dq_list"].tolist() == [False]


def test_an_unreadable_payload_is_one_problem_and_other_events_are_kept(tmp_path: Path) -> None:
    archive = Archive(tmp_path, "ctt")
    store(archive, 1, results_view=payload(ROW_ONE))
    store(archive, 2, results_view=payload(ROW_THREE), event_sprints=payload('{"zwid":1000003,"msec":{"9":60}}'))
    archive.path(1, "results_view").write_bytes(b'{"data":[{"zwid":10')  # truncated on disk after storing
    archive.path(2, "event_sprints").unlink()

    parsed = parse_archive(archive)

    assert parsed.efforts[["event_id", "rider_id"]].values.tolist() == [[2, 1000003]]
    assert len(parsed.segments) == 0 and dtypes(parsed.segments) == SEGMENT_DTYPES
    assert [(p.event_id, p.source, p.column) for p in parsed.problems] == [
        (1, "zwiftpower", ""), (1, "zwiftpower", "results_zwift"), (2, "zwiftpower", ""),
        (2, "zwiftpower", "results_zwift")]
    assert "results_view" in parsed.problems[0].why and "event_sprints" in parsed.problems[2].why


def test_an_empty_archive_gives_empty_typed_frames(tmp_path: Path) -> None:
    parsed = parse_archive(Archive(tmp_path, "nothing-yet"))
    assert parsed.problems == []
    for frame, declared in ((parsed.efforts, EFFORT_DTYPES), (parsed.segments, SEGMENT_DTYPES)):
        assert len(frame) == 0 and dtypes(frame) == declared
    assert len(parsed.events) == 0 and dtypes(parsed.events) == EVENT_DTYPES


def test_a_zwift_event_payload_for_another_event_is_refused(tmp_path: Path) -> None:
    archive = Archive(tmp_path, "ctt")
    store(archive, 5300000, zwift_event=ZWIFT_EVENT)

    parsed = parse_archive(archive)

    assert parsed.events["event_id"].tolist() == [5300000]
    assert parsed.events["event_name"].isna().all() and parsed.events["event_start"].isna().all()
    assert [(p.event_id, p.source, p.column) for p in parsed.problems] == [(5300000, "zwift", "id")]


@pytest.mark.parametrize(
    ("body", "empty", "stored"),
    [
        (b'{"data": []}', True, True),
        (b'{"data": [{"zwid": 1}]}', False, True),
        (b'<html>login</html>', False, False),
        (b'{"data": {}}', False, False),
        (b'[]', False, False),
        (b'{"dat', False, False),
    ],
)
def test_one_reading_of_an_empty_answer_and_of_a_storable_one(body: bytes, empty: bool, stored: bool) -> None:
    assert is_empty_results(body) is empty
    for kind in ("results_view", "results_zwift", "event_sprints"):
        if stored:
            check_payload(kind, body)
        else:
            with pytest.raises(ArchiveRefused, match=f"^{kind}: "):
                check_payload(kind, body)
