"""Points scoring (CTT rules), checked on a season small enough to score on paper."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

from tdz.ingest.archive import Archive
from tdz.ingest.parse import parse_archive
from tdz.scoring import score_season
from tdz.scoring.organiser import read_overrides
from tdz.season import Season, load_season
from tests.wire import result_row, rows_of, sprint_row, store_event

SEASON_TOML = """
[season]
id = "mini-ctt"
name = "Mini CTT"
settle_hours = 48

[scoring]
kind = "points"
base_total = 50
segment_bonus = [5, 4, 3, 2, 1]
pb_bonus = 1
pools = ["overall", "gender"]
counting = { flat = 1, rolling = 0, mountain = 1 }

[scoring.power_categories]
open = [{ category = "A", min_watts = 250, min_wkg = 4.2 }, { category = "B", min_watts = 200, min_wkg = 3.36 }]
women = [{ category = "A", min_wkg = 3.88 }, { category = "B", min_wkg = 3.36 }]

[[rounds]]
id = "1"
opens = 2025-11-10T00:00:00Z
closes = 2025-11-17T00:00:00Z
route = "Flat X"
route_id = 3368626651  # a route newer than the table: given by id
terrain = "flat"
segment = { id = "35", name = "Sprint X" }

[[rounds]]
id = "2"
opens = 2025-11-17T00:00:00Z
closes = 2025-11-24T00:00:00Z
route = "Flat X"
route_id = 3368626651  # a route newer than the table: given by id
terrain = "flat"
segment = { id = "35", name = "Sprint X" }

