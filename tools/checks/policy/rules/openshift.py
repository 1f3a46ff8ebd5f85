"""ZK-OCP: OpenShift's restricted-v2 SCC assigns the uid, gid and fsGroup: the manifests fix none."""

from __future__ import annotations

from tools.checks.policy.context import Context
from tools.checks.policy.model import ERROR, Hit, containers, get, pod_spec_path
from tools.checks.policy.reach import workloads
from tools.checks.policy.rules._helpers import sc_path
from tools.checks.policy.rules._registry import rule


@rule("ZK-OCP-001", ERROR, "no fixed runAsUser, runAsGroup or fsGroup (the restricted-v2 SCC assigns them)",
      types=("openshift",))
def openshift_no_fixed_ids(ctx: Context):
    for manifest in workloads(ctx):
        pod_path = pod_spec_path(manifest)
        for key in ("runAsUser", "runAsGroup", "fsGroup"):
            if get(manifest.doc, (*pod_path, "securityContext", key)) is not None:
                yield Hit(manifest, (*pod_path, "securityContext", key),
                          f"remove securityContext.{key} from the pod: on OpenShift the SCC assigns it")
        for c in containers(manifest):
            for key in ("runAsUser", "runAsGroup"):
                if c.sc(key) is not None:
                    yield Hit(manifest, sc_path(c, key),
                              f"remove securityContext.{key} from container {c.name}: on OpenShift the SCC assigns it")
