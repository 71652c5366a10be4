"""The artifacts of every run: a markdown summary, the problems as a table, links to the workbook and Looker."""

from __future__ import annotations

import re

from prefect import get_run_logger
from prefect.artifacts import (
    acreate_link_artifact,
    acreate_markdown_artifact,
    acreate_table_artifact,
)

from tdz.pipeline import RunResult
from tdz.publish.report import problem_rows

LINK_TEXT = {"workbook": "{season} workbook", "looker": "Create the Looker Studio report on this Sheet's output tabs",
             "site": "{season} results site"}


def artifact_key(season_id: str, what: str) -> str:
    """Artifact keys allow lower-case letters, digits and dashes; a key's history is the season's history."""
    return re.sub(r"[^a-z0-9-]+", "-", f"{season_id}-{what}".lower()).strip("-")


async def report(result: RunResult) -> RunResult:
    """The run's summary, problems and links as artifacts under the season's keys, and its one log line."""
    summary = result.summary
    await acreate_markdown_artifact(key=artifact_key(summary.season_id, "summary"), markdown=result.markdown(),
                                    description=f"{summary.season_name}: what this run changed")
    rows = problem_rows(result.problems)
    await acreate_table_artifact(
        key=artifact_key(summary.season_id, "problems"),
        table=rows or [{"source": "", "event_id": "", "row": "", "column": "", "value": "", "why": "no problems"}],
        description=f"{len(result.problems)} problems (first {len(rows)} shown); the same rows as the problems tab")
    for what, link in result.links.items():
        await acreate_link_artifact(key=artifact_key(summary.season_id, what), link=link,
                                    link_text=LINK_TEXT.get(what, what).format(season=summary.season_name))
    get_run_logger().info("%s", result.log_line())
    return result
