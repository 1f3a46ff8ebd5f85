"""The Kubernetes scenario's logic that needs no cluster: its step table, the watch's counting, `not run` steps,
profile lists."""

import io
import subprocess

import pytest

from tools.base.errors import UserError
from tools.cli.kubectl import Kubectl
from tools.smoke.__main__ import environments, parse_args
from tools.smoke.scenario import NotRun, Report, Scenario, Step, StepFailed, Timeouts
from tools.smoke.scenarios.kube import KubeScenario
from tools.smoke.scenarios.kube.deploy import admin_secret_reference
from tools.smoke.scenarios.kube.scaling import refusal_line, zk_voters
from tools.smoke.scenarios.kube.update import UnavailabilityWatch, previous_chart_commit
from tools.smoke.targets.kube import KubeTarget

KUBERNETES_BEFORE = ["namespace-restricted", "admin-secret", "server-dry-run-strict", "apply-and-rollout",
                     "pods-running-pvcs-bound", "scheduling", "service-endpoints", "quorum"]
ZOOKEEPER = ["ruok", "roles", "followers-synced", "write", "read-every-member", "delete-pod-keeps-data",
             "stop-one-member", "write-one-down", "stop-second-member", "write-refused-without-quorum",
             "quorum-lost-probes", "restart-both", "refused-write-absent", "remove-ensemble",
             "recreate-on-same-volumes", "data-survives-recreate"]
KUBERNETES_AFTER = ["pdb-eviction", "scale-refused", "scale-out-and-back", "scale-down-under-load", "rolling-update",
                    "reapply-or-rollback", "delete-keeps-pvcs", "reapply-keeps-data"]


def scenario(via: str, nodes: str | None = "kwok", not_run: str = "") -> KubeScenario:
    kubectl = Kubectl("kubectl", namespace="ns")
    target = KubeTarget("kind", via, kubectl, helm=object(), progress=lambda line: None)
    return KubeScenario(target, timeouts=Timeouts(), progress=lambda line: None, nodes=nodes, not_run=not_run)


def test_the_step_table_keeps_the_reported_names_in_their_order():
    assert [name for name, _ in scenario("kustomize").steps()] == [*KUBERNETES_BEFORE, *ZOOKEEPER, *KUBERNETES_AFTER]
    assert [name for name, _ in scenario("helm").steps()] == [
        *KUBERNETES_BEFORE, *ZOOKEEPER, *KUBERNETES_AFTER, "upgrade-from-previous-chart"]


def test_the_tutorials_zookeeper_steps_all_run_on_a_cluster_in_the_tutorials_order():
    tutorial = [name for name, _ in Scenario.steps(scenario("kustomize"))]
    assert tutorial[0] == "deploy"  # replaced by the Kubernetes steps before
    assert [name for name in ZOOKEEPER if name in tutorial] == tutorial[1:]


def test_on_kwok_nodes_every_zookeeper_step_is_not_run_with_the_reason():
    steps = dict(scenario("kustomize", not_run="no real node: containerd not found").steps())
    for name in [*ZOOKEEPER, "quorum", "reapply-keeps-data"]:
        with pytest.raises(NotRun, match="no real node: containerd not found"):
            steps[name]()


def feed(lines: list[str]) -> UnavailabilityWatch:
    watch = UnavailabilityWatch(Kubectl("kubectl", namespace="ns"), members=3)
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


# Recorded on the local cluster's kwok nodes (the watch's own fields), the members Ready before the update.
RECORDED_START = [event("ADDED", "zookeeper-0", "4c1ef189"), event("ADDED", "zookeeper-1", "dd059509"),
                  event("ADDED", "zookeeper-2", "ca076c6a")]
