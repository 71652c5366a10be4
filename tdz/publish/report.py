"""What a run did, in a few numbers and the leaders: printed by the CLI, turned into artifacts by flows."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

import pandas as pd
from pydantic import BaseModel

from tdz.errors import TdzError
from tdz.files import atomic_write
from tdz.problems import Problem
from tdz.publish.tables import clock
from tdz.season import Season


class Leader(BaseModel):
    place: int
    rider_name: str
    score: str


class RunSummary(BaseModel):
    season_id: str
    season_name: str
    riders: int
    efforts: int
    rounds_with_results: int
    rounds: int
    problems: int
    as_of: str
    leaders_title: str
    leaders: list[Leader]
    workbook: str = ""


def summarize(season: Season, tables: Mapping[str, pd.DataFrame], as_of: pd.Timestamp | None,
              top: int = 5) -> RunSummary:
    """Counts of the run and the top riders of the main table (overall standings, or the overall GC)."""
    efforts = tables["efforts"]
    if "standings" in tables:
        board = tables["standings"]
        board = board[board["pool"].eq("overall")].head(top)
        leaders = [Leader(place=int(r.place), rider_name=str(r.rider_name), score=f"{r.total:g} pts")
                   for r in board.itertuples()]
        title = "Standings, overall"
    else:
        board = tables["gc"]
        board = board[board["classification"].eq("overall") & board["place"].notna()].head(top)
        leaders = [Leader(place=int(r.place), rider_name=str(r.rider_name), score=clock(r.gc_time_s))
                   for r in board.itertuples()]
        title = "GC, overall (with handicaps)"
    counted = efforts[efforts["is_best"].fillna(False).astype(bool)]
    return RunSummary(
        season_id=season.id,
        season_name=season.season.name,
        riders=int(tables["riders"]["rider_id"].nunique()),
        efforts=int(len(efforts)),
        rounds_with_results=int(counted["round_id"].nunique()),
        rounds=len(season.rounds),
        problems=int(len(tables["problems"])),
        as_of="" if as_of is None else pd.Timestamp(as_of).strftime("%Y-%m-%d %H:%M UTC"),
        leaders_title=title,
        leaders=leaders,
    )


# --- what changed since the last run: the numbers of the run-summary artifact ------------------------------------


class RunSnapshot(BaseModel):
    """What a publish showed, kept between runs to say what changed: effort keys and places per pool."""

    season_id: str
    efforts: list[str] = []
    places: dict[str, dict[str, int]] = {}
    names: dict[str, str] = {}


class RunChanges(BaseModel):
    first_run: bool
    new_efforts: int
    changed_positions: int
    new_leaders: dict[str, list[str]]


def board(tables: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """The ranked table of the season as (pool, place, rider_id, rider_name): standings by pool (points) or GC
    by classification (time); unranked riders left out."""
    if "standings" in tables:
        frame = tables["standings"][["pool", "place", "rider_id", "rider_name"]]
    else:
        frame = tables["gc"].rename(columns={"classification": "pool"})[["pool", "place", "rider_id", "rider_name"]]
    return frame[frame["place"].notna()]


def snapshot(season_id: str, tables: Mapping[str, pd.DataFrame]) -> RunSnapshot:
    """Grain: one effort key per efforts row (round/event/rider; manual results have no event) and one place per
    pool and rider."""
    efforts = tables["efforts"]
    keys = {"/".join("" if pd.isna(v) else str(v) for v in key)
            for key in zip(efforts["round_id"], efforts["event_id"], efforts["rider_id"], strict=True)}
    ranked = board(tables)
    places: dict[str, dict[str, int]] = {}
    for pool, place, rider_id in zip(ranked["pool"], ranked["place"], ranked["rider_id"], strict=True):
        places.setdefault(str(pool), {})[str(rider_id)] = int(place)
    names = {str(r): str(n) for r, n in zip(ranked["rider_id"], ranked["rider_name"], strict=True)}
    return RunSnapshot(season_id=season_id, efforts=sorted(keys), places=places, names=names)


def leaders(snap: RunSnapshot) -> dict[str, list[str]]:
    """Pool → the names of the riders in first place (several on a shared first place)."""
    return {pool: sorted(snap.names.get(r, r) for r, place in riders.items() if place == 1)
            for pool, riders in snap.places.items()}


def compare(previous: RunSnapshot | None, current: RunSnapshot) -> RunChanges:
    """New efforts, riders whose place changed (newly placed included) and pools whose leader changed."""
    if previous is None:
        return RunChanges(first_run=True, new_efforts=len(current.efforts),
                          changed_positions=sum(len(p) for p in current.places.values()), new_leaders=leaders(current))
    old_leaders, new = leaders(previous), leaders(current)
    changed = sum(previous.places.get(pool, {}).get(rider) != place
                  for pool, riders in current.places.items() for rider, place in riders.items())
    return RunChanges(
        first_run=False,
        new_efforts=len(set(current.efforts) - set(previous.efforts)),
        changed_positions=changed,
        new_leaders={pool: names for pool, names in new.items() if names and names != old_leaders.get(pool)},
    )


class WouldBlankStandings(TdzError, RuntimeError):
    """A publish that would replace published standings with empty ones: refused, the old tabs stay."""


class WouldLoseEfforts(WouldBlankStandings):
    """A publish whose raw archive lost events the last publish had efforts from: refused, the old tabs stay."""


def publishable(archive_exists: bool, archive_root: Path, previous: RunSnapshot | None,
                current: RunSnapshot, archived_events: Iterable[int] | None = None) -> str | None:
    """Why this run must not publish (None when it may). A run with no raw archive has nothing to publish (a
    season before its first results, or a worker pointed at the wrong folder); a run that scored no efforts
    where the last publish had some is refused with an error, so good standings are never blanked; and so is a
    run whose raw archive no longer holds events the last publish had efforts from (the archive only grows: an
    event gone from its manifest means something rewrote it, such as a second writer with a stale copy)."""
    if previous is not None and previous.efforts and not current.efforts:
        raise WouldBlankStandings(
            f"{current.season_id}: this run scored no efforts but the last publish had {len(previous.efforts)}: "
            f"refusing to blank the standings (is the raw archive at {archive_root} complete?)")
    if previous is not None and archived_events is not None:
        kept = {str(e) for e in archived_events}
        lost = [key for key in previous.efforts if key.rsplit("/", 2)[1] not in ("", *kept)]
        if lost:
            events = sorted({int(key.rsplit("/", 2)[1]) for key in lost})
            raise WouldLoseEfforts(
                f"{current.season_id}: the raw archive at {archive_root} no longer holds event(s) "
                f"{', '.join(map(str, events[:10]))}{' …' if len(events) > 10 else ''} ({len(lost)} efforts of "
                "the last publish): refusing to publish without them; fetch them again with "
                f"`tdz run --event <id>` (or restore {archive_root / 'manifest.json'})")
    if not archive_exists:
        return f"no raw archive at {archive_root} yet (no manifest.json): nothing to publish"
    return None


def load_snapshot(path: Path) -> RunSnapshot | None:
    """The snapshot of the last published run, or None (first run, or an unreadable file)."""
    try:
        return RunSnapshot.model_validate_json(path.read_bytes())
    except (OSError, ValueError):
        return None


def save_snapshot(path: Path, snap: RunSnapshot) -> None:
    atomic_write(path, snap.model_dump_json().encode())


class RunCounts(BaseModel):
    """Calls to the outside systems in one run (None when the step did not run)."""

    result_fetches: int | None = None
    zwiftpower_requests: int | None = None
    logins: int | None = None
    events_fetched: int | None = None
    fetch_failures: int | None = None
    sheet_reads: int | None = None
    sheet_writes: int | None = None
    tabs_written: list[str] = []


def summary_markdown(summary: RunSummary, changes: RunChanges, counts: RunCounts, *, flow: str,
                     dry_run: bool = False, fetch_markdown: str = "") -> str:
    """The run-summary artifact: what changed, problems, calls to ZwiftPower and the Sheet, the leaders."""
    since = "first run (nothing to compare with)" if changes.first_run else "since the last published run"
    lines = [f"# {summary.season_name}: {flow}{' (dry run: nothing written)' if dry_run else ''}", "",
             f"As of {summary.as_of or '—'}; {summary.riders} riders, {summary.efforts} efforts, "
             f"{summary.rounds_with_results}/{summary.rounds} rounds with results.", "",
             f"| {since} | |", "|---|---|",
             f"| new efforts | {changes.new_efforts} |",
             f"| changed positions | {changes.changed_positions} |",
             f"| problems | {summary.problems} |"]
    if counts.result_fetches is not None:
        lines += [f"| ZwiftPower result fetches | {counts.result_fetches} |",
                  f"| ZwiftPower requests (all) | {counts.zwiftpower_requests} |",
                  f"| ZwiftPower logins | {counts.logins} |",
                  f"| events changed / failed | {counts.events_fetched} / {counts.fetch_failures} |"]
    if counts.sheet_reads is not None:
        lines += [f"| Sheet reads / writes | {counts.sheet_reads} / {counts.sheet_writes} |"]
    lines += [f"| tabs written | {', '.join(counts.tabs_written) or 'none (unchanged)'} |", ""]
    if changes.new_leaders:
        lines += ["## New leaders", "", "| pool | leader |", "|---|---|"]
        lines += [f"| {pool} | {', '.join(names)} |" for pool, names in sorted(changes.new_leaders.items())]
        lines.append("")
    lines += [f"## {summary.leaders_title}", "", "| place | rider | score |", "|---|---|---|"]
    lines += [f"| {leader.place} | {leader.rider_name} | {leader.score} |" for leader in summary.leaders]
    if fetch_markdown:
        lines += ["", fetch_markdown]
    return "\n".join(lines) + "\n"


def problem_rows(problems: list[Problem], limit: int = 1000) -> list[dict[str, str]]:
    """The problems as table-artifact rows (text cells), at most `limit` of them."""
    return [{"source": p.source, "event_id": "" if p.event_id is None else str(p.event_id),
             "row": "" if p.row is None else str(p.row), "column": p.column, "value": p.value, "why": p.why}
            for p in problems[:limit]]
