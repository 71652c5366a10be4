"""The results site from the demo seasons' output tables: every page there, every link landing on a page,
accessible tables, the leaders and times the tables hold, nothing private, and a publish that changes nothing
leaving the folder alone."""

from __future__ import annotations

import html as html_text
import json
import os
import re
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pandas as pd
import pytest

from tdz.publish.report import snapshot
from tdz.publish.site import SITE_FILE, write_site
from tdz.publish.site.model import penalties, slug
from tdz.publish.site.news import latest_news
from tdz.publish.tables import clock, output_tables_for
from tdz.season import Season
from tests.conftest import score_demo

CTT, KWCC = "ctt-winter-2025-26", "kwcc-tdz-2026"
pytestmark = pytest.mark.xdist_group("site")  # one worker builds the demo sites once


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, demo_tables: dict) -> Path:
    folder = tmp_path_factory.mktemp("site")
    for tables in demo_tables.values():
        write_site(tables, folder)
    return folder


def pages(folder: Path) -> dict[Path, str]:
    return {p: p.read_text(encoding="utf-8") for p in folder.rglob("*.html")}


def rows_of(html: str, table_id: str) -> list[str]:
    body = html.split(f'<table id="{table_id}">', 1)[1].split("</table>", 1)[0]
    return re.findall(r"<tr[^>]*>(.*?)</tr>", body.split("<tbody>", 1)[1])


def first_link_text(row: str) -> str:
    return re.search(r"<a [^>]*>(.*?)</a>", row).group(1)  # type: ignore[union-attr]


def test_every_page_type_is_written_for_both_seasons(site: Path, demo_tables: dict) -> None:
    ctt, kwcc = site / CTT, site / KWCC
    pools = demo_tables[CTT]["standings"]["pool"].astype(str).unique()
    rounds = demo_tables[CTT]["round_results"]["round_id"].astype(str).unique()
    assert len(pools) == 123 and len(rounds) == 14
    for pool in pools:
        assert (ctt / "standings" / f"{slug(pool)}.html").exists()
        for rnd in rounds:  # a page for every round and pool, so a link never breaks
            assert (ctt / "rounds" / rnd / f"{slug(pool)}.html").exists()
    for rider in demo_tables[CTT]["riders"]["rider_id"]:
        assert (ctt / "riders" / f"{rider}.html").exists()
    for path in ("index.html", "rounds/index.html", "riders/index.html", "stats.html", "static/site.css",
                 "static/site.js", "pools.js"):
        assert (ctt / path).exists(), path
    for classification in ("overall", "group-a", "group-b", "women"):
        assert (kwcc / "gc" / f"{classification}.html").exists()
    for course in ("1", "2", "3.1", "3.2", "4", "5", "6"):
        assert (kwcc / "stages" / f"{course}.html").exists()
    seasons = (site / "index.html").read_text(encoding="utf-8")
    assert f'href="{CTT}/index.html"' in seasons and f'href="{KWCC}/index.html"' in seasons
    assert not [p for p in site.iterdir() if p.name.startswith(".")], "a temporary build folder was left behind"


def broken_links(site: Path) -> list[tuple[str, str]]:
    """Every (page, link) whose target is not a file inside the site folder (resolved as a browser would, without
    asking the disk for each of the thousands of links)."""
    root = site.resolve()
    files = {str(p.resolve()) for p in root.rglob("*") if p.is_file()}
    missing = []
    for path, html in pages(site).items():
        folder = str(path.resolve().parent)
        for target in set(re.findall(r'(?:href|src)="([^"]+)"', html)):
            if urlsplit(target).scheme in ("http", "https") or target.startswith("#"):
                continue
            assert not target.startswith("/"), f"{path}: absolute link {target}"
            if os.path.normpath(os.path.join(folder, unquote(urlsplit(target).path))) not in files:
                missing.append((str(path.relative_to(site)), target))
    return missing


def test_every_link_and_asset_lands_on_a_file_in_the_folder(site: Path) -> None:
    """Relative links only, so the folder works from file:// and on any static host (the footer's "All seasons"
    link leaves the season folder for the seasons index)."""
    assert broken_links(site) == []


@pytest.mark.parametrize("kind", ["points", "time"])
def test_a_season_before_its_first_results_has_every_section_and_no_broken_link(tmp_path: Path, kind: str) -> None:
    tables = {t.name: t.empty() for t in output_tables_for(kind)}
    tables["about"] = pd.DataFrame({"key": ["season_id", "season_name", "scoring", "rounds_final", "rounds"],
                                    "value": ["new-season", "New season", kind, "0", "6"]})
    home = write_site(tables, tmp_path).read_text(encoding="utf-8")
    assert "0 riders, 0 efforts; 0 of 6" in home and "Provisional" in home
    board = tmp_path / "new-season" / ("standings" if kind == "points" else "gc") / "overall.html"
    assert "No results yet." in board.read_text(encoding="utf-8")
    assert broken_links(tmp_path) == []


