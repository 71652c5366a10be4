"""The artifacts of every run: a markdown summary, the problems as a table, links to the Sheet and Looker."""

from __future__ import annotations

import re
from pathlib import Path

from prefect.artifacts import (
    acreate_link_artifact,
    acreate_markdown_artifact,
    acreate_table_artifact,
)

from tdz.ingest.fetch import FetchReport
from tdz.problems import Problem
from tdz.publish.looker import create_report_url
from tdz.publish.report import (
    RunChanges,
    RunCounts,
    RunSummary,
    problem_rows,
    summary_markdown,
)
from tdz.publish.tables import OUTPUT_TABLES
from tdz.publish.workbook import Workbook
from tdz.season import Season


def artifact_key(season_id: str, what: str) -> str:
    """Artifact keys allow lower-case letters, digits and dashes; a key's history is the season's history."""
    return re.sub(r"[^a-z0-9-]+", "-", f"{season_id}-{what}".lower()).strip("-")


async def publish_artifacts(season: Season, workbook: Workbook, summary: RunSummary, changes: RunChanges,
                            counts: RunCounts, problems: list[Problem], *, flow: str, dry_run: bool,
                            fetched: FetchReport | None) -> None:
    markdown = summary_markdown(summary, changes, counts, flow=flow, dry_run=dry_run,
                                fetch_markdown=fetched.to_markdown() if fetched is not None else "")
    await acreate_markdown_artifact(key=artifact_key(season.id, "summary"), markdown=markdown,
                                    description=f"{season.season.name}: what this run changed")
    rows = problem_rows(problems)
    await acreate_table_artifact(
        key=artifact_key(season.id, "problems"),
        table=rows or [{"source": "", "event_id": "", "row": "", "column": "", "value": "", "why": "no problems"}],
        description=f"{len(problems)} problems (first {len(rows)} shown); the same rows as the problems tab")
    location = summary.workbook
    if location:
        link = location if location.startswith("http") else Path(location).resolve().as_uri()
        await acreate_link_artifact(key=artifact_key(season.id, "workbook"), link=link,
                                    link_text=f"{season.season.name} workbook")
    sheet_id = getattr(workbook, "sheet_id", None)
    gids = workbook.output_tab_gids(OUTPUT_TABLES) if sheet_id else {}  # type: ignore[attr-defined]
    if gids:
        await acreate_link_artifact(key=artifact_key(season.id, "looker"), link=create_report_url(sheet_id, gids),
                                    link_text="Create the Looker Studio report on this Sheet's output tabs")
