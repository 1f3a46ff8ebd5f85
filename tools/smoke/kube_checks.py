"""What every cluster target checks about Kubernetes itself, around the ZooKeeper steps.

The real commands a user types run against a real API server: a server-side strict dry run, then the apply (or
`helm upgrade --install`) into a namespace that enforces the `restricted` Pod Security Standard; the rollout; where
the scheduler put each member; the Services' endpoints; the PDB against the eviction API; requests the quorum cannot
absorb refused (an even count, 3 -> 7, 3 -> 1); scaling 3 -> 5 -> 3 with the one setting, members 0..2 untouched; a
rolling update watched pod by pod; a second apply (or `helm rollback`, and an upgrade from the previous commit's
chart); the delete.

Where the members run no containers (kwok nodes), the ZooKeeper steps are reported as `not run`, never as passed;
`--target local` covers them. On kwok nodes (which run nothing) the scenario cordons nodes to give a profile the
layout it is meant for (one node for the laptop profiles) and to keep an evicted member down. On the run's own
cluster (`nox -s cluster`, kwok or real nodes) it applies the scaling admission policy (admission/) as a platform's
admin would; on kind, minikube or the current cluster it touches neither.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import yaml

from tools import REPO_ROOT
from tools.base.contract import ADMIN_DIR, DATA_DIR, ENSEMBLE_KEY, KWOK_NODE_ANNOTATION
from tools.base.profiles import LAPTOP_ENVIRONMENTS
from tools.base.run import run
from tools.cli import helm, zookeeper
from tools.smoke.kube import KUBECTL_TIMEOUT, SELECTOR, KubeTarget
from tools.smoke.scenario import FIRST_VALUE, SECOND_VALUE, NotRun, Scenario, StepFailed, Timeouts, describe

ZONE_LABEL = "topology.kubernetes.io/zone"
PSA_LABELS = {f"pod-security.kubernetes.io/{mode}": "restricted" for mode in ("enforce", "warn", "audit")}
ROLLED_SUFFIX = "-rolled"
SCALED_TO = 5  # 3 -> 5 -> 3: the step each way changes 2 members, which 5 members can lose with a quorum left
FIVE_MEMBERS = "components/five-members"
# Objects every namespace has, which a delete of the ensemble leaves alone.
SCALING_POLICY = "kube-zookeeper-scaling-step"  # admission/: refuses a too-big step of spec.replicas
NAMESPACE_DEFAULTS = {"configmap/kube-root-ca.crt", "serviceaccount/default"}


class KubeScenario(Scenario):
    """The Kubernetes checks, then (where members run) the ZooKeeper scenario, then the day-2 commands."""

    def __init__(
        self,
        target: KubeTarget,
        *,
        timeouts: Timeouts | None = None,
        progress=print,
        nodes: str | None = None,
        not_run: str = "",
    ):
        super().__init__(target, timeouts or Timeouts(), progress)
        self.kube = target
        self.cordoned: list[str] = []
        self.own_secret: str | None = None  # the admin Secret the scenario created as the README tells users
        self.containers_run: bool | None = None
        self.update_configmaps: set[str] = set()  # made by the rolling update's changed setting, not by the overlay
        # The local cluster: keep the members on its "kwok" or its "real" nodes (the others cordoned for the run).
        self.nodes = nodes
        self.not_run = not_run or "members run no containers here (kwok nodes); --target local runs this step"
        self.report.profile = f"{'overlay' if target.via == 'kustomize' else 'chart'}-{target.env}"

    def steps(self):
        zookeeper = []
        for name, action in super().steps():
            zookeeper += [] if name == "deploy" else [(name, action)]
            # what only a cluster does to a member, where members run: a pod deleted, probes without a quorum
            zookeeper += {
                "read-every-member": [("delete-pod-keeps-data", self.delete_pod_keeps_data)],
                "write-refused-without-quorum": [("quorum-lost-probes", self.quorum_lost_probes)],
            }.get(name, [])
        kube_before = [
            ("namespace-restricted", self.restricted_namespace),
            ("admin-secret", self.admin_secret),
            ("server-dry-run-strict", self.server_dry_run),
            ("apply-and-rollout", self.apply_and_rollout),
            ("pods-running-pvcs-bound", self.pods_running_pvcs_bound),
            ("scheduling", self.scheduling),
            ("service-endpoints", self.service_endpoints),
            ("quorum", self.quorum),
        ]
        kube_after = [
            ("pdb-eviction", self.pdb_eviction),
            ("scale-refused", self.scale_refused),
            ("scale-out-and-back", self.scale_out_and_back),
            ("rolling-update", self.rolling_update),
            ("reapply-or-rollback", self.reapply_or_rollback),
            ("delete-keeps-pvcs", self.delete_keeps_pvcs),
            ("reapply-keeps-data", self.zookeeper_step("reapply-keeps-data", self.reapply_keeps_data)),
        ]
        if self.kube.via == "helm":
            kube_after.append(("upgrade-from-previous-chart", self.upgrade_from_previous_chart))
        return [*kube_before, *[(name, self.zookeeper_step(name, action)) for name, action in zookeeper], *kube_after]

    def run(self):
        try:
            return super().run()
        finally:
            self.uncordon()

    def zookeeper_step(self, name, action):
        """Run a ZooKeeper step where members run; else `not run` (see Scenario.run), never passed."""

        def step():
            if not self.members_run_containers():
                raise NotRun(self.not_run)
            return action()

        return step

    # -- Kubernetes steps -------------------------------------------------------------------------------------------

    def restricted_namespace(self) -> str:
        kubectl = self.kube.kubectl
        self.check(kubectl.create_namespace(), "create the namespace")
        labels = [f"{key}={value}" for key, value in PSA_LABELS.items()]
        self.check([*kubectl.global_argv(), "label", "namespace", kubectl.namespace, *labels], "label the namespace")
        self.arrange()
        return f"namespace {kubectl.namespace} enforces the restricted Pod Security Standard"

    def admin_secret(self) -> str:
        """The Secret the members reconfigure the ensemble with: created here, with a random password, when the
        profile only references it (openshift, production: README, "The admin Secret"); else the rendered one."""
        name, rendered = admin_secret_reference(self.rendered())
        if rendered:
            return f"the profile brings its own admin Secret {name} (a laptop one, or the chart's random one)"
        create_admin_secret(self.kube.kubectl, name)
        self.own_secret = name
        return f"created Secret {name} with a random password (the profile references it and ships none)"

    def server_dry_run(self) -> str:
        manifests = self.rendered()
        result = run(
            [*self.kube.kubectl.namespaced_argv(), "apply", "--dry-run=server", "--validate=strict", "-f", "-"],
            input=manifests,
            check=False,
            timeout=KUBECTL_TIMEOUT,
        )
        if result.code != 0:
            raise StepFailed(f"the API server refused the manifests: {result.stderr.strip()}")
        warnings = [line for line in result.stderr.splitlines() if line.strip()]
        if warnings:
            raise StepFailed(f"the API server warned: {' | '.join(warnings)}")
        return f"{len(result.stdout.splitlines())} objects accepted (server-side, strict field validation)"

    def apply_and_rollout(self) -> str:
        """The apply and the rollout. On kwok nodes every node is held cordoned until all members exist: with
        Parallel pod management all are created at once, while OrderedReady would wait forever for member 0."""
        start = time.monotonic()
        held = self.cordon_all() if self.arrange_nodes else []
        result = run(self.kube.apply_command(), check=False, timeout=300)
        if result.code != 0:
            raise StepFailed(f"{self.apply_words()} failed: {result.stderr.strip()}")
        names = self.check(self.kube.kubectl.statefulset_names(), "find the StatefulSet").stdout.split()
        if len(names) != 1:
            raise StepFailed(f"expected one StatefulSet labelled {SELECTOR}, found {names}")
        self.kube.statefulset = names[0]
        together = ""
        if held:
            created = self.wait_pods_created()
            self.uncordon(held)
            if created < self.kube.members:
                raise StepFailed(
                    f"only {created} of {self.kube.members} members created while none could be scheduled: "
                    "the pods do not start together (podManagementPolicy Parallel is needed)"
                )
            together = f"; all {created} members created before any was scheduled (Parallel)"
        self.rollout_status()
        self.report.timings["apply_to_rollout"] = time.monotonic() - start
        return f"{self.apply_words()}; rollout complete in {self.report.timings['apply_to_rollout']:.1f} s{together}"

    def wait_pods_created(self, seconds: float = 10) -> int:
        deadline = time.monotonic() + seconds
        while True:
            count = len(self.pods())
            if count >= self.kube.members or time.monotonic() > deadline:
                return count
            time.sleep(0.5)

    def pods_running_pvcs_bound(self) -> str:
        pods = self.pods()
        not_running = {
            p["metadata"]["name"]: p["status"].get("phase") for p in pods if p["status"].get("phase") != "Running"
        }
        if len(pods) != self.kube.members or not_running:
            raise StepFailed(f"{len(pods)} pods, not Running: {not_running or 'none'}")
        pvcs = self.get_json("persistentvolumeclaims")
        unbound = {c["metadata"]["name"]: c["status"].get("phase") for c in pvcs if c["status"].get("phase") != "Bound"}
        if not pvcs or unbound:
            raise StepFailed(f"PVCs not bound: {unbound or 'none exist'}")
        self.report.timings["pvcs"] = len(pvcs)
        return f"{len(pods)} pods Running; {len(pvcs)} PVCs Bound ({', '.join(sorted(self.storage_classes(pvcs)))})"

    def scheduling(self) -> str:
        nodes = {n["metadata"]["name"]: n for n in self.get_json("nodes", namespaced=False)}
        placement = {p["metadata"]["name"]: p["spec"].get("nodeName", "") for p in self.pods()}
        zones = {pod: nodes[node]["metadata"]["labels"].get(ZONE_LABEL, "") for pod, node in placement.items()}
        schedulable = [name for name, node in nodes.items() if not node["spec"].get("unschedulable")]
        where = ", ".join(f"{pod} on {node} ({zones[pod] or 'no zone'})" for pod, node in sorted(placement.items()))
        if self.kube.env == "production":
            if len(set(placement.values())) != len(placement):
                raise StepFailed(f"required anti-affinity broken: {where}")
            cluster_zones = {nodes[n]["metadata"]["labels"].get(ZONE_LABEL) for n in schedulable} - {None}
            if len(cluster_zones) >= len(placement) and len(set(zones.values())) != len(placement):
                raise StepFailed(f"zone spread broken ({len(cluster_zones)} zones available): {where}")
        return f"{len(schedulable)} schedulable node(s){self.cordoned_words()}: {where}"

    def service_endpoints(self) -> str:
        services = self.get_json("services")
        pods = {p["metadata"]["name"]: p for p in self.pods()}
        ips = {name: pod["status"].get("podIP") for name, pod in pods.items()}
        # The StatefulSet's own headless Service (production's metrics Service is headless too).
        governing = {s["spec"].get("serviceName") for s in self.get_json("statefulsets")}
        headless = [s for s in services if s["spec"].get("clusterIP") == "None" and s["metadata"]["name"] in governing]
        client = [s for s in services if s["spec"].get("clusterIP") != "None"]
        if len(headless) != 1 or not client:
            raise StepFailed(
                f"expected one headless and a client Service, got {[s['metadata']['name'] for s in services]}"
            )
        for service in headless + client:
            self.wait_endpoints(service["metadata"]["name"], set(ips.values()), "all members Ready")
        detail = f"{len(ips)} members behind {', '.join(s['metadata']['name'] for s in headless + client)}"
        if self.members_run_containers():
            return detail + " (not-ready members: the kubelet owns readiness here, not checked)"
        # kwok: mark one member not ready; the client Service must drop it, the headless one keep it.
        pod = self.kube.pod(self.kube.members - 1)
        self.set_ready(pod, False)
        try:
            for service in client:
                self.wait_endpoints(service["metadata"]["name"], set(ips.values()) - {ips[pod]}, f"{pod} not ready")
            self.wait_endpoints(headless[0]["metadata"]["name"], set(ips.values()), f"{pod} not ready")
        finally:
            self.set_ready(pod, True)
        return detail + f"; {pod} not ready: dropped by the client Service, kept by the headless one"

    def quorum(self) -> str:
        if not self.members_run_containers():
            raise NotRun(self.not_run)
        states = self.wait_for_quorum(self.everyone, "start")
        return "quorum: " + ", ".join(f"{s.member}={s.mode}" for s in states)

    def pdb_eviction(self) -> str:
        """Evict one member (allowed), then another at once (the PDB must refuse: HTTP 429), then recover."""
        start = time.monotonic()
        first, second = self.kube.pod(self.kube.members - 1), self.kube.pod(0)
        evicted_uid = self.pod_json(first)["metadata"]["uid"]
        drained = self.drain_node_of(first)
        if not drained:
            result = self.evict(first)
            if result.code != 0:
                raise StepFailed(f"evicting {first} (the PDB allows one) was refused: {result.stderr.strip()}")
        pending = self.wait_pending(first) if drained and self.kube.env == "production" else ""
        refused = self.evict(second)
        if refused.code == 0:
            raise StepFailed(f"evicting {second} while {first} is down was allowed: the PDB does not hold")
        if "TooManyRequests" not in refused.stderr and "disruption budget" not in refused.stderr:
            raise StepFailed(f"evicting {second} failed, but not by the PDB: {refused.stderr.strip()}")
        self.uncordon_drained()
        self.wait_replaced(first, evicted_uid)  # the StatefulSet's status can still count the evicted pod as Ready
        self.rollout_status()
        self.report.timings["drain"] = time.monotonic() - start
        how = f"kubectl drain {drained} evicted {first}" if drained else f"evicted {first}"
        how += f" ({pending})" if pending else ""
        return (
            f"{how}; evicting {second} refused: {refused.stderr.strip()}; "
            f"{self.kube.members}/{self.kube.members} Ready again after {self.report.timings['drain']:.1f} s"
        )

    def rolling_update(self) -> str:
        start = time.monotonic()
        change = "a changed setting" if self.members_run_containers() else "a new image tag"
        writer = Writer(self) if self.members_run_containers() else None
        configmaps_before = self.configmap_names()
        with UnavailabilityWatch(self.kube.kubectl, self.kube.members) as watch, writer or contextlib.nullcontext():
            result = run(self.update_command(), input=self.update_input(), check=False, timeout=300)
            if result.code != 0:
                raise StepFailed(f"the update ({change}) failed: {result.stderr.strip()}")
            self.rollout_status()
        self.report.timings["rolling_update"] = time.monotonic() - start
        # kustomize names the changed setting's ConfigMap by its hash: the update made it, not the overlay, so the
        # overlay's delete leaves it (as `kubectl apply` without --prune does for any user)
        self.update_configmaps = self.configmap_names() - configmaps_before
        written = f"; {writer.verify()}" if writer else ""
        if watch.max_unavailable > 1:
            raise StepFailed(
                f"{watch.max_unavailable} members unavailable at once during the rolling update ({watch.worst})"
            )
        if watch.restarted < self.kube.members:
            raise StepFailed(f"only {watch.restarted} of {self.kube.members} members were replaced")
        return (
            f"{change}: {watch.restarted} members replaced one at a time (at most {watch.max_unavailable} "
            f"unavailable) in {self.report.timings['rolling_update']:.1f} s{written}"
        )

    def scale_out_and_back(self) -> str:
        """3 -> 5 -> 3 with the one setting (helm's replicas; Kustomize's five-members component), and what the
        StatefulSet controller and the PDB say: members 3 and 4 are created then removed, members 0..2 keep their
        pods (same uids, no container restart) and the controller revision (no template change), the claims stay."""
        members, statefulset = self.kube.members, self.kube.statefulset
        kept, revision = self.member_pods(), self.revisions()
        start = time.monotonic()
        self.apply_scale(SCALED_TO)
        pods = self.wait_pod_count(SCALED_TO)
        up = self.scaled_placement(pods)
        self.report.timings["scale_up"] = time.monotonic() - start
        self.expect_untouched(kept, revision, f"{members} -> {SCALED_TO}")
        count_up = self.ensemble_count()
        pdb_up = self.wait_pdb(SCALED_TO)
        voters = self.voting_sets(range(SCALED_TO)) if self.members_run_containers() else ""
        added = [self.kube.pod(m) for m in range(members, SCALED_TO)]
        start = time.monotonic()
        self.apply_scale(members)
        for pod in added:
            self.check(self.kube.kubectl.wait_deleted(pod, KUBECTL_TIMEOUT), f"wait for {pod} to go")
        self.rollout_status()
        self.report.timings["scale_down"] = time.monotonic() - start
        voters_down = ""
        if self.members_run_containers():
            # Until the leader removes the gone members (once the kubelet has refreshed its mounted count), the
            # ensemble counts 5 voters with 3 up: a quorum, but none to spare, so nothing else may go down before.
            voters_down = self.voting_sets(range(members))
            self.report.timings["scale_down_voters"] = time.monotonic() - start
            voters_down = f"; {voters_down} {self.report.timings['scale_down_voters']:.1f} s after the scale-down began"
        self.expect_untouched(kept, revision, f"{SCALED_TO} -> {members}")
        count_down = self.ensemble_count()
        pdb_down = self.wait_pdb(members)
        claims = {c["metadata"]["name"] for c in self.get_json("persistentvolumeclaims")}
        lost = [f"datadir-{pod}" for pod in added if f"datadir-{pod}" not in claims]
        if lost:
            raise StepFailed(f"scaling {SCALED_TO} -> {members} deleted the claims {lost}; they must stay")
        if (count_up, count_down) != (str(SCALED_TO), str(members)):
            raise StepFailed(f"{statefulset}-ensemble says replicas {count_up} at {SCALED_TO} members and "
                             f"{count_down} back at {members}")
        return (
            f"{self.scale_words(SCALED_TO)}: {', '.join(added)} created, {up} in "
            f"{self.report.timings['scale_up']:.1f} s; {statefulset}-ensemble replicas {count_up}; PDB {pdb_up}"
            f"{'; ' + voters if voters else ''}; back with {self.scale_words(members)}: both removed in "
            f"{self.report.timings['scale_down']:.1f} s, their claims kept, PDB {pdb_down}{voters_down}; "
            f"members 0..{members - 1} "
            f"kept their pods (uids, restart counts) and revision {revision} throughout"
            + ("" if self.members_run_containers() else "; the voting set: not run (kwok nodes run no ZooKeeper)")
        )

    def scale_refused(self) -> str:
        """Requests the quorum cannot absorb are refused with one line, and change nothing: an even count, and steps
        of more members than the larger ensemble can lose (3 -> 7, 3 -> 1). Helm refuses them (the schema; the
        chart's lookup of the live count); for Kustomize the API server does where the scaling admission policy
        (admission/) is installed."""
        if self.kube.via != "helm" and not self.scaling_policy_installed() and (self.nodes or self.arrange_nodes):
            # `nox -s cluster` (kwok or real nodes): the run's own cluster, set up as a platform whose admin applied
            # admission/
            self.check([*self.kube.kubectl.global_argv(), "apply", "-k", str(self.kube.root / "admission")],
                       "apply the scaling admission policy (admission/)")
        if self.kube.via != "helm" and not self.scaling_policy_installed():
            raise NotRun(f"the scaling admission policy ({SCALING_POLICY}, admission/) is not installed in this "
                         "cluster, so the API server takes any count from kubectl apply; nox -s policy refuses an "
                         "even count before")
        revision, replicas = self.revisions(), self.live_replicas()
        refusals = []
        for wanted, why in ((4, "an even count"), (7, "3 -> 7: 4 members, 7 can lose 3"),
                            (1, "3 -> 1: 2 members, 3 can lose 1")):
            if self.kube.via == "helm":
                command, stdin = [*self.kube.apply_command(), "--set", f"replicas={wanted}"], None
                words = f"helm upgrade --set replicas={wanted}"
            else:
                command = [*self.kube.kubectl.namespaced_argv(), "apply", "-f", "-"]
                stdin, words = self.scale_manifests(wanted), f"kubectl apply with replicas {wanted}"
            result = run(command, input=stdin, check=False, timeout=KUBECTL_TIMEOUT)
            if result.code == 0:
                raise StepFailed(f"{words} ({why}) was accepted")
            refusals.append(f"{words} ({why}) refused: {refusal_line(result.stderr)}")
        if (self.revisions(), self.live_replicas()) != (revision, replicas):
            raise StepFailed(f"a refused request changed the ensemble: revision {self.revisions()}, replicas "
                             f"{self.live_replicas()} (were {revision}, {replicas})")
        return "; ".join(refusals) + f"; still {replicas} members at revision {revision}"

    def reapply_or_rollback(self) -> str:
        if self.kube.via == "helm":
            command = [*self.helm_base("rollback"), "1", "--wait", f"--timeout={self.kube.rollout_timeout}s"]
            words = "helm rollback to revision 1"
        else:
            command, words = self.kube.apply_command(), "a second kubectl apply -k of the same overlay"
        result = run(command, check=False, timeout=self.kube.rollout_timeout + 30)
        if result.code != 0:
            raise StepFailed(f"{words} failed: {result.stderr.strip()}")
        self.rollout_status()
        images = {c["image"] for p in self.pods() for c in p["spec"]["containers"]}
        if any(image.endswith(ROLLED_SUFFIX) for image in images):
            raise StepFailed(f"{words} left the updated image: {images}")
        return f"{words}: no immutable-field error, rolled back to {', '.join(sorted(images))}"

    def delete_keeps_pvcs(self) -> str:
        pvcs_before = {c["metadata"]["name"] for c in self.get_json("persistentvolumeclaims")}
        if self.kube.via == "helm":
            command, words = self.kube.helm.uninstall(KUBECTL_TIMEOUT), "helm uninstall"
        else:
            command = [*self.kube.kubectl.namespaced_argv(), "delete", "-k", str(self.kube.source()), "--wait=true"]
            words = "kubectl delete -k"
        result = run(command, check=False, timeout=KUBECTL_TIMEOUT + 30)
        if result.code != 0:
            raise StepFailed(f"{words} failed: {result.stderr.strip()}")
        deadline = time.monotonic() + KUBECTL_TIMEOUT
        while True:
            left = self.namespace_objects() - NAMESPACE_DEFAULTS - {f"secret/{self.own_secret}"}
            left -= {f"configmap/{n}" for n in self.update_configmaps}
            others = {name for name in left if not name.startswith("persistentvolumeclaim/")}
            pvcs = {name.split("/", 1)[1] for name in left - others}
            if not others:
                break
            if time.monotonic() > deadline:
                raise StepFailed(f"{words} left {sorted(others)}")
            time.sleep(1)
        if pvcs != pvcs_before:
            raise StepFailed(f"{words}: PVCs before {sorted(pvcs_before)}, after {sorted(pvcs)}")
        return f"{words} removed everything but the {len(pvcs)} PVCs"

    # -- ZooKeeper on a cluster, where members run ----------------------------------------------------------------

    def delete_pod_keeps_data(self) -> str:
        """Delete the last member's pod: the StatefulSet brings it back on its PVC, with its transaction logs."""
        member = self.everyone[-1]
        pod = self.kube.pod(member)
        files_before = self.data_files(member)
        if not files_before:
            raise StepFailed(f"{pod} has no transaction log or snapshot in its data directory to compare")
        start = time.monotonic()
        self.check([*self.kube.kubectl.namespaced_argv(), "delete", "pod", pod, "--wait=true"], f"delete {pod}")
        self.rollout_status()
        states = self.wait_for_quorum(self.everyone, "after_pod_delete")
        self.report.timings["pod_back_ready"] = time.monotonic() - start
        lost = files_before - self.data_files(member)
        if lost:
            raise StepFailed(f"{pod} came back without {sorted(lost)}: not on the volume it had")
        return (
            f"{pod} deleted, back Ready with quorum {self.report.timings['pod_back_ready']:.1f} s later "
            f"({describe(states)}); its {len(files_before)} data files still there; "
            + self.read_everywhere([member], FIRST_VALUE)
        )

    def data_files(self, member: int) -> set[str]:
        script = f'ls "${{ZOO_DATA_DIR:-{DATA_DIR}}}/version-2"'
        result = self.target.exec(member, ["bash", "-c", script], self.timeouts.command)
        return set(result.stdout.split()) if result.code == 0 else set()

    def quorum_lost_probes(self) -> str:
        """Member 0 alone: its readiness probe fails (the client Service drops it), its liveness probe does not
        (no restart loop) for longer than the liveness probe's whole failure window."""
        pod = self.kube.pod(0)
        spec = self.pod_json(pod)["spec"]["containers"][0]
        liveness = spec.get("livenessProbe") or {}
        window = liveness.get("periodSeconds", 10) * liveness.get("failureThreshold", 3) + 10
        restarts_before = self.restart_count(pod)
        start = time.monotonic()
        while self.pod_ready(pod):
            if time.monotonic() - start > 60:
                raise StepFailed(f"{pod} still Ready 60 s after losing the quorum: the readiness probe passes alone")
            time.sleep(1)
        not_ready_after = time.monotonic() - start
        while time.monotonic() - start < not_ready_after + window:
            if self.restart_count(pod) != restarts_before:
                raise StepFailed(f"{pod} restarted while without a quorum: the liveness probe failed on it")
            time.sleep(2)
        return (
            f"{pod} not Ready {not_ready_after:.1f} s after losing the quorum; no restart in the next {window} s "
            f"(the liveness probe's {liveness.get('failureThreshold', 3)} x {liveness.get('periodSeconds', 10)} s "
            f"window; restartCount {restarts_before})"
        )

    def wait_replaced(self, pod: str, old_uid: str) -> None:
        """Until the StatefulSet's new pod of that name (another uid) is Ready; bounded by the rollout timeout."""
        deadline = time.monotonic() + self.kube.rollout_timeout
        argv = [*self.kube.kubectl.namespaced_argv(), "get", "pod", pod, "-o", "json"]
        while True:
            result = run(argv, check=False, timeout=KUBECTL_TIMEOUT)
            if result.code == 0:
                current = json.loads(result.stdout)
                conditions = current["status"].get("conditions", [])
                if current["metadata"]["uid"] != old_uid and any(
                    c["type"] == "Ready" and c["status"] == "True" for c in conditions
                ):
                    return
            if time.monotonic() > deadline:
                raise StepFailed(f"{pod} not back Ready within {self.kube.rollout_timeout} s after its eviction")
            time.sleep(0.5)

    def configmap_names(self) -> set[str]:
        return {c["metadata"]["name"] for c in self.get_json("configmaps")}

    def pod_json(self, pod: str) -> dict:
        return json.loads(self.check([*self.kube.kubectl.namespaced_argv(), "get", "pod", pod, "-o", "json"],
                                     f"get {pod}").stdout)

    def pod_ready(self, pod: str) -> bool:
        conditions = self.pod_json(pod)["status"].get("conditions", [])
        return any(c["type"] == "Ready" and c["status"] == "True" for c in conditions)

    def restart_count(self, pod: str) -> int:
        return sum(s.get("restartCount", 0) for s in self.pod_json(pod)["status"].get("containerStatuses", []))

    def reapply_keeps_data(self) -> str:
        """After the delete of the previous step, the same apply (or helm install) again: the members come back on
        the PVCs it kept, with the last value written."""
        start = time.monotonic()
        result = run(self.kube.apply_command(), check=False, timeout=300)
        if result.code != 0:
            raise StepFailed(f"{self.apply_words()} again failed: {result.stderr.strip()}")
        self.rollout_status()
        states = self.wait_for_quorum(self.everyone, "after_reapply")
        self.report.timings["reapply_to_quorum"] = time.monotonic() - start
        return (
            f"{self.apply_words()} again: quorum {self.report.timings['reapply_to_quorum']:.1f} s later "
            f"({describe(states)}); " + self.read_everywhere(self.everyone, SECOND_VALUE)
        )

    def upgrade_from_previous_chart(self) -> str:
        """In a fresh namespace: install the chart as it was before its latest change, then upgrade to this one."""
        previous = previous_chart_commit()
        if previous is None:
            raise NotRun("no earlier version of chart/ in this checkout's git history")
        kubectl, helm = self.kube.kubectl, self.kube.helm
        with tempfile.TemporaryDirectory(prefix="kz-previous-chart-") as tmp:
            archive = Path(tmp) / "chart.tar"
            run(["git", "-C", str(REPO_ROOT), "archive", f"--output={archive}", previous, "chart"], timeout=60)
            run(["tar", "-x", "-f", str(archive), "-C", tmp], timeout=60)
            old_chart = Path(tmp) / "chart"
            old_values = old_chart / "ci" / f"{self.kube.env}-values.yaml"
            namespace = f"{kubectl.namespace}-up"
            other = type(kubectl)(kubectl.program, kubectl.context, namespace, kubectl.kubeconfig)
            other_helm = type(helm)(helm.program, helm.context, namespace, helm.kubeconfig)
            wait = ["--wait", f"--timeout={self.kube.rollout_timeout}s"]
            self.check(other.create_namespace(), "create the upgrade namespace")
            if self.own_secret:
                create_admin_secret(other, self.own_secret)
            try:
                for chart, values, words in (
                    (old_chart, old_values, f"installing the chart of {previous[:10]}"),
                    (self.kube.root / "chart", self.kube.source(), f"helm upgrade from the chart of {previous[:10]}"),
                ):
                    command = [*other_helm.upgrade_install(chart, values if values.is_file() else None), *wait]
                    result = run(command, check=False, timeout=self.kube.rollout_timeout + 30)
                    if result.code != 0:
                        raise StepFailed(f"{words} failed: {result.stderr.strip()}")
            finally:
                run(other_helm.uninstall(KUBECTL_TIMEOUT), check=False, timeout=KUBECTL_TIMEOUT + 30)
                run(other.delete_namespace(KUBECTL_TIMEOUT), check=False, timeout=KUBECTL_TIMEOUT + 30)
        return f"helm upgrade from the chart of commit {previous[:10]} to this one: no error, rollout complete"

    # -- scaling ----------------------------------------------------------------------------------------------------

    def scale_words(self, members: int) -> str:
        if self.kube.via == "helm":
            return f"{self.apply_words()} --set replicas={members}"
        source = self.kube.source().relative_to(self.kube.root)
        return f"kubectl apply -k {source}" + (f" plus {FIVE_MEMBERS}" if members != self.kube.members else "")

    def apply_scale(self, members: int) -> None:
        """The one setting: helm's replicas, or Kustomize's five-members component over the overlay (and the
        overlay alone to come back)."""
        if self.kube.via == "helm":
            # always said: `helm upgrade` with no value given reuses the release's last values (replicas=5)
            result = run([*self.kube.apply_command(), "--set", f"replicas={members}"], check=False, timeout=300)
        elif members == self.kube.members:
            result = run(self.kube.apply_command(), check=False, timeout=300)
        else:
            with self.with_five_members() as directory:
                result = run(self.kube.kubectl.apply_kustomize(directory), check=False, timeout=300)
        if result.code != 0:
            raise StepFailed(f"{self.scale_words(members)} failed: {result.stderr.strip()}")

    @contextlib.contextmanager
    def with_five_members(self):
        """A kustomization listing the overlay and components/five-members, as a user adds the component."""
        overlay = self.kube.source().resolve()
        with tempfile.TemporaryDirectory(prefix="kz-five-") as tmp:
            kustomization = {
                "apiVersion": "kustomize.config.k8s.io/v1beta1",
                "kind": "Kustomization",
                "resources": [os.path.relpath(overlay, tmp)],  # kustomize refuses absolute paths
                "components": [os.path.relpath(self.kube.root / FIVE_MEMBERS, tmp)],
            }
            (Path(tmp) / "kustomization.yaml").write_text(yaml.safe_dump(kustomization))
            yield Path(tmp)

    def scale_manifests(self, members: int) -> str:
        """The overlay rendered with another count in both places (the StatefulSet, the ensemble ConfigMap)."""
        documents = []
        for document in yaml.safe_load_all(self.rendered()):
            if document and document.get("kind") == "StatefulSet":
                document["spec"]["replicas"] = members
            if document and document.get("kind") == "ConfigMap" and ENSEMBLE_KEY in (document.get("data") or {}):
                document["data"][ENSEMBLE_KEY] = str(members)
            documents.append(document)
        return yaml.safe_dump_all([d for d in documents if d])

    def scaling_policy_installed(self) -> bool:
        result = run([*self.kube.kubectl.global_argv(), "get", "validatingadmissionpolicy", SCALING_POLICY, "-o",
                      "name"], check=False, timeout=KUBECTL_TIMEOUT)
        return result.code == 0

    def member_pods(self) -> dict[str, tuple[str, int]]:
        """Every member pod's uid and its containers' restart count."""
        return {
            p["metadata"]["name"]: (
                p["metadata"]["uid"],
                sum(s.get("restartCount", 0) for s in p["status"].get("containerStatuses") or []),
            )
            for p in self.pods()
        }

    def revisions(self) -> str:
        """The StatefulSet's current and update revision (one name when no rollout is in progress)."""
        status = self.get_json("statefulsets")[0]["status"]
        current, update = status.get("currentRevision", ""), status.get("updateRevision", "")
        return current if current == update else f"{current} -> {update}"

    def live_replicas(self) -> int:
        return self.get_json("statefulsets")[0]["spec"]["replicas"]

    def expect_untouched(self, kept: dict[str, tuple[str, int]], revision: str, when: str) -> None:
        now = self.member_pods()
        changed = {pod: now.get(pod) for pod, before in kept.items() if now.get(pod) != before}
        if changed:
            raise StepFailed(f"scaling {when} restarted or replaced members {sorted(changed)} (uid, restarts before "
                             f"{[kept[p] for p in sorted(changed)]}, after {[changed[p] for p in sorted(changed)]})")
        if self.revisions() != revision:
            raise StepFailed(f"scaling {when} changed the pod template: revision {revision} -> {self.revisions()}")

    def wait_pod_count(self, count: int, seconds: float = 60) -> list[dict]:
        deadline = time.monotonic() + seconds
        while True:
            pods = self.pods()
            if len(pods) == count:
                return pods
            if time.monotonic() > deadline:
                names = sorted(p["metadata"]["name"] for p in pods)
                raise StepFailed(f"{len(pods)} member pods, expected {count}: {names}")
            time.sleep(0.5)

    def scaled_placement(self, pods: list[dict]) -> str:
        """'all Ready' after the rollout, or, where required anti-affinity finds fewer nodes than members, the
        scheduler's reason for each member left Pending (what a production cluster of 3 nodes says)."""
        nodes = [n for n in self.get_json("nodes", namespaced=False) if not n["spec"].get("unschedulable")]
        if self.kube.env == "production" and len(nodes) < len(pods):
            deadline = time.monotonic() + 30
            while True:
                # the reason settles once the new claims are bound (first: "unbound immediate PersistentVolumeClaims")
                pending = [r for r in self.pending_reasons().split("; ") if "anti-affinity" in r]
                if len(pending) == len(pods) - len(nodes):
                    return f"{len(pending)} Pending on {len(nodes)} nodes ({pending[0]})"
                if time.monotonic() > deadline:
                    raise StepFailed(f"with {len(nodes)} nodes, expected {len(pods) - len(nodes)} members Pending "
                                     f"(required anti-affinity): {self.pending_reasons()}")
                time.sleep(0.5)
        self.rollout_status()
        return f"all {len(pods)} Ready"

    def ensemble_count(self) -> str:
        name = f"{self.kube.statefulset}-ensemble"
        result = self.check([*self.kube.kubectl.namespaced_argv(), "get", "configmap", name, "-o",
                             "jsonpath={.data.replicas}"], f"read ConfigMap {name}")
        return result.stdout.strip()

    def wait_pdb(self, expected: int, seconds: float = 60) -> str:
        """The disruption controller's view once it counts `expected` pods."""
        deadline = time.monotonic() + seconds
        while True:
            (pdb,) = self.get_json("poddisruptionbudgets")
            status = pdb.get("status") or {}
            if status.get("expectedPods") == expected:
                return (f"expects {expected} pods, {status.get('currentHealthy')} healthy, allows "
                        f"{status.get('disruptionsAllowed')} disruption(s)")
            if time.monotonic() > deadline:
                raise StepFailed(f"PodDisruptionBudget {pdb['metadata']['name']} counts {status.get('expectedPods')} "
                                 f"pods, expected {expected}")
            time.sleep(0.5)

    def voting_sets(self, members) -> str:
        """Where members run ZooKeeper: every member's `conf` names the same voters, one per member."""
        wanted = {str(m + 1) for m in members}
        deadline = time.monotonic() + self.timeouts.quorum
        while True:
            seen = {m: zk_voters(self.four_letter(m, "conf")) for m in members}
            if all(voters == wanted for voters in seen.values()):
                return f"every member's conf lists voters {sorted(wanted, key=int)}"
            if time.monotonic() > deadline:
                raise StepFailed(f"voting sets (server ids) after {self.timeouts.quorum:.0f} s: "
                                 + ", ".join(f"member {m}: {sorted(v, key=int)}" for m, v in seen.items()))
            time.sleep(self.timeouts.poll * 4)

    # -- helpers ----------------------------------------------------------------------------------------------------

    def members_run_containers(self) -> bool:
        """False when every node the members are on is a kwok node (no kubelet, no containers)."""
        if self.containers_run is None and self.nodes:
            self.containers_run = self.nodes == "real"
        if self.containers_run is None:
            nodes = self.get_json("nodes", namespaced=False)
            self.containers_run = not nodes or not all(
                KWOK_NODE_ANNOTATION in n["metadata"].get("annotations", {}) for n in nodes
            )
        return self.containers_run

    @property
    def arrange_nodes(self) -> bool:
        """Only kwok nodes, which run nothing, are cordoned by the scenario; a cluster with real nodes never is."""
        return not self.members_run_containers()

    def arrange(self) -> None:
        """On the local cluster, the nodes of the other kind cordoned; on kwok nodes only, one schedulable node for
        the laptop profiles (the rest cordoned)."""
        if self.nodes:
            kwok = self.nodes == "kwok"
            nodes = self.get_json("nodes", namespaced=False)
            self.cordon(sorted(n["metadata"]["name"] for n in nodes
                               if (KWOK_NODE_ANNOTATION in n["metadata"].get("annotations", {})) != kwok))
        if not self.arrange_nodes or self.kube.env not in LAPTOP_ENVIRONMENTS:
            return
        self.cordon(self.node_names()[1:])

    def node_names(self) -> list[str]:
        return sorted(n["metadata"]["name"] for n in self.get_json("nodes", namespaced=False))

    def cordon(self, nodes: list[str]) -> list[str]:
        """Cordon those of the nodes not cordoned yet; returns them."""
        added = [node for node in nodes if node not in self.cordoned]
        for node in added:
            self.check([*self.kube.kubectl.global_argv(), "cordon", node], f"cordon {node}")
            self.cordoned.append(node)
        return added

    def cordon_all(self) -> list[str]:
        return self.cordon(self.node_names())

    def uncordon(self, nodes: list[str] | None = None) -> None:
        """Uncordon the given nodes (default: every node the scenario cordoned)."""
        for node in list(self.cordoned if nodes is None else nodes):
            run([*self.kube.kubectl.global_argv(), "uncordon", node], check=False, timeout=KUBECTL_TIMEOUT)
            self.cordoned.remove(node)

    def cordoned_words(self) -> str:
        return f" ({', '.join(self.cordoned)} cordoned: a one-node cluster)" if self.cordoned else ""

    def drain_node_of(self, pod: str) -> str:
        """On kwok nodes, `kubectl drain` the pod's node when only that member runs there ('' otherwise: the
        caller evicts through the API). kwok brings a replacement up in under a second, so the member must be kept
        down as a full cluster would keep it: production's required anti-affinity does that by itself once its node
        is cordoned (two nodes left, each with a member); for the other profiles every node is cordoned first."""
        if not self.arrange_nodes:
            return ""
        placement = {p["metadata"]["name"]: p["spec"].get("nodeName") for p in self.pods()}
        if self.kube.env != "production":
            self.cordon_all()
        node = placement[pod]
        if list(placement.values()).count(node) != 1:
            return ""
        result = run(
            [
                *self.kube.kubectl.global_argv(),
                "drain",
                node,
                f"--pod-selector={SELECTOR}",
                "--ignore-daemonsets",
                "--delete-emptydir-data",
                "--timeout=120s",
            ],
            check=False,
            timeout=180,
        )
        if result.code != 0:
            raise StepFailed(f"kubectl drain {node} failed: {result.stderr.strip()}")
        if node not in self.cordoned:
            self.cordoned.append(node)  # drain cordoned it
        return node

    def wait_pending(self, pod: str) -> str:
        """The member stays Pending on the nodes left (required anti-affinity); returns the scheduler's reason."""
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            reason = self.pending_reasons()
            if reason.startswith(f"{pod} Pending"):
                return f"on {len(self.get_json('nodes', namespaced=False)) - len(self.cordoned)} nodes: {reason}"
            time.sleep(0.5)
        placement = {p["metadata"]["name"]: p["spec"].get("nodeName") for p in self.pods()}
        raise StepFailed(f"{pod} did not stay Pending with its node drained: {placement}")

    def uncordon_drained(self) -> None:
        if self.arrange_nodes:
            self.uncordon()
            self.arrange()

    def evict(self, pod: str):
        body = json.dumps(
            {
                "apiVersion": "policy/v1",
                "kind": "Eviction",
                "metadata": {"name": pod, "namespace": self.kube.kubectl.namespace},
            }
        )
        path = f"/api/v1/namespaces/{self.kube.kubectl.namespace}/pods/{pod}/eviction"
        return run(
            [*self.kube.kubectl.global_argv(), "create", "--raw", path, "-f", "-"],
            input=body,
            check=False,
            timeout=KUBECTL_TIMEOUT,
        )

    def set_ready(self, pod: str, ready: bool) -> None:
        status = "True" if ready else "False"
        patch = {
            "status": {
                "conditions": [{"type": "Ready", "status": status}, {"type": "ContainersReady", "status": status}]
            }
        }
        self.check(
            [
                *self.kube.kubectl.namespaced_argv(),
                "patch",
                "pod",
                pod,
                "--subresource=status",
                "--type=strategic",
                "-p",
                json.dumps(patch),
            ],
            f"mark {pod} {'ready' if ready else 'not ready'}",
        )

    def wait_endpoints(self, service: str, expected: set[str], when: str) -> None:
        deadline = time.monotonic() + 60
        while True:
            slices = self.get_json("endpointslices", selector=f"kubernetes.io/service-name={service}")
            ready = {
                address
                for s in slices
                for e in s.get("endpoints") or []
                if (e.get("conditions") or {}).get("ready", True)  # publishNotReadyAddresses: ready for every pod
                for address in e.get("addresses", [])
            }
            if ready == expected:
                return
            if time.monotonic() > deadline:
                raise StepFailed(f"Service {service} ({when}): endpoints {sorted(ready)}, expected {sorted(expected)}")
            time.sleep(0.5)

    def rollout_status(self) -> None:
        timeout = self.kube.rollout_timeout
        result = run(
            [
                *self.kube.kubectl.namespaced_argv(),
                "rollout",
                "status",
                f"statefulset/{self.kube.statefulset}",
                f"--timeout={timeout}s",
            ],
            check=False,
            timeout=timeout + 30,
        )
        if result.code != 0:
            raise StepFailed(
                f"rollout not complete within {timeout} s: {result.stderr.strip()}; {self.pending_reasons()}"
            )

    def pending_reasons(self) -> str:
        """The scheduler's own message for each Pending member."""
        reasons = []
        for pod in self.pods():
            for condition in pod["status"].get("conditions", []):
                if condition["type"] == "PodScheduled" and condition["status"] != "True":
                    reasons.append(f"{pod['metadata']['name']} Pending: {condition.get('message', '')}")
        return "; ".join(reasons) or "no member Pending"

    def update_command(self) -> list[str]:
        """A rolling update: a new image tag on kwok nodes (nothing is pulled), a changed setting where pods run."""
        if self.kube.via == "helm":
            source = self.kube.apply_command()
            if self.members_run_containers():
                return [*source, "--set", "zookeeper.logLevel=WARN"]
            tag = self.rendered_image().rsplit(":", 1)[1]
            return [*source, "--set", f"image.tag={tag}{ROLLED_SUFFIX}"]
        return [*self.kube.kubectl.namespaced_argv(), "apply", "-f", "-"]

    def update_input(self) -> str | None:
        if self.kube.via == "helm":
            return None
        overlay = self.kube.source().resolve()
        if self.members_run_containers():
            extra = {
                "configMapGenerator": [
                    {"name": "zookeeper-config", "behavior": "merge", "literals": ["ZOO_LOG_LEVEL=WARN"]}
                ]
            }
        else:
            name, tag = self.rendered_image().rsplit(":", 1)
            extra = {"images": [{"name": name, "newTag": tag + ROLLED_SUFFIX}]}
        with tempfile.TemporaryDirectory(prefix="kz-rolled-") as tmp:
            kustomization = {
                "apiVersion": "kustomize.config.k8s.io/v1beta1",
                "kind": "Kustomization",
                "resources": [os.path.relpath(overlay, tmp)],  # kustomize refuses absolute paths
                **extra,
            }
            (Path(tmp) / "kustomization.yaml").write_text(yaml.safe_dump(kustomization))
            return run([*self.kube.kubectl.global_argv(), "kustomize", tmp], timeout=KUBECTL_TIMEOUT).stdout

    def rendered(self) -> str:
        if self.kube.via == "helm":
            values = self.kube.source()
            return helm.template(
                self.kube.root / "chart",
                release="zookeeper",
                values=[values] if values.is_file() else [],
                namespace=self.kube.kubectl.namespace,
            )
        kustomize = [*self.kube.kubectl.global_argv(), "kustomize", str(self.kube.source())]
        return run(kustomize, timeout=KUBECTL_TIMEOUT).stdout

    def rendered_image(self) -> str:
        for document in yaml.safe_load_all(self.rendered()):
            if document and document.get("kind") == "StatefulSet":
                image = document["spec"]["template"]["spec"]["containers"][0]["image"]
                return image.split("@", 1)[0]
        raise StepFailed("no StatefulSet in the rendered manifests")

    def apply_words(self) -> str:
        source = self.kube.source().relative_to(self.kube.root)
        if self.kube.via == "helm":
            return "helm upgrade --install zookeeper chart/" + (f" -f {source}" if source.suffix else "")
        return f"kubectl apply -k {source}"

    def helm_base(self, verb: str) -> list[str]:
        return [self.kube.helm.program, verb, "zookeeper", *self.kube.helm.scope_argv()]

    def pods(self) -> list[dict]:
        return self.get_json("pods", selector=SELECTOR)

    def get_json(self, kind: str, *, selector: str | None = None, namespaced: bool = True) -> list[dict]:
        base = self.kube.kubectl.namespaced_argv() if namespaced else self.kube.kubectl.global_argv()
        argv = [*base, "get", kind, "-o", "json"] + (["--selector", selector] if selector else [])
        return json.loads(self.check(argv, f"list {kind}").stdout)["items"]

    def namespace_objects(self) -> set[str]:
        kinds = self.check(
            [*self.kube.kubectl.global_argv(), "api-resources", "--verbs=list", "--namespaced", "-o", "name"],
            "list the API's resource kinds",
        ).stdout.split()
        kinds = [k for k in kinds if k not in ("events", "events.events.k8s.io")]
        result = self.check(
            [*self.kube.kubectl.namespaced_argv(), "get", ",".join(kinds), "-o", "name", "--ignore-not-found"],
            "list the namespace's objects",
        )
        return {
            line.split("/", 1)[0].split(".", 1)[0] + "/" + line.split("/", 1)[1]
            for line in result.stdout.split()
            if "/" in line
        }

    def storage_classes(self, pvcs: list[dict]) -> set[str]:
        return {c["spec"].get("storageClassName") or "(none)" for c in pvcs}

    def check(self, argv: list[str], what: str):
        """Run a kubectl step; its failure is the step's failure, with the API server's own message."""
        result = run(argv, check=False, timeout=KUBECTL_TIMEOUT)
        if result.code != 0:
            raise StepFailed(f"could not {what}: {result.stderr.strip()}")
        return result


class Writer:
    """Creates /kz-writer/w-N one at a time, through each member in turn, while the members are replaced; keeps the
    writes ZooKeeper acknowledged (zkCli.sh exit 0). verify() then finds every one of them on member 0."""

    PARENT = "/kz-writer"

    def __init__(self, scenario: KubeScenario):
        self.scenario = scenario
        self.acknowledged: list[str] = []
        self.refused = 0
        self.stopping = threading.Event()

    def create(self, member: int, path: str) -> bool:
        argv = zookeeper.zkcli_argv("create", path, "x", timeout_seconds=20)
        return self.scenario.target.exec(member, argv, 30).code == 0

    def __enter__(self) -> Writer:
        # every member serving first: the member the previous step evicted may still be on its way back
        self.scenario.wait_for_quorum(self.scenario.everyone, "before_rolling_update")
        if not self.create(0, self.PARENT):
            raise StepFailed(f"could not create {self.PARENT} through member 0 before the update")
        self.thread = threading.Thread(target=self.write, daemon=True)
        self.thread.start()
        return self

    def write(self) -> None:
        count = 0
        while not self.stopping.is_set():
            path = f"{self.PARENT}/w-{count:05d}"
            if self.create(count % self.scenario.kube.members, path):
                self.acknowledged.append(path)
            else:
                self.refused += 1
            count += 1

    def __exit__(self, *exc) -> None:
        self.stopping.set()
        self.thread.join(timeout=60)

    def verify(self) -> str:
        if len(self.acknowledged) < self.scenario.kube.members:
            raise StepFailed(f"only {len(self.acknowledged)} writes acknowledged during the update: too few to tell")
        self.scenario.wait_for_quorum(self.scenario.everyone, "after_rolling_update")
        result = self.scenario.target.exec(0, zookeeper.zkcli_argv("ls", self.PARENT, timeout_seconds=30), 40)
        listing = next((line for line in zookeeper.zkcli_value(result.stdout) if line.startswith("[")), "")
        present = {f"{self.PARENT}/{name.strip()}" for name in listing.strip("[]").split(",") if name.strip()}
        lost = [path for path in self.acknowledged if path not in present]
        if result.code != 0 or lost:
            raise StepFailed(
                f"{len(lost)} of {len(self.acknowledged)} acknowledged writes lost in the rolling update "
                f"({', '.join(lost[:5]) or zookeeper.client_error(result.stdout, result.stderr)})"
            )
        return (
            f"a writer during it: {len(self.acknowledged)} writes acknowledged, 0 lost "
            f"({self.refused} refused while members were replaced)"
        )


class UnavailabilityWatch:
    """Watches the members' pods during an update and keeps the most that were unavailable at once."""

    # Fields joined by "|" (kubectl's watch output turns tabs into spaces, which would merge the empty ones).
    TEMPLATE = (
        '{.type}{"|"}{.object.metadata.name}{"|"}{.object.metadata.uid}{"|"}'
        '{.object.metadata.deletionTimestamp}{"|"}'
        '{.object.status.conditions[?(@.type=="Ready")].status}{"\\n"}'
    )

    def __init__(self, kubectl, members: int):
        self.argv = [
            *kubectl.namespaced_argv(),
            "get",
            "pods",
            "--selector",
            SELECTOR,
            "--watch",
            "--output-watch-events",
            "-o",
            f"jsonpath={self.TEMPLATE}",
        ]
        self.members = members
        self.available: dict[str, bool] = {}
        self.uids: dict[str, set[str]] = {}
        self.max_unavailable = 0
        self.worst = ""  # the members' states when the most were unavailable
        self.synced = threading.Event()

    @property
    def restarted(self) -> int:
        """Members whose pod was replaced (a new uid) while watched."""
        return sum(1 for uids in self.uids.values() if len(uids) > 1)

    def __enter__(self) -> UnavailabilityWatch:
        self.process = subprocess.Popen(self.argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.reader = threading.Thread(target=self.read, daemon=True)
        self.reader.start()
        if not self.synced.wait(30):
            self.process.kill()
            raise StepFailed("watching the pods: no initial list within 30 s")
        return self

    def read(self) -> None:
        for line in self.process.stdout:
            fields = line.strip().split("|")
            if len(fields) != 5:
                continue
            kind, name, uid, deleting, ready = fields
            self.uids.setdefault(name, set()).add(uid)
            self.available[name] = kind != "DELETED" and not deleting and ready == "True"
            if len(self.available) >= self.members:
                self.synced.set()
                unavailable = self.members - sum(self.available.values())
                if unavailable > self.max_unavailable:
                    self.max_unavailable = unavailable
                    self.worst = ", ".join(f"{pod} {'ready' if up else 'down'}" for pod, up in
                                           sorted(self.available.items()))

    def __exit__(self, *exc) -> None:
        time.sleep(1)  # the last events of the rollout
        self.process.terminate()
        self.process.wait(timeout=10)
        self.reader.join(timeout=5)


def admin_secret_reference(manifests: str) -> tuple[str, bool]:
    """The Secret the StatefulSet mounts at /etc/zookeeper/admin, and whether the manifests carry it."""
    documents = [d for d in yaml.safe_load_all(manifests) if d]
    for document in documents:
        if document.get("kind") != "StatefulSet":
            continue
        pod = document["spec"]["template"]["spec"]
        volumes = {v["name"]: v for v in pod.get("volumes", [])}
        for mount in pod["containers"][0].get("volumeMounts", []):
            name = ((volumes.get(mount["name"]) or {}).get("secret") or {}).get("secretName")
            if mount["mountPath"].rstrip("/") == ADMIN_DIR and name:
                return name, any(d.get("kind") == "Secret" and d["metadata"]["name"] == name for d in documents)
    raise StepFailed(f"the StatefulSet mounts no Secret at {ADMIN_DIR}")


def create_admin_secret(kubectl, name: str) -> None:
    """The README's `kubectl create secret generic NAME --from-file=password=...` with a random password, given on
    stdin so it never shows in a process list."""
    argv = [*kubectl.namespaced_argv(), "create", "secret", "generic", name, "--from-file=password=/dev/stdin"]
    result = run(argv, input=secrets.token_urlsafe(24), check=False, timeout=KUBECTL_TIMEOUT)
    if result.code != 0:
        raise StepFailed(f"could not create the admin Secret {name}: {result.stderr.strip()}")


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


def zk_voters(conf: str) -> set[str]:
    """Server ids of the voters in a member's `conf` (zookeeper.parse_conf: participants, a joiner's weight 0
    excluded)."""
    membership = zookeeper.parse_conf(conf)
    return {str(voter) for voter in membership.voters} if membership else set()


def previous_chart_commit() -> str | None:
    """The commit before the latest one that changed chart/, if chart/ existed there (None otherwise)."""
    git = ["git", "-C", str(REPO_ROOT)]
    latest = run([*git, "log", "-1", "--format=%H", "--", "chart"], check=False, timeout=30).stdout.strip()
    if not latest:
        return None
    exists = run([*git, "cat-file", "-e", f"{latest}~1:chart/Chart.yaml"], check=False, timeout=30)
    if exists.code != 0:
        return None
    return run([*git, "rev-parse", f"{latest}~1"], timeout=30).stdout.strip()
