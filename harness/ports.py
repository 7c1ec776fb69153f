"""Loopback ports reserved for one run, so that concurrent runs never get the same one.

Used for the stack's entry point (run/), the isolation probes (run/) and the
Locust master (load/); it talks to no engine, so it sits below all of them.

hachaos picks the host port of the stack's entry point itself (``${HACHAOS_PORT}``):
a port the engine picks changes whenever the container starts again, which would
cut the load off after a kill or restart fault. Picking a free port and binding
it are two steps, with a window in between, so a bare "bind to port 0, close,
use the number" lets two runs started together get the same port. A run also
frees its port for a while whenever a fault stops its entry point, and another
run must not take it then either. Hence:

1. the kernel proposes a port that is free right now (bind to port 0);
2. while that socket still holds the port, the run takes an exclusive,
   non-blocking ``flock`` on a per-port lock file in a per-user folder; when
   another hachaos process holds it, the run asks for another port;
3. the run keeps the lock (an open file descriptor, not inherited by children)
   until its stack is torn down, so no other hachaos run uses the port even
   while a fault has it unbound; the kernel drops the lock when the process
   dies, even on ``kill -9``, so a crash never leaks a reservation;
4. what a lock cannot cover, a process that is not hachaos binding the port in
   the window, shows up at deploy as "port is already allocated": the
   orchestrator then deploys again with a new reservation (see ``port_taken``).

Lock files are empty and never deleted (deleting one races with a process that
just opened it); there is at most one per port number.
"""

from __future__ import annotations

import errno
import fcntl
import os
import re
import socket
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path

from harness.errors import EngineError

_ATTEMPTS = 64


def lock_dir() -> Path:
    """The per-user folder of port locks, shared by every hachaos process of this user."""
    return Path(tempfile.gettempdir()) / f"hachaos-ports-{os.getuid()}"


def _own_folder(folder: Path) -> None:
    """Create ``folder`` (0700) and refuse one that is not ours (a shared /tmp)."""
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        st = os.lstat(folder)
    except OSError as exc:
        raise EngineError(f"cannot create the port lock folder {folder}: {exc}") from exc
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.getuid():
        raise EngineError(
            f"the port lock folder {folder} is not a folder owned by this user",
            hint=f"remove {folder} (or set TMPDIR to a private folder) and run again",
        )


class PortReservation:
    """A loopback port held for this process until ``release``."""

    def __init__(self, port: int, fd: int) -> None:
        self.port = port
        self._fd: int | None = fd

    def release(self) -> None:
        """Let other hachaos runs use the port again (idempotent)."""
        if self._fd is not None:
            os.close(self._fd)  # closing drops the flock
            self._fd = None

    __del__ = release  # never leak the descriptor of a reservation nobody released

    @property
    def held(self) -> bool:
        """Whether the reservation is still held."""
        return self._fd is not None


def _try_lock(folder: Path, port: int) -> int | None:
    path = folder / f"{port}.lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        os.close(fd)
        if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
            return None  # another hachaos process holds this port
        raise
    return fd


def reserve_loopback_port(
    folder: Path | None = None, *, candidates: Callable[[], int] | None = None
) -> PortReservation:
    """Reserve a free 127.0.0.1 port for this process (see the module's docstring).

    ``candidates`` proposes port numbers (default: the kernel, while the port is
    still bound). Raises EngineError when no port can be reserved.
    """
    folder = folder or lock_dir()
    _own_folder(folder)
    for _ in range(_ATTEMPTS):
        if candidates is None:
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
                sock.bind(("127.0.0.1", 0))
                port = int(sock.getsockname()[1])
                # Still bound while we lock: no other process is handed it meanwhile.
                fd = _try_lock(folder, port)
        else:
            port = candidates()
            fd = _try_lock(folder, port)
        if fd is not None:
            return PortReservation(port, fd)
    raise EngineError(
        f"no free loopback port could be reserved after {_ATTEMPTS} tries",
        hint=f"too many hachaos runs at once? their locks are in {folder}",
    )


def port_taken(message: str, port: int) -> bool:
    """Whether an engine error says that ``port`` was taken on the host."""
    text = message.lower()
    ours = re.search(rf":{port}(?!\d)", text) is not None  # not :41234 for port 4123
    return ours and ("port is already allocated" in text or "address already in use" in text)
