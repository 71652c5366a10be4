"""Synthetic CTT-rule results at any size, straight into the frames `tdz.ingest.parse.ParsedArchive` holds.

Deterministic for a given (season, size, seed). The wire format is skipped: at a million efforts the benchmark
is about scoring, not parsing. What the data exercises, each because a rule depends on it:

- several events per round (one of them women-only, starting at the same time as the first open event, so the
  event-id tie-break of "by event start" matters) and 1-4 attempts per rider and round, each in its own event;
- the same route in two rounds (PBs carry across rounds) and times rounded to 0.1 s (shared ranks, equal times
  that are not PBs, a rider's own equal attempts);
- missing segment times, and segment rows for segments that are not the round's (they must not count);
- DNFs (no time, status dnf) and ZwiftPower DQs (time present, status dq: no best effort, no PB, no power);
- power and W/kg sometimes missing; riders with no age category at all, efforts with a missing one, riders whose
  category changes (the first one seen wins); a few riders whose gender differs on early results (latest wins).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from tdz.ingest.parse import EFFORT_DTYPES, EVENT_DTYPES, SEGMENT_DTYPES, ParsedArchive
from tdz.season import Season

AGE_CATEGORIES = np.array(["Jnr", "U23", "Snr", "Mas", "Vet", "50+", "60+", "70+"])
AGE_WEIGHTS = np.array([0.03, 0.05, 0.20, 0.25, 0.22, 0.15, 0.08, 0.02])
PENS = np.array(list("ABCDE"))
DECOY_SEGMENT = "999"
EFFORTS_PER_EVENT = 800


def _route_base_seconds(routes: list[str]) -> dict[str, tuple[float, float]]:
    """A plausible finish and segment time (s) for an average rider on each route, fixed per route name."""
    out = {}
    for i, route in enumerate(sorted(set(routes))):
        out[route] = (1500.0 + 290.0 * i, 60.0 + 35.0 * i)
    return out


def _events(season: Season, n_efforts: int, rng: np.random.Generator) -> tuple[pd.DataFrame, int]:
    """Per round: `open_events` open events spread over the week, then one women-only event."""
    open_events = max(4, round(n_efforts / len(season.rounds) / EFFORTS_PER_EVENT))
    per_round = open_events + 1
    total = per_round * len(season.rounds)
    ids = 5_000_000 + rng.permutation(total).astype("int64")
    names, starts = [], []
    for r in season.rounds:
        opens = pd.Timestamp(r.opens)
        span = pd.Timestamp(r.closes) - opens
        for k in range(open_events):
            starts.append(opens + span * (k + 0.5) / (open_events + 1))
            names.append(f"CTT Winter Series {r.name} - {r.route} (slot {k + 1})")
        starts.append(starts[-open_events])
        names.append(f"CTT Winter Series {r.name} - {r.route} (women only)")
    events = pd.DataFrame({
        "event_id": ids,
        "event_name": names,
        "event_start": pd.DatetimeIndex(starts).tz_convert("UTC"),
        "route_id": pd.array(np.arange(total) // per_round + 1000, dtype="Int64"),
        "event_type": "TIME_TRIAL",
        "distance_m": 20000.0,
        "pens": "A,B,C,D,E",
        "has_details": True,
        "has_dq_list": True,
    })
    return events.astype(EVENT_DTYPES), open_events


def synthetic_archive(season: Season, n_efforts: int, seed: int = 20251110) -> ParsedArchive:
    """Exactly `n_efforts` effort rows (every status), their segment rows and the events, for `season`'s rounds."""
    rng = np.random.default_rng(seed)
    events, open_events = _events(season, n_efforts, rng)
    n_rounds = len(season.rounds)
    n_riders = max(60, n_efforts // 11)

    female = rng.random(n_riders) < 0.18
    ability = rng.lognormal(0.0, 0.12, n_riders)  # > 1 is slower
    weight = np.where(female, rng.normal(62, 7, n_riders), rng.normal(78, 10, n_riders)).clip(45, 130)
    ftp_wkg = (3.3 / ability ** 1.6) * np.where(female, 0.88, 1.0)
    engagement = rng.beta(2.0, 2.0, n_riders)
    age_first = rng.choice(len(AGE_CATEGORIES), n_riders, p=AGE_WEIGHTS)
    age_moves_at = np.where(rng.random(n_riders) < 0.03, rng.integers(1, n_rounds, n_riders), n_rounds)
    no_age = rng.random(n_riders) < 0.03
    gender_flip_until = np.where(rng.random(n_riders) < 0.01, 4, -1)

    # (rider, round) pairs ridden and the number of attempts in each, then one row per attempt.
    rides = rng.random((n_riders, n_rounds)) < engagement[:, None]
    rider_of, round_of = np.nonzero(rides)
    attempts = np.minimum(1 + rng.poisson(0.9, rider_of.size), 4)
    rider = np.repeat(rider_of, attempts)
    round_ix = np.repeat(round_of, attempts)
    attempt = np.arange(rider.size) - np.repeat(np.cumsum(attempts) - attempts, attempts)
    if rider.size < n_efforts:
        raise ValueError(f"generated only {rider.size} efforts for {n_efforts}; raise the rider count")
    keep = np.sort(rng.choice(rider.size, n_efforts, replace=False))
    rider, round_ix, attempt = rider[keep], round_ix[keep], attempt[keep]
    n = rider.size

    # Distinct events for a rider's attempts in a round: consecutive slots from a random start.
    choices = np.where(female[rider], open_events + 1, open_events)
    _, pair = np.unique(rider * n_rounds + round_ix, return_inverse=True)
    first_slot = rng.integers(0, 1 << 30, pair.max() + 1)[pair]
    slot = (first_slot + attempt) % choices
    event_ix = round_ix * (open_events + 1) + slot
    event_id = events["event_id"].to_numpy()[event_ix]

    routes = [r.route for r in season.rounds]
    base = _route_base_seconds(routes)
    finish_base = np.array([base[r][0] for r in routes])[round_ix]
    segment_base = np.array([base[r][1] for r in routes])[round_ix]
    form = rng.normal(0.0, 0.025, n)
    time_s = np.round(finish_base * ability[rider] * (1 + form), 1)
    status = np.full(n, "ok", dtype=object)
    status_reason = np.full(n, None, dtype=object)
    dnf = rng.random(n) < 0.02
    dq = ~dnf & (rng.random(n) < 0.005)
    status[dnf] = "dnf"
    status[dq] = "dq"
    status_reason[dq] = "ZwiftPower DQ (ZP)"
    time_s = np.where(dnf, np.nan, time_s)
    gun_time_s = np.where(dnf, np.nan, time_s + rng.integers(0, 30, n))

    power = ftp_wkg[rider] * weight[rider] * (1 + form * -1.5) * rng.normal(0.97, 0.02, n)
    avg_power_w = np.where(rng.random(n) < 0.03, np.nan, np.round(power))
    avg_wkg = np.where(rng.random(n) < 0.03, np.nan, np.round(power / weight[rider], 2))

    age = np.where(round_ix >= age_moves_at[rider], np.minimum(age_first[rider] + 1, len(AGE_CATEGORIES) - 1),
                   age_first[rider])
    age_text = AGE_CATEGORIES[age].astype(object)
    age_text[no_age[rider] | (rng.random(n) < 0.05)] = None
    gender = np.where(female[rider] ^ (round_ix < gender_flip_until[rider]), "F", "M")

    segment_ids = np.array([r.segment.id if r.segment else "" for r in season.rounds], dtype=object)
    segment_time = np.round(segment_base * ability[rider] * rng.lognormal(0.0, 0.05, n), 1)

    rider_id = (1_000_000 + np.arange(n_riders, dtype="int64") * 7)[rider]
    efforts = pd.DataFrame({
        "event_id": event_id,
        "rider_id": rider_id,
        "rider_name": pd.Series(rider_id).map("Rider {}".format).to_numpy(),
        "team": np.where(rider % 5 == 0, None, "Club " + (rider % 97).astype(str)),
        "country": np.where(rider % 3 == 0, "gb", "ie"),
        "gender": gender,
        "age_category": age_text,
        "pen": PENS[np.clip((ftp_wkg[rider] < np.array([[4.2], [3.4], [2.6], [2.0]])).sum(axis=0), 0, 4)],
        "time_s": time_s,
        "gun_time_s": gun_time_s,
        "avg_power_w": avg_power_w,
        "avg_wkg": avg_wkg,
        "weight_kg": np.round(weight[rider], 1),
        "status": status,
        "status_reason": status_reason,
    })
    segments = _segments(efforts, segment_ids[round_ix], segment_time, rng)
    efforts = efforts.sort_values(["event_id", "time_s"], kind="stable", na_position="last")
    efforts["row"] = efforts.groupby("event_id").cumcount() + 1
    efforts["position"] = efforts["row"].where(efforts["time_s"].notna())
    efforts = efforts.reset_index(drop=True)[list(EFFORT_DTYPES)].astype(EFFORT_DTYPES)
    return ParsedArchive(efforts=efforts, segments=segments, events=events)


def _segments(efforts: pd.DataFrame, segment_id: np.ndarray, segment_time: np.ndarray,
              rng: np.random.Generator) -> pd.DataFrame:
    """The round's segment for 94 % of efforts (DNFs included) plus a decoy segment row for a fifth of them."""
    n = len(efforts)
    keys = {"event_id": efforts["event_id"].to_numpy(), "rider_id": efforts["rider_id"].to_numpy()}
    main = pd.DataFrame({**keys, "segment_id": segment_id, "segment_time_s": segment_time})
    decoy = pd.DataFrame({**keys, "segment_id": DECOY_SEGMENT, "segment_time_s": np.round(segment_time * 0.5, 1)})
    frame = pd.concat([main[rng.random(n) >= 0.06], decoy[rng.random(n) < 0.2]], ignore_index=True)
    return frame.astype(SEGMENT_DTYPES)
