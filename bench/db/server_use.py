"""Which harness processes use the embedded servers of a state directory, so none stops servers another one uses.

Two lock files in the state directory, taken with flock(2), which the kernel drops when a process dies (a killed
harness never blocks the others, and leaves no record to clean up):
- `users.lock`: every command that works on the servers holds it shared for as long as it does. Stopping or
  restarting needs it exclusively, that is: no other harness process is using them.
- `lifecycle.lock`: held exclusively while deciding to start, restart or stop, and while joining the users.
  The users lock is only ever taken or converted under it, so nobody can join between "I am alone" and the stop.
Connections in pg_stat_activity or advisory locks in the servers would not do: a process between two
connections shows none, and they vanish with the server they are meant to guard.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

from bench.core.errors import HarnessError

USERS_FILE = "users.lock"
LIFECYCLE_FILE = "lifecycle.lock"


def _open_lock(path: Path, mode: int) -> int:
    """A descriptor of `path` holding flock `mode`; waits unless mode has LOCK_NB (then BlockingIOError)."""
    while True:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            try:
                fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
            except PermissionError:  # created by another user: flock works on a read-only descriptor too
                fd = os.open(path, os.O_RDONLY)
        except OSError as e:
            raise HarnessError(
                f"cannot create or open {path} ({e.strerror}): the harness keeps its lock files in the state "
                "directory, which must be writable; choose another with --state-dir or PHASE2_BENCH_STATE_DIR"
            ) from None
        try:
            fcntl.flock(fd, mode)
        except BaseException:
            os.close(fd)
            raise
        # `clean` deletes the files; a lock on a deleted file guards nothing, so take the one now at `path`.
        with contextlib.suppress(FileNotFoundError):
            if os.stat(path).st_ino == os.fstat(fd).st_ino:
                return fd
        os.close(fd)


def flock_holders(path: Path) -> list[int]:
    """Pids of the processes holding a flock on `path` (from /proc/locks), this one left out."""
    try:
        stat = path.stat()
        table = Path("/proc/locks").read_text()
    except OSError:
        return []
    inode = f"{os.major(stat.st_dev):02x}:{os.minor(stat.st_dev):02x}:{stat.st_ino}"
    pids = set()
    for line in table.splitlines():
        fields = line.split()  # "1: FLOCK  ADVISORY  READ  1234 08:01:5678 0 EOF"; waiters carry a "->"
        if len(fields) >= 6 and fields[1] == "FLOCK" and fields[5] == inode:
            pids.add(int(fields[4]))
    return sorted(pids - {os.getpid()})


class ServerUse:
    """This process's use of the embedded servers of one state directory."""

    def __init__(self, state_dir: Path) -> None:
        self.users_file = state_dir / USERS_FILE
        self.lifecycle_file = state_dir / LIFECYCLE_FILE
        self._users_fd: int | None = None

    @contextlib.contextmanager
    def deciding(self) -> Iterator[None]:
        """Starting, restarting and stopping happen one process at a time, and joining waits for them."""
        fd = _open_lock(self.lifecycle_file, fcntl.LOCK_EX)
        try:
            yield
        finally:
            os.close(fd)

    def join(self) -> None:
        """Count this process among the users (call while deciding)."""
        if self._users_fd is None:
            self._users_fd = _open_lock(self.users_file, fcntl.LOCK_SH)

    def alone(self) -> bool:
        """Whether no other harness process uses the servers (call while deciding, after join)."""
        assert self._users_fd is not None, "join() first"
        fcntl.flock(self._users_fd, fcntl.LOCK_UN)
        try:
            fcntl.flock(self._users_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            return False
        finally:
            # Nobody else converts or takes the users lock while we decide, so this never waits.
            fcntl.flock(self._users_fd, fcntl.LOCK_SH)

    def other_users(self) -> str:
        pids = flock_holders(self.users_file)
        return f"pid {', '.join(map(str, pids))}" if pids else "pid unknown"

    def leave(self) -> None:
        if self._users_fd is not None:
            os.close(self._users_fd)
            self._users_fd = None

    def remove_files(self) -> None:
        """For `clean`, while deciding: processes waiting on the old files notice and take new ones."""
        for path in (self.users_file, self.lifecycle_file):
            path.unlink(missing_ok=True)
