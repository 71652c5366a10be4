"""Zwift's public events API (no login): each event's name, start, route, distance and pens."""

from __future__ import annotations

from collections import Counter

from tdz.ingest.sources.http import PoliteClient
from tdz.retry import RetryPolicy
from tdz.settings import Settings


class ZwiftEventsClient:
    """`GET /api/public/events/<id>`; bodies are returned exactly as fetched, for the archive."""

    def __init__(self, http: PoliteClient) -> None:
        self.http = http

    @classmethod
    def from_settings(
        cls, settings: Settings, retry: RetryPolicy | None = None, counts: Counter[str] | None = None
    ) -> ZwiftEventsClient:
        return cls(PoliteClient.for_settings(settings.zwift_api_url, settings, retry, counts))

    async def event(self, event_id: int) -> bytes:
        """One event's details; raises `NotFound` for an unknown id."""
        response = await self.http.get(f"/api/public/events/{event_id}", "zwift_event")
        return response.content

    async def aclose(self) -> None:
        await self.http.aclose()
