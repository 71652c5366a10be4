"""Outside systems, one module each: `zwiftpower` (login + results JSON), `zwift` (public events API).

Both speak through `http.PoliteClient` (rate limit, bounded concurrency, retries with backoff) and hand back
bodies exactly as fetched; `tdz.ingest.fetch` decides what to fetch and stores it in the raw archive. One run opens
one `Sources`: its discovery and its fetch share the session, the request counts and what is known to be down.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from tdz.ingest.sources.http import FetchFailed, NotFound, PoliteClient
from tdz.ingest.sources.zwift import ZwiftEventsClient
from tdz.ingest.sources.zwiftpower import ZwiftPowerClient, ZwiftPowerLoginError
from tdz.retry import RetryPolicy
from tdz.settings import Settings

__all__ = [
    "FetchFailed",
    "NotFound",
    "PoliteClient",
    "RetryPolicy",
    "Sources",
    "ZwiftEventsClient",
    "ZwiftPowerClient",
    "ZwiftPowerLoginError",
]


@dataclass
class Sources:
    """One run's ZwiftPower and Zwift clients and the requests they sent, by endpoint."""

    zwiftpower: ZwiftPowerClient
    zwift: ZwiftEventsClient
    counts: Counter[str] = field(default_factory=Counter)

    @classmethod
    def open(cls, settings: Settings, retry: RetryPolicy | None = None) -> Sources:
        counts: Counter[str] = Counter()
        return cls(ZwiftPowerClient.from_settings(settings, retry, counts),
                   ZwiftEventsClient.from_settings(settings, retry, counts), counts)

    @property
    def logins(self) -> int:
        return self.zwiftpower.logins

    async def aclose(self) -> None:
        await self.zwiftpower.aclose()
        await self.zwift.aclose()

    async def __aenter__(self) -> Sources:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
