"""Members taken away as a cluster does it: the PDB against the eviction API (and `kubectl drain`), a deleted pod
back on its PVC, member 0's probes without a quorum; and the node cordoning the scenario does on kwok nodes (which
run nothing) to give a profile the layout it is meant for and to keep an evicted member down."""

from __future__ import annotations

import json
import time

from tools.base.contract import DATA_DIR, KWOK_NODE_ANNOTATION
from tools.base.profiles import LAPTOP_ENVIRONMENTS
from tools.smoke.scenario import FIRST_VALUE, StepFailed, describe
from tools.smoke.scenarios.kube.context import KubeContext
from tools.smoke.targets.kube import SELECTOR

DRAIN_TIMEOUT = 120


def pdb_eviction(s: KubeContext) -> str:
    """Evict one member (allowed), then another at once (the PDB must refuse: HTTP 429), then recover."""
    start = time.monotonic()
    first, second = s.kube.pod(s.kube.members - 1), s.kube.pod(0)
    evicted_uid = s.pod_json(first)["metadata"]["uid"]
    drained = drain_node_of(s, first)
    if not drained:
        result = s.kube.kubectl.evict(first, check=False)
        if result.code != 0:
            raise StepFailed(f"evicting {first} (the PDB allows one) was refused: {result.stderr.strip()}")
    pending = wait_pending(s, first) if drained and s.kube.env == "production" else ""
    refused = s.kube.kubectl.evict(second, check=False)
    if refused.code == 0:
        raise StepFailed(f"evicting {second} while {first} is down was allowed: the PDB does not hold")
    if "TooManyRequests" not in refused.stderr and "disruption budget" not in refused.stderr:
        raise StepFailed(f"evicting {second} failed, but not by the PDB: {refused.stderr.strip()}")
    uncordon_drained(s)
    wait_replaced(s, first, evicted_uid)  # the StatefulSet's status can still count the evicted pod as Ready
    s.rollout_status()
    s.report.timings["drain"] = time.monotonic() - start
    how = f"kubectl drain {drained} evicted {first}" if drained else f"evicted {first}"
    how += f" ({pending})" if pending else ""
    return (
        f"{how}; evicting {second} refused: {refused.stderr.strip()}; "
        f"{s.kube.members}/{s.kube.members} Ready again after {s.report.timings['drain']:.1f} s"
    )


def delete_pod_keeps_data(s: KubeContext) -> str:
    """Delete the last member's pod: the StatefulSet brings it back on its PVC, with its transaction logs."""
    member = s.everyone[-1]
    pod = s.kube.pod(member)
    files_before = data_files(s, member)
    if not files_before:
        raise StepFailed(f"{pod} has no transaction log or snapshot in its data directory to compare")
    start = time.monotonic()
    with s.could(f"delete {pod}"):
        s.kube.kubectl.delete("pod", pod)
    s.rollout_status()
    states = s.wait_for_quorum(s.everyone, "after_pod_delete")
    s.report.timings["pod_back_ready"] = time.monotonic() - start
    lost = files_before - data_files(s, member)
    if lost:
        raise StepFailed(f"{pod} came back without {sorted(lost)}: not on the volume it had")
    return (
        f"{pod} deleted, back Ready with quorum {s.report.timings['pod_back_ready']:.1f} s later "
        f"({describe(states)}); its {len(files_before)} data files still there; "
        + s.read_everywhere([member], FIRST_VALUE)
    )


def quorum_lost_probes(s: KubeContext) -> str:
    """Member 0 alone: its readiness probe fails (the client Service drops it), its liveness probe does not
    (no restart loop) for longer than the liveness probe's whole failure window."""
    pod = s.kube.pod(0)
    spec = s.pod_json(pod)["spec"]["containers"][0]
    liveness = spec.get("livenessProbe") or {}
    window = liveness.get("periodSeconds", 10) * liveness.get("failureThreshold", 3) + 10
    restarts_before = s.restart_count(pod)
    start = time.monotonic()
    while s.pod_ready(pod):
        if time.monotonic() - start > 60:
            raise StepFailed(f"{pod} still Ready 60 s after losing the quorum: the readiness probe passes alone")
        time.sleep(1)
    not_ready_after = time.monotonic() - start
    while time.monotonic() - start < not_ready_after + window:
        if s.restart_count(pod) != restarts_before:
            raise StepFailed(f"{pod} restarted while without a quorum: the liveness probe failed on it")
        time.sleep(2)
    return (
        f"{pod} not Ready {not_ready_after:.1f} s after losing the quorum; no restart in the next {window} s "
        f"(the liveness probe's {liveness.get('failureThreshold', 3)} x {liveness.get('periodSeconds', 10)} s "
        f"window; restartCount {restarts_before})"
    )


