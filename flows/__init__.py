"""Prefect flows over tdz: thin wiring, retries, caching, artifacts.

Prefect defaults for a club's pipeline, set before Prefect is imported and overridable from the environment: no
telemetry, and time for a small VM to start Prefect's temporary API (`tdz demo`, `tdz run` without a server).
"""

import os

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
