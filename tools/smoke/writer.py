"""One writer with two transports, and the one set of checks over what it wrote.

`Writer(transport)` creates `<root>/w-<n>` one after another in a thread while a scenario replaces, scales or kills
members. A write counts as acknowledged only when ZooKeeper answered the create, which it does after a quorum logged
it. The transports differ only in how a write and a read reach the members:

- `KazooTransport(hosts)`: one kazoo session over `hosts` ("address:port" of the members that stay) for the writes,
  and a client per member (`readers`, default: the same hosts by position) for the read-back. It learns each write's
  czxid, so a node of the same name from another history counts as lost.
- `ExecTransport(exec_fn, members)`: every write is a fresh `zkCli.sh create` run inside a member (round robin) by
  `exec_fn(member, argv, timeout) -> Result`: a smoke Target's `exec` (`kubectl exec` on a cluster, an engine exec
  locally); argv as tools/cli/zookeeper.py builds it. The read-back is `sync` then `ls <root>` inside each member.

The checks, the same for both (`judge`, `gaps`): after the writes stop, every acknowledged write must be returned by
the leader (else it is lost) and by a majority of the voters (else it was acknowledged without a quorum), every member
read after a `sync`; a member that does not answer holds nothing. Gaps between acknowledgements give the longest
write gap and the unavailable time (gaps of the transport's `unavailable_gap` or more). Elections seen: the newest
leader epoch any member reports (srvr's Zxid) when the writer starts and when it is checked, the leader then and
there, and the epochs of the acknowledged writes' czxids where the transport learns them.

Use (a scenario step; StepFailed is tools.smoke.scenario's):

    with Writer(ExecTransport(target.exec, target.members)) as writer:  # start(): root created, the thread writing
        ...                                                            # the disruption; leaving the block stops it
    detail = writer.verify()

`Writer(transport, root=ROOT, settle=SETTLE)`. `verify()` reads back through every member (again, for up to `settle`
seconds, until one leads and all answer) and returns one line: "<n> of <m> writes acknowledged, all read back through
the leader and a majority of the voters; 0 lost, 0 without a quorum; longest gap .., unavailable ..; elections seen:
..". It raises StepFailed when no member leads, when fewer writes than members were acknowledged ("too few to
tell"), or when a check fails: "<n> acknowledged writes lost (first: [paths]), <k> acknowledged without a quorum
(first: [paths]); missing per member: {member: count}". `check()` returns the `Verdict` instead of raising on a
failed check (the scale scenario reports its numbers either way); `writer.verdict` keeps it after either.
"""

from __future__ import annotations

import logging
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from tools.base.run import Result
from tools.cli import zookeeper
from tools.smoke.scenario import StepFailed

ROOT = "/kz-writer"
UNAVAILABLE_GAP = 1.0  # seconds without an acknowledged write that count as unavailable (kazoo writes ~15/s)
PLANNED_GAP_SECONDS = 5.0  # the longest write gap a planned operation (a scale-down, then a drain) may cause
SETTLE = 180.0  # seconds the read-back waits for a leader and every member to answer


@dataclass(frozen=True)
class Ack:
    seq: int
    path: str
    at: float  # time.monotonic() when the answer came
    czxid: int | None = None  # None: the transport does not learn it (zkCli.sh create prints only the path)


@dataclass
class WriteLog:
    """What the writer saw: acknowledged writes in order, and how many it tried."""

    started: float = 0.0
    stopped: float = 0.0
    acks: list[Ack] = field(default_factory=list)
    attempts: int = 0
    failures: int = 0


def node(root: str, seq: int) -> str:
    return f"{root}/w-{seq:08d}"


# -- transports -------------------------------------------------------------------------------------------------


class Transport(ABC):
    """How the writer's creates and the read-back reach the members."""

    unavailable_gap: float = UNAVAILABLE_GAP
    pause: float = 0.05  # between writes

    @abstractmethod
    def open(self, root: str) -> None:
        """Make `root` exist (and any session); StepFailed when it cannot."""

    @abstractmethod
    def create(self, seq: int, path: str) -> int | None:
        """Create path; returns its czxid (None when the transport does not learn it). Raises when not acknowledged."""

    @abstractmethod
    def members(self) -> list[int]:
        """The members to read back through (they are the voters at the end)."""

    @abstractmethod
    def state(self, member: int) -> zookeeper.MemberState:
        """The member's srvr: mode and zxid."""

    @abstractmethod
    def children(self, member: int, root: str) -> dict[str, int | None] | None:
        """Every node under root the member returns after a sync (path -> czxid, None when not learnt); None when
        the member does not answer."""

    @abstractmethod
    def close(self) -> None:
        """Release sessions."""


