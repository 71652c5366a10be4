"""A deterministic demo season: a raw archive in ZwiftPower/Zwift wire format plus seed rows for the organiser tabs.

Riders have an ability (W/kg, weight) that drives every time they ride, so standings look plausible. One
`random.Random(seed)` drives everything (no global random, no wall clock, `fetched_at` = event start + 1 day):
the same seed gives byte-identical payloads and manifests.
- Points season (CTT-like): 300 riders (ids 1000001…), 3–5 time trials in each round's window plus a women-only
  event on every third round; riders ride from 1–2 rounds to all of them, sometimes 2–3 attempts a round.
- Time season (KWCC-like): 150 registered club riders (2000001…, the Rider registry seed) and 100 others (2500001…) in
  public group rides with pens A–E, of which only the course's pen counts; 9–12 events a stage, the first two
  on the window's opening Monday at 17:00 and 18:00 UTC; make-up events for two stages in the make-up week.

Wire-format quirks sprinkled in on purpose, each at least once, so the parser meets them before the real thing:
- DQ'd and upgraded riders: in `results_zwift` with `dq_cat` "ZP"/"UPG", absent from `results_view`;
- numbers as strings on some rows and as numbers on others (`pos`, `avg_power`, `weight`, `avg_wkg`);
- HTML-escaped names (`&eacute;`, `&rsquo;`, `&#128304;`) and team names (`&#11088;&#65039;`, `&amp;`);
- team tags like `[CTT]` in rider names; empty `tid`/`tname` for riders without a team;
- a rider with no segment time (no key in `msec`); a DNF row (`time` `[0, 0]`, `time_gun` 0);
- `weight` and `height` `[0, 0]`; `age` "-" and ""; an extra `notes` key on some rows;
- one rider whose `zwid` is a string in `results_view`; `routeId` values above 2**31;
- (time seasons) races in stages 1 and 2 whose pens are grades on one course, Zwift-typed RACE but only stage 1's
  named so; group rides whose pens ride their own route options (a course's pen its route, the others a longer or
  shorter route of the same world, stage 3's two courses in one set of events); Monday 17:00 and 18:00 UTC
  starts, guests and riders with no group in the Rider registry seed, efforts in pens that rode another route,
  riders missing stages, make-up week events.
"""

from __future__ import annotations

import html
import random
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tdz.demo.wire import PENS, Effort, Event, Rider, sprinkle
from tdz.demo.wire import payloads as render_payloads
from tdz.ingest.archive import Archive, PayloadKind
from tdz.publish.tables import (
    DQ_TAB,
    EVENTS_TAB,
    MANUAL_RESULTS_TAB,
    ORGANISER_TABS,
    RIDERS_TAB,
)
from tdz.publish.workbook import Grid
from tdz.routes import ZwiftRoute, route_table
from tdz.season import Round, Season, TimeScoring

POINTS_RIDERS, CLUB_RIDERS, OTHER_RIDERS = 300, 150, 100
_FIRST_M = ("Tom", "James", "Rob", "Eamon", "Jos&eacute;", "Luc", "Sean", "Piotr", "Andr&eacute;", "Mark", "Ben",
            "Dave", "Niall", "Chris", "Ollie", "Raf", "Mateo", "Jonas", "Pete", "Will", "Sam", "Hugo", "Kev")
_FIRST_F = ("Anna", "Ren&eacute;e", "Sarah", "Zo&euml;", "Claire", "Niamh", "Emma", "Lucy", "Hannah", "Chlo&eacute;",
            "Kate", "Ingrid", "Maya", "Ruth", "Jo", "Freya", "Aoife", "Lena")
_LAST = ("Smith", "O&rsquo;Neill", "Griffin", "Mason", "D&rsquo;Arcy", "Jones", "M&uuml;ller", "Brown", "Kelly",
         "Novak", "Walsh", "Clarke", "Okafor", "Berg", "Lef&egrave;vre", "Hughes", "Patel", "Evans", "Rossi",
         "Taylor", "Murphy", "Kowalski", "Byrne", "Jensen", "Moore", "Hall", "Nakamura", "Reid", "Price")