def test_tables_are_accessible(site: Path) -> None:
    for path, html in pages(site).items():
        tables = html.count("<table ")
        assert html.count("<caption ") == tables, path
        for head in re.findall(r"<thead>(.*?)</thead>", html):
            assert head.count("<th ") == head.count('<th scope="col"'), path
        for row in re.findall(r"<tbody>\n(.*?)\n</tbody>", html, re.DOTALL):
            for line in filter(None, row.split("\n")):
                assert '<th scope="row">' in line, (path, line[:120])
        assert '<html lang="en">' in html and 'name="viewport"' in html, path


def test_home_shows_the_leaders_status_and_as_of(site: Path, demo_tables: dict) -> None:
    standings = demo_tables[CTT]["standings"]
    leader = standings[(standings["pool"] == "overall") & (standings["place"] == 1)].iloc[0]
    women = standings[(standings["pool"] == "gender=F") & (standings["place"] == 1)].iloc[0]
    home = (site / CTT / "index.html").read_text(encoding="utf-8")
    rows = rows_of(home, "leaders")
    assert "Overall" in rows[0] and leader["rider_name"] in rows[0] and f">{leader['total']:g}<" in rows[0]
    assert any("Women" in r and women["rider_name"] in r for r in rows)
    assert len(rows_of(home, "leaders-combined")) == 123 - len(rows)
    assert '<span class="badge final">Final</span>' in home and "Sun 01 Mar 2026, 20:00 UTC" in home

    gc = demo_tables[KWCC]["gc"]
    first = gc[(gc["classification"] == "overall") & (gc["place"] == 1)].iloc[0]
    kwcc_home = (site / KWCC / "index.html").read_text(encoding="utf-8")
    assert first["rider_name"] in rows_of(kwcc_home, "leaders")[0] and clock(first["gc_time_s"]) in kwcc_home


def test_round_and_stage_tables_show_times_as_clocks_and_penalties(site: Path, demo_tables: dict) -> None:
    results = demo_tables[CTT]["round_results"]
    women = results[(results["pool"] == "gender=F") & (results["round_id"] == "3")].sort_values("position")
    rows = rows_of((site / CTT / "rounds" / "3" / "gender-f.html").read_text(encoding="utf-8"), "round")
    assert len(rows) == len(women)
    assert women.iloc[0]["rider_name"] in rows[0] and clock(women.iloc[0]["finish_time_s"]) in rows[0]

    stages = demo_tables[KWCC]["stage_results"]
    for column, said in (("race_penalty_s", "s race (Zwift event type RACE"), ("start_penalty_s", "s start time (started Mon")):
        penalised = stages[stages[column] > 0].iloc[0]
        page = (site / KWCC / "stages" / f"{penalised['round_id']}.html").read_text(encoding="utf-8")
        row = html_text.unescape(next(r for r in rows_of(page, "stage") if f"riders/{penalised['rider_id']}.html" in r))
        assert f"+{penalised[column]:g} {said}" in row and clock(penalised["total_time_s"]) in row
    group = str(penalised["rider_group"])[0]
    assert f'<tr data-group="{group}"><td class="num">{penalised["place"]}</td>' in page  # what the group filter reads
    manual = stages[stages["source"].astype(str).str.startswith("manual")].iloc[0]
    page = (site / KWCC / "stages" / f"{manual['round_id']}.html").read_text(encoding="utf-8")
    assert "Strava (power meter failed)" in page


def test_a_rider_page_has_every_effort_with_marks_and_the_place_in_each_pool(site: Path, demo_tables: dict) -> None:
    tables = demo_tables[CTT]
    efforts = tables["efforts"]
    rider = int(efforts[efforts["is_pb"]].iloc[0]["rider_id"])
    page = (site / CTT / "riders" / f"{rider}.html").read_text(encoding="utf-8")
    mine = efforts[efforts["rider_id"] == rider]
    rows = rows_of(page, "efforts")
    assert len(rows) == len(mine)
    assert sum('class="pb"' in r for r in rows) == int(mine["is_pb"].sum())
    assert sum('class="best"' in r for r in rows) == int(mine["is_best"].sum())
    standings = tables["standings"]
    assert len(rows_of(page, "places")) == int((standings["rider_id"] == rider).sum())
    counted = tables["round_results"].query(f"pool == 'overall' and rider_id == {rider}")
    assert sum('class="counted"' in r for r in rows_of(page, "rounds")) == int(counted["counted"].sum())

    dq = efforts[efforts["status"] == "dq"].iloc[0]
    page = (site / CTT / "riders" / f"{dq['rider_id']}.html").read_text(encoding="utf-8")
    assert ">DQ<" in page and str(dq["status_reason"]).replace("&", "&amp;") in page


