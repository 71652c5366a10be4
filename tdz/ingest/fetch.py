"""Plan → fetch → archive: which events to ask ZwiftPower for, asking politely, and keeping what came back.

Which events: every event an organiser confirmed in the Events tab or listed in the season file, plus (when the
season's `discovery.count_suggested`) those discovery suggested, for rounds that have opened; excluded events
never (`tdz.events.listed_event_rounds`, the reading scoring uses too). Discovery (`tdz.ingest.discovery`) runs
first and hands over ZwiftPower's recent-results list, which also tells when a provisional event changed.

When to fetch an event again (the incremental rule, so an hourly run with nothing new makes no result fetches):

1. never archived → fetch;
2. its Zwift event details or ZwiftPower's `_zwift.json` (the DQ list) are missing → ask for just those again,
   final or not, with backoff: an hour after the first miss, then doubling up to a day (`MISSING_BACKOFF`);
3. every round it counts for is final (`is_final(round_id)`; by default `Season.final_round_ids`: window closed
   plus the season's settle hours) → never again;
4. provisional and its row in the recent-results list differs from the row seen when it was last fetched
   (ZwiftPower rewrote the entry) → fetch;
5. provisional and its results are at least `refetch_after` old (late uploads, organiser DQs) → fetch;
6. otherwise it is fresh → skip.

`force` or asking for one event by id skips the rule. A re-fetch replaces the event's payloads whole (so a late
ZwiftPower DQ removes the row); a body that is not the JSON its kind needs is refused by the archive and the stored
payload stays, and so does a stored payload with rows when the new answer is an empty `{"data": []}` (reported as
a problem: a transient empty cache file must not wipe results, DQs or segment times). A `_zwift.json` or Zwift
event body that is not usable JSON is left out (the event's other payloads are stored) and asked for again as in
rule 2. One event that keeps failing
is reported and the others go on; a fetch that asked for something and got no answer at all fails the run
(`nothing_fetched`).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path

from pydantic import BaseModel, Field

from tdz.events import EventListing, listed_event_rounds
from tdz.files import atomic_write
from tdz.ingest.archive import Archive, ArchiveRefused, PayloadKind, check_payload
from tdz.ingest.discovery import Discovered, ListedEvent
from tdz.ingest.sources import FetchFailed, NotFound, Sources
from tdz.ingest.wire import is_empty_results
from tdz.problems import Problem
from tdz.season import Season

RESULT_ENDPOINTS = ("results_view", "event_results_api3", "results_zwift", "event_sprints")
STATE_FILE = "fetch-state.json"
DEFAULT_REFETCH_AFTER = timedelta(hours=12)
MISSING_BACKOFF = (timedelta(hours=1), timedelta(days=1))
"""Asking again for a missing payload: first after an hour, doubling with each miss, at most daily."""
MISSING_KINDS: tuple[PayloadKind, ...] = ("zwift_event", "results_zwift")
KEPT_WHEN_EMPTY: dict[PayloadKind, str] = {
    "results_view": "results", "results_zwift": "slim results (with ZwiftPower DQs)", "event_sprints": "segment times",
}


class PlannedEvent(BaseModel):
    event_id: int
    rounds: list[str]
    why: str
    only: tuple[PayloadKind, ...] = Field((), description="Results are current: fetch just these missing kinds.")


class Missing(BaseModel):
    """A payload kind of an archived event that could not be had: how often it was asked for, and when last."""

    tries: int
    last: datetime

    def due(self, now: datetime) -> bool:
        first, cap = MISSING_BACKOFF
        return now >= self.last + min(first * 2 ** (self.tries - 1), cap)


class FetchState(BaseModel):
    """What a season's fetch remembers between runs (`fetch-state.json` in its archive folder)."""

    list_fingerprints: dict[str, str] = Field(default_factory=dict,
                                              description="Event → its recent-results row when last fetched.")
    missing: dict[str, dict[str, Missing]] = Field(default_factory=dict, description="Event → kind → misses.")


class FetchFailure(BaseModel):
    event_id: int
    rounds: list[str]
    error: str


