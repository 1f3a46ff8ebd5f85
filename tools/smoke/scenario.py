"""The tutorial's checks as one scenario over any Target: health, roles, replication, quorum loss, durability."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

from tools.base.errors import UserError
from tools.cli import zookeeper
from tools.smoke.target import Target

NODE = "/hello"
FIRST_VALUE = "world"
SECOND_VALUE = "written-with-one-member-down"
REFUSED_VALUE = "written-without-quorum"


class StepFailed(Exception):
    """A check did not hold; the message says what was seen."""


class NotRun(Exception):
    """A step this target cannot run; reported as `not run` with the reason, never as passed."""


@dataclass(frozen=True)
class Timeouts:
    """Upper bounds (seconds) on every wait; a step that hits one fails instead of hanging."""

    quorum: float = 180.0  # members serving with one leader (includes JVM start on a busy machine)
    quorum_lost: float = 60.0  # the last member notices it is alone
    synced: float = 30.0  # the leader counts its followers synced once they serve
    command: float = 60.0  # one exec into a member
    refused_write: int = 15  # a write without quorum must be refused within this
    poll: float = 0.5


@dataclass
class Step:
    name: str
    result: str  # passed, failed, skipped (after a failure), not run (this target cannot)
    seconds: float = 0.0
    detail: str = ""


@dataclass
class Report:
    target: str
    profile: str = ""  # overlay-<env> or chart-<env> on the cluster targets
    steps: list[Step] = field(default_factory=list)
    leaders: dict[str, int | None] = field(default_factory=dict)  # when -> leader member
    member_states: dict[str, list[dict]] = field(default_factory=dict)  # when -> srvr of each member
    timings: dict[str, float] = field(default_factory=dict)
    measurements: dict[str, object] = field(default_factory=dict)  # counts and per-phase numbers (scale scenario)

    @property
    def ok(self) -> bool:
        return any(step.result == "passed" for step in self.steps) and all(
            step.result in ("passed", "not run") for step in self.steps
        )

    @property
    def failed_step(self) -> Step | None:
        return next((step for step in self.steps if step.result == "failed"), None)

    def as_dict(self) -> dict:
        return {"target": self.target, "ok": self.ok, **asdict(self)}


class Scenario:
    """Runs the steps in order on one target; the first failed step ends the run and the rest are skipped."""

    def __init__(self, target: Target, timeouts: Timeouts = Timeouts(), progress: Callable[[str], None] = print):
        self.target = target
        self.timeouts = timeouts
        self.progress = progress
        self.report = Report(target.describe())
        self.everyone = list(range(target.members))
        # Highest ordinals first: the members a StatefulSet scale-down takes; member 0 takes every write.
        self.first_stopped, self.second_stopped = self.everyone[-1], self.everyone[-2]

    def steps(self) -> list[tuple[str, Callable[[], str]]]:
        return [
            ("deploy", self.deploy),
            ("ruok", self.every_member_imok),
            ("roles", self.one_leader_rest_followers),
            ("followers-synced", self.leader_sees_followers_synced),
            ("write", self.write_first_value),
            ("read-every-member", self.read_first_value_everywhere),
            ("stop-one-member", self.stop_first_member),
            ("write-one-down", self.write_with_one_member_down),
            ("stop-second-member", self.stop_second_member),
            ("write-refused-without-quorum", self.write_without_quorum),
            ("restart-both", self.restart_stopped_members),
            ("refused-write-absent", self.refused_write_never_appears),
            ("remove-ensemble", self.remove_ensemble),
            ("recreate-on-same-volumes", self.recreate_ensemble),
            ("data-survives-recreate", self.last_value_survives),
        ]

    def run(self) -> Report:
        wall_start = time.monotonic()
        pending = self.steps()
        while pending:
            name, action = pending.pop(0)
            self.progress(f"smoke: {name} ...")
            start = time.monotonic()
            try:
                detail = action()
                step = Step(name, "passed", time.monotonic() - start, detail)
            except NotRun as exc:
                step = Step(name, "not run", time.monotonic() - start, str(exc))
            except (StepFailed, UserError) as exc:
                step = Step(name, "failed", time.monotonic() - start, str(exc))
            self.report.steps.append(step)
            self.progress(
                f"smoke: {name} {step.result} in {step.seconds:.1f} s{': ' + step.detail if step.detail else ''}"
            )
            if step.result == "failed":
                self.report.steps += [Step(skipped, "skipped") for skipped, _ in pending]
                break
        self.report.timings["scenario_wall"] = time.monotonic() - wall_start
        return self.report

    # -- steps --------------------------------------------------------------------------------------------------

    def deploy(self) -> str:
        start = time.monotonic()
        self.target.deploy()
        states = self.wait_for_quorum(self.everyone, "start")
        self.report.timings["quorum_at_start"] = time.monotonic() - start
        return f"quorum {self.report.timings['quorum_at_start']:.1f} s after deploy began; {describe(states)}"

    def every_member_imok(self) -> str:
        answers = {member: self.four_letter(member, "ruok") for member in self.everyone}
        wrong = {member: answer for member, answer in answers.items() if answer.strip() != "imok"}
        if wrong:
            raise StepFailed(
                "ruok not answered with imok by " + ", ".join(f"member {m}: {a!r}" for m, a in wrong.items())
            )
        return f"{len(answers)} x imok"

    def one_leader_rest_followers(self) -> str:
        states = self.member_states(self.everyone)
        leaders = [s.member for s in states if s.mode == "leader"]
        others = [s for s in states if s.mode != "leader" and s.mode != "follower"]
        if len(leaders) != 1 or others:
            raise StepFailed(f"expected one leader and followers, got {describe(states)}")
        self.record_states("roles", states)
        return describe(states)

    def leader_sees_followers_synced(self) -> str:
        leader = self.report.leaders["roles"]
        wanted = len(self.everyone) - 1
        deadline = time.monotonic() + self.timeouts.synced
        while True:
            result = self.target.exec(leader, zookeeper.metrics_argv(), self.timeouts.command)
            synced = zookeeper.parse_mntr(result.stdout).get("zk_synced_followers", "")
            if zookeeper.as_number(synced) == wanted:
                return f"leader member {leader}: zk_synced_followers = {synced}"
            if time.monotonic() > deadline:
                raise StepFailed(
                    f"leader member {leader}: zk_synced_followers = {synced or 'missing'}, wanted {wanted}"
                )
            time.sleep(self.timeouts.poll)

    def write_first_value(self) -> str:
        self.write(0, "create", FIRST_VALUE)
        return f"create {NODE} {FIRST_VALUE} through member 0"

    def read_first_value_everywhere(self) -> str:
        return self.read_everywhere(self.everyone, FIRST_VALUE)

    def stop_first_member(self) -> str:
        role = self.role_of(self.first_stopped)
        start = time.monotonic()
        self.target.stop(self.first_stopped)
        remaining = [m for m in self.everyone if m != self.first_stopped]
        states = self.wait_for_quorum(remaining, "after_first_stop")
        self.report.timings["quorum_after_first_stop"] = time.monotonic() - start
        return (
            f"stopped member {self.first_stopped} (was {role}); quorum of {len(remaining)} "
            f"{self.report.timings['quorum_after_first_stop']:.1f} s later; {describe(states)}"
        )

    def write_with_one_member_down(self) -> str:
        self.write(0, "set", SECOND_VALUE)
        remaining = [m for m in self.everyone if m != self.first_stopped]
        return f"set {NODE} {SECOND_VALUE}; " + self.read_everywhere(remaining, SECOND_VALUE)

    def stop_second_member(self) -> str:
        role = self.role_of(self.second_stopped)
        start = time.monotonic()
        self.target.stop(self.second_stopped)
        deadline = start + self.timeouts.quorum_lost
        while True:
            state = self.member_states([0])[0]
            if not state.serving:
                break
            if time.monotonic() > deadline:
                raise StepFailed(
                    f"member 0 still {state.mode} {self.timeouts.quorum_lost:.0f} s after losing the quorum"
                )
            time.sleep(self.timeouts.poll)
        self.report.timings["quorum_lost"] = time.monotonic() - start
        self.record_states("after_second_stop", [state])
        return (
            f"stopped member {self.second_stopped} (was {role}); member 0 {state.mode} "
            f"{self.report.timings['quorum_lost']:.1f} s later"
        )

    def write_without_quorum(self) -> str:
        start = time.monotonic()
        result = self.target.exec(
            0,
            zookeeper.zkcli_argv("set", NODE, REFUSED_VALUE, timeout_seconds=self.timeouts.refused_write),
            self.timeouts.refused_write + self.timeouts.command,
        )
        seconds = time.monotonic() - start
        if result.code == 0:
            raise StepFailed(f"set {NODE} {REFUSED_VALUE} succeeded through member 0 without a quorum")
        why = "timed out" if result.code == 124 else zookeeper.client_error(result.stdout, result.stderr)
        if result.code != 124 and "ConnectionLoss" not in why:
            raise StepFailed(f"the write failed, but not for want of a quorum (exit {result.code}: {why})")
        self.report.timings["write_refused_after"] = seconds
        return f"refused after {seconds:.1f} s (exit {result.code}: {why})"

    def restart_stopped_members(self) -> str:
        start = time.monotonic()
        self.target.start([self.second_stopped, self.first_stopped])
        states = self.wait_for_quorum(self.everyone, "after_restart")
        self.report.timings["recovery"] = time.monotonic() - start
        return (
            f"all {len(states)} serving {self.report.timings['recovery']:.1f} s after the restart; {describe(states)}"
        )

    def refused_write_never_appears(self) -> str:
        return "old value kept; " + self.read_everywhere(self.everyone, SECOND_VALUE)

    def remove_ensemble(self) -> str:
        self.target.remove_ensemble()
        down = [s for s in self.member_states(self.everyone) if s.mode != "down"]
        if down:
            raise StepFailed(f"members still answer after the ensemble was removed: {describe(down)}")
        return "every member gone, volumes kept"

    def recreate_ensemble(self) -> str:
        start = time.monotonic()
        self.target.recreate_ensemble()
        states = self.wait_for_quorum(self.everyone, "after_recreate")
        self.report.timings["quorum_after_recreate"] = time.monotonic() - start
        return f"quorum {self.report.timings['quorum_after_recreate']:.1f} s after the recreate; {describe(states)}"

    def last_value_survives(self) -> str:
        return self.read_everywhere(self.everyone, SECOND_VALUE)

    # -- helpers ------------------------------------------------------------------------------------------------

    def four_letter(self, member: int, word: str) -> str:
        result = self.target.exec(member, zookeeper.four_letter_argv(word), self.timeouts.command)
        return result.stdout if result.code == 0 else result.stdout + result.stderr

    def member_states(self, members: list[int]) -> list[zookeeper.MemberState]:
        states = []
        for member in members:
            result = self.target.exec(member, zookeeper.four_letter_argv("srvr"), self.timeouts.command)
            states.append(zookeeper.parse_srvr(member, result.code, result.stdout + result.stderr))
        return states

    def role_of(self, member: int) -> str:
        return self.member_states([member])[0].mode

    def record_states(self, when: str, states: list[zookeeper.MemberState]) -> None:
        self.report.member_states[when] = [asdict(state) for state in states]
        leaders = [state.member for state in states if state.mode == "leader"]
        self.report.leaders[when] = leaders[0] if len(leaders) == 1 else None

    def non_voters(self, members: list[int]) -> list[int]:
        """Members that serve but are not yet voters of the dynamic membership their `conf` shows (still joining)."""
        waiting = []
        for member in members:
            membership = zookeeper.parse_conf(self.four_letter(member, "conf"))
            if membership is not None and member + 1 not in membership.voters:
                waiting.append(member)
        return waiting

    def wait_for_quorum(self, members: list[int], when: str) -> list[zookeeper.MemberState]:
        """Poll srvr until every listed member serves, votes and exactly one leads; bounded by timeouts.quorum."""
        deadline = time.monotonic() + self.timeouts.quorum
        while True:
            states = self.member_states(members)
            leaders = [state for state in states if state.mode == "leader"]
            serving = all(state.serving for state in states) and len(leaders) == 1
            joining = self.non_voters(members) if serving else []
            if serving and not joining:
                self.record_states(when, states)
                return states
            if time.monotonic() > deadline:
                self.record_states(when, states)
                raise StepFailed(
                    f"no quorum of members {members} within {self.timeouts.quorum:.0f} s: {describe(states)}"
                    + (f"; members {joining} serve but are not voters yet" if joining else "")
                )
            time.sleep(self.timeouts.poll)

    def write(self, member: int, verb: str, value: str) -> None:
        result = self.target.exec(
            member,
            zookeeper.zkcli_argv(verb, NODE, value, timeout_seconds=int(self.timeouts.command)),
            self.timeouts.command + 10,
        )
        if result.code != 0:
            raise StepFailed(
                f"{verb} {NODE} {value} through member {member} failed (exit {result.code}): "
                f"{zookeeper.client_error(result.stdout, result.stderr)}"
            )

    def read(self, member: int) -> list[str]:
        result = self.target.exec(
            member, zookeeper.zkcli_argv("get", NODE, timeout_seconds=int(self.timeouts.command)),
            self.timeouts.command + 10,
        )
        if result.code != 0:
            raise StepFailed(
                f"get {NODE} through member {member} failed (exit {result.code}): "
                f"{zookeeper.client_error(result.stdout, result.stderr)}"
            )
        return zookeeper.zkcli_value(result.stdout)

    def read_everywhere(self, members: list[int], expected: str) -> str:
        for member in members:
            seen = self.read(member)
            if REFUSED_VALUE in seen:
                raise StepFailed(f"member {member} returned {REFUSED_VALUE!r}, a write refused without quorum")
            if expected not in seen:
                raise StepFailed(
                    f"member {member} returned {seen[-1] if seen else 'nothing'!r} for {NODE}, expected {expected!r}"
                )
        return f"{NODE} = {expected!r} through member{'s' if len(members) > 1 else ''} {', '.join(map(str, members))}"


def describe(states: list[zookeeper.MemberState]) -> str:
    return ", ".join(
        f"{state.member}={state.mode}" + (f" ({state.detail})" if state.detail else "") for state in states
    )
