"""Random organiser rows across all five organiser tabs, through the local workbook and the pipeline's steps.

Each row is drawn valid, or drawn valid and then broken in one known way (a typo in an id, a round that does not
exist, a time of 0, a group nobody has, a duplicate…). Properties: every run completes (scored and published),
every broken row is on the problems tab and no valid row is, and the standings with the broken rows are the
standings without them. A second property types arbitrary text (and spreadsheet numbers and times) into every
cell: every run still completes.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tdz import pipeline
from tdz.ingest.parse import ParsedArchive
from tdz.publish.tables import ORGANISER_TABS, Grid
from tdz.publish.workbook.xlsx import XlsxWorkbook
from tdz.settings import Settings
from tests.test_organiser_inputs import POINTS_TOML, TIME_TOML
from tests.wire import result_row, store_event

RIDERS = (101, 102, 103, 104)
NEW_RIDERS = tuple(range(201, 209))
TABS = ("Events", "Rider registry", "DQ", "Handicaps", "Manual results")


@dataclass(frozen=True)
class World:
    kind: str  # points or time
    season_file: Path
    archive_dir: Path
    rounds: tuple[str, ...]
    events: tuple[int, ...]
    groups: tuple[str, ...]
    categories: tuple[str, ...]


@pytest.fixture(scope="module")
def worlds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, World]:
    root = tmp_path_factory.mktemp("organiser-properties")
    found: dict[str, World] = {}
    for kind, toml, season_id, events in (
            ("points", POINTS_TOML, "mini-points", {501: datetime(2025, 11, 11, 18, tzinfo=UTC),
                                                   502: datetime(2025, 11, 19, 18, tzinfo=UTC),
                                                   503: datetime(2025, 11, 25, 18, tzinfo=UTC)}),
            ("time", TIME_TOML, "mini-time", {601: datetime(2026, 1, 6, 10, tzinfo=UTC),
                                              602: datetime(2026, 1, 13, 10, tzinfo=UTC)})):
        season_file = root / f"{kind}.toml"
        season_file.write_text(toml, encoding="utf-8")
        for n, (event, start) in enumerate(events.items()):
            store_event(root / "archive", season_id, event, f"Event {event}", start,
                        [result_row(r, 1500.0 + 7 * i + 3 * n, pen="C", male=i % 2 == 0) for i, r in enumerate(RIDERS)])
        rounds = ("1", "2", "3") if kind == "points" else ("1", "2")
        found[kind] = World(kind, season_file, root / "archive", rounds, tuple(events),
                            ("A1", "B1") if kind == "time" else (), ("A", "D") if kind == "points" else ())
    return found


@dataclass
class Row:
    tab: str
    cells: list[str]
    valid: bool
    why: str = ""


texts = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=12).filter(
    lambda t: t.strip() != "")
times = st.sampled_from(["20:00", "1234.5", "1:02:03", "41:23.5", "75:00", "0:20:32.053"])


def valid_rows(draw: st.DrawFn, world: World) -> dict[str, list[list[str]]]:
    """Valid rows for each tab, with unique keys and ids that exist."""
    rows: dict[str, list[list[str]]] = {t: [] for t in TABS}
    for event in draw(st.lists(st.sampled_from([*world.events, 777]), unique=True, max_size=3)):
        rows["Events"].append([str(event), draw(st.sampled_from(world.rounds)),
                               draw(st.sampled_from(["confirmed", "excluded", "suggested", ""])), draw(texts)])
    registry = list(RIDERS) if world.kind == "time" else []  # a time season counts only registered riders
    registry += draw(st.lists(st.sampled_from(NEW_RIDERS + RIDERS) if world.kind == "points" else
                              st.sampled_from(NEW_RIDERS), unique=True, max_size=3))
    for rider in dict.fromkeys(registry):
        rows["Rider registry"].append([str(rider), draw(texts), draw(st.sampled_from([*world.groups, ""])),
                                       draw(st.sampled_from(["M", "F", "f", ""])),
                                       draw(st.sampled_from([*world.categories, ""])),
                                       draw(st.sampled_from(["yes", "no", ""]))])
    known = sorted(set(RIDERS) | set(registry))
    dq_keys = draw(st.lists(st.tuples(st.sampled_from(known), st.sampled_from(["", *world.rounds]),
                                      st.sampled_from(["", *map(str, world.events)])), unique=True, max_size=3))
    for rider, round_id, event in dq_keys:
        rows["DQ"].append([str(rider), round_id, event, draw(texts), draw(st.sampled_from(["", "Jo"]))])
    if world.kind == "time":
        for key in draw(st.lists(st.sampled_from([*world.groups, *map(str, known)]), unique=True, max_size=3)):
            group, rider = (key, "") if key in world.groups else ("", key)
            rows["Handicaps"].append([group, rider, draw(st.sampled_from(["0", "300", "5:00", "1:00:00"]))])
    for rider, round_id in draw(st.lists(st.tuples(st.sampled_from(registry or known), st.sampled_from(world.rounds)),
                                         unique=True, max_size=3)):
        rows["Manual results"].append([str(rider), round_id, draw(times), draw(st.sampled_from(["", "30", "1:00"])),
                                       draw(texts)])
    return rows


def broken(draw: st.DrawFn, world: World, tab: str, valid: dict[str, list[list[str]]]) -> list[str]:
    """A row of `tab` with one known fault."""
    rider = str(draw(st.sampled_from(RIDERS)))
    round_id = draw(st.sampled_from(world.rounds))
    bad_id = draw(st.sampled_from(["12x", "0", "1" * 30, "\u0661\u0660\u0661", "-5", "10 1"]))
    if tab == "Events":
        return draw(st.sampled_from([[bad_id, round_id, "confirmed", ""], [str(world.events[0]), "99", "", ""],
                                     [str(world.events[0]), round_id, "maybe", ""]]))
    if tab == "Rider registry":
        fresh = str(draw(st.sampled_from(NEW_RIDERS)))
        return draw(st.sampled_from([[bad_id, "x", "", "", "", ""], [fresh, "x", "", "X", "", ""],
                                     [fresh, "x", "", "", "", "perhaps"], [fresh, "x", "Q7", "", "", ""],
                                     [fresh, "x", "", "", "Z", ""]]))
    if tab == "DQ":
        return draw(st.sampled_from([[bad_id, "", "", "drafting", ""], ["999999", "", "", "drafting", ""],
                                     [rider, "99", "", "drafting", ""], [rider, "", "888888", "drafting", ""],
                                     [rider, round_id, "", "", "Jo"]]))
    if tab == "Handicaps":
        faults = [["", "999999", "60"], ["A1" if world.kind == "time" else "", rider, "60"],
                  ["", rider, draw(st.sampled_from(["-5", "soon", "99999", "1" + "0" * 60, "1:75"]))]]
        if world.kind == "time":
            faults.append(["Z9", "", "600"])
        return draw(st.sampled_from(faults))
    unregistered = "888" if world.kind == "time" else "999999"
    return draw(st.sampled_from([[rider, round_id, draw(st.sampled_from(["0:00", "abc", "1:75", "4000:00:00"])), "",
                                  "Strava"], [rider, round_id, "20:00", "9999", "Strava"],
                                 [rider, round_id, "20:00", "", ""], [unregistered, round_id, "20:00", "", "Strava"],
                                 [rider, "99", "20:00", "", "Strava"]]))


@st.composite
def organiser_rows(draw: st.DrawFn, world: World) -> list[Row]:
    valid = valid_rows(draw, world)
    rows = [Row(tab, cells, True) for tab, tab_rows in valid.items() for cells in tab_rows]
    for tab in TABS:
        rows += [Row(tab, broken(draw, world, tab, valid), False) for _ in range(draw(st.integers(0, 2)))]
    if world.kind == "points":  # every Handicaps row of a points season is refused
        rows = [Row(r.tab, r.cells, r.valid and r.tab != "Handicaps") for r in rows]
    shuffled = draw(st.permutations(rows))
    duplicates = [Row(r.tab, list(r.cells), False) for r in draw(st.lists(st.sampled_from(
        [r for r in rows if r.valid] or [None]), max_size=2)) if r is not None]  # after their original
    return [*shuffled, *duplicates]


def grids_of(rows: list[Row]) -> dict[str, Grid]:
    return {tab: [list(ORGANISER_TABS[tab].header), *(r.cells for r in rows if r.tab == tab)] for tab in TABS}


def compared(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    return {name: frame for name, frame in tables.items() if name not in ("problems", "about")}


def run_on_workbook(world: World, grids: dict[str, Grid], folder: Path,
                    parsed: dict[str, ParsedArchive]) -> tuple[pipeline.SeasonRun, dict[str, Grid]]:
    settings = Settings(_env_file=None, archive_dir=world.archive_dir, out_dir=folder)
    run = pipeline.open_run(pipeline.RunRequest(season_file=str(world.season_file)), settings)
    XlsxWorkbook(folder / f"{run.season.id}.xlsx").ensure_organiser_tabs(list(ORGANISER_TABS.values()), grids)
    if world.kind not in parsed:
        parsed[world.kind] = pipeline.parse(run)
    return run, pipeline.read_organiser_tabs(run)


PARSED: dict[str, ParsedArchive] = {}


@pytest.mark.parametrize("kind", ["points", "time"])
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(data=st.data())
def test_bad_rows_are_reported_and_change_nothing(worlds: dict[str, World], kind: str, data: st.DataObject) -> None:
    world = worlds[kind]
    rows = data.draw(organiser_rows(world))
    with tempfile.TemporaryDirectory() as folder:
        run, grids = run_on_workbook(world, grids_of(rows), Path(folder), PARSED)
        scored = pipeline.score(run, grids, PARSED[kind])
        published = pipeline.publish(run, scored)
        assert published.skipped == "" and published.report is not None
    flagged = {(p.source, p.row) for p in scored.problems}
    numbered = {tab: 1 for tab in TABS}
    for row in rows:
        numbered[row.tab] += 1
        place = (row.tab, numbered[row.tab])
        assert (place in flagged) != row.valid, (place, row.cells, [str(p) for p in scored.problems if
                                                                     (p.source, p.row) == place])
    clean = pipeline.score(run, grids_of([r for r in rows if r.valid]), PARSED[kind])
    for name, frame in compared(scored.tables).items():
        pd.testing.assert_frame_equal(frame, compared(clean.tables)[name], obj=name)


junk_cells = st.one_of(st.text(max_size=20), st.integers(-10**12, 10**12).map(str), st.sampled_from(
    ["", " ", "=1+1", "#N/A", "NaN", "inf", "1e308", "0x1F", "٣", "²", "１２", "🚴", "\x00", "a\tb", "0" * 400]))
typed_values = st.one_of(st.integers(-10**6, 10**12), st.floats(allow_nan=True, allow_infinity=True),
                         st.booleans(), st.just(time(9, 30)), st.just(timedelta(hours=41, minutes=23)),
                         st.just(datetime(2026, 1, 12)), st.just(datetime(1900, 1, 1, 17, 23)))


@pytest.mark.parametrize("kind", ["points", "time"])
@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(data=st.data())
def test_any_text_or_spreadsheet_value_in_any_cell_never_stops_a_run(worlds: dict[str, World], kind: str,
                                                                    data: st.DataObject) -> None:
    world = worlds[kind]
    rows = {tab: data.draw(st.lists(st.lists(junk_cells, min_size=0, max_size=len(ORGANISER_TABS[tab].columns) + 1),
                                    max_size=4)) for tab in TABS}
    if kind == "time":  # registered riders, so the run has standings for the junk to spoil
        rows["Rider registry"] = [[str(r), "", "A1", "", "", ""] for r in RIDERS] + rows["Rider registry"]
    typed = data.draw(st.lists(st.tuples(st.sampled_from(TABS), st.integers(2, 5), st.integers(1, 6), typed_values),
                               max_size=6))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / ("mini-points.xlsx" if kind == "points" else "mini-time.xlsx")
        XlsxWorkbook(path).ensure_organiser_tabs(list(ORGANISER_TABS.values()), {
            tab: [list(ORGANISER_TABS[tab].header), *cells] for tab, cells in rows.items()})
        book = openpyxl.load_workbook(path)
        for tab, row, column, value in typed:  # what Excel stores when it reads what was typed as a number or time
            if isinstance(value, float) and not pd.notna(value) or value in (float("inf"), float("-inf")):
                continue  # Excel stores no NaN or infinity
            book[tab].cell(row=row, column=column).value = value
        book.save(path)
        settings_ = Settings(_env_file=None, archive_dir=world.archive_dir, out_dir=Path(folder))
        result = pipeline.rescore_season(pipeline.RunRequest(season_file=str(world.season_file)), settings_)
        assert result.skipped == "" and result.summary.efforts > 0
