"""Benchmark: tdz's CTT scoring against a hand-written DuckDB SQL of the same rules, on synthetic seasons.

    uv run --group bench python bench/scoring.py                      # 10k, 100k and 1M efforts
    uv run --group bench python bench/scoring.py --sizes 10000 --profile

Each size runs in its own process (so one size's memory never shows in another's peak): it generates the
frames of `tdz.ingest.parse.ParsedArchive` (bench/synthetic.py), times `score_season`, the core steps alone
(`prepare_efforts` → `rider_profiles` → `score_points`) and the SQL (both engines start from the same pandas
frames and end with round results and standings as pandas frames), then checks that both give the same round
results and standings in every pool. A mismatch is printed and the run exits non-zero.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import json
import pstats
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pandas as pd
from synthetic import synthetic_archive

from tdz.ingest.parse import ParsedArchive
from tdz.scoring import score_season
from tdz.scoring.efforts import prepare_efforts
from tdz.scoring.organiser import Overrides
from tdz.scoring.points import score_points
from tdz.scoring.riders import rider_profiles
from tdz.season import PointsScoring, PowerCategory, Season, load_season

SEASON_FILE = Path(__file__).resolve().parent.parent / "seasons" / "ctt-winter-2025-26.toml"
NOW = datetime(2026, 3, 10, tzinfo=UTC)
DIMENSIONS = ("gender", "power_category", "age_category")
SIZES = (10_000, 100_000, 1_000_000)
TARGET_SECONDS, TARGET_RATIO = 3.0, 1.5

# The rules as SQL, one named step per rule; {placeholders} are numbers from the season file.
ROUND_RESULTS_SQL = """
CREATE OR REPLACE TEMP TABLE round_efforts AS  -- an event counts for every round whose window holds its start
SELECT f.rider_id, f.event_id, f.status, f.gender, f.age_category, f.avg_power_w, f.avg_wkg,
       f.time_s AS finish_time_s, ev.event_start, r.round_id, r.round_order, r.route, r.terrain, r.segment_id,
       f.status = 'ok' AND f.time_s IS NOT NULL AS usable
FROM efforts f JOIN events ev USING (event_id)
JOIN rounds r ON ev.event_start >= r.opens AND ev.event_start < r.closes;

CREATE OR REPLACE TEMP TABLE pool_members AS   -- one row per pool and rider in it
WITH
profiles AS (                -- rules 9, 10: gender from the latest result, age from the first one seen
    SELECT rider_id,
           arg_max_null(gender, (event_start, event_id)) AS gender,
           arg_min(age_category, (event_start, event_id)) AS age_category,
           max(avg_power_w) AS max_watts,       -- DQ'd efforts too: a DQ never drops a category
           max(avg_wkg) AS max_wkg
    FROM round_efforts GROUP BY rider_id
),
categorised AS (
    SELECT *, {open_case} AS open_category, {women_case} AS women_category FROM profiles
),
named AS (                   -- rule 8: women's category in pools split by gender, open elsewhere
    SELECT c.rider_id,
           CASE WHEN p.by_gender AND c.gender = 'F' THEN c.women_category ELSE c.open_category END AS category,
           CASE WHEN NOT (p.by_gender OR p.by_power OR p.by_age) THEN 'overall' ELSE concat_ws(', ',
                CASE WHEN p.by_gender THEN 'gender=' || c.gender END,
                CASE WHEN p.by_power THEN 'power_category=' || category END,
                CASE WHEN p.by_age THEN 'age_category=' || c.age_category END) END AS pool
    FROM pool_specs p CROSS JOIN categorised c
    WHERE (NOT p.by_gender OR c.gender IS NOT NULL) AND (NOT p.by_age OR c.age_category IS NOT NULL)
)
SELECT *, dense_rank() OVER (ORDER BY pool) AS pool_id FROM named;