class FetchReport(BaseModel):
    """What one fetch run did: for the log, the flow's artifact and the tests."""

    mode: str
    planned: int = Field(0, description="Events the plan meant to fetch.")
    requests: dict[str, int] = Field(default_factory=dict, description="HTTP requests of the run, by endpoint.")
    logins: int = 0
    fetched: list[int] = Field(default_factory=list, description="Events whose stored payloads changed.")
    unchanged: list[int] = Field(default_factory=list, description="Fetched again, identical to the archive.")
    skipped: dict[int, str] = Field(default_factory=dict, description="Event → why it was not fetched.")
    failed: list[FetchFailure] = Field(default_factory=list)
    problems: list[Problem] = Field(default_factory=list)
    seconds: float = 0.0

    @property
    def result_requests(self) -> int:
        return sum(self.requests.get(endpoint, 0) for endpoint in RESULT_ENDPOINTS)

    def summary(self) -> str:
        asked = ", ".join(f"{k} {v}" for k, v in sorted(self.requests.items())) or "none"
        return (
            f"fetch ({self.mode}): {len(self.fetched)} changed, {len(self.unchanged)} unchanged, "
            f"{len(self.skipped)} skipped, {len(self.failed)} failed; "
            f"{self.logins} login(s); requests: {asked}; {self.seconds:.1f}s"
        )

    def to_markdown(self) -> str:
        lines = [f"## Fetch ({self.mode})", "", self.summary(), ""]
        if self.failed:
            lines += ["| event | rounds | error |", "|---|---|---|"]
            lines += [f"| {f.event_id} | {', '.join(f.rounds)} | {f.error} |" for f in self.failed]
            lines.append("")
        return "\n".join(lines)


def counted_events(season: Season, rows: Sequence[EventListing]) -> tuple[dict[int, list[str]], dict[int, str]]:
    """Event → the rounds it counts for, and event → why it does not count (excluded, unconfirmed)."""
    listed = listed_event_rounds(season, rows)
    counted = {event_id: [round_id for round_id, _ in rounds] for event_id, rounds in listed.counted.items()}
    left_out = dict(listed.excluded)
    left_out.update({event_id: "suggested by discovery, not confirmed yet" for event_id in listed.unconfirmed})
    return counted, left_out


def plan_fetch(
    season: Season,
    rows: Sequence[EventListing],
    archive: Archive,
    *,
    is_final: Callable[[str], bool],
    now: datetime,
    listed: dict[int, ListedEvent] | None = None,
    state: FetchState | None = None,
    event_id: int | None = None,
    round_ids: Sequence[str] = (),
    refetch_after: timedelta = DEFAULT_REFETCH_AFTER,
    force: bool = False,
) -> tuple[list[PlannedEvent], dict[int, str]]:
    """The events to fetch now (and why), and the ones left alone (and why), per the module's rule."""
    counted, skipped = counted_events(season, rows)
    if event_id is not None:
        return [PlannedEvent(event_id=event_id, rounds=counted.get(event_id, []), why="asked for")], {}
    opened = {r.id for r in season.rounds if r.opens <= now}
    known_rounds = {r.id for r in season.rounds}
    listed, state = listed or {}, state or FetchState()
    plan: list[PlannedEvent] = []
    for eid, rounds in sorted(counted.items()):
        if round_ids and not set(rounds) & set(round_ids):
            continue
        if not any(r in opened for r in rounds):
            unknown = [r for r in rounds if r not in known_rounds]
            skipped[eid] = f"round {', '.join(unknown)} is not in the season file" if unknown else "round not open yet"
            continue
        why = _why_fetch(archive, eid, rounds, is_final, now, listed.get(eid), state.list_fingerprints.get(str(eid)),
                         refetch_after)
        if force:
            why = f"forced ({why})" if why else "forced"
        missing = [k for k in MISSING_KINDS if archive.record(eid, k) is None]
        misses = state.missing.get(str(eid), {})
        due = [k for k in missing if k not in misses or misses[k].due(now)]
        if why:
            plan.append(PlannedEvent(event_id=eid, rounds=rounds, why=why))
        elif due:
            plan.append(PlannedEvent(event_id=eid, rounds=rounds, why=f"missing {', '.join(due)}", only=tuple(due)))
        elif missing:
            skipped[eid] = f"missing {', '.join(missing)}; asked {max(misses[k].tries for k in missing)} time(s), " \
                           "asked again later"
        else:
            skipped[eid] = "final" if all(is_final(r) for r in rounds) else "fresh"
    if round_ids:
        skipped = {e: why for e, why in skipped.items() if set(counted.get(e, round_ids)) & set(round_ids)}
    return plan, skipped


def _why_fetch(
    archive: Archive,
    event_id: int,
    rounds: list[str],
    is_final: Callable[[str], bool],
    now: datetime,
    entry: ListedEvent | None,
    seen: str | None,
    refetch_after: timedelta,
) -> str:
    record = archive.record(event_id, "results_view")
    if record is None:
        return "new"
    if all(is_final(r) for r in rounds):
        return ""
    if entry is not None and entry.fingerprint != seen:
        return "recent-results entry changed"
    age = now - record.fetched_at
    if age >= refetch_after:
        return f"provisional, {age.total_seconds() / 3600:.1f} h old"
    return ""


