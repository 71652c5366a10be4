"""The demo generator: deterministic bytes, the wire format's quirks, plausible seasons, organiser seeds."""

from __future__ import annotations

import json
import re
import statistics
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tdz.demo import ensure_demo, generate_demo
from tdz.ingest.archive import Archive
from tdz.publish.tables import ORGANISER_TABS, RIDERS_TAB
from tdz.season import Season, load_season

SEASONS = Path(__file__).resolve().parents[1] / "seasons"
CTT, KWCC = "ctt-winter-2025-26", "kwcc-tdz-2026"


class Generated:
    """A season generated twice into two folders, with its payloads decoded."""

    def __init__(self, season: Season, root: Path) -> None:
        self.season = season
        self.dirs = (root / "a", root / "b")
        self.demo = generate_demo(season, self.dirs[0])
        self.demo_again = generate_demo(season, self.dirs[1])
        self.archive = Archive(self.dirs[0], season.season.id)
        self.events = {
            eid: {kind: json.loads(self.archive.read(eid, kind) or b"null") for kind in
                  ("results_view", "results_zwift", "event_sprints", "zwift_event")}
            for eid in self.archive.event_ids()
        }

    def raw(self) -> bytes:
        return b"".join(p.read_bytes() for p in sorted(self.archive.root.rglob("*.json")))

    def starts(self) -> dict[int, datetime]:
        fmt = "%Y-%m-%dT%H:%M:%S.%f%z"
        return {eid: datetime.strptime(p["zwift_event"]["eventStart"], fmt) for eid, p in self.events.items()}


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Generated]:
    out = {}
    for season_id in (CTT, KWCC):
        season = load_season(SEASONS / f"{season_id}.toml")
        out[season_id] = Generated(season, tmp_path_factory.mktemp(season_id))
    return out


def rows(g: Generated, kind: str) -> list[tuple[int, dict]]:
    return [(eid, row) for eid, p in g.events.items() for row in p[kind]["data"]]


def test_two_generations_are_byte_identical(generated: dict[str, Generated]) -> None:
    for g in generated.values():
        files = [sorted(p.relative_to(d) for p in d.rglob("*") if p.is_file()) for d in g.dirs]
        assert files[0] == files[1] and len(files[0]) == 1 + 4 * g.demo.events
        for rel in files[0]:
            assert (g.dirs[0] / rel).read_bytes() == (g.dirs[1] / rel).read_bytes(), rel
        assert g.demo == g.demo_again


def test_another_seed_gives_another_season(generated: dict[str, Generated], tmp_path: Path) -> None:
    g = generated[KWCC]
    other = generate_demo(g.season, tmp_path, seed=7)
    assert Archive(tmp_path, KWCC).input_hash() != g.archive.input_hash()
    assert other.organiser_seed[RIDERS_TAB.name] != g.demo.organiser_seed[RIDERS_TAB.name]


def test_fetched_at_is_the_day_after_the_start(generated: dict[str, Generated]) -> None:
    for g in generated.values():
        for eid, start in g.starts().items():
            record = g.archive.record(eid, "results_view")
            assert record is not None and record.fetched_at == start + timedelta(days=1)


def test_counts_are_in_range(generated: dict[str, Generated]) -> None:
    ctt, kwcc = generated[CTT], generated[KWCC]
    assert 14 * 3 <= ctt.demo.events <= 14 * 6 and ctt.demo.events == len(ctt.events)
    assert 250 <= ctt.demo.riders <= 320
    assert ctt.demo.efforts == len(rows(ctt, "results_zwift"))
    assert 6 * 8 <= kwcc.demo.events <= 6 * 12 + 2
    assert 220 <= kwcc.demo.riders <= 260
    assert kwcc.demo.efforts == len(rows(kwcc, "results_zwift"))
    per_stage: dict[str, int] = defaultdict(int)
    for p in kwcc.events.values():
        per_stage[re.search(r"Stage (\d+)", p["zwift_event"]["name"]).group(1)] += 1  # type: ignore[union-attr]
    assert all(n <= 12 for n in per_stage.values()) and len(per_stage) == 6


