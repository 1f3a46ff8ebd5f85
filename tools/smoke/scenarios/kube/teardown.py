"""The delete a user types (`kubectl delete -k`, `helm uninstall`) removes everything but the PVCs, and the same
apply again brings the members back on them with the last value written."""

from __future__ import annotations

import time

from tools.cli.kubectl import TIMEOUT as KUBECTL_TIMEOUT
from tools.smoke.scenario import SECOND_VALUE, StepFailed, describe
from tools.smoke.scenarios.kube.context import KubeContext
from tools.smoke.targets.kube import RELEASE

# Objects every namespace has, which a delete of the ensemble leaves alone.
NAMESPACE_DEFAULTS = {"configmap/kube-root-ca.crt", "serviceaccount/default"}


def delete_keeps_pvcs(s: KubeContext) -> str:
    pvcs_before = {c["metadata"]["name"] for c in s.get_json("persistentvolumeclaims")}
    if s.kube.via == "helm":
        result, words = s.kube.helm.uninstall(RELEASE, KUBECTL_TIMEOUT, check=False), "helm uninstall"
    else:
        result, words = s.kube.kubectl.delete(directory=s.kube.source(), check=False), "kubectl delete -k"
    if result.code != 0:
        raise StepFailed(f"{words} failed: {result.stderr.strip()}")
    deadline = time.monotonic() + KUBECTL_TIMEOUT
    while True:
        left = namespace_objects(s) - NAMESPACE_DEFAULTS - {f"secret/{s.own_secret}"}
        left -= {f"configmap/{n}" for n in s.update_configmaps}
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


def reapply_keeps_data(s: KubeContext) -> str:
    """After the delete of the previous step, the same apply (or helm install) again: the members come back on
    the PVCs it kept, with the last value written."""
    start = time.monotonic()
    result = s.kube.apply(check=False)
    if result.code != 0:
        raise StepFailed(f"{s.apply_words()} again failed: {result.stderr.strip()}")
    s.rollout_status()
    states = s.wait_for_quorum(s.everyone, "after_reapply")
    s.report.timings["reapply_to_quorum"] = time.monotonic() - start
    return (
        f"{s.apply_words()} again: quorum {s.report.timings['reapply_to_quorum']:.1f} s later "
        f"({describe(states)}); " + s.read_everywhere(s.everyone, SECOND_VALUE)
    )


def namespace_objects(s: KubeContext) -> set[str]:
    """Every object left in the namespace, as kind/name (the kind without its API group)."""
    kubectl = s.kube.kubectl
    with s.could("list the API's resource kinds"):
        kinds = kubectl.api_resources(namespaced=True)
    kinds = [k for k in kinds if k not in ("events", "events.events.k8s.io")]
    with s.could("list the namespace's objects"):
        result = kubectl.get(",".join(kinds), output="name", ignore_not_found=True)
    return {
        line.split("/", 1)[0].split(".", 1)[0] + "/" + line.split("/", 1)[1]
        for line in result.stdout.split()
        if "/" in line
    }
