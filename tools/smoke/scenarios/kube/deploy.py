"""Deploying as a user does: a namespace enforcing the `restricted` Pod Security Standard, the admin Secret, a
server-side strict dry run, the apply (or `helm upgrade --install`) and its rollout, the pods and their claims, the
quorum."""

from __future__ import annotations

import secrets
import time

import yaml

from tools.base.contract import ADMIN_DIR
from tools.cli.kubectl import TIMEOUT as KUBECTL_TIMEOUT
from tools.cli.kubectl import Kubectl
from tools.smoke.scenario import NotRun, StepFailed
from tools.smoke.scenarios.kube import disruption
from tools.smoke.scenarios.kube.context import KubeContext
from tools.smoke.targets.kube import SELECTOR

PSA_LABELS = {f"pod-security.kubernetes.io/{mode}": "restricted" for mode in ("enforce", "warn", "audit")}


def restricted_namespace(s: KubeContext) -> str:
    kubectl = s.kube.kubectl
    with s.could("create the namespace"):
        kubectl.create_namespace()
    with s.could("label the namespace"):
        kubectl.label("namespace", kubectl.namespace, PSA_LABELS, namespaced=False)
    disruption.arrange(s)
    return f"namespace {kubectl.namespace} enforces the restricted Pod Security Standard"


def admin_secret(s: KubeContext) -> str:
    """The Secret the members reconfigure the ensemble with: created here, with a random password, when the
    profile only references it (openshift, production: README, "The admin Secret"); else the rendered one."""
    name, rendered = admin_secret_reference(s.rendered())
    if rendered:
        return f"the profile brings its own admin Secret {name} (a laptop one, or the chart's random one)"
    create_admin_secret(s.kube.kubectl, name)
    s.own_secret = name
    return f"created Secret {name} with a random password (the profile references it and ships none)"


def server_dry_run(s: KubeContext) -> str:
    manifests = s.rendered()
    result = s.kube.kubectl.apply(manifests=manifests, dry_run="server", strict=True, check=False,
                                  timeout=KUBECTL_TIMEOUT)
    if result.code != 0:
        raise StepFailed(f"the API server refused the manifests: {result.stderr.strip()}")
    warnings = [line for line in result.stderr.splitlines() if line.strip()]
    if warnings:
        raise StepFailed(f"the API server warned: {' | '.join(warnings)}")
    return f"{len(result.stdout.splitlines())} objects accepted (server-side, strict field validation)"


def apply_and_rollout(s: KubeContext) -> str:
    """The apply and the rollout. On kwok nodes every node is held cordoned until all members exist: with
    Parallel pod management all are created at once, while OrderedReady would wait forever for member 0."""
    start = time.monotonic()
    held = disruption.cordon_all(s) if s.arrange_nodes else []
    result = s.kube.apply(check=False)
    if result.code != 0:
        raise StepFailed(f"{s.apply_words()} failed: {result.stderr.strip()}")
    with s.could("find the StatefulSet"):
        names = s.kube.find_statefulset()
    if len(names) != 1:
        raise StepFailed(f"expected one StatefulSet labelled {SELECTOR}, found {names}")
    s.kube.statefulset = names[0]
    together = ""
    if held:
        created = wait_pods_created(s)
        disruption.uncordon(s, held)
        if created < s.kube.members:
            raise StepFailed(
                f"only {created} of {s.kube.members} members created while none could be scheduled: "
                "the pods do not start together (podManagementPolicy Parallel is needed)"
            )
        together = f"; all {created} members created before any was scheduled (Parallel)"
    s.rollout_status()
    s.report.timings["apply_to_rollout"] = time.monotonic() - start
    return f"{s.apply_words()}; rollout complete in {s.report.timings['apply_to_rollout']:.1f} s{together}"


def pods_running_pvcs_bound(s: KubeContext) -> str:
    pods = s.pods()
    not_running = {
        p["metadata"]["name"]: p["status"].get("phase") for p in pods if p["status"].get("phase") != "Running"
    }
    if len(pods) != s.kube.members or not_running:
        raise StepFailed(f"{len(pods)} pods, not Running: {not_running or 'none'}")
    pvcs = s.get_json("persistentvolumeclaims")
    unbound = {c["metadata"]["name"]: c["status"].get("phase") for c in pvcs if c["status"].get("phase") != "Bound"}
    if not pvcs or unbound:
        raise StepFailed(f"PVCs not bound: {unbound or 'none exist'}")
    s.report.timings["pvcs"] = len(pvcs)
    return f"{len(pods)} pods Running; {len(pvcs)} PVCs Bound ({', '.join(sorted(storage_classes(pvcs)))})"


def quorum(s: KubeContext) -> str:
    if not s.members_run_containers():
        raise NotRun(s.not_run)
    states = s.wait_for_quorum(s.everyone, "start")
    return "quorum: " + ", ".join(f"{state.member}={state.mode}" for state in states)


# -- helpers -----------------------------------------------------------------------------------------------------


def wait_pods_created(s: KubeContext, seconds: float = 10) -> int:
    deadline = time.monotonic() + seconds
    while True:
        count = len(s.pods())
        if count >= s.kube.members or time.monotonic() > deadline:
            return count
        time.sleep(0.5)


def storage_classes(pvcs: list[dict]) -> set[str]:
    return {c["spec"].get("storageClassName") or "(none)" for c in pvcs}


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


def create_admin_secret(kubectl: Kubectl, name: str) -> None:
    """The README's `kubectl create secret generic NAME --from-file=password=...` with a random password, given on
    stdin so it never shows in a process list."""
    result = kubectl.create_secret(name, "password", secrets.token_urlsafe(24), check=False)
    if result.code != 0:
        raise StepFailed(f"could not create the admin Secret {name}: {result.stderr.strip()}")