def test_ctt_riders_ride_a_varying_number_of_rounds_and_attempts(generated: dict[str, Generated]) -> None:
    g = generated[CTT]
    rounds_of: dict[int, set[str]] = defaultdict(set)
    attempts: dict[tuple[int, str], int] = defaultdict(int)
    for eid, row in rows(g, "results_zwift"):
        rnd = re.search(r"Round (\d+)", g.events[eid]["zwift_event"]["name"]).group(1)  # type: ignore[union-attr]
        rounds_of[int(row["zwid"])].add(rnd)
        attempts[int(row["zwid"]), rnd] += 1
    counts = [len(r) for r in rounds_of.values()]
    assert counts.count(14) >= 10 and sum(7 <= c <= 10 for c in counts) >= 80 and sum(c <= 3 for c in counts) >= 10
    assert {2, 3} <= set(attempts.values())
    women = {int(row["zwid"]) for _, row in rows(g, "results_view") if row["male"] == 0}
    assert 0.15 <= len(women) / len(rounds_of) <= 0.35


def test_every_quirk_is_present(generated: dict[str, Generated]) -> None:
    for g in generated.values():
        view, slim, sprints = rows(g, "results_view"), rows(g, "results_zwift"), rows(g, "event_sprints")
        in_view = {(eid, int(r["zwid"])) for eid, r in view}
        dq = [(eid, r) for eid, r in slim if r["dq_cat"]]
        assert {r["dq_cat"] for _, r in dq} == {"ZP", "UPG"}
        assert all((eid, int(r["zwid"])) not in in_view for eid, r in dq)
        assert all(isinstance(r["zwid"], str) and isinstance(r["pos"], str) for _, r in slim)
        assert len(slim) - len(dq) == len(view)
        for key in ("pos", "avg_power", "weight", "avg_wkg"):
            values = [r[key][0] if isinstance(r[key], list) else r[key] for _, r in view]
            assert any(isinstance(v, str) for v in values) and any(isinstance(v, (int, float)) for v in values), key
        text = b"".join(g.archive.read(eid, "results_view") or b"" for eid in g.events)
        for entity in (b"&eacute;", b"&rsquo;", b"&#128304;", b"&#11088;&#65039;"):
            assert entity in text
        assert any(re.search(r"\[[A-Z&;]+\]", r["name"]) for _, r in view)
        assert any(r["tid"] == "" and r["tname"] == "" for _, r in view)
        assert any(r["tname"] for _, r in view)
        assert any(r["time"] == [0, 0] and r["time_gun"] == 0 for _, r in view)
        assert any(r["weight"] == [0, 0] for _, r in view)
        assert {"-", ""} <= {r["age"] for _, r in view}
        assert any("notes" in r for _, r in view) and any("notes" not in r for _, r in view)
        assert any(isinstance(r["zwid"], str) for _, r in view) and any(isinstance(r["zwid"], int) for _, r in view)
        assert any(r["msec"] == {} for _, r in sprints)
        assert sum(bool(r["msec"]) for _, r in sprints) > 0.8 * len(sprints)
        assert any(p["zwift_event"]["routeId"] > 2**31 for p in g.events.values())
        assert any(r["time_gun"] > r["time"][0] > 0 for _, r in view if r["category"] != "A")
        assert all(r["time_gun"] == r["time"][0] for _, r in view if r["category"] == "A")


def test_ctt_times_are_plausible_and_follow_ability(generated: dict[str, Generated]) -> None:
    g = generated[CTT]
    by_rider_round: dict[tuple[int, str], list[float]] = defaultdict(list)
    segment_of = {r.id: r.segment.id for r in g.season.rounds if r.segment}
    for eid, row in rows(g, "results_view"):
        if row["time"][0]:
            assert 10 * 60 <= row["time"][0] <= 60 * 60
            rnd = re.search(r"Round (\d+)", g.events[eid]["zwift_event"]["name"]).group(1)  # type: ignore[union-attr]
            by_rider_round[int(row["zwid"]), rnd].append(row["time"][0])
    # the same route twice (rounds 1 and 5): a rider's times agree within a few per cent
    gaps = [abs(min(by_rider_round[z, "1"]) / min(by_rider_round[z, "5"]) - 1)
            for z, r in list(by_rider_round) if r == "1" and (z, "5") in by_rider_round]
    assert len(gaps) > 50 and statistics.median(gaps) < 0.04 and max(gaps) < 0.15
    # segment times of the round's segment rise with finish time
    for p in list(g.events.values())[:5]:
        rnd = re.search(r"Round (\d+)", p["zwift_event"]["name"]).group(1)  # type: ignore[union-attr]
        seg = {r["zwid"]: r["msec"][segment_of[rnd]] for r in p["event_sprints"]["data"] if r["msec"]}
        pairs = [(r["time"][0], seg[int(r["zwid"])]) for r in p["results_view"]["data"]
                 if r["time"][0] and int(r["zwid"]) in seg]
        assert statistics.correlation(*zip(*pairs, strict=True)) > 0.8


