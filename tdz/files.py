"""Writing a file so that a reader, a crash or a second run never sees half of it."""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

NEW_FILE_MODE = 0o644


def atomic_write(path: Path, data: bytes, mode: int | None = None) -> None:
    """Replace `path` with `data`: readers see the old file or the new one, never a part of either.

    The bytes go to a temp file of its own beside `path` (two runs writing the same file never share one), are
    flushed to disk, and the temp file is renamed over `path`; missing folders are created. `mode` sets the file's
    permissions, and the temp file is owner-only until then, so an owner-only file (a session cookie) is never
    readable by others, even for a moment. Without `mode` an existing file keeps its permissions and a new one gets
    0o644. On any failure the temp file is removed and `path` is left as it was.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if mode is None:
        try:
            mode = stat.S_IMODE(path.stat().st_mode)
        except FileNotFoundError:
            mode = NEW_FILE_MODE
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
