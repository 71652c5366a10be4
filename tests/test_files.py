"""`tdz.files.atomic_write`: the old file or the new one, never a part; permissions kept or set."""

from __future__ import annotations

import stat
import threading
from pathlib import Path

import pytest

from tdz.files import atomic_write


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_writes_new_files_in_new_folders_and_keeps_an_existing_files_mode(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "state.json"
    atomic_write(target, b'{"x": 1}')
    assert target.read_bytes() == b'{"x": 1}' and mode_of(target) == 0o644
    target.chmod(0o640)
    atomic_write(target, b'{"x": 2}')
    assert target.read_bytes() == b'{"x": 2}' and mode_of(target) == 0o640
    atomic_write(target, b"secret", mode=0o600)
    assert mode_of(target) == 0o600
    assert sorted(p.name for p in target.parent.iterdir()) == ["state.json"]


def test_a_failed_write_leaves_the_old_file_and_no_temp_file(tmp_path: Path) -> None:
    target = tmp_path / "season.xlsx"
    atomic_write(target, b"old")
    with pytest.raises(TypeError):
        atomic_write(target, "not bytes")  # type: ignore[arg-type]
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["season.xlsx"]


def test_parallel_writers_of_one_file_never_mix_their_bytes(tmp_path: Path) -> None:
    target = tmp_path / ".zwiftpower-session.json"
    bodies = [bytes([65 + i]) * 200_000 for i in range(8)]
    threads = [threading.Thread(target=atomic_write, args=(target, body, 0o600)) for body in bodies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert target.read_bytes() in bodies and mode_of(target) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == [target.name]
