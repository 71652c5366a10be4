"""Tie-breaks as an ordered list from the season file, on a round pair small enough to check on paper."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from tdz.ingest.archive import Archive
from tdz.ingest.parse import parse_archive
from tdz.scoring import score_season
from tdz.scoring.organiser import Overrides
from tdz.season import load_season
from tests.wire import result_row, store_event

SEASON = """
[season]
id = "ties"
name = "Ties"

[scoring]
kind = "points"
segment_bonus = []
tie_breaks = {tie_breaks}
counting = {{ flat = 2, rolling = 0, mountain = 0 }}
power_categories = {{ open = [], women = [] }}

[[rounds]]
id = "1"
opens = 2025-11-10T00:00:00Z
closes = 2025-11-17T00:00:00Z
route = "Route One"
route_id = 3368626651  # a route newer than the table: given by id
terrain = "flat"

[[rounds]]
id = "2"
opens = 2025-11-17T00:00:00Z
closes = 2025-11-24T00:00:00Z
route = "Route Two"
route_id = 3368626651  # a route newer than the table: given by id
terrain = "flat"
"""
P, Q, S, T = 1, 2, 3, 4


@pytest.mark.parametrize(
    ("tie_breaks", "expected"),
    [
        # Round 1: P 1st, Q 2nd, S 3rd, T 4th. Round 2: S 1st, T 2nd, Q 3rd, P 4th.
        # Totals: S 50+3+1 = 54; P 50+1+4 = 55; Q 50+2+3 = 55; T 50+4+2 = 56.
        (["shared"], {S: 1, P: 2, Q: 2, T: 4}),
        # Countback: P's places {1, 4} beat Q's {2, 3} on the first (best) place.
        (["countback"], {S: 1, P: 2, Q: 3, T: 4}),
        (["best_single", "shared"], {S: 1, P: 2, Q: 3, T: 4}),
        # Last round both rode is round 2: Q 3rd beats P 4th.
        (["last_round"], {S: 1, Q: 2, P: 3, T: 4}),
        # Anything after "shared" is not applied.
        (["shared", "last_round"], {S: 1, P: 2, Q: 2, T: 4}),
    ],
)
def test_tie_breaks_apply_in_the_order_given(tmp_path: Path, tie_breaks: list[str], expected: dict) -> None:
    (tmp_path / "ties.toml").write_text(SEASON.format(tie_breaks=str(tie_breaks).replace("'", '"')))
    season = load_season(tmp_path / "ties.toml")
    archive = tmp_path / "archive"
    store_event(archive, season.id, 1, "Round 1", datetime(2025, 11, 11, 18, tzinfo=UTC),
                [result_row(P, 100.0), result_row(Q, 110.0), result_row(S, 120.0), result_row(T, 130.0)])
    store_event(archive, season.id, 2, "Round 2", datetime(2025, 11, 18, 18, tzinfo=UTC),
                [result_row(S, 100.0), result_row(T, 110.0), result_row(Q, 120.0), result_row(P, 130.0)])
    scored = score_season(season, parse_archive(Archive(archive, season.id)), Overrides(),
                          now=datetime(2026, 1, 1, tzinfo=UTC))
    standings = scored.tables["standings"].query("pool == 'overall'").set_index("rider_id")
    assert standings["place"].to_dict() == expected