def test_nothing_private_reaches_the_site(site: Path, demo_archive_dir: Path, ctt: Season) -> None:
    from tdz.demo import ensure_demo

    seed = ensure_demo(ctt, demo_archive_dir).organiser_seed
    set_by = {row[4] for row in seed["DQ"][1:] if row[4]}
    assert set_by == {"Rob G (organiser)"}
    for path, html in pages(site).items():
        for name in set_by:
            assert name not in html, path
        assert "set by" not in html.lower() and "problems" not in path.name


def test_statistics_count_riders_per_round_and_attempts_per_event(site: Path, demo_tables: dict) -> None:
    efforts = demo_tables[CTT]["efforts"]
    page = (site / CTT / "stats.html").read_text(encoding="utf-8")
    per_round = rows_of(page, "per-round")
    assert len(per_round) == 14
    attempts = int((efforts["round_id"] == "1").sum())
    assert f'<td class="num">{attempts}</td>' in per_round[0]
    assert len(rows_of(page, "per-event")) == efforts["event_id"].nunique()


def test_provisional_rounds_carry_the_provisional_badge(tmp_path: Path, demo_archive_dir: Path, ctt: Season) -> None:
    mid_season = datetime(2026, 1, 20, tzinfo=UTC)
    tables = score_demo(ctt, demo_archive_dir, now=mid_season)
    home = write_site(tables, tmp_path).read_text(encoding="utf-8")
    assert '<span class="badge provisional">Provisional</span>' in home
    rounds = (tmp_path / CTT / "rounds" / "index.html").read_text(encoding="utf-8")
    assert 'badge final">Final' in rounds and 'badge provisional">Provisional' in rounds


def test_an_unchanged_publish_leaves_the_folder_and_a_change_swaps_it_whole(tmp_path: Path, demo_tables: dict) -> None:
    tables = demo_tables[KWCC]
    home = write_site(tables, tmp_path)
    stamp = home.stat().st_mtime_ns
    assert write_site(tables, tmp_path) == home and home.stat().st_mtime_ns == stamp
    digest = json.loads((tmp_path / KWCC / SITE_FILE).read_text())["digest"]

    changed = dict(tables)
    gc = tables["gc"].copy()
    gc.loc[0, "rider_name"] = "Renamed Rider"
    changed["gc"] = gc
    write_site(changed, tmp_path)
    assert "Renamed Rider" in home.read_text(encoding="utf-8")
    assert json.loads((tmp_path / KWCC / SITE_FILE).read_text())["digest"] != digest
    assert sorted(p.name for p in tmp_path.iterdir()) == ["index.html", KWCC, "static"]


def test_the_news_survives_publishes_that_change_nothing(tmp_path: Path, demo_tables: dict) -> None:
    tables = demo_tables[CTT]
    current = snapshot(CTT, tables)
    fewer = current.model_copy(update={"efforts": current.efforts[10:]})
    path = tmp_path / "news.json"
    t0, t1 = datetime(2026, 3, 1, 21, tzinfo=UTC), datetime(2026, 3, 1, 22, tzinfo=UTC)
    first = latest_news(path, fewer, current, t0, keep=True)
    assert (first.new_efforts, first.first_publish, first.published_at) == (10, False, t0)
    again = latest_news(path, current, current, t1, keep=True)  # the hourly run with nothing new
    assert again == first
    assert latest_news(path, None, fewer, t1, keep=False).first_publish and path.exists()
    assert latest_news(path, current, current, t1, keep=True) == first  # keep=False saved nothing


def test_penalties_name_their_reasons() -> None:
    split = pd.DataFrame({"race_penalty_s": [60.0, 0.0, None], "race_reason": ["Zwift event type RACE", "", ""],
                          "start_penalty_s": [60.0, 0.0, None],
                          "start_penalty_reason": ["started Mon 17:10 UTC", "", ""],
                          "manual_penalty_s": [0.0, 30.0, None]})
    assert penalties(split) == ["+60 s race (Zwift event type RACE); +60 s start time (started Mon 17:10 UTC)",
                                "+30 s manual result", ""]