class _Run:
    """One fetch run's clients, archive and report; `fetch_event` never raises for one event's fault."""

    def __init__(self, sources: Sources, archive: Archive, report: FetchReport, now: datetime,
                 listed: dict[int, ListedEvent], state: FetchState) -> None:
        self.zp, self.zwift, self.archive, self.report = sources.zwiftpower, sources.zwift, archive, report
        self.now, self.listed, self.state = now, listed, state

    async def fetch_event(self, planned: PlannedEvent) -> None:
        eid = planned.event_id
        try:
            payloads: dict[PayloadKind, bytes] = {}
            urls: dict[PayloadKind, str] = {}
            if not planned.only:
                if not await self._fetch_results(eid, payloads, urls):
                    return
            elif "results_zwift" in planned.only:
                await self._fetch_optional(eid, "results_zwift", self.zp.results_zwift, payloads)
            if self.archive.record(eid, "zwift_event") is None and (not planned.only or "zwift_event" in planned.only):
                try:
                    body = await self.zwift.event(eid)
                    if self._usable(eid, "zwift_event", body):
                        payloads["zwift_event"], urls["zwift_event"] = body, f"/api/public/events/{eid}"
                except FetchFailed as exc:
                    self._problem(eid, f"Zwift event details not fetched: {exc.reason}")
            self._remember_missing(eid, payloads)
            if not payloads:
                return
            changed = self.archive.store_event(eid, payloads, self.now, urls)
        except (FetchFailed, ArchiveRefused) as exc:
            error = exc.reason if isinstance(exc, FetchFailed) else f"refused, stored payloads kept: {exc}"
            where = f" ({exc.url})" if isinstance(exc, FetchFailed) else ""
            self.report.failed.append(FetchFailure(event_id=eid, rounds=planned.rounds, error=error + where))
            self._problem(eid, f"not fetched: {error}{where}")
            return
        (self.report.fetched if any(changed.values()) else self.report.unchanged).append(eid)
        if eid in self.listed and not planned.only:
            self.state.list_fingerprints[str(eid)] = self.listed[eid].fingerprint

    def _remember_missing(self, eid: int, payloads: dict[PayloadKind, bytes]) -> None:
        """Count a miss for each kind the event still lacks after this fetch; forget the ones it now has."""
        misses = self.state.missing.pop(str(eid), {})
        still = {k: Missing(tries=misses[k].tries + 1 if k in misses else 1, last=self.now)
                 for k in MISSING_KINDS if k not in payloads and self.archive.record(eid, k) is None}
        if still:
            self.state.missing[str(eid)] = still

    def _usable(self, eid: int, kind: PayloadKind, body: bytes) -> bool:
        """Whether a body of an optional kind can be stored; one that cannot is reported and left out, so the
        event's other payloads still land."""
        try:
            check_payload(kind, body)
        except ArchiveRefused as exc:
            self._problem(eid, f"{'Zwift ' if kind == 'zwift_event' else ''}{kind} not stored: {exc}")
            return False
        return True

    async def _fetch_optional(self, eid: int, kind: PayloadKind, getter: Callable[[int], Awaitable[bytes]],
                              payloads: dict[PayloadKind, bytes]) -> None:
        try:
            answer = await getter(eid)
        except NotFound:
            return
        if self._usable(eid, kind, answer) and not self._keeps_stored(eid, kind, answer):
            payloads[kind] = answer

    async def _fetch_results(self, eid: int, payloads: dict[PayloadKind, bytes], urls: dict[PayloadKind, str]) -> bool:
        try:
            body, url = await self.zp.event_results(eid)
        except NotFound:
            self.report.skipped[eid] = "no results on ZwiftPower yet"
            return False
        if self._keeps_stored(eid, "results_view", body):
            stored = self.archive.record(eid, "results_view")
            self.report.skipped[eid] = "no results on ZwiftPower yet" if stored is None else "empty answer"
            return False
        payloads["results_view"], urls["results_view"] = body, url
        await self._fetch_optional(eid, "results_zwift", self.zp.results_zwift, payloads)
        await self._fetch_optional(eid, "event_sprints", self.zp.event_sprints, payloads)
        return True

    def _keeps_stored(self, eid: int, kind: PayloadKind, body: bytes) -> bool:
        """Whether `body` is an empty `{"data": []}` that must not be stored: never over stored rows (a transient
        empty cache file would wipe the event's results, ZwiftPower DQs or segment times, so it is reported and the
        stored payload stays), and an empty `results_view` never (the event has no results yet)."""
        if not is_empty_results(body):
            return False
        stored = self.archive.read(eid, kind)
        if stored is not None and not is_empty_results(stored):
            kept = KEPT_WHEN_EMPTY[kind]
            self._problem(eid, f"ZwiftPower answered no rows for {kind}; the stored {kept} are kept")
            return True
        return kind == "results_view"

    def _problem(self, eid: int, why: str) -> None:
        source = "zwift" if why.startswith("Zwift ") else "zwiftpower"
        self.report.problems.append(Problem(source=source, event_id=eid, why=why))