# -- members and their data ----------------------------------------------------------------------------------------


def data_files(s: KubeContext, member: int) -> set[str]:
    script = f'ls "${{ZOO_DATA_DIR:-{DATA_DIR}}}/version-2"'
    result = s.target.exec(member, ["bash", "-c", script], s.timeouts.command)
    return set(result.stdout.split()) if result.code == 0 else set()


def wait_replaced(s: KubeContext, pod: str, old_uid: str) -> None:
    """Until the StatefulSet's new pod of that name (another uid) is Ready; bounded by the rollout timeout."""
    deadline = time.monotonic() + s.kube.rollout_timeout
    while True:
        result = s.kube.kubectl.get("pod", pod, output="json", check=False)
        if result.code == 0:
            current = json.loads(result.stdout)
            conditions = current["status"].get("conditions", [])
            if current["metadata"]["uid"] != old_uid and any(
                c["type"] == "Ready" and c["status"] == "True" for c in conditions
            ):
                return
        if time.monotonic() > deadline:
            raise StepFailed(f"{pod} not back Ready within {s.kube.rollout_timeout} s after its eviction")
        time.sleep(0.5)


# -- nodes: cordoned by the scenario on kwok nodes only ------------------------------------------------------------


def arrange(s: KubeContext) -> None:
    """On the local cluster, the nodes of the other kind cordoned; on kwok nodes only, one schedulable node for
    the laptop profiles (the rest cordoned)."""
    if s.nodes:
        kwok = s.nodes == "kwok"
        nodes = s.get_json("nodes", namespaced=False)
        cordon(s, sorted(n["metadata"]["name"] for n in nodes
                         if (KWOK_NODE_ANNOTATION in n["metadata"].get("annotations", {})) != kwok))
    if not s.arrange_nodes or s.kube.env not in LAPTOP_ENVIRONMENTS:
        return
    cordon(s, node_names(s)[1:])


def node_names(s: KubeContext) -> list[str]:
    return sorted(n["metadata"]["name"] for n in s.get_json("nodes", namespaced=False))


def cordon(s: KubeContext, nodes: list[str]) -> list[str]:
    """Cordon those of the nodes not cordoned yet; returns them."""
    added = [node for node in nodes if node not in s.cordoned]
    for node in added:
        with s.could(f"cordon {node}"):
            s.kube.kubectl.cordon(node)
        s.cordoned.append(node)
    return added


def cordon_all(s: KubeContext) -> list[str]:
    return cordon(s, node_names(s))


def uncordon(s: KubeContext, nodes: list[str] | None = None) -> None:
    """Uncordon the given nodes (default: every node the scenario cordoned)."""
    for node in list(s.cordoned if nodes is None else nodes):
        s.kube.kubectl.uncordon(node, check=False)
        s.cordoned.remove(node)


def cordoned_words(s: KubeContext) -> str:
    return f" ({', '.join(s.cordoned)} cordoned: a one-node cluster)" if s.cordoned else ""


def drain_node_of(s: KubeContext, pod: str) -> str:
    """On kwok nodes, `kubectl drain` the pod's node when only that member runs there ('' otherwise: the
    caller evicts through the API). kwok brings a replacement up in under a second, so the member must be kept
    down as a full cluster would keep it: production's required anti-affinity does that by itself once its node
    is cordoned (two nodes left, each with a member); for the other profiles every node is cordoned first."""
    if not s.arrange_nodes:
        return ""
    placement = {p["metadata"]["name"]: p["spec"].get("nodeName") for p in s.pods()}
    if s.kube.env != "production":
        cordon_all(s)
    node = placement[pod]
    if list(placement.values()).count(node) != 1:
        return ""
    result = s.kube.kubectl.drain(node, pod_selector=SELECTOR, timeout=DRAIN_TIMEOUT, check=False)
    if result.code != 0:
        raise StepFailed(f"kubectl drain {node} failed: {result.stderr.strip()}")
    if node not in s.cordoned:
        s.cordoned.append(node)  # drain cordoned it
    return node


def wait_pending(s: KubeContext, pod: str) -> str:
    """The member stays Pending on the nodes left (required anti-affinity); returns the scheduler's reason."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        reason = s.pending_reasons()
        if reason.startswith(f"{pod} Pending"):
            return f"on {len(s.get_json('nodes', namespaced=False)) - len(s.cordoned)} nodes: {reason}"
        time.sleep(0.5)
    placement = {p["metadata"]["name"]: p["spec"].get("nodeName") for p in s.pods()}
    raise StepFailed(f"{pod} did not stay Pending with its node drained: {placement}")


def uncordon_drained(s: KubeContext) -> None:
    if s.arrange_nodes:
        uncordon(s)
        arrange(s)