def test_women_only_events_hold_only_women(generated: dict[str, Generated]) -> None:
    g = generated[CTT]
    women_events = [p for p in g.events.values() if "Women" in p["zwift_event"]["name"]]
    assert len(women_events) >= 3
    for p in women_events:
        assert p["results_view"]["data"] and all(r["male"] == 0 for r in p["results_view"]["data"])
        assert all(r["male"] == 0 for r in p["event_sprints"]["data"])


def test_event_starts_are_inside_their_window(generated: dict[str, Generated]) -> None:
    for g in generated.values():
        windows = {r.stage: (r.opens, r.closes) for r in g.season.rounds}
        makeup = g.season.season.makeup
        for eid, start in g.starts().items():
            name = g.events[eid]["zwift_event"]["name"]
            number = re.search(r"(?:Round|Stage) (\d+)", name).group(1)  # type: ignore[union-attr]
            if "Make-up" in name:
                assert makeup is not None and makeup.opens <= start < makeup.closes
            else:
                opens, closes = windows[number]
                assert opens <= start < closes, (name, start)


def test_kwcc_events_have_the_stage_shape(generated: dict[str, Generated]) -> None:
    g = generated[KWCC]
    names = [p["zwift_event"]["name"] for p in g.events.values()]
    assert "Tour de Zwift 2026 | Stage 1 - Race" in names and "Tour de Zwift 2026 | Stage 2 - Crit City" in names
    assert "Tour de Zwift 2026 | Stage 2 - Group Ride" in names
    monday = {(s.hour, s.minute) for s in g.starts().values() if s.weekday() == 0}
    assert {(17, 0), (18, 0)} <= monday
    assert sum("Make-up" in n for n in names) == 2
    course = {r.id: r.route_id for r in g.season.rounds}
    for p in g.events.values():
        event = p["zwift_event"]
        assert [s["subgroupLabel"] for s in event["eventSubgroups"]] == list("ABCDE")
        routes = {s["subgroupLabel"]: s["routeId"] for s in event["eventSubgroups"]}
        if event["eventType"] == "RACE":  # pens are grades on the stage's one course
            assert set(routes.values()) == {course[event["name"].split("Stage ")[1][0]]}
        else:  # a group ride: each pen its own route option
            assert len(set(routes.values())) >= 2
    stage3 = [p for p in g.events.values() if "Stage 3" in p["zwift_event"]["name"]]
    route = {s["subgroupLabel"]: s["routeId"] for s in stage3[0]["zwift_event"]["eventSubgroups"]}
    assert route["B"] == course["3.1"] and route["C"] == course["3.2"]


def registered_results(g: Generated) -> tuple[dict[str, list[str]], dict[str, set[str]], int]:
    """Registered riders, the stage courses each rode (their pen rode the course's route), and efforts whose pen
    rode another route."""
    riders = {row[0]: row for row in g.demo.organiser_seed[RIDERS_TAB.name][1:]}
    route_of = {r.id: r.route_id for r in g.season.rounds}
    courses_of = defaultdict(list)
    for r in g.season.rounds:
        courses_of[r.stage].append(r.id)
    done: dict[str, set[str]] = defaultdict(set)
    other_pen = 0
    for eid, row in rows(g, "results_view"):
        if str(row["zwid"]) not in riders or not row["time"][0]:
            continue
        event = g.events[eid]["zwift_event"]
        stage = re.search(r"Stage (\d+)", event["name"]).group(1)  # type: ignore[union-attr]
        pen_route = {s["subgroupLabel"]: s["routeId"] for s in event["eventSubgroups"]}[row["category"]]
        counting = [c for c in courses_of[stage] if route_of[c] == pen_route]
        done[str(row["zwid"])].update(counting)
        other_pen += not counting
    return riders, done, other_pen


def test_kwcc_riders_mostly_complete_every_stage(generated: dict[str, Generated]) -> None:
    g = generated[KWCC]
    riders, done, other_pen = registered_results(g)
    all_courses = {r.id for r in g.season.rounds}
    complete = sum(done[z] == all_courses for z in riders)
    assert 0.55 * len(riders) <= complete < len(riders)
    assert other_pen >= 5
    everyone = {int(r["zwid"]) for _, r in rows(g, "results_zwift")}
    assert len(everyone - {int(z) for z in riders}) >= 80


