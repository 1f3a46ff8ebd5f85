"""tools/smoke/writer.py on recorded data: how acknowledged writes are judged against what each member returns, the
gaps, and the writer with its exec transport over a recorded ZooKeeper (zkCli.sh's own output). The writer on a real
ensemble, through both transports, runs in test_writer.py and test_scale_scenario.py."""

from __future__ import annotations

import threading
import time

import pytest

from tools.base.run import Result
from tools.cli import zookeeper
from tools.smoke import writer
from tools.smoke.scenario import StepFailed

ROOT = "/scale"


def log_of(*acks: tuple[int, float, int | None], attempts: int | None = None) -> writer.WriteLog:
    log = writer.WriteLog(started=0.0, stopped=10.0)
    log.acks = [writer.Ack(seq, writer.node(ROOT, seq), at, czxid) for seq, at, czxid in acks]
    log.attempts = attempts or len(acks)
    return log


def returned(*seqs_czxids: tuple[int, int | None]) -> dict[str, int | None]:
    return {writer.node(ROOT, seq): czxid for seq, czxid in seqs_czxids}


def test_every_acknowledged_write_returned_everywhere_is_kept():
    log = log_of((1, 1.0, 0x100000001), (2, 2.0, 0x100000002), attempts=3)  # seq 3 failed: never acknowledged
    everything = returned((1, 0x100000001), (2, 0x100000002), (3, 0x100000003))
    lost, without_quorum, missing = writer.judge(log, {0: everything, 1: everything, 2: everything}, leader=0)
    assert (lost, without_quorum) == ([], [])
    assert missing == {0: 0, 1: 0, 2: 0}


def test_an_acknowledged_write_the_leader_does_not_return_is_lost():
    log = log_of((1, 1.0, 0x100000001), (2, 2.0, 0x100000002))
    leader = returned((1, 0x100000001))
    lost, without_quorum, missing = writer.judge(log, {0: leader, 1: leader, 2: leader}, leader=0)
    assert lost == [writer.node(ROOT, 2)]
    assert without_quorum == [writer.node(ROOT, 2)]
    assert missing == {0: 1, 1: 1, 2: 1}


def test_a_write_only_a_minority_returns_was_acknowledged_without_a_quorum():
    """The leader holds it, a majority does not."""
    log = log_of((1, 1.0, 0x100000001), (2, 2.0, 0x200000001))
    all_of_it = returned((1, 0x100000001), (2, 0x200000001))
    without_2 = returned((1, 0x100000001))
    lost, without_quorum, missing = writer.judge(log, {0: all_of_it, 1: without_2, 2: without_2}, leader=0)
    assert lost == []
    assert without_quorum == [writer.node(ROOT, 2)]
    assert missing == {0: 0, 1: 1, 2: 1}


def test_without_czxids_the_leader_holding_a_write_a_majority_lacks_is_still_no_quorum():
    """The exec transport learns no czxid: the same judgement by path."""
    log = log_of((1, 1.0, None), (2, 2.0, None), (3, 3.0, None))
    leader, behind = returned((1, None), (2, None), (3, None)), returned((1, None), (2, None))
    lost, without_quorum, missing = writer.judge(log, {0: behind, 1: leader, 2: behind}, leader=1)
    assert (lost, without_quorum, missing) == ([], [writer.node(ROOT, 3)], {0: 1, 1: 0, 2: 1})


def test_a_member_that_does_not_answer_holds_nothing():
    log = log_of((1, 1.0, 0x100000001))
    held = returned((1, 0x100000001))
    lost, without_quorum, missing = writer.judge(log, {0: held, 1: None, 2: None}, leader=0)
    assert (lost, without_quorum, missing) == ([], [writer.node(ROOT, 1)], {0: 0, 1: 1, 2: 1})
    assert writer.judge(log, {0: held, 1: held, 2: None}, leader=0)[1] == []  # two of three: a majority


