"""Organiser tabs → overrides: every bad row is a Problem naming tab, row, column and why; the rest goes on."""

from __future__ import annotations

import pytest

from tdz.scoring.organiser import parse_duration, read_overrides
from tdz.season import Season


@pytest.mark.parametrize(("text", "seconds"), [("41:23.5", 2483.5), ("1:02:03", 3723), ("95.25", 95.25),
                                                ("0:59", 59), (" 7:05 ", 425)])
def test_times_are_read_as_m_ss_h_mm_ss_or_seconds(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["1:2x:03", "", "abc", "1:75", "-5", "1:02:60"])
def test_a_bad_time_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


def test_events_tab_accepts_links_stages_and_statuses_and_reports_bad_rows(kwcc: Season) -> None:
    grid = [
        ["event_id", "round", "status", "note"],
        ["5188741", "1", "confirmed", ""],
        ["https://zwiftpower.com/events.php?zid=5188742", "3", "", "pasted a link"],
        ["", "", "", ""],
        ["51887x", "1", "confirmed", ""],
        ["5188743", "9", "confirmed", ""],
        ["5188744", "2", "maybe", ""],
        ["5188745", "2", "Excluded", ""],
        ["5188741", "1", "confirmed", "again"],
    ]
    overrides, problems = read_overrides(kwcc, {"Events": grid})
    assert [(e.event_id, e.round_ids, e.status, e.note) for e in overrides.events] == [
        (5188741, ("1",), "confirmed", ""),
        (5188742, ("3.1", "3.2"), "confirmed", "pasted a link"),  # a stage names all its courses
        (5188745, ("2",), "excluded", ""),
    ]
    assert [(p.source, p.row, p.column) for p in problems] == [
        ("Events", 5, "event_id"), ("Events", 6, "round"), ("Events", 7, "status"), ("Events", 9, "event_id")]
    assert "duplicate of row 2" in problems[-1].why


def test_dq_rows_are_checked_against_known_riders_rounds_and_duplicates(ctt: Season) -> None:
    grid = [
        ["rider_id", "round", "event_id", "reason", "set_by"],
        ["1001", "3", "", "weight not verified", "Jo"],
        ["1001", "", "", "doping", "Jo"],           # whole season
        ["1002", "1", "5100001", "drafting", ""],  # one event
        ["1003", "1", "", "drafting", ""],          # unknown rider
        ["1001", "15", "", "drafting", ""],         # unknown round
        ["1001", "3", "", "again", ""],             # duplicate of row 2
        ["1002", "2", "", "", ""],                  # no reason
        ["1002", "1", "5100009", "drafting", ""],  # unknown event
    ]
    overrides, problems = read_overrides(ctt, {"DQ": grid}, known_riders={1001, 1002}, known_events={5100001})
    assert [(d.rider_id, d.round_ids, d.event_id) for d in overrides.dqs] == [
        (1001, ("3",), None), (1001, (), None), (1002, ("1",), 5100001)]
    assert [(p.row, p.column) for p in problems] == [
        (5, "rider_id"), (6, "round"), (7, "rider_id"), (8, "reason"), (9, "event_id")]


def test_registry_handicaps_and_manual_results(kwcc: Season) -> None:
    grids = {
        "Rider registry": [["rider_id", "name", "group", "gender", "category", "guest"],
                           ["0042", "Ann", "a1", "f", "", "yes"],
                           ["43", "Bob", "B2", "X", "", ""],
                           ["42", "Dup", "A2", "", "", ""]],
        "Handicaps": [["group", "rider_id", "seconds"], ["B2", "", "5:00"], ["", "42", "90"], ["A1", "42", "1"],
                      ["A2", "", "soon"]],
        "Manual results": [["rider_id", "round", "time", "penalty", "source"],
                           ["42", "3", "20:00", "", "Strava"],      # stage 3 has two courses: name one
                           ["42", "3.1", "20:00", "0:30", "Strava"],
                           ["42", "2", "20:00", "", ""]],           # no source
    }
    overrides, problems = read_overrides(kwcc, grids, known_riders={42})
    ann = overrides.riders[42]
    assert (ann.group, ann.gender, ann.guest) == ("A1", "F", True)  # leading zeros and case tidied
    assert [(h.group, h.rider_id, h.seconds) for h in overrides.handicaps] == [("B2", None, 300), (None, 42, 90)]
    assert [(m.round_id, m.time_s, m.penalty_s) for m in overrides.manual_results] == [("3.1", 1200, 30)]
    assert [(p.source, p.row, p.column) for p in problems] == [
        ("Rider registry", 3, "gender"), ("Rider registry", 4, "rider_id"),
        ("Handicaps", 4, "group"), ("Handicaps", 5, "seconds"),
        ("Manual results", 2, "round"), ("Manual results", 4, "source")]


def test_a_tab_with_a_wrong_header_is_reported(ctt: Season) -> None:
    _, problems = read_overrides(ctt, {"DQ": [["rider", "round", "reason"], ["1", "1", "x"]]})
    assert problems[0].row == 1 and "missing column" in problems[0].why


def test_an_exclusion_wins_over_every_other_listing_of_the_event(ctt: Season, tmp_path) -> None:
    from tdz.events import listed_event_rounds

    season = ctt.model_copy(update={"rounds": (ctt.rounds[0].model_copy(update={"events": (111, 112)}),
                                               *ctt.rounds[1:])})
    grid = [["event_id", "round", "status", "note"],
            ["111", "1", "excluded", "wrong route"],   # listed in the season file, excluded here
            ["112", "1", "suggested", "discovery"],    # the season file's confirmation wins over a suggestion
            ["113", "2", "confirmed", ""],
            ["114", "", "excluded", ""],               # no round: excluded everywhere
            ["114", "3", "confirmed", ""],
            ["115", "4", "suggested", ""]]             # CTT has no discovery: suggestions wait
    overrides, problems = read_overrides(season, {"Events": grid})
    listed = listed_event_rounds(season, overrides.events)
    assert not problems
    assert listed.counted == {112: [("1", "confirmed")], 113: [("2", "confirmed")]}
    assert set(listed.excluded) == {111, 114} and listed.unconfirmed == {115}


def test_a_time_a_sheet_turned_into_hours_is_refused_with_what_was_meant(kwcc: Season) -> None:
    """Google Sheets shows a typed 41:23 in a cell that is not plain text as 41:23:00: never 41 hours."""
    grids = {"Rider registry": [["rider_id", "name", "group", "gender", "category", "guest"],
                                ["42", "", "", "", "", ""]],
             "Manual results": [["rider_id", "round", "time", "penalty", "source"],
                                ["42", "1", "41:23:00", "", "Strava"], ["42", "2", "41:23", "", "Strava"]]}
    overrides, problems = read_overrides(kwcc, grids, known_riders={42})
    assert [(m.round_id, m.time_s) for m in overrides.manual_results] == [("2", 2483)]
    assert [(p.row, p.column) for p in problems] == [(2, "time")]
    assert problems[0].why == ("a manual time is 0:01:00 to 12:00:00; got 41:23:00; did you mean 41:23 "
                               "(minutes:seconds)?")
