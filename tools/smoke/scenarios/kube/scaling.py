"""Scaling with the one setting: requests the quorum cannot absorb refused (an even count, 3 -> 7, 3 -> 1), and
3 -> 5 -> 3 with members 0..2 untouched, the claims kept, the PDB and (where members run) the voting sets following.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
import time
from pathlib import Path

import yaml

from tools.base.contract import ENSEMBLE_KEY
from tools.base.run import Result
from tools.cli import zookeeper
from tools.cli.kubectl import TIMEOUT as KUBECTL_TIMEOUT
from tools.smoke.scenario import NotRun, StepFailed
from tools.smoke.scenarios.kube.context import KubeContext
from tools.smoke.scenarios.kube.disruption import wait_replaced
from tools.smoke.scenarios.kube.update import cluster_writer
from tools.smoke.writer import PLANNED_GAP_SECONDS

SCALED_TO = 5  # 3 -> 5 -> 3: the step each way changes 2 members, which 5 members can lose with a quorum left
FIVE_MEMBERS = "components/five-members"
SCALING_POLICY = "kube-zookeeper-scaling-step"  # admission/: refuses a too-big step of spec.replicas


def scale_refused(s: KubeContext) -> str:
    """Requests the quorum cannot absorb are refused with one line, and change nothing: an even count, and steps
    of more members than the larger ensemble can lose (3 -> 7, 3 -> 1). Helm refuses them (the schema; the
    chart's lookup of the live count); for Kustomize the API server does where the scaling admission policy
    (admission/) is installed."""
    kubectl = s.kube.kubectl
    if s.kube.via != "helm" and not scaling_policy_installed(s) and (s.nodes or s.arrange_nodes):
        # `nox -s cluster` (kwok or real nodes): the run's own cluster, set up as a platform whose admin applied
        # admission/
        with s.could("apply the scaling admission policy (admission/)"):
            kubectl.apply(directory=s.kube.root / "admission", namespaced=False, timeout=KUBECTL_TIMEOUT)
        wait_policy_enforced(s)
    if s.kube.via != "helm" and not scaling_policy_installed(s):
        raise NotRun(f"the scaling admission policy ({SCALING_POLICY}, admission/) is not installed in this "
                     "cluster, so the API server takes any count from kubectl apply; nox -s policy refuses an "
                     "even count before")
    revision, replicas = revisions(s), live_replicas(s)
    refusals = []
    for wanted, why in ((4, "an even count"), (7, "3 -> 7: 4 members, 7 can lose 3"),
                        (1, "3 -> 1: 2 members, 3 can lose 1")):
        result, words = send_count(s, wanted)
        if result.code == 0:
            raise StepFailed(f"{words} ({why}) was accepted")
        refusals.append(f"{words} ({why}) refused: {refusal_line(result.stderr)}")
    if (revisions(s), live_replicas(s)) != (revision, replicas):
        raise StepFailed(f"a refused request changed the ensemble: revision {revisions(s)}, replicas "
                         f"{live_replicas(s)} (were {revision}, {replicas})")
    return "; ".join(refusals) + f"; still {replicas} members at revision {revision}"


def scale_out_and_back(s: KubeContext) -> str:
    """3 -> 5 -> 3 with the one setting (helm's replicas; Kustomize's five-members component), and what the
    StatefulSet controller and the PDB say: members 3 and 4 are created then removed, members 0..2 keep their
    pods (same uids, no container restart) and the controller revision (no template change), the claims stay."""
    members, statefulset = s.kube.members, s.kube.statefulset
    kept, revision = member_pods(s), revisions(s)
    start = time.monotonic()
    apply_scale(s, SCALED_TO)
    pods = wait_pod_count(s, SCALED_TO)
    up = scaled_placement(s, pods)
    s.report.timings["scale_up"] = time.monotonic() - start
    expect_untouched(s, kept, revision, f"{members} -> {SCALED_TO}")
    count_up = ensemble_count(s)
    pdb_up = wait_pdb(s, SCALED_TO)
    voters = voting_sets(s, range(SCALED_TO)) if s.members_run_containers() else ""
    added = [s.kube.pod(m) for m in range(members, SCALED_TO)]
    start = time.monotonic()
    apply_scale(s, members)
    for pod in added:
        with s.could(f"wait for {pod} to go"):
            s.kube.kubectl.wait(f"pod/{pod}", timeout=KUBECTL_TIMEOUT)
    s.rollout_status()
    s.report.timings["scale_down"] = time.monotonic() - start
    voters_down = ""
    if s.members_run_containers():
        # the members scaled away left the voters in their preStop hook (image/leave.sh) before their pods went
        voters_down = voting_sets(s, range(members))
        s.report.timings["scale_down_voters"] = time.monotonic() - start
        voters_down = f"; {voters_down} {s.report.timings['scale_down_voters']:.1f} s after the scale-down began"
    expect_untouched(s, kept, revision, f"{SCALED_TO} -> {members}")
    count_down = ensemble_count(s)
    pdb_down = wait_pdb(s, members)
    claims = {c["metadata"]["name"] for c in s.get_json("persistentvolumeclaims")}
    lost = [f"datadir-{pod}" for pod in added if f"datadir-{pod}" not in claims]
    if lost:
        raise StepFailed(f"scaling {SCALED_TO} -> {members} deleted the claims {lost}; they must stay")
    if (count_up, count_down) != (str(SCALED_TO), str(members)):
        raise StepFailed(f"{statefulset}-ensemble says replicas {count_up} at {SCALED_TO} members and "
                         f"{count_down} back at {members}")
    return (
        f"{scale_words(s, SCALED_TO)}: {', '.join(added)} created, {up} in "
        f"{s.report.timings['scale_up']:.1f} s; {statefulset}-ensemble replicas {count_up}; PDB {pdb_up}"
        f"{'; ' + voters if voters else ''}; back with {scale_words(s, members)}: both removed in "
        f"{s.report.timings['scale_down']:.1f} s, their claims kept, PDB {pdb_down}{voters_down}; "
        f"members 0..{members - 1} "
        f"kept their pods (uids, restart counts) and revision {revision} throughout"
        + ("" if s.members_run_containers() else "; the voting set: not run (kwok nodes run no ZooKeeper)")
    )


# -- the one setting -----------------------------------------------------------------------------------------------


def scale_words(s: KubeContext, members: int) -> str:
    if s.kube.via == "helm":
        return f"{s.apply_words()} --set replicas={members}"
    source = s.kube.source().relative_to(s.kube.root)
    return f"kubectl apply -k {source}" + (f" plus {FIVE_MEMBERS}" if members != s.kube.members else "")


def apply_scale(s: KubeContext, members: int) -> None:
    """The one setting: helm's replicas, or Kustomize's five-members component over the overlay (and the
    overlay alone to come back)."""
    if s.kube.via == "helm":
        # always said: `helm upgrade` with no value given reuses the release's last values (replicas=5)
        result = s.kube.apply(set_values=[f"replicas={members}"], check=False)
    elif members == s.kube.members:
        result = s.kube.apply(check=False)
    else:
        with with_five_members(s) as directory:
            result = s.kube.kubectl.apply(directory=directory, check=False)
    if result.code != 0:
        raise StepFailed(f"{scale_words(s, members)} failed: {result.stderr.strip()}")


@contextlib.contextmanager
def with_five_members(s: KubeContext):
    """A kustomization listing the overlay and components/five-members, as a user adds the component."""
    overlay = s.kube.source().resolve()
    with tempfile.TemporaryDirectory(prefix="kz-five-") as tmp:
        kustomization = {
            "apiVersion": "kustomize.config.k8s.io/v1beta1",
            "kind": "Kustomization",
            "resources": [os.path.relpath(overlay, tmp)],  # kustomize refuses absolute paths
            "components": [os.path.relpath(s.kube.root / FIVE_MEMBERS, tmp)],
        }
        (Path(tmp) / "kustomization.yaml").write_text(yaml.safe_dump(kustomization))
        yield Path(tmp)


def scale_manifests(s: KubeContext, members: int) -> str:
    """The overlay rendered with another count in both places (the StatefulSet, the ensemble ConfigMap)."""
    documents = []
    for document in yaml.safe_load_all(s.rendered()):
        if document and document.get("kind") == "StatefulSet":
            document["spec"]["replicas"] = members
        if document and document.get("kind") == "ConfigMap" and ENSEMBLE_KEY in (document.get("data") or {}):
            document["data"][ENSEMBLE_KEY] = str(members)
        documents.append(document)
    return yaml.safe_dump_all([d for d in documents if d])


def scaling_policy_installed(s: KubeContext) -> bool:
    result = s.kube.kubectl.get("validatingadmissionpolicy", SCALING_POLICY, output="name", namespaced=False,
                                check=False)
    return result.code == 0


def wait_policy_enforced(s: KubeContext, seconds: float = 30) -> None:
    """The API server enforces a new ValidatingAdmissionPolicy only once its informers have seen the policy and
    its binding (about a second, longer under load): until then it takes an even count. Wait for a server-side
    dry run of one to be refused, so a refusal below is the policy's and an acceptance is a real failure."""
    deadline = time.monotonic() + seconds
    while True:
        result = s.kube.kubectl.apply(manifests=scale_manifests(s, s.kube.members + 1), dry_run="server",
                                      check=False, timeout=KUBECTL_TIMEOUT)
        if result.code != 0 and SCALING_POLICY in result.stderr:
            return
        if result.code != 0:
            raise StepFailed(f"a server-side dry run of an even count failed, not by the scaling admission "
                             f"policy: {result.stderr.strip()}")
        if time.monotonic() > deadline:
            raise StepFailed(f"the scaling admission policy ({SCALING_POLICY}) was applied but still took an "
                             f"even count {seconds:.0f} s later (server-side dry run)")
        time.sleep(0.5)


def refusal_line(stderr: str) -> str:
    """The line that says why (helm's `Error: ...` first line's reason, the schema's `- at ...`, the API server's
    denial), without the wrapping of the tool."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    for line in lines:
        if line.startswith("- at "):
            return line[2:]
        if "denied request: " in line:
            return line.split("denied request: ", 1)[1]
    first = lines[0] if lines else "(no message)"
    return re.sub(r"^Error: UPGRADE FAILED: (execution error at \([^)]*\): )?", "", first)


# -- what the controllers say --------------------------------------------------------------------------------------


def member_pods(s: KubeContext) -> dict[str, tuple[str, int]]:
    """Every member pod's uid and its containers' restart count."""
    return {
        p["metadata"]["name"]: (
            p["metadata"]["uid"],
            sum(status.get("restartCount", 0) for status in p["status"].get("containerStatuses") or []),
        )
        for p in s.pods()
    }


def revisions(s: KubeContext) -> str:
    """The StatefulSet's current and update revision (one name when no rollout is in progress)."""
    status = s.get_json("statefulsets")[0]["status"]
    current, update = status.get("currentRevision", ""), status.get("updateRevision", "")
    return current if current == update else f"{current} -> {update}"


def live_replicas(s: KubeContext) -> int:
    return s.get_json("statefulsets")[0]["spec"]["replicas"]


def expect_untouched(s: KubeContext, kept: dict[str, tuple[str, int]], revision: str, when: str) -> None:
    now = member_pods(s)
    changed = {pod: now.get(pod) for pod, before in kept.items() if now.get(pod) != before}
    if changed:
        raise StepFailed(f"scaling {when} restarted or replaced members {sorted(changed)} (uid, restarts before "
                         f"{[kept[p] for p in sorted(changed)]}, after {[changed[p] for p in sorted(changed)]})")
    if revisions(s) != revision:
        raise StepFailed(f"scaling {when} changed the pod template: revision {revision} -> {revisions(s)}")


def wait_pod_count(s: KubeContext, count: int, seconds: float = 60) -> list[dict]:
    deadline = time.monotonic() + seconds
    while True:
        pods = s.pods()
        if len(pods) == count:
            return pods
        if time.monotonic() > deadline:
            names = sorted(p["metadata"]["name"] for p in pods)
            raise StepFailed(f"{len(pods)} member pods, expected {count}: {names}")
        time.sleep(0.5)


def scaled_placement(s: KubeContext, pods: list[dict]) -> str:
    """'all Ready' after the rollout, or, where required anti-affinity finds fewer nodes than members, the
    scheduler's reason for each member left Pending (what a production cluster of 3 nodes says)."""
    nodes = [n for n in s.get_json("nodes", namespaced=False) if not n["spec"].get("unschedulable")]
    if s.kube.env == "production" and len(nodes) < len(pods):
        deadline = time.monotonic() + 30
        while True:
            # the reason settles once the new claims are bound (first: "unbound immediate PersistentVolumeClaims")
            pending = [r for r in s.pending_reasons().split("; ") if "anti-affinity" in r]
            if len(pending) == len(pods) - len(nodes):
                return f"{len(pending)} Pending on {len(nodes)} nodes ({pending[0]})"
            if time.monotonic() > deadline:
                raise StepFailed(f"with {len(nodes)} nodes, expected {len(pods) - len(nodes)} members Pending "
                                 f"(required anti-affinity): {s.pending_reasons()}")
            time.sleep(0.5)
    s.rollout_status()
    return f"all {len(pods)} Ready"


def ensemble_count(s: KubeContext) -> str:
    name = f"{s.kube.statefulset}-ensemble"
    with s.could(f"read ConfigMap {name}"):
        return s.kube.kubectl.jsonpath("configmap", name, "{.data.replicas}").strip()


def wait_pdb(s: KubeContext, expected: int, seconds: float = 60) -> str:
    """The disruption controller's view once it counts `expected` pods."""
    deadline = time.monotonic() + seconds
    while True:
        (pdb,) = s.get_json("poddisruptionbudgets")
        status = pdb.get("status") or {}
        if status.get("expectedPods") == expected:
            return (f"expects {expected} pods, {status.get('currentHealthy')} healthy, allows "
                    f"{status.get('disruptionsAllowed')} disruption(s)")
        if time.monotonic() > deadline:
            raise StepFailed(f"PodDisruptionBudget {pdb['metadata']['name']} counts {status.get('expectedPods')} "
                             f"pods, expected {expected}")
        time.sleep(0.5)


def voting_sets(s: KubeContext, members) -> str:
    """Where members run ZooKeeper: every member's `conf` names the same voters, one per member."""
    wanted = {str(m + 1) for m in members}
    deadline = time.monotonic() + s.timeouts.quorum
    while True:
        seen = {m: zk_voters(s.four_letter(m, "conf")) for m in members}
        if all(voters == wanted for voters in seen.values()):
            return f"every member's conf lists voters {sorted(wanted, key=int)}"
        if time.monotonic() > deadline:
            raise StepFailed(f"voting sets (server ids) after {s.timeouts.quorum:.0f} s: "
                             + ", ".join(f"member {m}: {sorted(v, key=int)}" for m, v in seen.items()))
        time.sleep(s.timeouts.poll * 4)


def zk_voters(conf: str) -> set[str]:
    """Server ids of the voters in a member's `conf` (zookeeper.parse_conf: participants, a joiner's weight 0
    excluded)."""
    membership = zookeeper.parse_conf(conf)
    return {str(voter) for voter in membership.voters} if membership else set()


# -- scaling down under load ---------------------------------------------------------------------------------------

SCALE_WRITER_ROOT = "/kz-writer-scale-down"
EVICT_TRIES_SECONDS = 10.0  # the PDB may still count the old pods for a moment after the scale-down


def scale_down_under_load(s: KubeContext) -> str:
    """With a writer counting: 3 -> 5, then 5 -> 3 and at once the eviction of a member that stays; then 3 -> 5 -> 7,
    and 7 -> 5 -> 3 with the second step sent right after the first. The condemned members leave the voters in
    their preStop hook (image/leave.sh) while they still vote, so every membership on the way has its quorum: no
    acknowledged write lost, no write gap over PLANNED_GAP_SECONDS, and the voters follow without a hand edit. The
    counts go as `helm upgrade --set replicas=N` or as the overlay rendered with N applied by kubectl (what
    `helm template | kubectl apply` and GitOps tools do)."""
    members = s.kube.members
    s.wait_for_quorum(s.everyone, "before_scale_down_under_load")
    writer = cluster_writer(s, SCALE_WRITER_ROOT)
    timings = s.report.timings
    try:
        with writer:
            grow(s, [5])
            start = time.monotonic()
            set_count(s, members)
            victim, evicted_after = evict_at_once(s, 1)
            wait_pod_count(s, members, seconds=KUBECTL_TIMEOUT)
            s.rollout_status()
            shrunk = voting_sets(s, range(members))
            timings["scale_5_to_3_then_evict"] = time.monotonic() - start
            gap_evict = writer.longest_gap(start, time.monotonic())
            grow(s, [5, 7])
            start = time.monotonic()
            set_count(s, 5)
            set_count(s, members)
            wait_pod_count(s, members, seconds=KUBECTL_TIMEOUT)
            s.rollout_status()
            voting_sets(s, range(members))
            timings["scale_7_to_5_to_3"] = time.monotonic() - start
            gap_two_steps = writer.longest_gap(start, time.monotonic())
        written = writer.verify()
        s.report.measurements["scale_down_under_load_writer"] = writer.verdict.measurements()
    finally:
        writer.close()
    s.report.measurements["scale_down_write_gaps_seconds"] = {"5_to_3_then_evict": round(gap_evict, 2),
                                                              "7_to_5_to_3": round(gap_two_steps, 2)}
    for gap, what in ((gap_evict, f"5 -> 3 and the eviction of {victim}"), (gap_two_steps, "7 -> 5 -> 3")):
        if gap > PLANNED_GAP_SECONDS:
            raise StepFailed(f"{what}: a write gap of {gap:.1f} s (at most {PLANNED_GAP_SECONDS:.0f} s: the quorum "
                             f"must hold through a planned scale-down); {written}")
    return (f"5 -> 3, {victim} evicted {evicted_after:.1f} s later (allowed): {shrunk} "
            f"{timings['scale_5_to_3_then_evict']:.1f} s after the scale-down, longest write gap {gap_evict:.2f} s; "
            f"7 -> 5 -> 3 back to back: voters {{1,2,3}} after {timings['scale_7_to_5_to_3']:.1f} s, longest write "
            f"gap {gap_two_steps:.2f} s; {written}")


def send_count(s: KubeContext, members: int) -> tuple[Result, str]:
    """The one setting, sent without waiting: `helm upgrade --set replicas=N`, or the overlay rendered with N
    (StatefulSet and ensemble ConfigMap) applied by kubectl, as `helm template | kubectl apply` and GitOps tools do.
    Returns the result (never raises for a refusal) and the words that name it."""
    if s.kube.via == "helm":
        return s.kube.apply(set_values=[f"replicas={members}"], check=False), f"helm upgrade --set replicas={members}"
    result = s.kube.kubectl.apply(manifests=scale_manifests(s, members), check=False, timeout=KUBECTL_TIMEOUT)
    return result, f"kubectl apply with replicas {members}"


def set_count(s: KubeContext, members: int) -> None:
    """send_count, which must be taken."""
    result, words = send_count(s, members)
    if result.code != 0:
        raise StepFailed(f"{words} failed: {refusal_line(result.stderr)}")


def grow(s: KubeContext, counts: list[int]) -> None:
    """Each count in turn, every member Ready and a voter before the next."""
    for members in counts:
        set_count(s, members)
        wait_pod_count(s, members, seconds=KUBECTL_TIMEOUT)
        s.rollout_status()
        voting_sets(s, range(members))


def evict_at_once(s: KubeContext, member: int) -> tuple[str, float]:
    """Evict the member's pod right after a scale-down (retried while the PDB still counts the pods going away);
    wait until the StatefulSet has it back. Returns the pod and the seconds from the call to the allowed eviction."""
    pod, start = s.kube.pod(member), time.monotonic()
    uid = s.pod_json(pod)["metadata"]["uid"]
    while True:
        result = s.kube.kubectl.evict(pod, check=False)
        if result.code == 0:
            break
        if time.monotonic() - start > EVICT_TRIES_SECONDS:
            raise StepFailed(f"evicting {pod} right after the scale-down was refused for {EVICT_TRIES_SECONDS:.0f} "
                             f"s: {result.stderr.strip()}")
        time.sleep(0.5)
    evicted_after = time.monotonic() - start
    wait_replaced(s, pod, uid)
    return pod, evicted_after
