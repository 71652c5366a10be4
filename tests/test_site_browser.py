"""The demo results site in a real browser: Debian's Chromium, headless, driven by Playwright (its Python package,
pointed at the system browser: nothing is downloaded). The site is served by a local HTTP server on 127.0.0.1 and
opened from file:// too; every page visited must log no console error, failed request or script error.

`.ci/run` installs Chromium (`apt-get install chromium`) where it is missing; where it cannot, these tests are
skipped and say so. `TDZ_SCREENSHOTS=docs/img` saves a screenshot of each page type (the README's pictures).
"""

from __future__ import annotations

import functools
import os
import shutil
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tdz.publish.report import snapshot
from tdz.publish.site import write_site
from tdz.publish.site.news import latest_news

CHROMIUM = os.environ.get("TDZ_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
playwright_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
pytestmark = [pytest.mark.skipif(
    CHROMIUM is None, reason="no Chromium on this machine (.ci/run installs Debian's `chromium`; set TDZ_CHROMIUM to "
                             "use another): the browser tests of the results site did not run"),
    pytest.mark.xdist_group("browser")]  # one worker builds the site and starts Chromium once
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"]
"""As root with no network: no sandbox, and none of Chromium's own calls home (the machine refuses them)."""
CTT, KWCC = "ctt-winter-2025-26", "kwcc-tdz-2026"
SCREENSHOTS = os.environ.get("TDZ_SCREENSHOTS", "")


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
        pass


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, demo_tables: dict) -> Path:
    """Both demo seasons' sites, as a first publish writes them."""
    from datetime import UTC, datetime

    folder = tmp_path_factory.mktemp("site")
    for season_id, tables in demo_tables.items():
        news = latest_news(folder / f"{season_id}.news.json", None, snapshot(season_id, tables),
                           datetime(2026, 3, 2, 9, 5, tzinfo=UTC), keep=False)
        write_site(tables, folder, news=news)
    return folder


