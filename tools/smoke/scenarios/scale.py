"""The scale scenario on the local target: 3 -> 5, 5 -> 3, a rolling restart, kill -9 of a member mid-scale, member 0
on an empty volume cut off from its serving peers, and 3 -> 5 -> 7 at once, while a writer counts acknowledged writes
(`python -m tools.smoke --target local --scenario scale`); the writer is
tools/smoke/writer.py's, over its kazoo transport.

Nothing but the ensemble's own loop reconfigures: the scenario only changes `replicas` (the ConfigMap and the
StatefulSet at once, LocalTarget.scale), replaces members one at a time from the highest ordinal (a rolling update),
and kills a JVM. After each phase every member must serve, exactly one lead, and `conf` on every member must report
the same voting set, the one the count asks for. At the end every acknowledged write must come back through the
leader and through a majority of the voters. The report carries the time each phase took, the longest write gap, the
unavailable time, and the elections (leader epochs) each phase cost.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from tools.cli import zookeeper
from tools.smoke.scenario import Scenario, StepFailed, Timeouts
from tools.smoke.targets.local import LocalTarget
from tools.smoke.writer import PLANNED_GAP_SECONDS, KazooTransport, Verdict, Writer

SERVING = ("leader", "follower")
ROOT = "/scale"  # the writer's nodes: /scale/w-<n>
ALONE_SECONDS = 20.0  # member 0 cut off on an empty volume: the old 10 s seed wait plus its JVM's start, and margin
SCALE_TIMEOUTS = Timeouts(quorum=300.0)  # a phase: JVM starts, syncs and reconfigs on a busy machine


def agreement_problem(expected: set[int], states: dict[int, zookeeper.MemberState],
                      memberships: dict[int, zookeeper.Membership | None]) -> str:
    """Why the members do not (yet) agree on `expected` as the voting set; empty when they do: every member serves,
    exactly one leads, and every member's `conf` names the same voters, the expected ones."""
    problems = []
    not_serving = [f"{member}={state.mode}" for member, state in states.items() if state.mode not in SERVING]
    if not_serving:
        problems.append("not serving: " + ", ".join(not_serving))
    leaders = [member for member, state in states.items() if state.mode == "leader"]
    if len(leaders) != 1:
        problems.append(f"{len(leaders)} leaders ({', '.join(map(str, leaders)) or 'none'})")
    seen = {member: membership for member, membership in memberships.items()}
    missing = [str(member) for member, membership in seen.items() if membership is None]
    if missing:
        problems.append("no membership in conf from member " + ", ".join(missing))
    # The voting set, not the version: a member of the static-config image keeps version 0 while the others
    # (dynamic) number the same membership after their leader's epoch.
    reported = {m.voters for m in seen.values() if m is not None}
    if len(reported) > 1:
        problems.append("members disagree: " + "; ".join(
            f"member {member}: {membership.describe()}" for member, membership in sorted(seen.items()) if membership))
    wrong = [f"member {member}: {membership.describe()}" for member, membership in sorted(seen.items())
             if membership is not None and set(membership.voters) != expected]
    if wrong and len(reported) <= 1:
        problems.append(f"voters are not {{{','.join(map(str, sorted(expected)))}}}: " + "; ".join(wrong))
    return "; ".join(problems)