CREATE OR REPLACE TEMP TABLE round_results AS
WITH
best_efforts AS (            -- rule 1: fastest finish; equal times go to the earlier start, then lower event id
    SELECT rider_id, event_id, round_id, round_order, terrain, segment_id, finish_time_s
    FROM round_efforts WHERE usable
    QUALIFY row_number() OVER (PARTITION BY round_order, rider_id
                               ORDER BY finish_time_s, event_start, event_id) = 1
),
best_with_segment AS (       -- only the best effort's own time on the round's segment
    SELECT b.*, s.segment_time_s
    FROM best_efforts b LEFT JOIN segments s
      ON s.event_id = b.event_id AND s.rider_id = b.rider_id AND s.segment_id = b.segment_id
),
placed AS (                  -- rules 2, 3: shared ranks inside each pool; no segment time, no segment place
    SELECT m.pool_id, b.*,
           rank() OVER (PARTITION BY m.pool_id, b.round_order ORDER BY b.finish_time_s) AS position,
           CASE WHEN b.segment_time_s IS NOT NULL THEN
                rank() OVER (PARTITION BY m.pool_id, b.round_order ORDER BY b.segment_time_s NULLS LAST) END
               AS segment_place
    FROM pool_members m JOIN best_with_segment b USING (rider_id)
),
scored AS (                  -- rule 4
    SELECT *, coalesce({bonus_list}[segment_place], 0) AS segment_bonus, position - segment_bonus AS round_score
    FROM placed
)
SELECT s.*,                  -- rule 5: the best round scores of each terrain, earlier round first on equal scores
       row_number() OVER (PARTITION BY s.pool_id, s.rider_id, s.terrain ORDER BY s.round_score, s.round_order)
           <= coalesce(q.quota, 0) AS counted
FROM scored s LEFT JOIN quota q USING (terrain);

