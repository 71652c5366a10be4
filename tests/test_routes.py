"""Routes in season files: named as organisers name them, checked against the bundled Zwift route table."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tdz.routes import TABLE, closest_routes, find_route, route_table
from tdz.season import SeasonFileError, load_season
from tests.conftest import CTT_FILE, KWCC_FILE

ROUND = """
[[rounds]]
id = "{id}"
opens = 2026-01-05T17:00:00Z
closes = 2026-01-12T17:00:00Z
route = "{route}"
{extra}
"""
HEAD = '[season]\nid = "routes"\nname = "Routes"\n[scoring]\nkind = "time"\n'


def season_file(tmp_path: Path, *rounds: tuple[str, str, str]) -> Path:
    path = tmp_path / "routes.toml"
    path.write_text(HEAD + "".join(ROUND.format(id=i, route=r, extra=e) for i, r, e in rounds), encoding="utf-8")
    return path


def test_the_table_holds_zwifts_route_ids_and_where_it_came_from() -> None:
    table = json.loads(TABLE.read_text(encoding="utf-8"))
    assert table["source"].startswith("npm zwift-data ") and "MIT" in table["source"]
    assert find_route("Turf N Surf").id == 4258943387 and find_route("Turf N Surf").world == "Makuri Islands"
    assert len(route_table()) > 250 and all(r.id > 0 and r.distance_km > 0 for r in route_table().values())


def test_an_unknown_route_is_refused_with_the_closest_names(tmp_path: Path) -> None:
    path = season_file(tmp_path, ("1", "Turf n Surf", ""), ("2", "BRAE-k Fast", ""), ("3", "Zzzz", ""))
    with pytest.raises(SeasonFileError) as refused:
        load_season(path)
    lines = str(refused.value).splitlines()
    assert len(lines) == 3
    assert "key rounds[0] (id '1'): unknown route 'Turf n Surf'; did you mean 'Turf N Surf'?" in lines[0]
    assert "did you mean 'BRAEk-fast Crits and Grits'?" in lines[1]
    assert "unknown route 'Zzzz' (routes from npm zwift-data" in lines[2] and "give its Zwift route_id" in lines[2]
    assert closest_routes("X") == [] and closest_routes("tick tock") == ["Tick Tock"]


def test_a_route_newer_than_the_table_is_given_by_id(tmp_path: Path) -> None:
    season = load_season(season_file(tmp_path, ("1", "Brand New Loop", "route_id = 9876543210\nlaps = 2")))
    assert (season.rounds[0].route_id, season.rounds[0].laps) == (9876543210, 2)


def test_the_shipped_seasons_name_routes_the_table_knows() -> None:
    for path in (CTT_FILE, KWCC_FILE):
        season = load_season(path)
        assert all(r.route_id == route_table()[r.route].id for r in season.rounds)
