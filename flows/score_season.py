"""score_season: load season → read organiser tabs → parse archive → score → publish. Wiring only."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from prefect import flow, get_run_logger, task

from tdz.archive import Archive
from tdz.organiser import Overrides, read_overrides
from tdz.parse import ParsedArchive, parse_archive
from tdz.problems import Problem
from tdz.report import RunSummary, summarize
from tdz.scoring import ScoredSeason, score_season as score
from tdz.season import Season, load_season
from tdz.settings import Settings
from tdz.tables import ORGANISER_TABS
from tdz.workbook import Grid, PublishReport, Workbook, open_workbook


@task
def read_organiser_tabs(workbook: Workbook) -> dict[str, Grid]:
    tabs = list(ORGANISER_TABS.values())
    workbook.ensure_organiser_tabs(tabs)
    return workbook.read_organiser_tabs(tabs)


@task
def parse(archive: Archive) -> ParsedArchive:
    return parse_archive(archive)


@task
def validate_overrides(season: Season, grids: dict[str, Grid], parsed: ParsedArchive) -> tuple[Overrides, list[Problem]]:
    return read_overrides(season, grids, known_riders=set(parsed.efforts["rider_id"].tolist()),
                          known_events=set(parsed.events["event_id"].tolist()))


@task
def score_tables(season: Season, parsed: ParsedArchive, overrides: Overrides, problems: list[Problem],
                 input_hash: str) -> ScoredSeason:
    return score(season, parsed, overrides, now=datetime.now(UTC), problems=problems, input_hash=input_hash)


@task
def publish(workbook: Workbook, scored: ScoredSeason) -> PublishReport:
    return workbook.publish(scored.tables)


@flow(name="score-season", log_prints=False)
def score_season(season_file: str, archive_dir: str | None = None, out_dir: str | None = None) -> RunSummary:
    """Score a season from its raw archive and organiser tabs and publish every output tab."""
    settings = Settings()
    overrides_of_settings = {k: Path(v) for k, v in (("archive_dir", archive_dir), ("out_dir", out_dir)) if v}
    settings = settings.model_copy(update=overrides_of_settings)
    season = load_season(season_file)
    archive = Archive(settings.archive_dir, season.id)
    workbook = open_workbook(settings, season.id)

    grids = read_organiser_tabs(workbook)
    parsed = parse(archive)
    overrides, problems = validate_overrides(season, grids, parsed)
    scored = score_tables(season, parsed, overrides, problems, archive.input_hash())
    report = publish(workbook, scored)

    summary = summarize(season, scored)
    summary.workbook = report.location
    get_run_logger().info(
        "%s: %d riders, %d efforts, %d problems; wrote %s", season.id, summary.riders, summary.efforts,
        summary.problems, ", ".join(report.tabs_written) or "nothing (unchanged)",
    )
    return summary
