"""The season's event list: which events count for which round, from the season file's `events` and the Events
tab's rows. Fetching (what to ask ZwiftPower for) and scoring (which efforts count) read it the same way."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, Field

from tdz.season import Season

EventStatus = Literal["confirmed", "suggested", "excluded"]


class EventListing(BaseModel):
    """One Events-tab row: this event counts (or not) for a round, or for every course of a stage."""

    event_id: int
    round: str = Field("", description="The round or stage as typed (a stage names all its courses).")
    round_ids: tuple[str, ...] = Field((), description="Rounds it counts for; empty = every round (excluded rows).")
    status: EventStatus = "confirmed"
    note: str = ""
    row: int | None = Field(None, description="Row in the Events tab; None for discovery suggestions not yet written.")

    def tab_values(self) -> dict[str, str]:
        """The row as the Events tab's columns hold it (column name → text)."""
        return {"event_id": str(self.event_id), "round": self.round, "status": self.status, "note": self.note}


@dataclass
class EventRounds:
    """Which listed events count for which rounds, from the season file's `events` and the Events tab."""

    counted: dict[int, list[tuple[str, str]]] = field(default_factory=dict)  # event → [(round id, status)]
    excluded: dict[int, str] = field(default_factory=dict)  # event → why it counts nowhere
    unconfirmed: set[int] = field(default_factory=set)  # suggestions waiting for an organiser


def listed_event_rounds(season: Season, listings: Sequence[EventListing]) -> EventRounds:
    """The one reading of event listings: an exclusion wins over any listing of the same event and round (an
    excluded row with no round excludes the event everywhere), `confirmed` wins over `suggested`, and suggestions
    count only when the season says so (`discovery.count_suggested`)."""
    every_round = tuple(r.id for r in season.rounds)
    excluded = {(e.event_id, rid) for e in listings if e.status == "excluded" for rid in e.round_ids or every_round}
    status_of: dict[tuple[int, str], str] = {}
    for r in season.rounds:
        for event_id in r.events:
            status_of[(event_id, r.id)] = "confirmed"
    for e in listings:
        for rid in e.round_ids or every_round:
            if status_of.get((e.event_id, rid)) != "confirmed":
                status_of[(e.event_id, rid)] = e.status
    result = EventRounds()
    for (event_id, round_id), status in status_of.items():
        if (event_id, round_id) in excluded:
            result.excluded.setdefault(event_id, f"excluded by the organiser for round {round_id}")
        elif status == "suggested" and not season.counts_suggested_events:
            result.unconfirmed.add(event_id)
        else:
            result.counted.setdefault(event_id, []).append((round_id, status))
    for event_id in result.counted:
        result.excluded.pop(event_id, None)
        result.unconfirmed.discard(event_id)
    result.unconfirmed -= set(result.excluded)
    return result
