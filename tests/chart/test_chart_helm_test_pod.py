"""The chart's `helm test` pod, run for real: its script in its image, as its pod spec says (uid, read-only root,
/tmp emptyDir), next to a three-member ensemble of the chart's own StatefulSet (tools.smoke's local target, names
zk-zookeeper-N.zk-zookeeper-headless). It passes on a healthy ensemble and fails, naming the member, when one is down.
Kubernetes' DNS search path is stood in for by /etc/hosts entries for the short and the full member names."""

from __future__ import annotations

import os

import pytest
import yaml
from chart_helpers import one

from tools.base.profiles import Profile
from tools.cli.engine import Engine
from tools.render import render
from tools.render.pod import NAMESPACE
from tools.smoke.scenario import Scenario
from tools.smoke.targets.local import LocalTarget

pytestmark = pytest.mark.slow

PROFILE = Profile("chart", "kind")


@pytest.fixture(scope="module")
def ensemble(engine, zk_image):
    target = LocalTarget(engine, PROFILE, run_id=f"ht{os.getpid()}")
    assert target.template.image == zk_image, "the chart's kind values run the image tools.image builds"
    try:
        Scenario(target, progress=lambda _: None).deploy()  # returns once all three serve with one leader
        yield target
    finally:
        target.teardown(keep_volumes=False)


def run_test_pod(engine: Engine, target: LocalTarget, name: str) -> tuple[int, str]:
    """Run the rendered test pod's container beside the ensemble; its exit code and output."""
    pod = one([d for d in yaml.safe_load_all(render(PROFILE)) if d], "Pod")
    (container,) = pod["spec"]["containers"]
    user = pod["spec"]["securityContext"].get("runAsUser")
    hosts = {}
    for member, address in target.addresses.items():
        short = f"{target.template.hostname(member)}.{target.template.service}"
        hosts[short] = hosts[f"{short}.{NAMESPACE}.svc.cluster.local"] = address
    subnet = next(iter(target.addresses.values())).rsplit(".", 1)[0]
    container_name = f"{target.prefix}-{name}"
    try:
        engine.run(container["image"], name=container_name, command=container["command"], network=target.network,
                   ip=f"{subnet}.200", add_hosts=hosts, env={e["name"]: e["value"] for e in container["env"]},
                   user=f"{user}:0" if user is not None else None,
                   read_only=container["securityContext"]["readOnlyRootFilesystem"],
                   tmpfs=[m["mountPath"] for m in container["volumeMounts"]])
        code = int(engine.cli("wait", container_name, timeout=600).stdout.strip().splitlines()[-1])
        return code, engine.logs(container_name)
    finally:
        engine.rm(container_name)


def test_the_helm_test_pod_passes_on_a_healthy_ensemble(engine, ensemble):
    code, output = run_test_pod(engine, ensemble, "test-healthy")
    assert code == 0, output
    for member in range(3):
        assert f"member {member} (zk-zookeeper-{member}.zk-zookeeper-headless): imok" in output
    assert "through member 0" in output
    assert "back through member 1" in output and "back through member 2" in output


def test_the_helm_test_pod_fails_when_a_member_is_down(engine, ensemble):
    ensemble.stop(2)
    try:
        code, output = run_test_pod(engine, ensemble, "test-member-down")
    finally:
        ensemble.start([2])
    assert code == 1, output
    assert "FAIL member 2 (zk-zookeeper-2.zk-zookeeper-headless) answered '' to ruok" in output
    assert "member 0 (zk-zookeeper-0.zk-zookeeper-headless): imok" in output