def test_a_node_of_the_same_name_from_another_history_is_lost():
    """Same path, another czxid: what the writer was told was committed is not what the ensemble holds."""
    log = log_of((1, 1.0, 0x100000001))
    other = returned((1, 0x200000007))
    assert writer.judge(log, {0: other, 1: other, 2: other}, leader=0)[0] == [writer.node(ROOT, 1)]


def test_gaps_count_from_the_start_to_the_end():
    log = log_of((1, 0.5, 1), (2, 0.6, 2), (3, 2.6, 3), (4, 9.0, 4))
    assert writer.gaps(log) == pytest.approx([0.5, 0.1, 2.0, 6.4, 1.0])
    assert writer.longest_gap(log) == pytest.approx(6.4)
    assert writer.unavailable(log) == pytest.approx(2.0 + 6.4 + 1.0)
    assert writer.longest_gap(log, 0.55, 2.7) == pytest.approx(2.0)  # a phase: its own window
    assert writer.unavailable(log, 0.55, 2.7) == pytest.approx(2.0)
    assert writer.unavailable(log, threshold=5.0) == pytest.approx(6.4)  # the exec transport's longer threshold


def test_a_writer_that_never_got_an_answer_was_unavailable_throughout():
    log = log_of(attempts=40)
    assert writer.longest_gap(log) == 10.0
    assert writer.unavailable(log) == 10.0


def test_zkcli_ls_is_read_from_its_own_output():
    stdout = ("Connecting to 127.0.0.1:2181\n\nWATCHER::\n\nWatchedEvent state:SyncConnected type:None path:null "
              "zxid: -1\n[w-00000001, w-00000002]\n")
    assert writer.parse_ls(stdout) == ["w-00000001", "w-00000002"]
    assert writer.parse_ls("Connecting to 127.0.0.1:2181\n[]\n") == []
    assert writer.parse_ls("Connecting to 127.0.0.1:2181\n") is None


# -- the writer over its exec transport, on a recorded ZooKeeper ---------------------------------------------------
class RecordedZooKeeper:
    """Answers zkCli.sh and srvr as three members of one ensemble would, from one store per member."""

    def __init__(self, leader: int = 0, epoch: int = 1):
        self.nodes: dict[int, set[str]] = {member: set() for member in range(3)}
        self.leader, self.epoch = leader, epoch
        self.down: set[int] = set()
        self.refuse = False  # every create but the parent's times out, as without a quorum
        self.argvs: list[tuple[int, list[str]]] = []
        self.lock = threading.Lock()

    def exec(self, member: int, argv: list[str], timeout: float) -> Result:
        with self.lock:
            self.argvs.append((member, argv))
            if member in self.down:
                return Result(1, "", "Error from server: container not running")
            if argv[0] == "bash" and argv[-2] == "srvr":
                mode = "leader" if member == self.leader else "follower"
                return Result(0, f"Zookeeper version: 3.9.5\nZxid: {hex(self.epoch << 32 | 7)}\nMode: {mode}\n", "")
            assert argv[2] == "zkCli.sh" and argv[:2] == ["timeout", "20"], argv
            verb, path = argv[7], argv[8]
            if verb == "create" and self.refuse and path != ROOT:
                return Result(1, "", "KeeperErrorCode = ConnectionLoss for " + path)
            if verb == "create":
                for store in self.nodes.values():
                    store.add(path)
                return Result(0, f"Connecting to 127.0.0.1:2181\nCreated {path}\n", "")
            if verb == "sync":
                return Result(0, "Connecting to 127.0.0.1:2181\nSync is OK\n", "")
            if verb == "ls":
                names = sorted(name.rsplit("/", 1)[1] for name in self.nodes[member] if name.startswith(path + "/"))
                return Result(0, f"Connecting to 127.0.0.1:2181\n[{', '.join(names)}]\n", "")
        raise AssertionError(argv)


def write_some(zk: RecordedZooKeeper, count: int = 6) -> writer.Writer:
    with writer.Writer(writer.ExecTransport(zk.exec, 3), root=ROOT, settle=2) as written:
        deadline = time.monotonic() + 10
        while len(written.log.acks) < count and time.monotonic() < deadline:
            time.sleep(0.01)
    return written