# One at a time: each pod deleted (30 s grace, then kwok's delete), its replacement Ready before the next goes.
RECORDED_ONE_AT_A_TIME = [
    f"{kind}|zookeeper-{n}|{uid}|{deleting}|{ready}"
    for n, old, new in ((2, "ca076c6a", "6d8995b2"), (1, "dd059509", "2ee196a5"), (0, "4c1ef189", "ef8e4a14"))
    for kind, uid, deleting, ready in (
        ("MODIFIED", old, "2026-12-02T08:00:44Z", "True"),
        ("MODIFIED", old, "2026-12-02T08:00:14Z", "True"),
        ("DELETED", old, "2026-12-02T08:00:14Z", "True"),
        ("ADDED", new, "", ""),
        ("MODIFIED", new, "", ""),
        ("MODIFIED", new, "", "True"),
    )
]
# kwok deleting a pod by name a second time (before its pod-delete stage skipped grace-0 pods): the replacement of
# zookeeper-2 goes 2 ms after it became Ready, and the StatefulSet controller, which saw it Ready, already replaces
# zookeeper-1. Two members really were down at once: the verdict of the CI run that failed.
RECORDED_REPLACEMENT_DELETED = [
    "MODIFIED|zookeeper-2|ca076c6a|2026-12-02T07:53:52Z|True",
    "MODIFIED|zookeeper-2|ca076c6a|2026-12-02T07:53:22Z|True",
    "DELETED|zookeeper-2|ca076c6a|2026-12-02T07:53:22Z|True",
    "ADDED|zookeeper-2|7aaf7d75||",
    "MODIFIED|zookeeper-2|7aaf7d75||",
    "MODIFIED|zookeeper-2|7aaf7d75||True",
    "MODIFIED|zookeeper-2|7aaf7d75|2026-12-02T07:53:22Z|True",
    "DELETED|zookeeper-2|7aaf7d75|2026-12-02T07:53:22Z|True",
    "MODIFIED|zookeeper-1|dd059509|2026-12-02T07:53:52Z|True",
    "ADDED|zookeeper-2|ecbc21ce||",
    "MODIFIED|zookeeper-2|ecbc21ce||",
    "MODIFIED|zookeeper-1|dd059509|2026-12-02T07:53:22Z|True",
    "DELETED|zookeeper-1|dd059509|2026-12-02T07:53:22Z|True",
    "ADDED|zookeeper-1|ace04e26||",
    "MODIFIED|zookeeper-1|ace04e26||",
    "MODIFIED|zookeeper-2|ecbc21ce||True",
    "MODIFIED|zookeeper-1|ace04e26|2026-12-02T07:53:22Z|",
    "DELETED|zookeeper-1|ace04e26|2026-12-02T07:53:22Z|",
    "ADDED|zookeeper-1|665da7f0||",
    "MODIFIED|zookeeper-1|665da7f0||",
    "MODIFIED|zookeeper-1|665da7f0||True",
]


def test_a_recorded_one_at_a_time_update_counts_one_unavailable():
    watch = feed(RECORDED_START + RECORDED_ONE_AT_A_TIME)
    assert watch.max_unavailable == 1
    assert watch.restarted == 3


def test_a_recorded_replacement_deleted_after_it_became_ready_counts_two_unavailable():
    watch = feed(RECORDED_START + RECORDED_REPLACEMENT_DELETED)
    assert watch.max_unavailable == 2
    assert watch.worst == "zookeeper-0 ready, zookeeper-1 down, zookeeper-2 down"


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


def test_the_refusal_is_the_line_that_says_why():
    assert refusal_line("Error: UPGRADE FAILED: values don't meet the specifications of the schema(s) in the following "
                        "chart(s):\nzookeeper:\n- at '/replicas': value must be one of 1, 3, 5, 7, 9\n") == (
        "at '/replicas': value must be one of 1, 3, 5, 7, 9")
    assert refusal_line("Error: UPGRADE FAILED: execution error at (zookeeper/templates/configmap-ensemble.yaml:4:4): "
                        "replicas 3 -> 7 changes 4 members\n") == "replicas 3 -> 7 changes 4 members"
    assert refusal_line('Error from server: error when patching "STDIN": configmaps "zookeeper-ensemble" is forbidden: '
                        "ValidatingAdmissionPolicy 'p' with binding 'p' denied request: ConfigMap zookeeper-ensemble: "
                        "replicas 4 is an even count\n") == "ConfigMap zookeeper-ensemble: replicas 4 is an even count"


def test_the_voters_are_the_participants_of_conf():
    conf = ("clientPort=2181\nserver.1=zk-0.zk-headless:2888:3888:participant;0.0.0.0:2181\n"
            "server.2=zk-1.zk-headless:2888:3888:participant;0.0.0.0:2181\n"
            "server.4=zk-3.zk-headless:2888:3888:observer;0.0.0.0:2181\nversion=100000003\n")
    assert zk_voters(conf) == {"1", "2"}
    assert zk_voters("This ZooKeeper instance is not currently serving requests") == set()


MOUNTED = """apiVersion: apps/v1
kind: StatefulSet
metadata: {name: zk}
spec:
  template:
    spec:
      containers:
        - name: zookeeper
          volumeMounts: [{name: admin, mountPath: /etc/zookeeper/admin/}]
      volumes: [{name: admin, secret: {secretName: zk-admin}}]
"""


def test_the_admin_secret_is_created_only_when_the_profile_ships_none():
    assert admin_secret_reference(MOUNTED) == ("zk-admin", False)
    shipped = MOUNTED + "---\napiVersion: v1\nkind: Secret\nmetadata: {name: zk-admin}\n"
    assert admin_secret_reference(shipped) == ("zk-admin", True)
    with pytest.raises(StepFailed, match="mounts no Secret at /etc/zookeeper/admin"):
        admin_secret_reference(MOUNTED.replace("/etc/zookeeper/admin/", "/secrets"))
