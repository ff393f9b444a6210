"""A folder lock: one writing process per run folder (and per benchmark being built).

The lock is a file ``.lock`` in the run folder holding the owner's PID, host and process start
time. It is created complete (written to a temporary file, then hard-linked into place, which
fails if a lock exists), so no reader ever sees a half-written lock. A lock whose process is
gone (same host, PID not running or running a different process since the start time differs)
is stale and is taken over with a warning; a lock held by a live process, or by another host
(whose processes cannot be checked from here), refuses the second writer with one message.
Within one process the lock is re-entrant, so the runner and the report writer can both hold it.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
from pathlib import Path
from types import TracebackType
from typing import Any

from robostress.errors import DataError

log = logging.getLogger(__name__)
LOCK_NAME = ".lock"
_held: dict[Path, int] = {}  # lock path -> nesting depth within this process
_guard = threading.Lock()


def _start_time(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (Linux), to tell a reused PID apart."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def _alive(pid: int, start: str | None) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by another user
        return True
    now = _start_time(pid)
    return start is None or now is None or now == start


def _owner() -> dict[str, Any]:
    return {"pid": os.getpid(), "host": socket.gethostname(), "start": _start_time(os.getpid())}


def read_lock(path: Path) -> dict[str, Any] | None:
    """The owner recorded in a lock file; None if it is absent or unreadable (a torn lock)."""
    try:
        rec = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return rec if isinstance(rec, dict) else None


class RunLock:
    """``with RunLock(run_dir):`` holds the run folder's lock (DataError if another process does)."""

    def __init__(self, run_dir: Path) -> None:
        self.run_dir = Path(run_dir)
        self.path = (self.run_dir / LOCK_NAME).absolute()

    def __enter__(self) -> RunLock:
        with _guard:
            if self.path in _held:
                _held[self.path] += 1
                return self
            self._acquire()
            _held[self.path] = 1
        return self

    def __exit__(self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None) -> None:
        with _guard:
            _held[self.path] -= 1
            if _held[self.path] == 0:
                del _held[self.path]
                if (read_lock(self.path) or {}).get("pid") == os.getpid():
                    self.path.unlink(missing_ok=True)

    def _acquire(self) -> None:
        try:
            self.run_dir.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise DataError(f"cannot create the run folder {self.run_dir}: {e.strerror}") from None
        me = _owner()
        tmp = self.path.with_name(f"{LOCK_NAME}.{me['pid']}.tmp")
        try:
            tmp.write_text(json.dumps(me))
            for _ in range(3):
                try:
                    os.link(tmp, self.path)
                    return
                except FileExistsError:
                    self._take_over_if_stale(me)
            raise DataError(f"cannot take the lock {self.path}; another process keeps taking it")
        except OSError as e:
            raise DataError(f"cannot write the lock file {self.path}: {e.strerror}") from None
        finally:
            tmp.unlink(missing_ok=True)

    def _take_over_if_stale(self, me: dict[str, Any]) -> None:
        """Remove the existing lock if its process is gone; DataError if it is held."""
        owner = read_lock(self.path)
        if owner is not None:
            pid, host = owner.get("pid"), owner.get("host")
            if host != me["host"]:
                raise DataError(f"{self.run_dir} is locked by process {pid} on host {host!r}; wait for it "
                                f"to finish, or delete {self.path} if that process is gone")
            if isinstance(pid, int) and pid > 0 and _alive(pid, owner.get("start")):
                raise DataError(f"{self.run_dir} is being written by process {pid} on this host; wait for it "
                                "to finish or use another run_dir")
        # stale (dead owner or a torn lock): move it aside atomically, so that of two processes
        # taking over at once the second one moves the first one's fresh lock and puts it back
        aside = self.path.with_name(f"{LOCK_NAME}.stale.{me['pid']}")
        try:
            os.replace(self.path, aside)
        except FileNotFoundError:
            return
        moved = read_lock(aside)
        if moved is not None and moved != owner:
            try:
                os.link(aside, self.path)
            except FileExistsError:
                pass
            aside.unlink(missing_ok=True)
            raise DataError(f"{self.run_dir} is being written by process {moved.get('pid')}; wait for it "
                            "to finish or use another run_dir")
        aside.unlink(missing_ok=True)
        log.warning("took over the stale lock of process %s in %s", (owner or {}).get("pid", "?"), self.run_dir)
