"""The Kubernetes scenario's logic that needs no cluster: the watch's counting, `not run` steps, profile lists."""

import io
import subprocess

import pytest

from tools.errors import UserError
from tools.smoke.__main__ import environments, parse_args
from tools.smoke.kube_checks import UnavailabilityWatch, previous_chart_commit
from tools.smoke.scenario import NotRun, Report, Scenario, Step


class FakeKubectl:
    def namespaced_argv(self):
        return ["kubectl", "--namespace", "ns"]


def feed(lines: list[str]) -> UnavailabilityWatch:
    watch = UnavailabilityWatch(FakeKubectl(), members=3)
    watch.process = type("P", (), {"stdout": io.StringIO("".join(f"{line}\n" for line in lines))})()
    watch.read()
    return watch


def event(kind, name, uid, deleting="", ready="True"):
    return f"{kind}|{name}|{uid}|{deleting}|{ready}"


def test_a_one_at_a_time_rollout_counts_one_unavailable_and_every_member_replaced():
    lines = [event("ADDED", f"zk-{n}", f"a{n}") for n in range(3)]
    for n in (2, 1, 0):
        lines += [
            event("MODIFIED", f"zk-{n}", f"a{n}", deleting="2026-01-01T00:00:00Z"),
            event("DELETED", f"zk-{n}", f"a{n}"),
            event("ADDED", f"zk-{n}", f"b{n}", ready="False"),
            event("MODIFIED", f"zk-{n}", f"b{n}", ready="True"),
        ]
    watch = feed(lines)
    assert watch.max_unavailable == 1
    assert watch.restarted == 3


def test_two_members_down_together_is_counted():
    lines = [event("ADDED", f"zk-{n}", f"a{n}") for n in range(3)]
    lines += [event("DELETED", "zk-2", "a2"), event("MODIFIED", "zk-1", "a1", ready="False")]
    assert feed(lines).max_unavailable == 2


def test_the_initial_list_alone_counts_nothing_unavailable_until_every_member_is_seen():
    watch = feed([event("ADDED", "zk-0", "a0"), event("ADDED", "zk-1", "a1", ready="False")])
    assert watch.max_unavailable == 0 and not watch.synced.is_set()


def test_not_run_steps_neither_pass_nor_fail_a_report():
    class Steps(Scenario):
        def __init__(self):
            self.report = Report("fake")
            self.progress = lambda line: None

        def steps(self):
            def cannot():
                raise NotRun("no containers here")

            return [("kube", lambda: "ok"), ("zookeeper", cannot)]

    report = Steps().run()
    assert [step.result for step in report.steps] == ["passed", "not run"]
    assert report.steps[1].detail == "no containers here"
    assert report.ok
    assert not Report("x", [Step("a", "not run")]).ok  # nothing passed: not a green run


def test_env_all_expands_to_every_profile_of_the_path():
    assert environments(parse_args(["--target", "cluster", "--via", "helm", "--env", "all"])) == [
        "minikube",
        "kind",
        "openshift",
        "production",
        "default",
    ]
    assert environments(parse_args(["--target", "cluster", "--env", "all"])) == [
        "minikube",
        "kind",
        "openshift",
        "production",
    ]
    assert environments(parse_args(["--target", "cluster"])) == ["kind"]
    with pytest.raises(UserError, match="--via helm"):
        environments(parse_args(["--target", "cluster", "--env", "default"]))
    with pytest.raises(UserError, match="not local"):
        environments(parse_args(["--env", "all"]))


def test_the_previous_chart_is_a_commit_before_the_latest_chart_change():
    previous = previous_chart_commit()
    if previous is None:
        pytest.skip("chart/ has no earlier version in this checkout's git history yet")
    from tools import REPO_ROOT

    git = ["git", "-C", str(REPO_ROOT)]
    assert subprocess.run([*git, "merge-base", "--is-ancestor", previous, "HEAD"]).returncode == 0
    assert subprocess.run([*git, "diff", "--quiet", previous, "HEAD", "--", "chart"]).returncode == 1  # it differs