[[rounds]]
id = "3"
opens = 2025-11-24T00:00:00Z
closes = 2025-12-01T00:00:00Z
route = "Mountain Y"
route_id = 3368626651  # a route newer than the table: given by id
terrain = "mountain"
segment = { id = "20", name = "KOM Y" }
"""
A, B, C, D = 1001, 1002, 1003, 1004  # D is the only woman
NOW = datetime(2026, 6, 1, tzinfo=UTC)


def t(day: int, hour: int = 18) -> datetime:
    return datetime(2025, 11, day, hour, tzinfo=UTC)


@pytest.fixture()
def mini(tmp_path: Path) -> tuple[Season, Path]:
    (tmp_path / "mini.toml").write_text(SEASON_TOML)
    season = load_season(tmp_path / "mini.toml")
    archive = tmp_path / "archive"
    # Round 1, two events. Best efforts: A 990 (e12), B 990 (e11), C 1010, D 1100.
    store_event(archive, season.id, 11, "Round 1 TT", t(10),
                [result_row(A, 1000.0), result_row(B, 990.0), result_row(D, 1100.0, male=False, wkg=3.5)],
                [sprint_row(A, {"35": 62.0}), sprint_row(D, {"35": 61.0})])  # B has no segment time
    store_event(archive, season.id, 12, "Round 1 TT", t(12),
                [result_row(A, 990.0), result_row(C, 1010.0)],
                [sprint_row(A, {"35": 60.0}), sprint_row(C, {"35": 59.0})])
    # Round 2: A 995 (not a PB: best so far 990), B 980 (PB: best so far 990).
    store_event(archive, season.id, 21, "Round 2 TT", t(18),
                [result_row(A, 995.0), result_row(B, 980.0)],
                [sprint_row(A, {"35": 30.0}), sprint_row(B, {"35": 31.0})])
    # Round 3 (mountain), no segment times at all.
    store_event(archive, season.id, 31, "Round 3 TT", t(25),
                [result_row(A, 2000.0), result_row(C, 1900.0)], [])
    return season, archive


def score(season: Season, archive: Path, grids: dict | None = None):
    parsed = parse_archive(Archive(archive, season.id))
    overrides, problems = read_overrides(season, grids or {}, set(parsed.efforts["rider_id"]))
    return score_season(season, parsed, overrides, now=NOW, problems=problems)


def test_round_scores_share_ranks_and_skip_missing_segment_times(mini) -> None:
    scored = score(*mini)
    r1 = rows_of(scored.tables["round_results"], pool="overall", round_id="1")
    # Times: A 990, B 990 (shared 1st), C 1010 (3rd: the shared rank takes two places), D 1100 (4th).
    assert r1["position"].to_dict() == {A: 1, B: 1, C: 3, D: 4}
    # Segment times of the best efforts: C 59 (1st, −5), A 60 (2nd, −4; A's 62 in e11 does not count), D 61
    # (3rd, −3). B's best effort has no segment time: no place, no bonus.
    assert r1.loc[[A, C, D], "segment_place"].tolist() == [2, 1, 3]
    assert pd.isna(r1.loc[B, "segment_place"])
    assert r1["segment_bonus"].to_dict() == {A: 4, B: 0, C: 5, D: 3}
    # Round score = position − bonus: A 1−4 = −3, B 1−0 = 1, C 3−5 = −2, D 4−3 = 1.
    assert r1["round_score"].to_dict() == {A: -3, B: 1, C: -2, D: 1}


def test_pb_is_against_the_running_best_on_the_route(mini) -> None:
    efforts = score(*mini).tables["efforts"]
    pbs = set(zip(efforts.loc[efforts["is_pb"], "rider_id"], efforts.loc[efforts["is_pb"], "event_id"]))
    # A: 1000 (first ride, never a PB), 990 (PB), 995 (slower than 990: no PB). B: 990, then 980 (PB).
    # Round 3 is another route: the first ride there is never a PB.
    assert pbs == {(A, 12), (B, 21)}


def test_totals_count_the_terrain_quota_and_rank_by_counted_rounds(mini) -> None:
    standings = rows_of(score(*mini).tables["standings"], pool="overall")
    # A: flat −3 (R1) and −3 (R2), one counts → −3; mountain 2 (2nd of 2, no segments) → counted 2, sum −1;
    #    one PB → 50 − 1 − 1 = 48.
    # B: flat 1 (R1), −3 (R2) → −3; no mountain → counted 1; one PB → 50 − 3 − 1 = 46.
    # C: flat −2; mountain 1 → counted 2, sum −1; no PB → 49.   D: flat 1 → counted 1 → 51.
    assert standings["total"].to_dict() == {A: 48, B: 46, C: 49, D: 51}
    assert standings["rounds_counted"].to_dict() == {A: 2, B: 1, C: 2, D: 1}
    # More counted rounds first (A 48, C 49), then lowest total (B 46, D 51).
    assert standings["place"].to_dict() == {A: 1, C: 2, B: 3, D: 4}


def test_positions_are_re_ranked_inside_each_pool(mini) -> None:
    scored = score(*mini)
    women = rows_of(scored.tables["round_results"], pool="gender=F", round_id="1")
    # D alone in the women's pool: 1st on time (1 point) and 1st on the segment (−5) → −4.
    assert women.loc[D, ["position", "segment_place", "round_score"]].tolist() == [1, 1, -4]
    standing = rows_of(scored.tables["standings"], pool="gender=F").loc[D]
    assert (standing["place"], standing["total"]) == (1, 46)
    men = rows_of(scored.tables["round_results"], pool="gender=M", round_id="1")
    assert men["position"].to_dict() == {A: 1, B: 1, C: 3}


def test_a_dq_removes_the_effort_and_is_reported_with_its_reason(mini) -> None:
    grids = {"DQ": [["rider_id", "round", "event_id", "reason", "set_by"],
                    [str(A), "1", "12", "weight not verified", "Jo"],
                    ["10x1", "1", "", "typo", ""]]}
    scored = score(*mini, grids)
    efforts = scored.tables["efforts"]
    dq = efforts[(efforts["rider_id"] == A) & (efforts["event_id"] == 12)].iloc[0]
    assert dq["status"] == "dq" and dq["status_reason"] == "DQ: weight not verified"  # who decided: on the DQ tab
    r1 = rows_of(scored.tables["round_results"], pool="overall", round_id="1")
    assert r1.loc[A, "finish_time_s"] == 1000.0  # A's other attempt in round 1 becomes the best effort
    problems = scored.tables["problems"]
    assert problems[["source", "row", "column", "value"]].values.tolist() == [["DQ", 3, "rider_id", "10x1"]]


def test_a_late_zwiftpower_dq_removes_the_effort_and_says_why(mini) -> None:
    season, archive = mini
    # ZwiftPower disqualifies C in event 12 days later: the view drops the row, the slim payload flags it.
    rows = [result_row(A, 990.0, pos=1)]
    slim = [{"zwid": str(A), "pos": "1", "name": f"Rider {A}", "dq_cat": ""},
            {"zwid": str(C), "pos": "2", "name": f"Rider {C}", "dq_cat": "ZP", "male": 1}]
    Archive(archive, season.id).store_event(12, {
        "results_view": json.dumps({"data": rows}).encode(),
        "results_zwift": json.dumps({"data": slim}).encode()}, fetched_at=t(20))
    scored = score(season, archive)
    c_efforts = scored.tables["efforts"].query(f"rider_id == {C} and event_id == 12")
    assert c_efforts[["status", "status_reason"]].values.tolist() == [["dq", "ZwiftPower DQ (ZP)"]]
    r1 = rows_of(scored.tables["round_results"], pool="overall", round_id="1")
    assert C not in r1.index
    # With C gone from round 1: A and B share 1st (990), D is 3rd (1100).
    assert r1["position"].to_dict() == {A: 1, B: 1, D: 3}


def test_a_women_only_event_counts_for_its_round_in_every_pool(tmp_path: Path) -> None:
    (tmp_path / "mini.toml").write_text(SEASON_TOML)
    season = load_season(tmp_path / "mini.toml")
    archive = tmp_path / "archive"
    store_event(archive, season.id, 11, "Round 1 TT", t(10), [result_row(A, 1000.0), result_row(B, 1010.0)])
    store_event(archive, season.id, 13, "Round 1 TT - Women", t(13),
                [result_row(D, 995.0, male=False), result_row(C + 10, 1005.0, male=False)])
    scored = score(season, archive)
    overall = rows_of(scored.tables["round_results"], pool="overall", round_id="1")
    # D's 995 in the women-only event beats every man: 1st overall; A 2nd; the second woman 3rd; B 4th.
    assert overall["position"].to_dict() == {D: 1, A: 2, C + 10: 3, B: 4}
    women = rows_of(scored.tables["round_results"], pool="gender=F", round_id="1")
    assert women["position"].to_dict() == {D: 1, C + 10: 2}


def test_only_the_best_mountain_round_counts_when_a_rider_rode_three(tmp_path: Path) -> None:
    toml = SEASON_TOML.replace('terrain = "flat"', 'terrain = "mountain"')  # all three rounds mountain, quota 1
    (tmp_path / "mini.toml").write_text(toml)
    season = load_season(tmp_path / "mini.toml")
    archive = tmp_path / "archive"
    for number, (day, a_time) in enumerate([(10, 1000.0), (18, 1010.0), (25, 990.0)], start=1):
        store_event(archive, season.id, number, f"Round {number}", t(day),
                    [result_row(A, a_time), result_row(B, 1005.0 + number)])
    standings = rows_of(score(season, archive).tables["standings"], pool="overall")
    # A: 1st in rounds 1 and 3, 2nd in round 2 (no segment times) → scores 1, 2, 1; one mountain counts → 1.
    # Rounds 1 and 2 are route "Flat X" (A: 1000 then 1010, no PB); round 3 is "Mountain Y" (first ride there).
    assert standings.loc[A, ["rounds_ridden", "rounds_counted", "round_score_sum", "total"]].tolist() == [3, 1, 1, 51]
    # B: 2nd, 1st, 2nd → best 1; PB? 1006 then 1007 on Flat X: no → 51 as well, sharing 1st place.
    assert standings["place"].to_dict() == {A: 1, B: 1}
