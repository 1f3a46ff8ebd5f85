"""ZK-SEC: the securityContext: non-root, no uid 0, unprivileged, no privilege escalation, no capabilities, a seccomp
profile, no service-account token, a read-only root filesystem."""

from __future__ import annotations

from tools.checks.policy.context import Context
from tools.checks.policy.model import ERROR, WARNING, Hit, get, get_list, pod_spec_path
from tools.checks.policy.reach import workloads
from tools.checks.policy.rules._helpers import all_containers, sc_path
from tools.checks.policy.rules._registry import rule

SAFE_CAPABILITIES = {"NET_BIND_SERVICE"}


@rule("ZK-SEC-001", ERROR, "runAsNonRoot is true for every container")
def run_as_non_root(ctx: Context):
    for c in all_containers(ctx):
        if c.sc("runAsNonRoot") is False:
            yield Hit(c.manifest, sc_path(c, "runAsNonRoot"), f"container {c.name} sets runAsNonRoot: false; set it "
                      "to true (or remove it and set runAsNonRoot: true in the pod securityContext)")
        elif c.sc("runAsNonRoot") is None and c.pod_sc("runAsNonRoot") is not True:
            yield Hit(c.manifest, sc_path(c, "runAsNonRoot", pod=True),
                      "set securityContext.runAsNonRoot: true in the pod spec so no container can run as root")


@rule("ZK-SEC-002", ERROR, "runAsUser is never 0")
def run_as_user_not_root(ctx: Context):
    for c in all_containers(ctx):
        for pod in (True, False):
            value = c.pod_sc("runAsUser") if pod else c.sc("runAsUser")
            if value == 0:
                yield Hit(c.manifest, sc_path(c, "runAsUser", pod), "runAsUser: 0 runs as root; use the image's "
                          "non-root uid (1000) or leave it unset on OpenShift")


@rule("ZK-SEC-003", ERROR, "no privileged containers")
def not_privileged(ctx: Context):
    for c in all_containers(ctx):
        if c.sc("privileged") is True:
            yield Hit(c.manifest, sc_path(c, "privileged"), f"container {c.name} is privileged; set privileged: false")


@rule("ZK-SEC-004", ERROR, "allowPrivilegeEscalation is false")
def no_privilege_escalation(ctx: Context):
    for c in all_containers(ctx):
        if c.sc("allowPrivilegeEscalation") is not False:
            yield Hit(c.manifest, sc_path(c, "allowPrivilegeEscalation"),
                      f"container {c.name}: set securityContext.allowPrivilegeEscalation: false")


@rule("ZK-SEC-005", ERROR, "capabilities: drop ALL, add nothing but NET_BIND_SERVICE")
def drop_all_capabilities(ctx: Context):
    for c in all_containers(ctx):
        drop = get_list(c.spec, ("securityContext", "capabilities", "drop"))
        if "ALL" not in [str(d) for d in drop]:
            yield Hit(c.manifest, (*c.path, "securityContext", "capabilities", "drop"),
                      f"container {c.name}: set securityContext.capabilities.drop: [ALL]")
        added = get_list(c.spec, ("securityContext", "capabilities", "add"))
        extra = [str(a) for a in added if str(a) not in SAFE_CAPABILITIES]
        if extra:
            yield Hit(c.manifest, (*c.path, "securityContext", "capabilities", "add"),
                      f"container {c.name} adds {', '.join(extra)}; ZooKeeper needs no capability: remove them")


@rule("ZK-SEC-006", ERROR, "seccomp profile RuntimeDefault (or Localhost) at pod or container level")
def seccomp_runtime_default(ctx: Context):
    allowed = ("RuntimeDefault", "Localhost")
    for c in all_containers(ctx):
        own = get(c.spec, ("securityContext", "seccompProfile", "type"))
        pod = get(c.manifest.doc, (*c.pod_path, "securityContext", "seccompProfile", "type"))
        if own is not None and own not in allowed:
            yield Hit(c.manifest, (*c.path, "securityContext", "seccompProfile", "type"),
                      f"container {c.name} uses seccomp {own}; set seccompProfile.type: RuntimeDefault")
        elif own is None and pod not in allowed:
            got = f"is {pod}" if pod else "is not set"
            yield Hit(c.manifest, (*c.pod_path, "securityContext", "seccompProfile", "type"),
                      f"the pod's seccomp profile {got}; set securityContext.seccompProfile.type: RuntimeDefault")


@rule("ZK-SEC-007", WARNING, "no service-account token mounted (ZooKeeper never calls the API)")
def no_service_account_token(ctx: Context):
    for manifest in workloads(ctx):
        pod_path = pod_spec_path(manifest)
        if get(manifest.doc, (*pod_path, "automountServiceAccountToken")) is False:
            continue
        account = ctx.named("ServiceAccount", get(manifest.doc, (*pod_path, "serviceAccountName")))
        if account and get(account.doc, ("automountServiceAccountToken",)) is False:
            continue
        yield Hit(manifest, (*pod_path, "automountServiceAccountToken"),
                  "set automountServiceAccountToken: false in the pod spec unless the pod calls the Kubernetes API")


@rule("ZK-SEC-008", WARNING, "read-only root filesystem (error in production)")
def read_only_root(ctx: Context):
    for c in all_containers(ctx):
        if c.sc("readOnlyRootFilesystem") is not True:
            yield Hit(c.manifest, sc_path(c, "readOnlyRootFilesystem"),
                      f"container {c.name}: set securityContext.readOnlyRootFilesystem: true (write only to volumes)",
                      ERROR if ctx.profile_type == "production" else None)
