"""Render time of the results site from the demo seasons' output tables (DataFrames in, files out).

    uv run python bench/site.py [--runs 5]

Generates both demo archives in a temporary folder and scores them once (not timed), then for each season times,
`--runs` times each (median, min, max):
- the rider pages alone: building their contents from the tables and rendering them to HTML, no disk;
- the whole site into a new folder (every page, the stylesheet and script, the seasons index);
- a publish that changes nothing (the site's digest matches: nothing is rewritten);
- a publish whose news changed (every page rewritten, the folder swapped in whole).
Prints the page count and the size of the season's folder beside them.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tdz.demo import generate_demo  # noqa: E402
from tdz.publish.report import snapshot  # noqa: E402
from tdz.publish.site import _environment, _site, write_site  # noqa: E402
from tdz.publish.site.news import latest_news  # noqa: E402
from tdz.publish.site.riders import rider_pages  # noqa: E402
from tdz.season import load_season  # noqa: E402
from tests.conftest import CTT_FILE, KWCC_FILE, score_demo  # noqa: E402


def median_of(runs: int, step: Callable[[], object], before: Callable[[], None] | None = None) -> tuple[float, ...]:
    times = []
    for _ in range(runs):
        if before is not None:
            before()
        started = time.perf_counter()
        step()
        times.append(time.perf_counter() - started)
    return statistics.median(times), min(times), max(times)


def show(label: str, timing: tuple[float, ...], extra: str = "") -> None:
    median, low, high = timing
    print(f"  {label:<44} median {median:5.2f} s  (min {low:.2f}, max {high:.2f}){extra}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    work = Path(tempfile.mkdtemp(prefix="tdz-bench-site-"))
    try:
        for season_file in (CTT_FILE, KWCC_FILE):
            season = load_season(season_file)
            generate_demo(season, work / "archive")
            tables = score_demo(season, work / "archive")
            kind = season.scoring.kind
            print(f"{season.id}: {len(tables['riders'])} riders, {len(tables['efforts'])} efforts, "
                  f"{len(tables.get('round_results', tables.get('stage_results')))} round/stage result rows")
            env, site = _environment(), _site(tables, None)
            template = env.get_template("rider.html")

            def riders() -> None:
                for page in rider_pages(tables, kind):  # noqa: B023 - run within the loop iteration
                    template.render(site=site, root="../", page=page.path, **page.context)  # noqa: B023

            show("rider pages, contents + HTML (no disk)", median_of(runs, riders),
                 f"  {len(tables['riders'])} pages")
            folder = work / "site"
            now = datetime(2026, 3, 2, 9, tzinfo=UTC)
            news = latest_news(work / "news.json", None, snapshot(season.id, tables), now, keep=False)
            show("whole site into a new folder", median_of(
                runs, lambda: write_site(tables, folder, news=news),  # noqa: B023
                before=lambda: shutil.rmtree(folder, ignore_errors=True)))  # noqa: B023
            files = [p for p in (folder / season.id).rglob("*") if p.is_file()]
            size = sum(p.stat().st_size for p in files) / 1e6
            print(f"  {'':<44} {sum(p.suffix == '.html' for p in files)} pages, {size:.1f} MB")
            show("publish that changes nothing (skipped)", median_of(
                runs, lambda: write_site(tables, folder, news=news)))  # noqa: B023
            later = [news]

            def changed_news() -> None:
                later[0] = later[0].model_copy(update={"published_at": later[0].published_at + timedelta(hours=1)})

            show("publish with new news (all rewritten)", median_of(
                runs, lambda: write_site(tables, folder, news=later[0]), before=changed_news))  # noqa: B023
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