Progress = Callable[[int, int], None]
"""Called with (events done, events planned) as a fetch goes."""


async def fetch_events(
    sources: Sources,
    season: Season,
    archive: Archive,
    rows: Sequence[EventListing] = (),
    *,
    discovered: Discovered | None = None,
    now: datetime | None = None,
    is_final: Callable[[str], bool] | None = None,
    event_id: int | None = None,
    round_ids: Sequence[str] = (),
    refetch_after: timedelta = DEFAULT_REFETCH_AFTER,
    force: bool = False,
    progress: Progress | None = None,
) -> FetchReport:
    """Plan, fetch and archive; see the module docstring for the rules. Modes: all past events of the season
    (default), one `event_id`, or the events of `round_ids` (a round, or every course of a stage). `rows` are the
    Events tab's rows with discovery's suggestions; a refused ZwiftPower login raises `ZwiftPowerLoginError`."""
    started = time.monotonic()
    now = now or datetime.now(timezone.utc)
    if is_final is None:
        is_final = season.final_round_ids(now).__contains__
    mode = f"event {event_id}" if event_id is not None else f"round {', '.join(round_ids)}" if round_ids else "season"
    report = FetchReport(mode=mode)
    state = _load_state(archive)
    listed = discovered.listed if discovered is not None else {}
    try:
        plan, report.skipped = plan_fetch(
            season, rows, archive, is_final=is_final, now=now, listed=listed, state=state,
            event_id=event_id, round_ids=round_ids, refetch_after=refetch_after, force=force,
        )
        report.planned = len(plan)
        run = _Run(sources, archive, report, now, listed, state)
        # Events in flight, not requests (each client bounds its own requests per host): without it every event
        # would start at once and, behind the rate limit, all would finish near the end of the run, so a run cut
        # short would have archived almost nothing.
        slots = asyncio.Semaphore(sources.zwiftpower.http.concurrency)
        done = 0

        async def bounded(planned: PlannedEvent) -> None:
            nonlocal done
            async with slots:
                await run.fetch_event(planned)
            done += 1
            if progress is not None:
                progress(done, len(plan))

        outcomes = await asyncio.gather(*(bounded(p) for p in plan), return_exceptions=True)
        errors = [o for o in outcomes if isinstance(o, BaseException)]
        if errors:
            raise errors[0]
    finally:
        _save_state(archive, state)
        report.requests = dict(sorted(sources.counts.items()))
        report.logins = sources.logins
        # Concurrent fetches finish in any order: sorted, the same inputs give the same tabs.
        report.fetched.sort()
        report.unchanged.sort()
        report.failed.sort(key=lambda f: f.event_id)
        report.problems.sort(key=lambda p: (p.event_id or 0, p.source, p.why))
        report.seconds = time.monotonic() - started
    return report


def nothing_fetched(discovered: Discovered | None, report: FetchReport) -> str | None:
    """Why the run must fail, when it asked ZwiftPower (or Zwift) for something and got no answer at all: the
    recent-results list and every planned event failed. None when anything answered or nothing was asked."""
    errors = [f"recent-results list: {discovered.error}"] if discovered is not None and discovered.error else []
    errors += [f"event {f.event_id}: {f.error}" for f in report.failed]
    answered = (discovered is not None and discovered.asked and not discovered.error) + report.planned - len(
        report.failed)
    if not errors or answered > 0:
        return None
    return (f"nothing fetched: {len(errors)} request(s) to ZwiftPower failed and none answered ({errors[0]}); "
            "the standings are left as they were: check TDZ_ZWIFTPOWER_URL and whether zwiftpower.com is up")


def _state_path(archive: Archive) -> Path:
    return archive.root / STATE_FILE


def _load_state(archive: Archive) -> FetchState:
    """The fetch state of the season; empty when there is none or it cannot be read (a refetch repairs it)."""
    try:
        return FetchState.model_validate_json(_state_path(archive).read_bytes())
    except (OSError, ValueError):
        return FetchState()


def _save_state(archive: Archive, state: FetchState) -> None:
    if state == FetchState() and not _state_path(archive).exists():
        return
    state.list_fingerprints = dict(sorted(state.list_fingerprints.items()))
    state.missing = dict(sorted(state.missing.items(), key=lambda item: int(item[0])))
    atomic_write(_state_path(archive), state.model_dump_json(indent=1).encode())
