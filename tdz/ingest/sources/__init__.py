"""Outside systems, one module each: `zwiftpower` (login + results JSON), `zwift` (public events API).

Both speak through `http.PoliteClient` (rate limit, bounded concurrency, retries with backoff) and hand back
bodies exactly as fetched; `tdz.ingest.fetch` decides what to fetch and stores it in the raw archive.
"""

from tdz.ingest.sources.http import FetchFailed, NotFound, PoliteClient
from tdz.ingest.sources.zwift import ZwiftEventsClient
from tdz.ingest.sources.zwiftpower import ZwiftPowerClient, ZwiftPowerLoginError
from tdz.retry import RetryPolicy

__all__ = [
    "FetchFailed",
    "NotFound",
    "PoliteClient",
    "RetryPolicy",
    "ZwiftEventsClient",
    "ZwiftPowerClient",
    "ZwiftPowerLoginError",
]