def test_kwcc_riders_seed(generated: dict[str, Generated]) -> None:
    g = generated[KWCC]
    seed = g.demo.organiser_seed
    riders = seed[RIDERS_TAB.name][1:]
    assert 140 <= len(riders) <= 160
    groups = {row[2] for row in riders}
    assert groups == set(g.season.scoring.handicaps) | {""}  # type: ignore[union-attr]
    assert 1 <= sum(row[2] == "" for row in riders) <= 10 and 1 <= sum(row[5] == "yes" for row in riders) <= 10
    assert {row[3] for row in riders} == {"M", "F"}
    assert all("&" not in row[1] and "[" not in row[1] for row in riders)
    assert len(seed["Events"]) == 1 and len(seed["Handicaps"]) == 1 and len(seed["DQ"]) == 1
    (manual,) = seed["Manual results"][1:]
    rider_id, course, time_text, _, source = manual
    _, done, _ = registered_results(g)
    registered = next(row for row in riders if row[0] == rider_id)
    assert registered[2] and registered[5] != "yes"
    assert course not in done[rider_id] and len(done[rider_id]) >= 3
    assert (time_text, source) == ("41:23.5", "Strava (power meter failed)")


def test_ctt_seed_lists_every_event_and_the_dqs(generated: dict[str, Generated]) -> None:
    g = generated[CTT]
    seed = g.demo.organiser_seed
    listed = {int(row[0]): row[1] for row in seed["Events"][1:]}
    assert set(listed) == set(g.events)
    for eid, rnd in listed.items():
        assert f"Round {rnd} -" in g.events[eid]["zwift_event"]["name"]
    assert all(row[2] == "confirmed" for row in seed["Events"][1:])
    (whole_round, one_event, typo) = seed["DQ"][1:]
    for rider_id, rnd, event_id, reason, set_by in (whole_round, one_event):
        assert reason in ORGANISER_TABS["DQ"].choices["reason"] and set_by
        rode = {eid for eid, r in rows(g, "results_zwift") if r["zwid"] == rider_id}
        assert any(listed[eid] == rnd for eid in rode)
        if event_id:
            assert int(event_id) in rode and listed[int(event_id)] == rnd
    assert whole_round[2] == "" and one_event[2]
    assert typo[0] == "10000x2"
    assert all(len(seed[name]) == 1 for name in (RIDERS_TAB.name, "Handicaps", "Manual results"))


def test_seeds_have_exactly_the_organiser_tabs(generated: dict[str, Generated]) -> None:
    for g in generated.values():
        seed = g.demo.organiser_seed
        assert list(seed) == list(ORGANISER_TABS)
        for name, grid in seed.items():
            assert grid[0] == ORGANISER_TABS[name].header
            assert all(len(row) == len(grid[0]) and all(isinstance(c, str) for c in row) for row in grid)


def test_ensure_demo_generates_once_and_then_leaves_the_archive_alone(
    generated: dict[str, Generated], tmp_path: Path
) -> None:
    season = generated[CTT].season
    first = ensure_demo(season, tmp_path)
    manifest = Archive(tmp_path, CTT).manifest_path
    stamp = manifest.stat().st_mtime_ns
    again = ensure_demo(season, tmp_path)
    assert manifest.stat().st_mtime_ns == stamp
    assert first == again == generated[CTT].demo
    assert Archive(tmp_path, CTT).input_hash() == generated[CTT].archive.input_hash()


def test_the_demo_parses_cleanly_and_scores_plausibly(generated: dict[str, Generated]) -> None:
    from tdz.ingest.parse import parse_archive
    from tdz.scoring import score_season
    from tdz.scoring.organiser import read_overrides

    after_the_season = datetime(2026, 3, 10, tzinfo=UTC)
    for season_id, g in generated.items():
        parsed = parse_archive(g.archive)
        assert [str(p) for p in parsed.problems] == []
        assert len(parsed.efforts) == g.demo.efforts
        assert set(parsed.efforts["status"]) == {"ok", "dnf", "dq"}
        overrides, problems = read_overrides(g.season, g.demo.organiser_seed, set(parsed.efforts["rider_id"]))
        assert [p.value for p in problems] == (["10000x2"] if season_id == CTT else [])
        tables = score_season(g.season, parsed, overrides, after_the_season, problems).tables
        if season_id == CTT:
            overall = tables["standings"][tables["standings"]["pool"] == "overall"]
            assert len(overall) == g.demo.riders
            assert overall.sort_values("place").iloc[0]["rounds_counted"] == 7
        else:
            stages = tables["stage_results"]
            assert stages["source"].str.contains("Strava").sum() == 1
            overall = tables["gc"][tables["gc"]["classification"] == "overall"]
            assert (overall["gc_status"] == "ranked").mean() > 0.5
