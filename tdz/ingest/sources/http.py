"""Polite HTTP for every outside system: a request rate, bounded concurrency, retries with backoff, counts.

ZwiftPower publishes no limit, so every request goes through one `PoliteClient` per host: requests start at most
`requests_per_second` apart, at most `concurrency` are in flight, and a 408, a 429, a 5xx, a timeout or a dropped
connection is retried as `tdz.retry` says (exponential backoff with jitter, or the server's `Retry-After`), up to
`max_retries` times. Anything else (a 404, a 403) is not retried, and neither is a host name that does not resolve
(a typo in the URL setting: another try gives the same answer). Once the host has refused or dropped connections
through every retry, later requests fail at once for `UNREACHABLE_SECONDS` instead of each waiting through its own
retries: a run against a site that is down ends in seconds, not minutes. Every request sent is counted per
endpoint label, so a run can prove how much it asked for.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections import Counter
from typing import Any

import httpx

from tdz.retry import RetryPolicy, parse_retry_after, retryable
from tdz.settings import Settings

log = logging.getLogger("tdz.ingest.sources")

UNREACHABLE_SECONDS = 30.0
BROWSER_USER_AGENT = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36"
)


class FetchFailed(Exception):
    """A request that failed for good: retries used up, or an answer retrying cannot fix."""

    def __init__(self, url: str, reason: str, status: int | None = None) -> None:
        super().__init__(f"{url}: {reason}")
        self.url = url
        self.reason = reason
        self.status = status


class NotFound(FetchFailed):
    """A 404: the payload does not exist (yet)."""


def _unresolved(exc: BaseException) -> bool:
    """Whether a connection failed because the host name does not resolve."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, socket.gaierror):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


class RateLimiter:
    """Spaces request starts at least 1/rate seconds apart, across every task sharing it."""

    def __init__(self, per_second: float) -> None:
        self.interval = 1.0 / per_second
        self._next = 0.0
        self._lock = asyncio.Lock()

    async def wait(self) -> None:
        async with self._lock:
            now = time.monotonic()
            start = max(now, self._next)
            self._next = start + self.interval
        if start > now:
            await asyncio.sleep(start - now)


class PoliteClient:
    """One host's httpx client behind a rate limit, a concurrency bound and the retry policy."""

    def __init__(
        self,
        base_url: str,
        *,
        requests_per_second: float = 2.0,
        concurrency: int = 4,
        timeout_seconds: float = 30.0,
        retry: RetryPolicy | None = None,
        counts: Counter[str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.retry = retry or RetryPolicy()
        self.counts: Counter[str] = counts if counts is not None else Counter()
        self.client = httpx.AsyncClient(
            base_url=self.base_url,
            timeout=httpx.Timeout(timeout_seconds),
            follow_redirects=True,
            headers={"User-Agent": BROWSER_USER_AGENT, **(headers or {})},
        )
        self._limiter = RateLimiter(requests_per_second)
        self.concurrency = concurrency
        self._slots = asyncio.Semaphore(concurrency)
        self._unreachable: tuple[float, str] | None = None

    @classmethod
    def for_settings(
        cls, base_url: str, settings: Settings, retry: RetryPolicy | None = None, counts: Counter[str] | None = None
    ) -> PoliteClient:
        return cls(
            base_url,
            requests_per_second=settings.requests_per_second,
            concurrency=settings.fetch_concurrency,
            timeout_seconds=settings.request_timeout_seconds,
            retry=retry or RetryPolicy.from_settings(settings),
            counts=counts,
        )

    async def request(
        self, method: str, url: str, endpoint: str, *, retries: bool = True, **kwargs: Any
    ) -> httpx.Response:
        """Send with retries; return a 2xx/3xx answer or raise `NotFound` / `FetchFailed`."""
        attempts = self.retry.max_retries + 1 if retries else 1
        for attempt in range(attempts):
            last = attempt == attempts - 1
            if self._unreachable is not None and time.monotonic() < self._unreachable[0]:
                raise FetchFailed(url, self._unreachable[1])
            try:
                async with self._slots:  # the rate is waited for inside the slot: a queue behind a stalled
                    await self._limiter.wait()  # server leaves at the rate, not in a burst when it answers again
                    response = await self.client.request(method, url, **kwargs)
            except (httpx.TimeoutException, httpx.TransportError) as exc:
                self.counts[endpoint] += 1
                reason = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
                if isinstance(exc, httpx.ConnectError) and _unresolved(exc):
                    host = httpx.URL(self.base_url).host
                    raise FetchFailed(url, f"the host name {host!r} does not resolve (is the URL right?)") from None
                if last:
                    reason = f"{reason} (after {attempt + 1} attempts)"
                    if isinstance(exc, httpx.ConnectError):
                        self._unreachable = (time.monotonic() + UNREACHABLE_SECONDS, f"unreachable: {reason}")
                    raise FetchFailed(url, reason) from None
                await self._back_off(url, attempt, reason, None)
                continue
            except httpx.HTTPError as exc:
                raise FetchFailed(url, f"{type(exc).__name__}: {exc}") from None
            self.counts[endpoint] += 1 + len(response.history)
            if retryable(response.status_code):
                reason = f"HTTP {response.status_code}"
                if last:
                    raise FetchFailed(url, f"{reason} (after {attempt + 1} attempts)", response.status_code)
                await self._back_off(url, attempt, reason, parse_retry_after(response.headers.get("Retry-After")))
                continue
            if response.status_code == 404:
                raise NotFound(url, "HTTP 404 (not found)", 404)
            if response.status_code >= 400:
                raise FetchFailed(url, f"HTTP {response.status_code}", response.status_code)
            return response
        raise AssertionError("unreachable")  # pragma: no cover

    async def get(self, url: str, endpoint: str, **kwargs: Any) -> httpx.Response:
        return await self.request("GET", url, endpoint, **kwargs)

    async def _back_off(self, url: str, attempt: int, reason: str, retry_after: float | None) -> None:
        delay = self.retry.delay(attempt, retry_after)
        log.info("%s: %s; retry %d in %.2fs", url, reason, attempt + 1, delay)
        await asyncio.sleep(delay)

    async def aclose(self) -> None:
        await self.client.aclose()

    async def __aenter__(self) -> PoliteClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