CREATE OR REPLACE TEMP TABLE pb_counts AS   -- rule 6: strictly faster than the running best on the route
SELECT rider_id, count(*) AS pbs FROM (    -- a DQ'd ride sets the best so far but earns no PB
    SELECT rider_id, status, finish_time_s,
           min(finish_time_s) OVER (PARTITION BY rider_id, route ORDER BY event_start, event_id
                                    ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS best_before
    FROM (SELECT DISTINCT ON (event_id, rider_id) * FROM round_efforts
          WHERE status IN ('ok', 'dq') AND finish_time_s IS NOT NULL)
) WHERE status = 'ok' AND finish_time_s < best_before GROUP BY rider_id;
"""

STANDINGS_SQL = """
WITH totals AS (
    SELECT pool_id, rider_id, count(*) AS rounds_ridden, count(*) FILTER (WHERE counted) AS rounds_counted,
           coalesce(sum(round_score) FILTER (WHERE counted), 0) AS round_score_sum
    FROM round_results GROUP BY pool_id, rider_id
)
SELECT m.pool, t.rider_id, m.category AS power_category, t.rounds_ridden, t.rounds_counted, t.round_score_sum,
       coalesce(p.pbs, 0) * {pb_bonus} AS pb_bonus,        -- rule 7
       {base_total} + t.round_score_sum - coalesce(p.pbs, 0) * {pb_bonus} AS total,
       rank() OVER (PARTITION BY t.pool_id ORDER BY t.rounds_counted DESC, total) AS place
FROM totals t JOIN pool_members m USING (pool_id, rider_id) LEFT JOIN pb_counts p USING (rider_id)
"""

ROUND_RESULTS_FETCH = "SELECT m.pool, r.* FROM round_results r JOIN pool_members m USING (pool_id, rider_id)"

ROUND_COLUMNS = ["pool", "round_id", "rider_id", "event_id", "finish_time_s", "position", "segment_time_s",
                 "segment_place", "segment_bonus", "round_score", "counted"]
STANDING_COLUMNS = ["pool", "rider_id", "power_category", "rounds_ridden", "rounds_counted", "round_score_sum",
                    "pb_bonus", "total", "place"]


def _category_case(thresholds: tuple[PowerCategory, ...], fallback: str) -> str:
    whens = " ".join(
        f"WHEN coalesce(max_watts, 0) >= {t.min_watts} AND coalesce(max_wkg, 0) >= {t.min_wkg} THEN '{t.category}'"
        for t in thresholds)
    return f"CASE {whens} ELSE '{fallback}' END"


def duckdb_scoring(con: duckdb.DuckDBPyConnection, season: Season, parsed: ParsedArchive) -> pd.DataFrame:
    """Standings of every pool by the SQL above, as a pandas frame; the round results stay in DuckDB
    (`ROUND_RESULTS_FETCH`). The season's numbers go in as small tables and CASE expressions."""
    scoring = season.scoring
    assert isinstance(scoring, PointsScoring)
    rounds = pd.DataFrame({
        "round_id": [r.id for r in season.rounds], "round_order": range(len(season.rounds)),
        "route": [r.route for r in season.rounds], "terrain": [r.terrain for r in season.rounds],
        "segment_id": [r.segment.id if r.segment else "" for r in season.rounds],
        "opens": pd.to_datetime([r.opens for r in season.rounds], utc=True),
        "closes": pd.to_datetime([r.closes for r in season.rounds], utc=True),
    })
    quota = pd.DataFrame(list(scoring.counting.items()), columns=["terrain", "quota"])
    specs = [set(p.split("+")) - {"overall"} for p in scoring.pools]
    pool_specs = pd.DataFrame({"by_gender": ["gender" in s for s in specs],
                               "by_power": ["power_category" in s for s in specs],
                               "by_age": ["age_category" in s for s in specs]})
    for name, frame in (("efforts", parsed.efforts), ("segments", parsed.segments), ("events", parsed.events),
                        ("rounds", rounds), ("quota", quota), ("pool_specs", pool_specs)):
        con.register(name, frame)
    cats = scoring.power_categories
    con.execute(ROUND_RESULTS_SQL.format(
        open_case=_category_case(cats.open, cats.fallback), women_case=_category_case(cats.women, cats.fallback),
        bonus_list="[" + ", ".join(str(b) for b in scoring.segment_bonus) + "]"))
    return con.execute(STANDINGS_SQL.format(pb_bonus=scoring.pb_bonus, base_total=scoring.base_total)).df()


def canonical_pool(pool: pd.Series) -> pd.Series:
    """Pool names with their dimensions in one fixed order, so a season may list `a+b` or `b+a`."""

    def fix(name: str) -> str:
        parts = name.split(", ")
        return ", ".join(sorted(parts, key=lambda p: DIMENSIONS.index(p.split("=")[0]) if "=" in p else -1))
    names = pool.astype(str)
    return names.map({p: fix(p) for p in names.unique()})


def _normalise(frame: pd.DataFrame, columns: list[str], keys: list[str]) -> pd.DataFrame:
    out = frame[columns].copy()
    out["pool"] = canonical_pool(out["pool"])
    for col in columns:
        if col in ("pool", "round_id", "power_category"):
            out[col] = out[col].astype(str)
        elif col == "counted":
            out[col] = out[col].astype(bool)
        else:
            out[col] = out[col].astype("Float64")
    return out.sort_values(keys).reset_index(drop=True)


def compare(name: str, ours: pd.DataFrame, theirs: pd.DataFrame, columns: list[str], keys: list[str]) -> list[str]:
    """Differences between tdz's and DuckDB's table, as printable lines (empty when they agree row for row)."""
    a, b = _normalise(ours, columns, keys), _normalise(theirs, columns, keys)
    if len(a) != len(b) or not a[keys].equals(b[keys]):
        merged = a[keys].merge(b[keys], on=keys, how="outer", indicator=True)
        odd = merged[merged["_merge"] != "both"].assign(
            _merge=lambda f: f["_merge"].astype(str).map({"left_only": "tdz only", "right_only": "DuckDB only"}))
        return [f"{name}: tdz has {len(a)} rows, DuckDB {len(b)}; {len(odd)} rows in one only, e.g.\n"
                f"{odd.head(12).to_string()}"]
    lines = []
    for col in columns:
        if col in keys:
            continue
        x, y = a[col], b[col]
        same = (x == y).fillna(False) | (x.isna() & y.isna())
        if not same.all():
            bad = a.loc[~same, keys].assign(tdz=x[~same], duckdb=y[~same]).head(10)
            lines.append(f"{name}.{col}: {int((~same).sum())} rows differ, e.g.\n{bad.to_string()}")
    return lines


def _vm(field: str) -> int:
    """A /proc/self/status memory figure in bytes (VmRSS now, VmHWM peak since the last reset)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    return 0


def measured(step: Callable[[], object], repeat: int) -> tuple[object, float, int]:
    """The step's result, its best wall time over `repeat` runs and its peak memory above the start (bytes)."""
    best, peak, result = float("inf"), 0, None
    for _ in range(repeat):
        result = None
        gc.collect()
        Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM to the current RSS (Linux ≥ 4.0)
        start_rss = _vm("VmRSS")
        t0 = time.perf_counter()
        result = step()
        best = min(best, time.perf_counter() - t0)
        peak = max(peak, _vm("VmHWM") - start_rss)
    return result, best, peak


def tdz_core(season: Season, parsed: ParsedArchive) -> dict[str, pd.DataFrame]:
    prepared = prepare_efforts(season, parsed, Overrides())
    profiles = rider_profiles(prepared.efforts, Overrides(), season.scoring.power_categories)
    return score_points(season, prepared.efforts, profiles)


def run_size(size: int, profile: bool, threads: int | None) -> dict[str, object]:
    """Everything for one size, in this process: generate, time, compare. Returns the row of the table."""
    season = load_season(SEASON_FILE)
    parsed = synthetic_archive(season, size)
    repeat = 3 if size <= 100_000 else 1
    scored, tdz_s, tdz_mem = measured(lambda: score_season(season, parsed, Overrides(), now=NOW), repeat)
    _, core_s, _ = measured(lambda: tdz_core(season, parsed), repeat)
    con = duckdb.connect()
    if threads:
        con.execute(f"SET threads = {threads}")
    duck_standings, duck_s, duck_mem = measured(lambda: duckdb_scoring(con, season, parsed), repeat)
    duck_results = con.execute(ROUND_RESULTS_FETCH).df()
    tables = scored.tables
    problems = compare("standings", tables["standings"], duck_standings, STANDING_COLUMNS, ["pool", "rider_id"])
    problems += compare("round_results", tables["round_results"], duck_results, ROUND_COLUMNS,
                        ["pool", "round_id", "rider_id"])
    for line in problems:
        print(line, file=sys.stderr)
    if profile:
        print_profile(season, parsed, size)
    standings = tables["standings"]
    return {
        "size": size, "riders": int(parsed.efforts["rider_id"].nunique()), "pools": int(standings["pool"].nunique()),
        "standing_rows": len(standings), "tdz_s": tdz_s, "core_s": core_s, "duckdb_s": duck_s,
        "tdz_peak_mb": tdz_mem / 2**20, "duckdb_peak_mb": duck_mem / 2**20,
        "duckdb_threads": int(con.execute("SELECT current_setting('threads')").fetchone()[0]),
        "match": not problems,
    }


def print_profile(season: Season, parsed: ParsedArchive, size: int) -> None:
    profiler = cProfile.Profile()
    profiler.runcall(score_season, season, parsed, Overrides(), now=NOW)
    for key, title, only in (("tottime", "own time", ""), ("cumulative", "cumulative time, tdz functions", "/tdz/")):
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out).sort_stats(key)
        stats.print_stats(only, 15) if only else stats.print_stats(15)
        print(f"\ncProfile of score_season at {size:,} efforts, top 15 by {title}:", file=sys.stderr)
        print(out.getvalue().split("\n\n", 1)[-1].rstrip().replace(str(Path.cwd()) + "/", ""), file=sys.stderr)