@pytest.fixture(scope="module")
def server(site: Path) -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(site)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Headless Chromium with a fresh profile of its own (Playwright makes a new temporary user-data-dir)."""
    with playwright_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS)
        yield chromium
        chromium.close()


class Tab:
    """A page that records everything the browser complains about."""

    def __init__(self, browser: object, width: int = 1100) -> None:
        self.page = browser.new_page(viewport={"width": width, "height": 800})  # type: ignore[attr-defined]
        self.errors: list[str] = []
        self.page.on("console", lambda m: self.errors.append(f"console: {m.text}") if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(f"script: {e}"))
        # A request the browser itself abandons because the page moved on (a picker navigates while the favicon
        # is still loading) is no fault of the site; any other failed request is.
        self.page.on("requestfailed", lambda r: None if "ERR_ABORTED" in (r.failure or "")
                     else self.errors.append(f"failed: {r.url} ({r.failure})"))
        self.page.on("response", lambda r: self.errors.append(f"{r.status}: {r.url}") if r.status >= 400 else None)

    def open(self, url: str) -> Tab:
        self.page.goto(url)
        self.page.wait_for_load_state("load")
        return self

    def cells(self, table: str, column: int = 1) -> list[str]:
        return self.page.locator(f"#{table} tbody tr:visible > :nth-child({column + 1})").all_inner_texts()

    def shot(self, name: str) -> None:
        if SCREENSHOTS:
            Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
            self.page.screenshot(path=str(Path(SCREENSHOTS) / f"{name}.png"))

    def close(self) -> None:
        assert self.errors == []
        self.page.close()


def leader(tables: dict, name: str, pool_column: str, pool: str) -> str:
    board = tables[name]
    return str(board[(board[pool_column] == pool) & (board["place"] == 1)].iloc[0]["rider_name"])


def test_home_shows_the_leaders_and_leads_to_the_leaders_page(browser: object, server: str, demo_tables: dict) -> None:
    tab = Tab(browser).open(f"{server}/{CTT}/index.html")
    overall = leader(demo_tables[CTT], "standings", "pool", "overall")
    assert tab.cells("leaders")[0] == overall
    assert tab.page.locator(".news").inner_text().count("First results: 3117 efforts") == 1
    tab.shot("home")
    tab.page.locator("#leaders tbody tr").first.get_by_role("link", name=overall).click()
    tab.page.wait_for_url("**/riders/*.html")
    assert tab.page.locator("h1").inner_text() == overall
    efforts = demo_tables[CTT]["efforts"]
    rider = int(tab.page.url.rsplit("/", 1)[1].removesuffix(".html"))
    assert len(tab.cells("efforts", 0)) == int((efforts["rider_id"] == rider).sum())
    assert tab.page.locator("#efforts .best").count() == int(efforts[efforts["rider_id"] == rider]["is_best"].sum())
    tab.shot("rider")
    tab.close()


def test_the_pickers_open_the_chosen_pool(browser: object, server: str, demo_tables: dict) -> None:
    tables = demo_tables[CTT]
    tab = Tab(browser).open(f"{server}/{CTT}/standings/overall.html")
    assert tab.cells("standings")[0] == leader(tables, "standings", "pool", "overall")
    tab.page.select_option("select[name=gender]", "F")
    tab.page.wait_for_url("**/standings/gender-f.html")
    assert tab.cells("standings")[0] == leader(tables, "standings", "pool", "gender=F")
    tab.page.select_option("select[name=power_category]", "B")
    tab.page.wait_for_url("**/standings/gender-f_power_category-b.html")
    assert tab.page.locator("select[name=gender]").input_value() == "F"
    assert tab.cells("standings")[0] == leader(tables, "standings", "pool", "gender=F, power_category=B")
    tab.shot("standings")

    tab.open(f"{server}/{CTT}/rounds/3/gender-f.html")
    results = tables["round_results"]
    women = results[(results["pool"] == "gender=F") & (results["round_id"] == "3")].sort_values("position")
    assert tab.cells("round")[:3] == women["rider_name"].astype(str).head(3).tolist()
    assert tab.cells("round", 2)[0] == women.iloc[0]["finish_time"]
    tab.page.select_option("select[name=age_category]", "Vet")
    tab.page.wait_for_url("**/rounds/3/gender-f_age_category-vet.html")
    tab.shot("round")
    tab.close()


def test_a_combination_without_a_pool_says_so_and_stays(browser: object, server: str, demo_tables: dict) -> None:
    tab = Tab(browser).open(f"{server}/{KWCC}/gc/group-a.html")
    assert tab.cells("gc")[0] == leader(demo_tables[KWCC], "gc", "classification", "group A")
    tab.page.select_option("select[name=gender]", "F")  # there is no classification "group A women"
    assert "no pool for that combination" in tab.page.locator(".picker-note").inner_text()
    assert tab.page.url.endswith("/gc/group-a.html")
    tab.page.select_option("select[name=group]", "")
    tab.page.wait_for_url("**/gc/women.html")
    assert tab.cells("gc")[0] == leader(demo_tables[KWCC], "gc", "classification", "women")
    tab.shot("gc")
    tab.close()


def test_a_stage_table_filters_by_group_on_a_phone(browser: object, server: str, demo_tables: dict) -> None:
    stages = demo_tables[KWCC]["stage_results"]
    course = stages[stages["round_id"] == "1"]
    tab = Tab(browser, width=400).open(f"{server}/{KWCC}/stages/1.html")
    assert len(tab.cells("stage")) == len(course)
    tab.page.select_option("select[name=group]", "B")
    b_riders = course[course["rider_group"].astype(str).str.startswith("B")]
    assert tab.cells("stage") == b_riders["rider_name"].astype(str).tolist()
    assert tab.page.locator(".picker-note").inner_text() == f"{len(b_riders)} of {len(course)} riders shown"
    assert tab.page.url.endswith("#group=B")
    tab.page.reload()
    assert len(tab.cells("stage")) == len(b_riders)  # the choice is in the address, so it survives a reload
    tab.shot("stage")
    tab.close()


def test_the_rider_list_finds_a_rider_as_you_type(browser: object, server: str, demo_tables: dict) -> None:
    riders = demo_tables[CTT]["riders"]
    name = str(riders.iloc[0]["rider_name"])
    tab = Tab(browser).open(f"{server}/{CTT}/riders/index.html")
    assert len(tab.cells("riders", 0)) == len(riders)
    tab.page.fill("input[type=search]", name)
    assert name in tab.cells("riders", 0) and len(tab.cells("riders", 0)) < 5
    tab.shot("riders")
    tab.close()


def test_statistics_and_the_seasons_index(browser: object, server: str, demo_tables: dict) -> None:
    tab = Tab(browser).open(f"{server}/{CTT}/stats.html")
    assert len(tab.cells("per-round", 0)) == 14
    assert len(tab.cells("per-event", 0)) == demo_tables[CTT]["efforts"]["event_id"].nunique()
    tab.shot("stats")
    tab.open(f"{server}/index.html")
    assert tab.page.get_by_role("link", name="KWCC Tour de Zwift 2026").count() == 1
    tab.close()


def test_the_site_works_opened_from_disk(browser: object, site: Path, demo_tables: dict) -> None:
    tab = Tab(browser).open((site / CTT / "index.html").as_uri())
    tab.page.get_by_role("link", name="Standings", exact=True).click()
    tab.page.wait_for_url("**/standings/overall.html")
    tab.page.select_option("select[name=gender]", "M")
    tab.page.wait_for_url("**/standings/gender-m.html")
    assert tab.page.url.startswith("file://")
    assert tab.cells("standings")[0] == leader(demo_tables[CTT], "standings", "pool", "gender=M")
    tab.open((site / KWCC / "stages" / "3.1.html").as_uri())
    tab.page.select_option("select[name=group]", "A")
    assert tab.page.locator(".picker-note").inner_text().endswith("riders shown")
    tab.close()
