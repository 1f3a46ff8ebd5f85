"""ZK-AFF: pod anti-affinity and spread terms that keep members on different nodes (required in production, only
preferred on one-node laptop clusters)."""

from __future__ import annotations

from tools.checks.policy.context import Context
from tools.checks.policy.model import (
    ERROR,
    LAPTOP_TYPES,
    WARNING,
    Hit,
    get,
    get_list,
    get_map,
    pod_labels,
    pod_spec_path,
    selector_matches,
)
from tools.checks.policy.rules._helpers import replicas
from tools.checks.policy.rules._registry import rule

HOSTNAME = "kubernetes.io/hostname"


def anti_affinity_terms(statefulset, pod_path):
    """(kind, term path, term) for every pod anti-affinity term: 'required' or 'preferred'."""
    base = (*pod_path, "affinity", "podAntiAffinity")
    required = get_list(statefulset.doc, (*base, "requiredDuringSchedulingIgnoredDuringExecution"))
    for index, term in enumerate(required):
        yield "required", (*base, "requiredDuringSchedulingIgnoredDuringExecution", index), get_map(term)
    preferred = get_list(statefulset.doc, (*base, "preferredDuringSchedulingIgnoredDuringExecution"))
    for index, weighted in enumerate(preferred):
        yield "preferred", (*base, "preferredDuringSchedulingIgnoredDuringExecution", index, "podAffinityTerm"), \
            get_map(weighted, ("podAffinityTerm",))


def hostname_terms(statefulset, kind: str):
    pod_path, labels = pod_spec_path(statefulset), pod_labels(statefulset)
    return [path for k, path, term in anti_affinity_terms(statefulset, pod_path)
            if k == kind and term.get("topologyKey") == HOSTNAME and selector_matches(term.get("labelSelector"),
                                                                                       labels)]


@rule("ZK-AFF-001", ERROR, "every anti-affinity and spread term's labelSelector matches the pod labels")
def affinity_selectors_match(ctx: Context):
    for statefulset in ctx.by_kind["StatefulSet"]:
        pod_path, labels = pod_spec_path(statefulset), pod_labels(statefulset)
        for kind, path, term in anti_affinity_terms(statefulset, pod_path):
            if not selector_matches(term.get("labelSelector"), labels):
                yield Hit(statefulset, (*path, "labelSelector"), f"this {kind} anti-affinity term's labelSelector "
                          f"matches none of the pod labels {dict(labels)}, so it keeps no two members apart; use the "
                          "pod labels")
        for index, constraint in enumerate(get_list(statefulset.doc, (*pod_path, "topologySpreadConstraints"))):
            if not selector_matches(get(constraint, ("labelSelector",)), labels):
                yield Hit(statefulset, (*pod_path, "topologySpreadConstraints", index, "labelSelector"),
                          f"this spread constraint's labelSelector matches none of the pod labels {dict(labels)}; "
                          "use the pod labels")


@rule("ZK-AFF-002", ERROR, "production requires one member per node", types=("production",))
def production_required_anti_affinity(ctx: Context):
    for statefulset in ctx.by_kind["StatefulSet"]:
        if not hostname_terms(statefulset, "required"):
            yield Hit(statefulset, (*pod_spec_path(statefulset), "affinity", "podAntiAffinity",
                                    "requiredDuringSchedulingIgnoredDuringExecution"),
                      f"add a requiredDuringSchedulingIgnoredDuringExecution anti-affinity term with topologyKey "
                      f"{HOSTNAME} selecting the pod labels: one node loss must never take two members")


@rule("ZK-AFF-003", ERROR, "laptop clusters must not require one member per node", types=LAPTOP_TYPES)
def laptop_no_required_anti_affinity(ctx: Context):
    for statefulset in ctx.by_kind["StatefulSet"]:
        if replicas(statefulset) > 1:
            for path in hostname_terms(statefulset, "required"):
                yield Hit(statefulset, path, f"a required anti-affinity on {HOSTNAME} leaves all but one member "
                          "Pending on a one-node cluster; use preferredDuringSchedulingIgnoredDuringExecution")


@rule("ZK-AFF-004", WARNING, "members are spread over nodes (preferred anti-affinity at least)")
def some_anti_affinity(ctx: Context):
    if ctx.profile_type == "production":
        return  # ZK-AFF-002 asks for more
    for statefulset in ctx.by_kind["StatefulSet"]:
        if replicas(statefulset) > 1 and not (hostname_terms(statefulset, "required")
                                              or hostname_terms(statefulset, "preferred")):
            yield Hit(statefulset, (*pod_spec_path(statefulset), "affinity", "podAntiAffinity"),
                      f"no anti-affinity on {HOSTNAME}: all members may land on one node; add a preferred term")