_COUNTRIES = ("gb", "gb", "gb", "gb", "ie", "ie", "us", "nl", "be", "fr", "de", "es", "au", "nz", "ca", "se", "dk")
_AGES = ("Jnr", "U23", "Snr", "Mas", "Vet", "50+", "60+", "70+", "-", "")
_AGE_WEIGHTS = (3, 6, 20, 25, 22, 15, 6, 2, 3, 2)
Team = tuple[str, str, str]  # tid, tname (escaped), tag shown in names
_TEAMS: tuple[Team, ...] = (
    ("2741", "CTT Racing &#11088;&#65039;", "CTT"), ("1187", "Riders &amp; Friends", "R&amp;F"),
    ("3302", "DIRT", "DIRT"), ("912", "Team Rh&ocirc;ne", "TRH"), ("5120", "Zwift Academy Alumni", "ZAA"))
_CLUB_TEAM: Team = ("4821", "Kingston Wheelers &#11088;&#65039;", "KWCC")
# route: minutes for a 3.2 W/kg rider (route ids and distances come from the bundled route table)
_MINUTES = {
    "Tempus Fugit": 27.0, "Triple Twist": 40.0, "The Fan Flats": 20.5, "2018 Worlds Short Lap": 37.0,
    "London Classique": 25.0, "Neokyo All-Nighter": 31.0, "Tick Tock": 29.0, "Everything Bagel": 37.0,
}
_SEGMENT_SECONDS = {"35": 150.0, "116": 290.0, "1": 75.0, "20": 780.0, "3": 28.0, "76": 140.0, "34": 150.0, "28": 600}
_EXPONENT = {"flat": 0.45, "rolling": 0.55, "mountain": 0.7}  # how strongly W/kg drives time on the terrain
_ORGANISER = "Rob G (organiser)"


@dataclass
class DemoSeason:
    """What the demo produced: counts for the CLI and the organiser tabs' seed rows (every tab, header first)."""

    season_id: str
    events: int
    efforts: int  # result rows, every pen, DNF and DQ'd included (the rows of results_zwift)
    riders: int  # distinct riders with at least one effort
    organiser_seed: dict[str, Grid]


def _clamp(x: float, lo: float, hi: float) -> float:
    return max(lo, min(hi, x))


def _rider(rng: random.Random, zwid: int, teams: tuple[Team, ...], team_share: float) -> Rider:
    male = rng.random() >= 0.25
    name = f"{rng.choice(_FIRST_M if male else _FIRST_F)} {rng.choice(_LAST)}"
    team = rng.choice(teams) if rng.random() < team_share else ("", "", "")
    if team[2] and rng.random() < 0.5:
        name += f" [{team[2]}]"
    if rng.random() < 0.03:
        name += " &#128304;"
    wkg = _clamp(rng.gauss(3.3 if male else 3.05, 0.6), 2.0, 5.2)
    weight = round(_clamp(rng.gauss(77 if male else 62, 8), 47, 105), 1)
    height = round(_clamp(rng.gauss(180 if male else 166, 7), 150, 200))
    age = rng.choices(_AGES, weights=_AGE_WEIGHTS)[0]
    return Rider(zwid, name, male, age, rng.choice(_COUNTRIES), weight, height, wkg, team[0], team[1])


def _riders(rng: random.Random, first_id: int, n: int, teams: tuple[Team, ...], team_share: float) -> list[Rider]:
    """`n` riders, the first few carrying one rider-level quirk each (so each quirk is certain to appear)."""
    riders = [_rider(rng, first_id + i, teams, team_share) for i in range(n)]
    riders[0].name += " &#128304;"
    riders[1].weight_known = False
    riders[2].age = "-"
    riders[3].zwid_as_text = True
    riders[4].tid = riders[4].tname = ""
    next(r for r in riders[5:] if not r.male).name = "Ren&eacute;e O&rsquo;Sullivan"
    return riders


def _pen_for(wkg: float) -> str:
    return "A" if wkg >= 4.2 else "B" if wkg >= 3.36 else "C" if wkg >= 2.63 else "D" if wkg >= 2.2 else "E"


def _day_form(rng: random.Random, rider: Rider) -> float:
    return rider.wkg * _clamp(rng.gauss(1.0, 0.025), 0.92, 1.06)


def _slots(rng: random.Random, opens: datetime, closes: datetime, n: int, taken: set[datetime]) -> list[datetime]:
    """`n` start times inside [opens, closes), on the hour or half hour, none of them in `taken`."""
    day0 = opens.replace(hour=0, minute=0, second=0, microsecond=0)
    days = (closes - day0).days + 1
    out: list[datetime] = []
    for _ in range(100 * n):  # bounded: a short window may not hold n distinct slots
        if len(out) == n:
            break
        hour = rng.choice((6, 7, 9, 12, 16, 17, 18, 19, 20, 21))
        start = day0 + timedelta(days=rng.randrange(days), hours=hour, minutes=rng.choice((0, 30)))
        if opens <= start < closes and start not in taken:
            taken.add(start)
            out.append(start)
    return sorted(out)