class NotAcknowledged(Exception):
    """A create that ZooKeeper did not answer with success."""


class KazooTransport(Transport):
    """kazoo: one session over `hosts` for the writes; one short-lived client per member for the read-back."""

    def __init__(self, hosts: list[str], readers: dict[int, str] | Callable[[], dict[int, str]] | None = None,
                 timeout: float = 10.0):
        from kazoo.client import KazooClient  # third-party, imported only when a writer runs

        logging.getLogger("kazoo").setLevel(logging.CRITICAL)  # it logs every lost connection; the report says enough
        self.client = KazooClient(hosts=",".join(hosts), timeout=timeout, connection_retry={"max_tries": -1})
        self.readers = readers if readers is not None else dict(enumerate(hosts))
        self.timeout = timeout

    def hosts(self) -> dict[int, str]:
        return self.readers() if callable(self.readers) else dict(self.readers)

    def open(self, root: str) -> None:
        self.client.start(timeout=60)
        self.client.ensure_path(root)

    def create(self, seq: int, path: str) -> int | None:
        _, stat = self.client.create_async(path, b"", include_data=True).get(timeout=self.timeout)
        return stat.czxid

    def members(self) -> list[int]:
        return sorted(self.hosts())

    def state(self, member: int) -> zookeeper.MemberState:
        address, _, port = self.hosts()[member].rpartition(":")
        text = zookeeper.four_letter_at(address, "srvr", port=int(port))
        return zookeeper.parse_srvr(member, 0 if text else 1, text or "no answer")

    def children(self, member: int, root: str, timeout: float = 30.0) -> dict[str, int | None] | None:
        from kazoo.client import KazooClient

        client = KazooClient(hosts=self.hosts()[member], timeout=timeout, read_only=False)
        try:
            client.start(timeout=timeout)
            client.sync(root)
            names = client.get_children(root)
            pending = [(name, client.exists_async(f"{root}/{name}")) for name in names]
            stats = [(name, result.get(timeout=timeout)) for name, result in pending]
            return {f"{root}/{name}": stat.czxid for name, stat in stats if stat is not None}
        except Exception:  # the member does not answer (or lost the session): it holds nothing we can see
            return None
        finally:
            client.stop()
            client.close()

    def close(self) -> None:
        self.client.stop()
        self.client.close()


class ExecTransport(Transport):
    """zkCli.sh inside the members through `exec_fn(member, argv, timeout) -> Result` (a smoke Target's exec)."""

    unavailable_gap = 5.0  # a write is a fresh JVM (about 1 s, more through kubectl exec): only longer gaps count
    pause = 0.0

    def __init__(self, exec_fn: Callable[[int, list[str], float], Result], members: int = 3,
                 command_timeout: int = 20):
        self.exec_fn = exec_fn
        self.count = members
        self.command_timeout = command_timeout

    def run(self, member: int, *command: str) -> Result:
        argv = zookeeper.zkcli_argv(*command, timeout_seconds=self.command_timeout)
        return self.exec_fn(member, argv, self.command_timeout + 10)

    def open(self, root: str, timeout: float = 120.0) -> None:
        """Create root through member 0, 1, ... in turn until one answers (a member may be on its way back)."""
        deadline, attempt, why = time.monotonic() + timeout, 0, ""
        while time.monotonic() < deadline:
            result = self.run(attempt % self.count, "create", root, "writer")
            if result.code == 0 or "Node already exists" in result.stdout + result.stderr:
                return
            why = zookeeper.client_error(result.stdout, result.stderr)
            attempt += 1
            time.sleep(1)
        raise StepFailed(f"could not create {root} through any member in {timeout:.0f} s: {why}")

    def create(self, seq: int, path: str) -> int | None:
        result = self.run(seq % self.count, "create", path, "x")
        if result.code != 0:
            raise NotAcknowledged(zookeeper.client_error(result.stdout, result.stderr))
        return None

    def members(self) -> list[int]:
        return list(range(self.count))

    def state(self, member: int) -> zookeeper.MemberState:
        result = self.exec_fn(member, zookeeper.four_letter_argv("srvr"), 30)
        return zookeeper.parse_srvr(member, result.code, result.stdout + result.stderr)

    def children(self, member: int, root: str) -> dict[str, int | None] | None:
        synced = self.run(member, "sync", root)
        if synced.code != 0 or "Sync is OK" not in synced.stdout:
            return None
        listed = self.run(member, "ls", root)
        names = parse_ls(listed.stdout) if listed.code == 0 else None
        return None if names is None else {f"{root}/{name}": None for name in names}

    def close(self) -> None:
        """Nothing to release: every command was a process of its own."""