def test_the_exec_transport_writes_through_each_member_in_turn_and_verifies():
    zk = RecordedZooKeeper()
    written = write_some(zk)
    creates = [(member, argv[8]) for member, argv in zk.argvs if argv[2:3] == ["zkCli.sh"] and argv[7] == "create"]
    assert creates[0] == (0, ROOT)  # the parent, through member 0
    assert [member for member, _ in creates[1:4]] == [1, 2, 0]  # seq 1, 2, 3: round robin
    detail = written.verify()
    assert detail.startswith(f"{len(written.log.acks)} of {written.log.attempts} writes acknowledged")
    assert "0 lost, 0 without a quorum" in detail and "elections seen: 0 (leader member 0 -> member 0)" in detail
    for member in range(3):  # every member read after a sync
        reads = [argv[7] for read_by, argv in zk.argvs if read_by == member and argv[7:8] in (["sync"], ["ls"])]
        assert reads[:2] == ["sync", "ls"]


def test_a_write_removed_behind_the_writers_back_is_named_lost():
    zk = RecordedZooKeeper()
    written = write_some(zk)
    victim = written.log.acks[2].path
    for store in zk.nodes.values():
        store.discard(victim)
    with pytest.raises(StepFailed, match=rf"^1 acknowledged writes lost \(first: \['{victim}'\]\)"):
        written.verify()
    assert written.verdict.lost == [victim]


def test_a_write_the_leader_holds_but_a_majority_does_not_fails_verify():
    zk = RecordedZooKeeper(leader=1)
    written = write_some(zk)
    victim = written.log.acks[-1].path
    zk.nodes[0].discard(victim)
    zk.nodes[2].discard(victim)
    with pytest.raises(StepFailed, match=rf"0 acknowledged writes lost .*1 acknowledged without a quorum \(first: "
                                         rf"\['{victim}'\]\); missing per member: {{0: 1, 1: 0, 2: 1}}"):
        written.verify()


def test_an_election_between_start_and_check_is_seen():
    zk = RecordedZooKeeper(leader=0, epoch=1)
    written = write_some(zk)
    zk.leader, zk.epoch = 2, 3  # two leaders elected meanwhile, as srvr's zxid says
    written.verify()
    assert written.verdict.elections == 2
    assert (written.verdict.leader_before, written.verdict.leader_after) == (0, 2)


def test_a_member_down_at_the_check_holds_nothing_but_two_are_a_majority():
    zk = RecordedZooKeeper()
    written = write_some(zk)
    zk.down.add(2)
    written.verify()
    assert written.verdict.missing_per_member[2] == written.verdict.acknowledged


def test_no_leader_at_the_check_is_said():
    zk = RecordedZooKeeper()
    written = write_some(zk)
    zk.leader = 7  # nobody leads
    with pytest.raises(StepFailed, match="no leader to read the writes back through: 0=follower"):
        written.verify()


def test_too_few_acknowledged_writes_cannot_tell():
    zk = RecordedZooKeeper()
    zk.refuse = True
    with writer.Writer(writer.ExecTransport(zk.exec, 3), root=ROOT, settle=2) as written:
        time.sleep(0.2)
    with pytest.raises(StepFailed, match=r"^only 0 writes acknowledged \(\d+ refused\): too few to tell"):
        written.verify()


def test_a_parent_no_member_can_create_is_said():
    zk = RecordedZooKeeper()
    zk.down = {0, 1, 2}
    transport = writer.ExecTransport(zk.exec, 3)
    with pytest.raises(StepFailed, match=f"could not create {ROOT} through any member in 3 s"):
        transport.open(ROOT, timeout=3)


def test_the_exec_transports_argv_is_zookeepers():
    zk = RecordedZooKeeper()
    writer.ExecTransport(zk.exec, 3).create(4, "/p/w-4")
    assert zk.argvs == [(1, zookeeper.zkcli_argv("create", "/p/w-4", "x", timeout_seconds=20))]
