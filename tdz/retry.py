"""One way to retry an outside system (ZwiftPower, Zwift, the Google Sheets API): which answers are worth another
try, how long to wait before it, and how to read the server's `Retry-After`.

A 408, a 429 or a 5xx from a gateway or a busy server (and a timeout or a dropped connection, which the callers
catch themselves) is retried; anything else (a 404, a 403) would answer the same again. The wait doubles with each
attempt, with jitter so parallel clients do not retry in step, and is capped; a server's `Retry-After` wins, capped
the same way. The callers sleep themselves: the httpx client with `asyncio.sleep`, the gspread client with
`time.sleep`.
"""

from __future__ import annotations

import email.utils
import math
import random
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from tdz.settings import Settings

RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to retry: delay = base × 2^attempt × jitter(0.5–1), capped; `Retry-After` wins when given.

    Tests pass tiny `backoff_base_seconds` / `backoff_max_seconds` to retry in milliseconds.
    """

    max_retries: int = 5
    backoff_base_seconds: float = 1.0
    backoff_max_seconds: float = 120.0

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: float) -> RetryPolicy:
        values: dict[str, Any] = {"max_retries": settings.max_retries, **overrides}
        return cls(**values)

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait before retry number `attempt + 1` (attempt 0 is the first retry)."""
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.backoff_max_seconds)
        exponential = min(self.backoff_base_seconds * 2**attempt, self.backoff_max_seconds)
        return exponential * random.uniform(0.5, 1.0)


def retryable(status: int) -> bool:
    """Whether an HTTP status is worth another try (see `RETRY_STATUSES`)."""
    return status in RETRY_STATUSES


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a `Retry-After` header (delta seconds or an HTTP date, never negative); None when absent
    or unreadable. `RetryPolicy.delay` caps it."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return max(seconds, 0.0) if math.isfinite(seconds) else None
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max((when - (now or datetime.now(timezone.utc))).total_seconds(), 0.0)