def parse_ls(stdout: str) -> list[str] | None:
    """The children zkCli.sh's `ls` printed (`[a, b]`); None when it printed no listing."""
    listing = next((line for line in zookeeper.zkcli_value(stdout) if line.startswith("[")), None)
    if listing is None:
        return None
    return [name.strip() for name in listing.strip("[]").split(",") if name.strip()]


# -- the checks -------------------------------------------------------------------------------------------------


@dataclass
class Verdict:
    acknowledged: int
    attempts: int  # acknowledged + not (timed out, refused, connection lost: maybe applied later, never counted)
    lost: list[str]  # acknowledged, absent from what the leader returns (or with another czxid)
    without_quorum: list[str]  # acknowledged, returned by fewer than a majority of the voters
    missing_per_member: dict[int, int]  # member -> acknowledged writes it does not return (all: it did not answer)
    longest_gap: float = 0.0
    unavailable: float = 0.0
    leader_before: int | None = None
    leader_after: int | None = None
    epoch_before: int | None = None
    epoch_after: int | None = None
    epochs_acknowledged: list[int] = field(default_factory=list)  # the leader epochs in the acks' czxids

    @property
    def ok(self) -> bool:
        return not self.lost and not self.without_quorum

    @property
    def elections(self) -> int | None:
        """Leader epochs between the writer's start and its check (one per leader elected)."""
        if self.epoch_before is None or self.epoch_after is None:
            return None
        return self.epoch_after - self.epoch_before

    def failure(self) -> str:
        return (f"{len(self.lost)} acknowledged writes lost (first: {self.lost[:3]}), "
                f"{len(self.without_quorum)} acknowledged without a quorum (first: {self.without_quorum[:3]}); "
                f"missing per member: {self.missing_per_member}")

    def summary(self) -> str:
        return (f"{self.acknowledged} of {self.attempts} writes acknowledged, all read back through the leader and a "
                f"majority of the voters; 0 lost, 0 without a quorum; longest gap {self.longest_gap:.2f} s, "
                f"unavailable {self.unavailable:.2f} s; elections seen: {self.elections_seen()}")

    def elections_seen(self) -> str:
        leaders = f"leader member {self.leader_before} -> member {self.leader_after}"
        count = "?" if self.elections is None else str(self.elections)
        epochs = f", acknowledged in epochs {self.epochs_acknowledged}" if self.epochs_acknowledged else ""
        return f"{count} ({leaders}{epochs})"

    def measurements(self) -> dict[str, object]:
        return {
            "writes_attempted": self.attempts,
            "writes_acknowledged": self.acknowledged,
            "acknowledged_writes_lost": len(self.lost),
            "writes_acknowledged_without_quorum": len(self.without_quorum),
            "longest_write_gap_seconds": round(self.longest_gap, 3),
            "unavailable_seconds": round(self.unavailable, 3),
            "elections_seen_by_writer": self.elections,
        }


def holds(nodes: dict[str, int | None] | None, ack: Ack) -> bool:
    """The member returned the acknowledged node (the same czxid, where both sides know it)."""
    if nodes is None or ack.path not in nodes:
        return False
    return ack.czxid is None or nodes[ack.path] is None or nodes[ack.path] == ack.czxid


def judge(log: WriteLog, nodes: dict[int, dict[str, int | None] | None], leader: int,
          voters: Iterable[int] | None = None) -> tuple[list[str], list[str], dict[int, int]]:
    """(lost, without_quorum, missing per member): each acknowledged write against what the leader and each voter
    (default: every member read) returned."""
    voters = list(nodes if voters is None else voters)
    majority = len(voters) // 2 + 1
    lost, without_quorum = [], []
    missing = {member: 0 for member in nodes}
    for ack in log.acks:
        if not holds(nodes.get(leader), ack):
            lost.append(ack.path)
        holders = 0
        for member, returned in nodes.items():
            if holds(returned, ack):
                holders += member in voters
            else:
                missing[member] += 1
        if holders < majority:
            without_quorum.append(ack.path)
    return lost, without_quorum, missing


def gaps(log: WriteLog, start: float | None = None, end: float | None = None) -> list[float]:
    """Seconds between consecutive acknowledgements within [start, end] (its edges count as acknowledgements)."""
    start = log.started if start is None else start
    end = log.stopped if end is None else end
    times = [start, *(ack.at for ack in log.acks if start < ack.at < end), end]
    return [later - earlier for earlier, later in zip(times, times[1:], strict=False)]


