"""Prefect flows over tdz.pipeline: its steps as tasks, with retries, the ZwiftPower limit, a parse cache,
artifacts and alerts.

Prefect defaults for a club's pipeline, set before Prefect is imported and overridable from the environment: no
telemetry, time for a small VM to start a temporary API, and tdz's own log lines in each flow run's logs.
"""

import os

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
os.environ.setdefault("PREFECT_LOGGING_EXTRA_LOGGERS", "tdz")