def _series_title(season: Season) -> str:
    """Event-title prefix: the season name without a leading club acronym (time) or trailing year (points)."""
    name = season.season.name
    if isinstance(season.scoring, TimeScoring):
        return re.sub(r"^[A-Z]{2,}\s+", "", name)
    return re.sub(r"\s+\d{4}(/\d{2,4})?$", "", name)


# ---------------------------------------------------------------- points season (CTT-like)


def _points_season(season: Season, rng: random.Random) -> tuple[list[Event], dict[str, Grid]]:
    riders = _riders(rng, 1_000_001, POINTS_RIDERS, _TEAMS, 0.6)
    title = _series_title(season)
    events: list[Event] = []
    rounds: list[tuple[Round, list[Event], list[Event]]] = []  # round, open events, women-only events
    next_id = 5_110_000
    for i, rnd in enumerate(season.rounds):
        route = (rnd.route_id or 0, round(_course_km(rnd) * 1000))
        women_round = i % 3 == 1
        opens, closes = rnd.opens.astimezone(UTC), rnd.closes.astimezone(UTC)
        starts = _slots(rng, opens, closes, rng.choice((3, 4, 4, 4, 5)) + women_round, set())
        women_at = starts[len(starts) // 2] if women_round else None
        opened, women = [], []
        for start in starts:
            next_id += rng.randrange(90, 400)
            kind = "Women's Time Trial" if start == women_at else "Time Trial"
            ev = Event(next_id, rnd.id, f"{title} Round {rnd.id} - {kind}", start, "TIME_TRIAL",
                        {pen: route for pen in PENS})
            (women if start == women_at else opened).append(ev)
            events.append(ev)
        rounds.append((rnd, opened, women))
    for rider in riders:
        draw = rng.random()
        n = (len(rounds) if draw < 0.12 else rng.randint(11, 13) if draw < 0.3 else rng.randint(7, 10)
             if draw < 0.75 else rng.randint(3, 6) if draw < 0.9 else rng.randint(1, 2))
        for rnd, opened, women in rng.sample(rounds, min(n, len(rounds))):
            choices = opened + ([] if rider.male else women)
            attempts = min(len(choices), rng.choices((1, 2, 3), weights=(80, 15, 5))[0])
            for ev in rng.sample(choices, attempts):
                ev.efforts.append(_tt_effort(rng, rider, rnd))
    dq_round = rounds[min(4, len(rounds) - 1)]
    dq_event = rounds[min(8, len(rounds) - 1)][1][0]
    seed = {
        EVENTS_TAB.name: [[str(ev.id), ev.round, "confirmed", ""] for ev in events],
        DQ_TAB.name: [
            [str(dq_round[1][0].efforts[0].rider.zwid), dq_round[0].id, "", "weight not verified", _ORGANISER],
            [str(dq_event.efforts[1].rider.zwid), dq_event.round, str(dq_event.id), "drafting", _ORGANISER],
            ["10000x2", season.rounds[min(2, len(season.rounds) - 1)].id, "", "other", _ORGANISER],
        ],
    }
    return events, seed


def _tt_effort(rng: random.Random, rider: Rider, rnd: Round) -> Effort:
    """A time trial: time and segment time scale with the day's W/kg, more steeply the hillier the route."""
    wkg = _day_form(rng, rider)
    minutes = _MINUTES.get(rnd.route, 30.0)
    scale = (3.2 / wkg) ** _EXPONENT[rnd.terrain or "flat"]
    segments: dict[str, float] = {}
    if rnd.segment:
        segments[rnd.segment.id] = _SEGMENT_SECONDS.get(rnd.segment.id, 120.0) * scale * rng.gauss(1.0, 0.015)
        segments["9" + rnd.segment.id] = 45.0 * (3.2 / wkg) ** 0.5 * rng.gauss(1.0, 0.02)  # another segment
    return Effort(rider, _pen_for(rider.wkg), minutes * 60 * scale * rng.gauss(1.0, 0.004), wkg, segments)


# ---------------------------------------------------------------- time season (KWCC-like)


def _club(season: Season, rng: random.Random) -> list[Rider]:
    """Registered riders: the first group letter for men of 3 W/kg and up, the last for the rest, the
    strongest in the first group of the letter (the one with the biggest handicap); a few guests and no-groups."""
    club = _riders(rng, 2_000_001, CLUB_RIDERS, (_CLUB_TEAM,), 0.85)
    groups = sorted(season.scoring.handicaps) if isinstance(season.scoring, TimeScoring) else []
    letters = sorted({g[0] for g in groups})
    for letter in letters:
        strong = letter == letters[0]
        members = [r for r in club if len(letters) == 1 or strong == (r.male and r.wkg >= 3.0)]
        in_letter = [g for g in groups if g[0] == letter]
        for k, rider in enumerate(sorted(members, key=lambda r: -r.wkg)):
            rider.group = in_letter[k * len(in_letter) // len(members)]
    for k in (10, 40, 70, 100):
        club[k].group = ""
    for k in (15, 45, 75, 105):
        club[k].guest = True
    return club


def _stage_events(season: Season, rng: random.Random) -> tuple[dict[str, list[Event]], dict[str, Event]]:
    """Each stage's events in its window (two races in the first two stages), and make-up events by stage."""
    title = _series_title(season)
    stages: dict[str, list[Round]] = {}
    for rnd in season.rounds:
        stages.setdefault(rnd.stage, []).append(rnd)
    stage_events: dict[str, list[Event]] = {}
    makeup: dict[str, Event] = {}
    makeup_stages = list(stages)[1::3][:2]
    next_id = 5_290_000
    for number, (stage, courses) in enumerate(stages.items()):
        routes = _stage_routes(rng, courses)
        opens, closes = courses[0].opens.astimezone(UTC), courses[0].closes.astimezone(UTC)
        mondays = {opens, opens + timedelta(hours=1)}
        starts = sorted(mondays | set(_slots(rng, opens, closes, rng.randint(7, 10), set(mondays))))
        stage_events[stage] = []
        # A race's pens are grades on one course; only stage 1's race says so in its name (Zwift's eventType
        # says RACE for both).
        race_routes = {pen: (courses[0].route_id or 0, round(_course_km(courses[0]) * 1000)) for pen in PENS}
        for k, start in enumerate(starts):
            next_id += rng.randrange(90, 400)
            race = number < 2 and k == 3
            kind = ("Race" if number == 0 else "Crit City") if race else "Group Ride"
            name = f"{title} | Stage {stage} - {kind}"
            stage_events[stage].append(Event(next_id, stage, name, start, "RACE" if race else "GROUP_RIDE",
                                             race_routes if race else routes))
        if stage in makeup_stages and season.season.makeup:
            after = timedelta(days=1 + 2 * makeup_stages.index(stage), hours=1.5)  # Tuesday, Thursday 18:30
            day = season.season.makeup.opens.astimezone(UTC) + after
            name = f"{title} | Stage {stage} - Make-up Group Ride"
            makeup[stage] = Event(0, stage, name, day, "GROUP_RIDE", routes)
    for ev in makeup.values():
        next_id += rng.randrange(90, 400)
        ev.id = next_id
    return stage_events, makeup


def _time_season(season: Season, rng: random.Random) -> tuple[list[Event], dict[str, Grid]]:
    club = _club(season, rng)
    others = _riders(rng, 2_500_001, OTHER_RIDERS, _TEAMS, 0.5)
    stage_events, makeup = _stage_events(season, rng)
    course_ids = [c.id for c in season.rounds]
    manual_rider = next(r for r in club[20:] if r.group and not r.guest)
    for rider in club:
        missed = set(rng.sample(course_ids, rng.randint(1, 3))) if rng.random() < 0.25 else set()
        if rider is manual_rider:
            missed = {course_ids[1]}  # their time for it comes from the Manual results seed
        used: set[int] = set()
        for rnd in season.rounds:
            pen = rnd.pen or "C"
            if rnd.id in missed:
                if rnd.stage in makeup and rider is not manual_rider and rng.random() < 0.5:
                    _ride(rng, makeup[rnd.stage], rider, pen)
                continue
            free = [ev for ev in stage_events[rnd.stage] if ev.id not in used]
            rides = rng.sample(free, min(len(free), 1 + (rng.random() < 0.12) + (rng.random() < 0.04)))
            for k, ev in enumerate(rides):
                used.add(ev.id)
                off_pen = PENS[min(4, max(0, PENS.index(pen) + rng.choice((-1, 1))))]
                _ride(rng, ev, rider, off_pen if k == 2 or rng.random() < 0.01 else pen)  # other pens never count
    in_stages = [ev for evs in stage_events.values() for ev in evs]
    for rider in others:
        for ev in rng.sample(in_stages, rng.randint(1, 8)):
            _ride(rng, ev, rider, _pen_for(rider.wkg))
    seed = {
        RIDERS_TAB.name: [[str(r.zwid), _plain_name(r.name), r.group, "M" if r.male else "F", "",
                           "yes" if r.guest else ""] for r in club],
        MANUAL_RESULTS_TAB.name: [[str(manual_rider.zwid), course_ids[1], "41:23.5", "",
                                   "Strava (power meter failed)"]],
    }
    return in_stages + list(makeup.values()), seed


def _plain_name(escaped: str) -> str:
    """The name an organiser would type: entities decoded, without team tags or icons."""
    return html.unescape(re.sub(r"\s*(\[[^\]]*\]|&#128304;)", "", escaped))


def _course_km(course: Round) -> float:
    return course.distance_km or _route_of(course).distance_km


def _route_of(course: Round) -> ZwiftRoute:
    return route_table().get(course.route) or ZwiftRoute(course.route_id or 0, course.route, "", 20.0, 0, 0, 0)


def _stage_routes(rng: random.Random, courses: list[Round]) -> dict[str, tuple[int, int]]:
    """Route and distance per pen in a group ride: a course's pen rides the course, the other pens another route
    option of the same world (a longer one for the stronger pens, a shorter one for the others)."""
    by_pen = {c.pen or "C": c for c in courses}
    world = _route_of(courses[0]).world
    options = sorted((r for r in route_table().values() if r.world == world and r.id not in {c.route_id for c in
                      courses}), key=lambda r: r.distance_km)
    longer = [r for r in options if r.distance_km > _course_km(courses[0])] or options
    shorter = [r for r in options if r.distance_km < _course_km(courses[0])] or options
    pick = {"up": rng.choice(longer), "down": rng.choice(shorter)}
    routes: dict[str, tuple[int, int]] = {}
    for pen in PENS:
        if pen in by_pen:
            routes[pen] = (by_pen[pen].route_id or 0, round(_course_km(by_pen[pen]) * 1000))
            continue
        nearest = min(by_pen, key=lambda p: (abs(PENS.index(p) - PENS.index(pen)), p))
        option = pick["up" if PENS.index(pen) < PENS.index(nearest) else "down"]
        routes[pen] = (option.id, round(option.distance_km * 1000))
    return routes


def _ride(rng: random.Random, ev: Event, rider: Rider, pen: str) -> None:
    """A group-ride effort: flat speed from W/kg plus a climbing share of about 11 m a km."""
    wkg = _day_form(rng, rider)
    km = ev.routes[pen][1] / 1000
    time_s = km / 36.0 * 3600 * (3.0 / wkg) ** 0.35 + km * 11.0 / (wkg * 300) * 1800
    segment = str(200 + PENS.index(pen))
    ev.efforts.append(Effort(rider, pen, time_s * rng.gauss(1.0, 0.006), wkg, {segment: time_s * 0.08}))


# ---------------------------------------------------------------- entry points


def _build(season: Season, seed: int) -> tuple[DemoSeason, list[tuple[Event, dict[PayloadKind, bytes]]]]:
    rng = random.Random(seed)
    kind_of_season = _time_season if isinstance(season.scoring, TimeScoring) else _points_season
    events, rows = kind_of_season(season, rng)
    sprinkle(events, rng)
    rendered = [(ev, render_payloads(ev, rng)) for ev in events]
    summary = DemoSeason(
        season_id=season.season.id,
        events=len(events),
        efforts=sum(len(ev.efforts) for ev in events),
        riders=len({e.rider.zwid for ev in events for e in ev.efforts}),
        organiser_seed={name: [list(tab.header)] + rows.get(name, []) for name, tab in ORGANISER_TABS.items()},
    )
    return summary, rendered


def generate_demo(season: Season, archive_dir: Path, seed: int = 2026) -> DemoSeason:
    """Write a demo archive for `season` under `archive_dir` (same seed, same bytes) and return its summary."""
    summary, rendered = _build(season, seed)
    archive = Archive(archive_dir, season.season.id)
    for ev, bodies in rendered:
        archive.store_event(ev.id, bodies, fetched_at=ev.start + timedelta(days=1))
    return summary


def ensure_demo(season: Season, archive_dir: Path, seed: int = 2026) -> DemoSeason:
    """Generate the demo archive only when the season has none yet; the summary comes out the same either way."""
    if Archive(archive_dir, season.season.id).exists():
        return _build(season, seed)[0]
    return generate_demo(season, archive_dir, seed)