def longest_gap(log: WriteLog, start: float | None = None, end: float | None = None) -> float:
    return max(gaps(log, start, end), default=0.0)


def unavailable(log: WriteLog, start: float | None = None, end: float | None = None,
                threshold: float = UNAVAILABLE_GAP) -> float:
    """The time covered by gaps of `threshold` seconds or more."""
    return sum(gap for gap in gaps(log, start, end) if gap >= threshold)


def leader_of(states: dict[int, zookeeper.MemberState]) -> int | None:
    leaders = [member for member, state in states.items() if state.mode == "leader"]
    return leaders[0] if len(leaders) == 1 else None


def newest_epoch(states: dict[int, zookeeper.MemberState]) -> int | None:
    epochs = [zookeeper.epoch(state.zxid) for state in states.values() if state.zxid]
    return max((epoch for epoch in epochs if epoch is not None), default=None)


# -- the writer -------------------------------------------------------------------------------------------------


class Writer:
    """Creates one node after another through `transport` until stopped; `log` may be read while it runs."""

    def __init__(self, transport: Transport, root: str = ROOT, settle: float = SETTLE):
        self.transport = transport
        self.root = root
        self.settle = settle
        self.log = WriteLog()
        self.before: dict[int, zookeeper.MemberState] = {}
        self.verdict: Verdict | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="writer", daemon=True)

    def __enter__(self) -> Writer:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> None:
        self.transport.open(self.root)
        self.before = self.states()
        self.log.started = time.monotonic()
        self._thread.start()

    def stop(self) -> WriteLog:
        if not self._stop.is_set():
            self._stop.set()
            self._thread.join(timeout=120)
            self.log.stopped = time.monotonic()
        return self.log

    def close(self) -> None:
        self.stop()
        self.transport.close()

    def _run(self) -> None:
        seq = 0
        while not self._stop.is_set():
            seq += 1
            path = node(self.root, seq)
            self.log.attempts += 1
            try:
                czxid = self.transport.create(seq, path)
                self.log.acks.append(Ack(seq, path, time.monotonic(), czxid))
            except Exception:  # ConnectionLoss, SessionExpired, a timeout, a failed zkCli.sh: not acknowledged
                self.log.failures += 1
                self._stop.wait(0.1)
            self._stop.wait(self.transport.pause)

    # -- reading back and judging -------------------------------------------------------------------------------

    def states(self) -> dict[int, zookeeper.MemberState]:
        return {member: self.transport.state(member) for member in self.transport.members()}

    def longest_gap(self, start: float | None = None, end: float | None = None) -> float:
        return longest_gap(self.log, start, end)

    def unavailable(self, start: float | None = None, end: float | None = None) -> float:
        return unavailable(self.log, start, end, self.transport.unavailable_gap)

    def read_back(self) -> tuple[dict[int, zookeeper.MemberState], dict[int, dict[str, int | None] | None]]:
        """Every member's srvr and nodes, again until one leads and every member answers (bounded by settle)."""
        deadline = time.monotonic() + self.settle
        while True:
            states = self.states()
            nodes = {member: self.transport.children(member, self.root) for member in states}
            if (leader_of(states) is not None and None not in nodes.values()) or time.monotonic() > deadline:
                return states, nodes
            time.sleep(1)

    def check(self) -> Verdict:
        """Stop writing, read back through every member, judge; the Verdict is also kept in `verdict`."""
        log = self.stop()
        states, nodes = self.read_back()
        leader = leader_of(states)
        if leader is None:
            raise StepFailed("no leader to read the writes back through: "
                             + ", ".join(f"{member}={state.mode}" for member, state in states.items()))
        lost, without_quorum, missing = judge(log, nodes, leader)
        epochs = sorted({ack.czxid >> 32 for ack in log.acks if ack.czxid is not None})
        self.verdict = Verdict(
            acknowledged=len(log.acks), attempts=log.attempts, lost=lost, without_quorum=without_quorum,
            missing_per_member=missing, longest_gap=self.longest_gap(), unavailable=self.unavailable(),
            leader_before=leader_of(self.before), leader_after=leader, epoch_before=newest_epoch(self.before),
            epoch_after=newest_epoch(states), epochs_acknowledged=epochs)
        return self.verdict

    def verify(self) -> str:
        """check(), then StepFailed naming the lost writes (or too few writes to tell); else one line saying it."""
        verdict = self.check()
        members = len(self.transport.members())
        if verdict.acknowledged < members:
            raise StepFailed(f"only {verdict.acknowledged} writes acknowledged ({self.log.failures} refused): too few "
                             "to tell")
        if not verdict.ok:
            raise StepFailed(verdict.failure())
        return verdict.summary()
