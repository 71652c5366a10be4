"""What a run did, in a few numbers and the leaders: printed by the CLI, turned into artifacts by flows."""

from __future__ import annotations

import pandas as pd
from pydantic import BaseModel

from tdz.scoring import ScoredSeason
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


def _clock(seconds: float) -> str:
    whole = int(seconds)
    return f"{whole // 3600}:{whole % 3600 // 60:02d}:{whole % 60:02d}.{int(round((seconds - whole) * 10)) % 10}"


def summarize(season: Season, scored: ScoredSeason, top: int = 5) -> RunSummary:
    """Counts of the run and the top riders of the main table (overall standings, or the overall GC)."""
    tables = scored.tables
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
        leaders = [Leader(place=int(r.place), rider_name=str(r.rider_name), score=_clock(r.gc_time_s))
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
        as_of="" if scored.as_of is None else pd.Timestamp(scored.as_of).strftime("%Y-%m-%d %H:%M UTC"),
        leaders_title=title,
        leaders=leaders,
    )
