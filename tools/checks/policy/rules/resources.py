"""ZK-RES: requests and limits: memory and cpu set, the JVM heap plus headroom within the memory limit, no request
above its limit."""

from __future__ import annotations

from tools.checks.policy.context import Context
from tools.checks.policy.model import ERROR, MI, Hit, get, get_map, human, k8s_bytes
from tools.checks.policy.rules._helpers import all_containers, ensemble_containers
from tools.checks.policy.rules._registry import rule


def _resource_rule(kind: str, resource: str, why: str):
    def check(ctx: Context):
        for c in ensemble_containers(ctx):
            if get(c.spec, ("resources", kind, resource)) is None:
                yield Hit(c.manifest, (*c.path, "resources", kind, resource),
                          f"container {c.name}: set resources.{kind}.{resource} ({why})")
    return check


rule("ZK-RES-001", ERROR, "memory request set")(
    _resource_rule("requests", "memory", "the scheduler places members by it"))
rule("ZK-RES-002", ERROR, "memory limit set")(
    _resource_rule("limits", "memory", "the heap check and eviction order depend on it"))
rule("ZK-RES-003", ERROR, "cpu request set")(
    _resource_rule("requests", "cpu", "a starved member misses heartbeats and drops out of the quorum"))


def headroom(limit: float) -> float:
    """Memory beyond the heap the JVM needs (metaspace, threads, direct buffers, GC): max(128Mi, 25% of limit)."""
    return max(128 * MI, limit / 4)


@rule("ZK-RES-004", ERROR, "JVM heap plus headroom max(128Mi, 25% of the limit) fits the memory limit")
def heap_fits_limit(ctx: Context):
    for c in ensemble_containers(ctx):
        limit = k8s_bytes(get(c.spec, ("resources", "limits", "memory")))
        if limit is None:
            continue  # ZK-RES-002
        for heap, text, setting in ctx.heap_settings(c, limit):
            needed = heap + headroom(limit)
            if needed > limit:
                yield Hit(setting.manifest, setting.path, f"heap {text} ({human(heap)}) plus headroom "
                          f"{human(headroom(limit))} (max(128Mi, 25% of the limit)) = {human(needed)} exceeds "
                          f"container {c.name}'s memory limit {human(limit)}; lower the heap to "
                          f"{int((limit - headroom(limit)) // MI)}M or raise the limit")


@rule("ZK-RES-005", ERROR, "every container's requests are at most its limits")
def requests_within_limits(ctx: Context):
    for c in all_containers(ctx):
        for resource, limit in get_map(c.spec, ("resources", "limits")).items():
            request = get(c.spec, ("resources", "requests", resource))
            if request is None or k8s_bytes(request) is None or k8s_bytes(limit) is None:
                continue
            if k8s_bytes(request) > k8s_bytes(limit):
                yield Hit(c.manifest, (*c.path, "resources", "requests", resource), f"container {c.name} requests "
                          f"{resource} {request} above its limit {limit}; the API server refuses the pod (a request "
                          "must not exceed its limit): lower the request or raise the limit")