def print_table(rows: list[dict[str, object]]) -> None:
    header = (f"{'efforts':>10} {'riders':>7} {'pools':>5} {'standings':>9} {'tdz total':>10} {'tdz core':>9} "
              f"{'duckdb':>8} {'ratio':>6} {'tdz peak':>9} {'duck peak':>9}  match")
    print(header)
    print("-" * len(header))
    for r in rows:
        ratio = r["tdz_s"] / r["duckdb_s"]
        print(f"{r['size']:>10,} {r['riders']:>7,} {r['pools']:>5} {r['standing_rows']:>9,} {r['tdz_s']:>9.2f}s "
              f"{r['core_s']:>8.2f}s {r['duckdb_s']:>7.2f}s {ratio:>5.1f}x {r['tdz_peak_mb']:>6.0f} MB "
              f"{r['duckdb_peak_mb']:>6.0f} MB  {'yes' if r['match'] else 'NO'}")
    if rows:
        print(f"ratio = tdz total / DuckDB; DuckDB threads = {rows[-1]['duckdb_threads']}; peak = resident memory "
              f"above the start of the step (VmHWM). Targets: 1M efforts < {TARGET_SECONDS:.0f} s "
              f"and ratio <= {TARGET_RATIO}.")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    parser.add_argument("--profile", action="store_true", help="cProfile score_season at the largest size")
    parser.add_argument("--threads", type=int, default=None, help="DuckDB threads (default: DuckDB's own)")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_size(args.one, args.profile, args.threads)))
        return 0
    rows, failed = [], False
    for size in args.sizes:
        command = [sys.executable, __file__, "--one", str(size)]
        command += ["--profile"] if args.profile and size == max(args.sizes) else []
        command += ["--threads", str(args.threads)] if args.threads else []
        done = subprocess.run(command, stdout=subprocess.PIPE, text=True)
        if done.returncode:
            print(f"size {size}: the run failed (exit {done.returncode})", file=sys.stderr)
            failed = True
            continue
        rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
        failed |= not rows[-1]["match"]
    print_table(rows)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
