"""Progress lines for slow steps: what is built or fetched, that it happens once, a heartbeat, the elapsed time.

    with progress.step("building helm v3.19.0 with go install", note="once; cached in ~/.cache/kube-zookeeper/bin"):
        ...

prints `==> building helm v3.19.0 with go install (once; cached in ...) ...`, then `... still building helm ...: 1m30s`
every `heartbeat` seconds, and `==> building helm ...: done in 12m04s` (or `failed after ...`). Lines go to stderr, so
a command's stdout (JSON, JUnit) stays clean; pytest fixtures route them past output capture with set_sink().
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

HEARTBEAT_SECONDS = 30.0

_sink: Callable[[str], None] | None = None


def set_sink(sink: Callable[[str], None] | None) -> Callable[[str], None] | None:
    """Send progress lines to sink (None: stderr); returns the previous sink."""
    global _sink
    previous, _sink = _sink, sink
    return previous


def say(line: str) -> None:
    if _sink is not None:
        _sink(line)
    else:
        print(line, file=sys.stderr, flush=True)


def elapsed(seconds: float) -> str:
    """12.3 s under a minute, else 4m05s."""
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(int(round(seconds)), 60)
    return f"{minutes}m{rest:02d}s"


@contextmanager
def step(what: str, *, note: str = "", heartbeat: float = HEARTBEAT_SECONDS,
         quiet_under: float = 0) -> Iterator[None]:
    """Announce `what` (with a note: whether it happens once, where the result is cached, how long it takes), say it
    is still running every `heartbeat` seconds, and end with the elapsed time. A step that may be quick
    (quiet_under > 0) is announced only once it has run that long, and stays silent if it ends sooner."""
    started = time.monotonic()
    done = threading.Event()
    announced = threading.Event()

    def announce() -> None:
        say(f"==> {what}" + (f" ({note})" if note else "") + " ...")
        announced.set()

    def beat() -> None:
        if quiet_under and not done.wait(quiet_under):
            announce()
        while not done.wait(heartbeat):
            say(f"    ... still {what}: {elapsed(time.monotonic() - started)}")

    if not quiet_under:
        announce()
    beater = threading.Thread(target=beat, name="progress", daemon=True)
    beater.start()
    try:
        yield
    except BaseException:
        done.set()
        beater.join()
        say(f"==> {what}: failed after {elapsed(time.monotonic() - started)}")
        raise
    done.set()
    beater.join()
    if announced.is_set():
        say(f"==> {what}: done in {elapsed(time.monotonic() - started)}")