class ScaleScenario(Scenario):
    """The scale and upgrade proof; every wait is bounded (timeouts.quorum for each phase)."""

    def __init__(self, target: LocalTarget, timeouts: Timeouts = SCALE_TIMEOUTS,
                 progress: Callable[[str], None] = print):
        super().__init__(target, timeouts, progress)
        self.local = target
        self.writer: Writer | None = None
        self.verdict: Verdict | None = None

    def steps(self) -> list[tuple[str, Callable[[], str]]]:
        return [
            ("deploy", self.deploy_three),
            ("writer-running", self.start_writer),
            ("scale-3-to-5", lambda: self.scale("scale_3_to_5", 5)),
            ("scale-5-to-3", lambda: self.scale("scale_5_to_3", 3)),
            ("rolling-restart", lambda: self.rolling_restart("rolling_update")),
            ("rolling-restart-again", lambda: self.rolling_restart("rolling_update_again")),
            ("kill-9-mid-scale-3-to-5", self.kill_mid_scale),
            ("empty-member-0-cut-off", self.empty_member_cut_off),
            ("scale-5-to-3-again", lambda: self.scale("scale_5_to_3_again", 3)),
            ("scale-3-to-5-to-7-at-once", self.scale_twice_at_once),
            ("scale-7-to-5-to-3-back-to-back", self.scale_down_twice_at_once),
            ("acknowledged-writes-kept", self.verify_writes),
            ("members-agree", self.members_agree),
        ]

    def run(self):
        try:
            return super().run()
        finally:
            if self.writer is not None:
                self.writer.close()

    # -- steps --------------------------------------------------------------------------------------------------

    def deploy_three(self) -> str:
        start = time.monotonic()
        self.local.deploy()
        detail = self.wait_agreement(set(range(1, self.local.members + 1)), "start")
        self.report.timings["quorum_at_start"] = time.monotonic() - start
        return (f"{detail} {self.report.timings['quorum_at_start']:.1f} s after deploy began (birth: the founders "
                "together)")

    def start_writer(self) -> str:
        # the writes go through the members that stay; the read-back through every member there is at the end
        transport = KazooTransport([self.host(member) for member in range(3)],
                                   readers=lambda: {member: self.host(member) for member in range(self.local.members)})
        self.writer = Writer(transport, root=ROOT)
        self.writer.start()
        deadline = time.monotonic() + 60
        while len(self.writer.log.acks) < 20:
            if time.monotonic() > deadline:
                raise StepFailed(f"the writer got {len(self.writer.log.acks)} writes acknowledged in 60 s")
            time.sleep(0.2)
        return f"writing to {ROOT} through members 0-2; {len(self.writer.log.acks)} acknowledged so far"

    def scale(self, key: str, replicas: int) -> str:
        before, start = self.leader_epoch(), time.monotonic()
        old = self.local.members
        self.local.scale(replicas)
        detail = self.wait_agreement(set(range(1, replicas + 1)), key)
        return f"{old} -> {replicas}: " + self.phase(key, start, before, detail)

    def rolling_restart(self, key: str) -> str:
        """What `kubectl rollout restart` does to a StatefulSet: highest ordinal first, each back before the next.

        Done twice: the first starts with the leader the ensemble was born with (member 0), the second with the one
        the first left (after an election ZooKeeper prefers the highest myid among the most up-to-date members)."""
        before, start = self.leader_epoch(), time.monotonic()
        leader_before = self.leader()
        voters = set(range(1, self.local.members + 1))
        for member in reversed(range(self.local.members)):
            self.local.replace(member)
            self.wait_agreement(voters, f"{key}_{member}")
        elections = (self.leader_epoch() or 0) - (before or 0)
        self.report.measurements.setdefault("elections_per_rolling_update", []).append(elections)
        self.report.measurements.setdefault("leader_before_rolling_update", []).append(leader_before)
        return (f"members {', '.join(map(str, reversed(range(self.local.members))))} replaced one at a time, leader "
                f"before: member {leader_before}, after: member {self.leader()}; "
                + self.phase(key, start, before, f"{len(voters)} voters agree"))

    def kill_mid_scale(self) -> str:
        """3 -> 5, and once the first new member's JVM answers, kill -9 the leader; the kubelet starts it again."""
        before, start = self.leader_epoch(), time.monotonic()
        self.local.scale(5)
        deadline = time.monotonic() + self.timeouts.quorum
        while zookeeper.four_letter_at(self.local.address(3), "ruok") != "imok":
            if time.monotonic() > deadline:
                raise StepFailed(f"member 3 did not answer ruok within {self.timeouts.quorum:.0f} s")
            time.sleep(0.2)
        victim = self.leader()
        if victim is None:
            raise StepFailed("no leader to kill while member 3 joins")
        self.local.kill(victim)
        self.report.measurements["killed_member"] = victim
        killed_at = time.monotonic() - start
        time.sleep(1)
        self.local.restart_container(victim)
        detail = self.wait_agreement(set(range(1, 6)), "kill_mid_scale")
        return (f"3 -> 5, leader member {victim} killed -9 {killed_at:.1f} s in (member 3 joining), started again: "
                + self.phase("kill_mid_scale", start, before, detail))

    def empty_member_cut_off(self) -> str:
        """Member 0's volume lost, and member 0 started again unable to reach its peers (a partition, DNS not yet
        resolving them), while they keep serving with the data. It must not found an ensemble of its own (two
        leaders, two data trees): it founds from members 1..count, and its one vote is no majority of them. Once it
        reaches them it must follow their leader and hold every acknowledged write."""
        peers = list(range(1, self.local.members))
        before, start = self.leader_epoch(), time.monotonic()
        self.local.lose_volume(0)
        self.local.run_member(0, cut_off=True)
        alone_until = time.monotonic() + ALONE_SECONDS
        while time.monotonic() < alone_until:
            mode = self.states([0])[0].mode
            if mode in ("leader", "follower", "standalone"):
                raise StepFailed(f"member 0, cut off from its peers on an empty volume, serves as {mode} while "
                                 f"members {peers[0]}-{peers[-1]} serve: a second ensemble")
            time.sleep(0.5)
        self.local.remove(0)
        self.local.run_member(0)  # reachable again, on the volume it started to write
        detail = self.wait_agreement(set(range(1, self.local.members + 1)), "empty_member_cut_off")
        assert self.writer is not None
        acknowledged = {ack.path for ack in self.writer.log.acks}  # before the read: later ones may not be synced
        held = self.writer.transport.children(0, ROOT)
        missing = acknowledged - set(held or {})
        if held is None or missing:
            raise StepFailed(f"member 0, back on an empty volume, lacks {len(missing)} of {len(acknowledged)} "
                             f"acknowledged writes (e.g. {sorted(missing)[:3]})")
        return (f"member 0 cut off from members {peers[0]}-{peers[-1]} on an empty volume for {ALONE_SECONDS:.0f} "
                f"s: never served; reachable again it follows, holding all {len(acknowledged)} acknowledged "
                "writes; " + self.phase("empty_member_cut_off", start, before, detail))

    def scale_twice_at_once(self) -> str:
        """3 -> 5 and, before the new members joined, 5 -> 7: the new members see 7 from their start, and each
        still joins (one reconfig at a time), never refusing itself for the size of the whole step."""
        before, start = self.leader_epoch(), time.monotonic()
        self.local.scale(5)
        self.local.scale(7)
        detail = self.wait_agreement(set(range(1, 8)), "scale_3_to_5_to_7")
        return "3 -> 5 -> 7 at once: " + self.phase("scale_3_to_5_to_7", start, before, detail)

    def scale_down_twice_at_once(self) -> str:
        """7 -> 5 and, while members 5 and 6 still run their pre-stop hooks, 5 -> 3: the path the step refusal tells
        users to take, or two commits a GitOps tool applies back to back. Each condemned member leaves the voters
        while it still votes, so every membership on the way has its quorum: no write gap over PLANNED_GAP_SECONDS.
        (Removed only after their pods were gone, 7 voters were left with 3 up, and no member served.)"""
        before, start = self.leader_epoch(), time.monotonic()
        self.local.scale(5, wait=False)
        self.local.scale(3)
        self.local.settle()
        detail = self.wait_agreement(set(range(1, 4)), "scale_7_to_5_to_3")
        line = "7 -> 5 -> 3 back to back (members 5, 6 still leaving as 3, 4 went): " + self.phase(
            "scale_7_to_5_to_3", start, before, detail)
        gap = self.report.measurements["scale_7_to_5_to_3"].get("longest_write_gap_seconds", 0.0)
        if gap > PLANNED_GAP_SECONDS:
            raise StepFailed(f"a write gap of {gap:.1f} s (at most {PLANNED_GAP_SECONDS:.0f} s: a planned scale-down "
                             f"keeps the quorum); {line}")
        return line

    def verify_writes(self) -> str:
        """Every acknowledged write on the leader and a majority of the voters (writer.py's checks, over kazoo)."""
        assert self.writer is not None
        self.verdict = verdict = self.writer.check()
        self.report.measurements.update(verdict.measurements())
        if not verdict.ok:
            raise StepFailed(verdict.failure())
        return verdict.summary()

    def members_agree(self) -> str:
        members = range(self.local.members)
        problem = agreement_problem(set(range(1, self.local.members + 1)), self.states(members),
                                    self.memberships(members))
        if problem:
            raise StepFailed(problem)
        membership = self.memberships([0])[0]
        return f"srvr: one leader (member {self.leader()}), the rest followers; conf on all " \
               f"{self.local.members}: {membership.describe() if membership else '?'}"

    # -- helpers ------------------------------------------------------------------------------------------------

    def host(self, member: int) -> str:
        return f"{self.local.address(member)}:{zookeeper.CLIENT_PORT}"

    def states(self, members) -> dict[int, zookeeper.MemberState]:
        states = {}
        for member in members:
            text = zookeeper.four_letter_at(self.local.address(member), "srvr")
            states[member] = zookeeper.parse_srvr(member, 0 if text else 1, text or "no answer")
        return states

    def memberships(self, members) -> dict[int, zookeeper.Membership | None]:
        return {member: zookeeper.parse_conf(zookeeper.four_letter_at(self.local.address(member), "conf"))
                for member in members}

    def leader(self) -> int | None:
        leaders = [m for m, state in self.states(range(self.local.members)).items() if state.mode == "leader"]
        return leaders[0] if len(leaders) == 1 else None

    def leader_epoch(self) -> int | None:
        """The newest leader epoch any member reports (srvr's Zxid); one more per leader elected."""
        states = self.states(range(self.local.members)).values()
        epochs = [zookeeper.epoch(state.zxid) for state in states if state.zxid]
        return max((e for e in epochs if e is not None), default=None)

    def wait_agreement(self, expected: set[int], when: str) -> str:
        members = list(range(self.local.members))
        deadline = time.monotonic() + self.timeouts.quorum
        while True:
            states, memberships = self.states(members), self.memberships(members)
            problem = agreement_problem(expected, states, memberships)
            if not problem:
                self.record_states(when, list(states.values()))
                return f"{len(expected)} voters agree ({memberships[0].describe()})"
            if time.monotonic() > deadline:
                self.record_states(when, list(states.values()))
                raise StepFailed(f"after {self.timeouts.quorum:.0f} s: {problem}")
            time.sleep(self.timeouts.poll)

    def phase(self, key: str, start: float, epoch_before: int | None, detail: str) -> str:
        """Record the phase's time, longest write gap, unavailable time and elections; a line saying them."""
        end = time.monotonic()
        self.report.timings[key] = end - start
        elections = (self.leader_epoch() or 0) - (epoch_before or 0)
        measured = {"seconds": round(end - start, 2), "elections": elections}
        if self.writer is not None:
            measured["longest_write_gap_seconds"] = round(self.writer.longest_gap(start, end), 3)
            measured["unavailable_seconds"] = round(self.writer.unavailable(start, end), 3)
        self.report.measurements[key] = measured
        gap = f", longest write gap {measured['longest_write_gap_seconds']:.2f} s" if self.writer else ""
        return f"{detail} after {end - start:.1f} s{gap}, {elections} election(s)"
