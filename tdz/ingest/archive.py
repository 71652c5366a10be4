"""The raw archive: ZwiftPower and Zwift payloads exactly as fetched, one folder per season.

Layout::

    <archive_dir>/<season_id>/manifest.json
    <archive_dir>/<season_id>/events/<event_id>/<kind>.json

Scoring reads only this archive (plus the season file and organiser tabs), so a season can be rebuilt offline.
Every write is atomic (temp file + rename) and a body that is not the JSON its kind needs is refused, so a
truncated download never replaces a good payload.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Literal, get_args

from pydantic import AwareDatetime, BaseModel, Field

from tdz.files import atomic_write
from tdz.ingest import wire

PayloadKind = Literal["results_view", "results_zwift", "event_sprints", "zwift_event"]
PAYLOAD_KINDS: tuple[PayloadKind, ...] = get_args(PayloadKind)


class ArchiveRefused(ValueError):
    """A payload that must not be stored (not JSON, or not the shape its kind needs)."""


class PayloadRecord(BaseModel):
    sha256: str
    size: int
    fetched_at: AwareDatetime
    url: str = ""


class EventRecord(BaseModel):
    payloads: dict[PayloadKind, PayloadRecord] = Field(default_factory=dict)


class Manifest(BaseModel):
    season_id: str
    events: dict[str, EventRecord] = Field(default_factory=dict)


def check_payload(kind: PayloadKind, body: bytes) -> None:
    """Raise `ArchiveRefused` saying why a body is unusable: not JSON, or not the shape its kind needs (the
    `{"data": [...]}` of every ZwiftPower kind, as `tdz.ingest.wire` reads it; an object with an `id` from Zwift)."""
    if kind != "zwift_event":
        rows, problems = wire.data_rows(None, body, kind)
        if rows is None:
            raise ArchiveRefused(problems[0].why)
        return
    document, not_json = wire.loads(body)
    if not_json:
        raise ArchiveRefused(f"{kind}: {not_json}")
    if not isinstance(document, dict) or "id" not in document:
        raise ArchiveRefused(f"{kind}: expected an object with an `id`")


class Archive:
    """One season's folder of raw payloads and its manifest."""

    def __init__(self, archive_dir: str | Path, season_id: str) -> None:
        self.root = Path(archive_dir) / season_id
        self.season_id = season_id
        self._manifest: Manifest | None = None

    @property
    def manifest_path(self) -> Path:
        return self.root / "manifest.json"

    @property
    def lock_path(self) -> Path:
        """The lock file a run holds while it fetches into this archive (`tdz.files.holding`)."""
        return self.root / ".fetch.lock"

    def reload(self) -> None:
        """Forget the cached manifest: another run may have written it (call after taking the lock)."""
        self._manifest = None

    def manifest(self) -> Manifest:
        if self._manifest is None:
            if self.manifest_path.exists():
                self._manifest = Manifest.model_validate_json(self.manifest_path.read_bytes())
            else:
                self._manifest = Manifest(season_id=self.season_id)
        return self._manifest

    def exists(self) -> bool:
        return self.manifest_path.exists()

    def event_ids(self) -> list[int]:
        return sorted(int(e) for e in self.manifest().events)

    def path(self, event_id: int, kind: PayloadKind) -> Path:
        return self.root / "events" / str(event_id) / f"{kind}.json"

    def record(self, event_id: int, kind: PayloadKind) -> PayloadRecord | None:
        event = self.manifest().events.get(str(event_id))
        return event.payloads.get(kind) if event else None

    def read(self, event_id: int, kind: PayloadKind) -> bytes | None:
        """The stored body, or None when this kind was never fetched for the event."""
        if self.record(event_id, kind) is None:
            return None
        return self.path(event_id, kind).read_bytes()

    def store_event(
        self,
        event_id: int,
        payloads: Mapping[PayloadKind, bytes],
        fetched_at: datetime,
        urls: Mapping[PayloadKind, str] | None = None,
    ) -> dict[PayloadKind, bool]:
        """Store an event's freshly fetched payloads, each replacing the stored one whole.

        Every body is checked before anything is written, so one bad body leaves the event as it was.
        Returns, per kind, whether the stored bytes changed.
        """
        for kind, body in payloads.items():
            check_payload(kind, body)
        manifest = self.manifest()
        event = manifest.events.setdefault(str(event_id), EventRecord())
        changed: dict[PayloadKind, bool] = {}
        for kind, body in payloads.items():
            digest = hashlib.sha256(body).hexdigest()
            old = event.payloads.get(kind)
            changed[kind] = old is None or old.sha256 != digest
            if changed[kind]:
                atomic_write(self.path(event_id, kind), body)
            event.payloads[kind] = PayloadRecord(
                sha256=digest, size=len(body), fetched_at=fetched_at, url=(urls or {}).get(kind, "")
            )
        self._save_manifest()
        return changed

    def _save_manifest(self) -> None:
        manifest = self.manifest()
        manifest.events = dict(sorted(manifest.events.items(), key=lambda item: int(item[0])))
        atomic_write(self.manifest_path, manifest.model_dump_json(indent=1).encode() + b"\n")

    def payload_hash(self) -> str:
        """A hash of every stored payload's bytes as they are on disk now (not as the manifest recorded them): the
        key of anything computed from the payloads, such as a cached parse."""
        digest = hashlib.sha256()
        for event_id, event in sorted(self.manifest().events.items(), key=lambda item: int(item[0])):
            for kind in sorted(event.payloads):
                path = self.path(int(event_id), kind)
                body = path.read_bytes() if path.exists() else b""
                digest.update(f"{event_id}/{kind}={hashlib.sha256(body).hexdigest()}\n".encode())
        return digest.hexdigest()

    def input_hash(self) -> str:
        """A hash over every stored payload's sha256 as the manifest records it: equal hashes mean equal archives."""
        digest = hashlib.sha256()
        for event_id, event in sorted(self.manifest().events.items(), key=lambda item: int(item[0])):
            for kind in sorted(event.payloads):
                digest.update(f"{event_id}/{kind}={event.payloads[kind].sha256}\n".encode())
        return digest.hexdigest()
