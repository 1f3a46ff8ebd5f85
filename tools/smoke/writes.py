"""A writer that runs beside a scenario and counts acknowledged writes, and the checks over what it counted.

The writer (kazoo, one session, connected to the members that never leave) creates `/scale/w-<n>` one after another;
a write counts as acknowledged only when ZooKeeper answered the create, which it does after a quorum logged it. The
checks afterwards are plain functions over what the writer recorded and what each member returns, so they can be
tested on their own: a write acknowledged but absent is lost; one that a majority of the voters does not return was
acknowledged without a quorum; gaps between acknowledgements give the longest write gap and the unavailable time.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field

ROOT = "/scale"
UNAVAILABLE_GAP = 1.0  # seconds without an acknowledged write that count as unavailable (the writer writes ~15/s)


@dataclass(frozen=True)
class Ack:
    seq: int
    at: float  # time.monotonic() when the answer came
    czxid: int


@dataclass
class WriteLog:
    """What the writer saw: acknowledged writes in order, and how many it tried."""

    started: float = 0.0
    stopped: float = 0.0
    acks: list[Ack] = field(default_factory=list)
    attempts: int = 0
    failures: int = 0


def node(seq: int) -> str:
    return f"{ROOT}/w-{seq:08d}"


class Writer:
    """Creates one node after another until stopped; safe to read `log` while it runs (append-only)."""

    def __init__(self, hosts: list[str], pause: float = 0.05, timeout: float = 10.0):
        from kazoo.client import KazooClient  # third-party, imported only when a writer runs

        logging.getLogger("kazoo").setLevel(logging.CRITICAL)  # it logs every lost connection; the report says enough
        self.client = KazooClient(hosts=",".join(hosts), timeout=timeout, connection_retry={"max_tries": -1})
        self.pause = pause
        self.timeout = timeout
        self.log = WriteLog()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="writer", daemon=True)

    def start(self) -> None:
        self.client.start(timeout=60)
        self.client.ensure_path(ROOT)
        self.log.started = time.monotonic()
        self._thread.start()

    def stop(self) -> WriteLog:
        self._stop.set()
        self._thread.join(timeout=self.timeout + 30)
        self.log.stopped = time.monotonic()
        return self.log

    def close(self) -> None:
        self._stop.set()
        self.client.stop()
        self.client.close()

    def _run(self) -> None:
        seq = 0
        while not self._stop.is_set():
            seq += 1
            self.log.attempts += 1
            try:
                _, stat = self.client.create_async(node(seq), b"", include_data=True).get(timeout=self.timeout)
                self.log.acks.append(Ack(seq, time.monotonic(), stat.czxid))
            except Exception:  # ConnectionLoss, SessionExpired, timeout: not acknowledged, maybe applied later
                self.log.failures += 1
                self._stop.wait(0.1)
            self._stop.wait(self.pause)


def children(hosts: list[str], timeout: float = 30.0) -> dict[str, int]:
    """Every node under ROOT and its czxid, read through the given member(s) after a sync with the leader."""
    from kazoo.client import KazooClient  # third-party, imported only when the writes are read back

    client = KazooClient(hosts=",".join(hosts), timeout=timeout, read_only=False)
    client.start(timeout=timeout)
    try:
        client.sync(ROOT)
        names = client.get_children(ROOT)
        pending = [(name, client.exists_async(f"{ROOT}/{name}")) for name in names]
        stats = [(name, result.get(timeout=timeout)) for name, result in pending]
        return {f"{ROOT}/{name}": stat.czxid for name, stat in stats if stat is not None}
    finally:
        client.stop()
        client.close()


@dataclass
class Verdict:
    acknowledged: int
    lost: list[str]  # acknowledged, absent from what the leader returns
    without_quorum: list[str]  # acknowledged, returned by fewer than a majority of the voters (or another czxid)
    missing_per_member: dict[int, int]  # member -> acknowledged writes it does not return


def verify(log: WriteLog, through_leader: dict[str, int], per_member: dict[int, dict[str, int]]) -> Verdict:
    """Compare the acknowledged writes with what the ensemble returns: through the leader and through each voter."""
    lost, without_quorum = [], []
    majority = len(per_member) // 2 + 1
    missing = {member: 0 for member in per_member}
    for ack in log.acks:
        path = node(ack.seq)
        if through_leader.get(path) != ack.czxid:
            lost.append(path)
        holders = 0
        for member, nodes in per_member.items():
            if nodes.get(path) == ack.czxid:
                holders += 1
            else:
                missing[member] += 1
        if holders < majority:
            without_quorum.append(path)
    return Verdict(len(log.acks), lost, without_quorum, missing)


def gaps(log: WriteLog, start: float | None = None, end: float | None = None) -> list[float]:
    """Seconds between consecutive acknowledgements within [start, end] (its edges count as acknowledgements)."""
    start = log.started if start is None else start
    end = log.stopped if end is None else end
    times = [start, *(ack.at for ack in log.acks if start < ack.at < end), end]
    return [later - earlier for earlier, later in zip(times, times[1:], strict=False)]


def longest_gap(log: WriteLog, start: float | None = None, end: float | None = None) -> float:
    return max(gaps(log, start, end), default=0.0)


def unavailable(log: WriteLog, start: float | None = None, end: float | None = None) -> float:
    """The time covered by gaps of UNAVAILABLE_GAP seconds or more."""
    return sum(gap for gap in gaps(log, start, end) if gap >= UNAVAILABLE_GAP)
