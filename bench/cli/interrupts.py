"""Interrupts (SIGINT, SIGTERM): the first one unwinds the command, later ones cannot cut its cleanup short,
and what is left running afterwards is said, not assumed."""

from __future__ import annotations

import signal
import sys
from types import FrameType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bench.db.embedded import EmbeddedServer

INTERRUPTS = (signal.SIGINT, signal.SIGTERM)


def on_interrupt(signum: int, frame: FrameType | None) -> None:
    defer_interrupts()
    print("\ninterrupted: cleaning up (further interrupts are ignored until that is done) ...", file=sys.stderr)
    raise KeyboardInterrupt


def defer_interrupts() -> None:
    """Only the first SIGINT/SIGTERM unwinds: a second one would cut the cleanup short and leave a server running.

    Later ones are blocked in this thread, and the pg_ctl processes the cleanup starts inherit the blocked mask,
    so a Ctrl-C from the terminal cannot kill them half-way either. (Switching to SIG_IGN instead would make
    Python report signals already pending as "ignored due to race condition".)
    """
    for sig in INTERRUPTS:
        signal.signal(sig, _ignore)
    signal.pthread_sigmask(signal.SIG_BLOCK, INTERRUPTS)


def _ignore(signum: int, frame: FrameType | None) -> None:
    """Signals delivered to another thread while the cleanup runs end here."""


def during_interrupt(e: BaseException) -> bool:
    """Whether e was raised while unwinding an interrupt (a cleanup step failing because of it)."""
    context = e.__context__
    while context is not None:
        if isinstance(context, KeyboardInterrupt):
            return True
        context = context.__context__
    return False


_KEPT: list[str] = []


def keep_on_interrupt(what: str) -> None:
    """A command that, on an interrupt, deliberately keeps something finished (a candidates run's table of the
    candidates it measured) says so here, and the interrupt's last line names it."""
    _KEPT.append(what)


def forget_kept() -> None:
    _KEPT.clear()


def _kept_words() -> str:
    return f"kept: {'; '.join(_KEPT)}" if _KEPT else "nothing half-done is kept"


def running(servers: list[EmbeddedServer] | None) -> set[str]:
    try:
        return {s.name for s in servers or [] if s.running_pid_port()}
    except Exception:
        return set()


def after_interrupt(servers: list[EmbeddedServer] | None, running_before: set[str]) -> str:
    """Stop the servers this command started that still run (the interrupt may have cut its own cleanup
    short), unless another harness process uses them, then say what is actually left running."""
    from bench.db.server_use import ServerUse

    kept, failed, shared = [], [], ""
    to_stop = [s for s in servers or [] if s.name not in running_before and _running(s)]
    kept = [s.name for s in servers or [] if s.name in running_before and _running(s)]
    if to_stop:
        use = ServerUse(to_stop[0].root.parent)
        try:
            with use.deciding():
                use.join()
                if use.alone():
                    for server in to_stop:
                        try:
                            server.stop()
                        except Exception as e:
                            failed.append(f"{server.name} ({e})")
                else:
                    shared = use.other_users()
                    kept += [s.name for s in to_stop]
        except Exception as e:
            failed += [f"{s.name} ({e})" for s in to_stop]
        finally:
            use.leave()
    if failed:
        return (
            f"interrupted: could not stop the server(s) this command started, they may still be running: "
            f"{'; '.join(failed)}; stop them with `python -m bench down`"
        )
    if servers is None:
        return f"interrupted: {_kept_words()}" + ("" if _KEPT else " (no run was published)")
    if shared:
        return (
            f"interrupted: left {', '.join(kept)} running because another phase2-bench process uses them "
            f"({shared}); {_kept_words()}"
        )
    left = f" ({', '.join(kept)} ran before it and still run)" if kept else ""
    return f"interrupted: no server this command started is left running{left}; {_kept_words()}"


def _running(server: EmbeddedServer) -> bool:
    try:
        return server.running_pid_port() is not None
    except Exception:
        return False
