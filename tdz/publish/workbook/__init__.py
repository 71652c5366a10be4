"""The workbook interface: where organiser tabs are read and output tabs are published.

One protocol, several backends (`xlsx` for a local file, `sheets` for Google Sheets). Every backend:
- creates missing organiser tabs with their header row (and seed rows, for a demo) and never overwrites them;
- reads organiser tabs as text grids (header row first), so ids keep leading zeros and nothing is coerced;
- replaces each output tab whole in place, never deleting the tab;
- counts its calls (`calls`) and says where a reader finds the result (`links`), so a run can report both
  whatever the backend.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

import pandas as pd

from tdz.errors import TdzError
from tdz.publish.tables import ORGANISER_TABS, Grid, OrganiserTab

if TYPE_CHECKING:
    from tdz.settings import Settings



class TabNameClash(TdzError, ValueError):
    """An output tab would land on an organiser tab: Excel and Google Sheets tab names ignore case."""


def refuse_clashes(output_names: Iterable[str]) -> None:
    """Refuse, before any write, an output tab that would land on an organiser tab."""
    organiser = {n.casefold(): n for n in ORGANISER_TABS}
    clashes = [n for n in output_names if n.casefold() in organiser]
    if clashes:
        raise TabNameClash(f"output tabs {clashes} would overwrite organiser tabs "
                           f"{[organiser[n.casefold()] for n in clashes]}: tab names ignore case")


PublishProgress = Callable[[int, int], None]
"""Called with (steps done, steps in all) while a publish is written."""


@dataclass
class WorkbookCalls:
    """Reads and writes of the workbook in one run: file loads and saves, or Sheets API requests (every attempt
    counts against Google's per-minute quota)."""

    reads: int = 0
    writes: int = 0
    retries: int = 0
    log: list[str] = field(default_factory=list)


@dataclass
class PublishReport:
    tabs_written: list[str] = field(default_factory=list)
    tabs_unchanged: list[str] = field(default_factory=list)
    read_calls: int = 0
    write_calls: int = 0
    location: str = ""


class Workbook(Protocol):
    @property
    def location(self) -> str:
        """Where the tabs are: the local file's path or the Sheet's URL (for logs, artifacts and links)."""
        ...

    @property
    def calls(self) -> WorkbookCalls:
        """The reads and writes made so far."""
        ...

    def links(self, output_tabs: Iterable[str]) -> dict[str, str]:
        """Where readers find the published tabs, as link text → URL (the file, the Sheet, a Looker report)."""
        ...

    def ensure_organiser_tabs(
        self, tabs: Sequence[OrganiserTab], seed: Mapping[str, Grid] | None = None
    ) -> list[str]:
        """Create the organiser tabs that are missing (header, then `seed` rows); return the names created."""
        ...

    def read_organiser_tabs(self, tabs: Sequence[OrganiserTab]) -> dict[str, Grid]:
        """Every organiser tab as a text grid; a missing tab reads as just its header."""
        ...

    def append_organiser_rows(self, tab: OrganiserTab, rows: Sequence[Sequence[str]]) -> None:
        """Add rows as text below the tab's last row (discovery's suggestions in the Events tab); one write."""
        ...

    def publish(self, tables: Mapping[str, pd.DataFrame], progress: PublishProgress | None = None) -> PublishReport:
        """Replace each named output tab whole with the frame (header row + rows)."""
        ...


def open_workbook(settings: Settings, season_id: str) -> Workbook:
    """The workbook the settings name: `out/<season>.xlsx` by default, or the Google Sheet."""
    if settings.workbook == "sheets":
        from tdz.publish.workbook.sheets import SheetsWorkbook

        return SheetsWorkbook.from_settings(settings)
    from tdz.publish.workbook.xlsx import XlsxWorkbook

    return XlsxWorkbook(settings.out_dir / f"{season_id}.xlsx", settings.lock_timeout_seconds)
