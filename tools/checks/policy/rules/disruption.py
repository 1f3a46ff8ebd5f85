"""ZK-PDB: the PodDisruptionBudget: policy/v1, exactly one over the members, a selector of their labels, a budget that
keeps a quorum and still lets a node drain."""

from __future__ import annotations

from tools.checks.policy import reach
from tools.checks.policy.context import Context
from tools.checks.policy.model import ERROR, Hit, get, get_map, pod_labels, scaled
from tools.checks.policy.rules._helpers import replicas
from tools.checks.policy.rules._registry import rule


def pdbs_for(ctx: Context, statefulset):
    return [pdb for pdb in ctx.by_kind["PodDisruptionBudget"] if statefulset in reach.selected(ctx, pdb)]


@rule("ZK-PDB-001", ERROR, "PodDisruptionBudget uses policy/v1")
def pdb_api_version(ctx: Context):
    for pdb in ctx.by_kind["PodDisruptionBudget"]:
        if pdb.api_version != "policy/v1":
            yield Hit(pdb, ("apiVersion",), f"apiVersion {pdb.api_version} was removed in Kubernetes 1.25; use "
                      "policy/v1 (note: in policy/v1 an empty selector selects every pod in the namespace)")


@rule("ZK-PDB-002", ERROR, "exactly one PodDisruptionBudget covers the StatefulSet's pods")
def one_pdb(ctx: Context):
    for statefulset in ctx.by_kind["StatefulSet"]:
        matching = pdbs_for(ctx, statefulset)
        if not matching:
            yield Hit(statefulset, ("metadata", "name"), f"no PodDisruptionBudget selects the pods of {statefulset.ref}"
                      "; add one (policy/v1, selector = the pod labels, maxUnavailable: 1) so drains keep a quorum")
        for extra in matching[1:]:
            others = ", ".join(m.ref for m in matching if m is not extra)
            yield Hit(extra, ("spec", "selector"), f"{extra.ref} selects the same pods as {others}; the eviction API "
                      "refuses every eviction of a pod covered by two budgets: keep one")


@rule("ZK-PDB-003", ERROR, "the PDB selector matches the pod labels and nothing wider")
def pdb_selector(ctx: Context):
    statefulsets = ctx.by_kind["StatefulSet"]
    for pdb in ctx.by_kind["PodDisruptionBudget"]:
        selector = get_map(pdb.doc, ("spec", "selector"))
        if not (get(selector, ("matchLabels",)) or get(selector, ("matchExpressions",))):
            yield Hit(pdb, ("spec", "selector"), "the selector is missing or empty (policy/v1: every pod in the "
                      "namespace; policy/v1beta1: none); set matchLabels to the StatefulSet's selector labels")
            continue
        matched = reach.selected(ctx, pdb, statefulsets)
        if statefulsets and not matched:
            names = ", ".join(f"{s.ref} {dict(pod_labels(s))}" for s in statefulsets)
            yield Hit(pdb, ("spec", "selector"), f"the selector matches no pod of {names}; use the pod labels")
        for statefulset in matched:
            missing = reach.wider_than(pdb, statefulset)
            if missing:
                yield Hit(pdb, ("spec", "selector"), f"the selector is wider than {statefulset.ref}'s selector and "
                          f"may select other apps' pods; add {', '.join(missing)} to matchLabels")


def _pdb_budget(pdb, size: int) -> tuple[int | None, tuple, str]:
    """(members that stay available, field, text) for a PDB over `size` pods."""
    spec = get_map(pdb.doc, ("spec",))
    if spec.get("maxUnavailable") is not None:
        down = scaled(spec["maxUnavailable"], size)
        return (None if down is None else size - down), ("spec", "maxUnavailable"), \
            f"maxUnavailable {spec['maxUnavailable']}"
    if spec.get("minAvailable") is not None:
        return scaled(spec["minAvailable"], size), ("spec", "minAvailable"), f"minAvailable {spec['minAvailable']}"
    return None, ("spec",), "neither maxUnavailable nor minAvailable"


@rule("ZK-PDB-004", ERROR, "the PDB keeps a quorum")
def pdb_keeps_quorum(ctx: Context):
    for statefulset in ctx.by_kind["StatefulSet"]:
        size = replicas(statefulset)
        quorum = size // 2 + 1
        if size == 1:
            continue  # one member cannot keep a quorum through any disruption (ZK-ENS-001 says so)
        for pdb in pdbs_for(ctx, statefulset):
            available, path, text = _pdb_budget(pdb, size)
            if available is None:
                yield Hit(pdb, path, f"{text} gives no usable budget; set maxUnavailable: 1")
            elif available < quorum and size - quorum < 1:  # an even 2: no budget keeps a quorum and drains
                yield Hit(pdb, path, f"{text} lets {size - available} of {size} members go at once, leaving "
                          f"{available} < quorum {quorum}, and with {size} members no budget keeps a quorum and "
                          "still allows a node drain (ZK-PDB-005); run 3 members (ZK-ENS-001) with maxUnavailable: 1")
            elif available < quorum:
                yield Hit(pdb, path, f"{text} lets {size - available} of {size} members go at once, leaving "
                          f"{available} < quorum {quorum}; set maxUnavailable: {size - quorum} or minAvailable: "
                          f"{quorum}")


@rule("ZK-PDB-005", ERROR, "the PDB still allows one disruption (node drains)")
def pdb_allows_drain(ctx: Context):
    for statefulset in ctx.by_kind["StatefulSet"]:
        size = replicas(statefulset)
        for pdb in pdbs_for(ctx, statefulset):
            available, path, text = _pdb_budget(pdb, size)
            if available is not None and size - available < 1:
                yield Hit(pdb, path, f"{text} with {size} replicas allows no disruption, so every node drain blocks; "
                          f"set maxUnavailable: 1")
