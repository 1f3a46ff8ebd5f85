"""The policy rules: plain functions over one profile's parsed objects, each with a stable id and a severity.

A rule yields Hits (object, field path, message); tools.checks.policy turns them into located Findings.
`types` limits a rule to some profile types (None: every profile).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import yaml

from tools import REPO_ROOT
from tools.base.contract import (
    ADMIN_DIR,
    ADMIN_KEY,
    CLIENT_PORT,
    ELECTION_PORT,
    ENSEMBLE_DIR,
    ENSEMBLE_KEY,
    PROBE_SCRIPT,
    SERVER_PORT,
)
from tools.checks.policy import reach
from tools.checks.policy.context import JVM_OPTION_VARS, Context, Setting, probe_words
from tools.checks.policy.model import (
    ERROR,
    LAPTOP_TYPES,
    MI,
    WARNING,
    Container,
    Hit,
    command_item,
    command_text,
    containers,
    get,
    get_list,
    get_map,
    human,
    k8s_bytes,
    pod_labels,
    pod_spec_path,
    scaled,
    selector_matches,
)
from tools.checks.policy.reach import workloads
from tools.render.blocks import ENDPOINTS, promised_endpoints

HOSTNAME = "kubernetes.io/hostname"
SAFE_CAPABILITIES = {"NET_BIND_SERVICE"}


@dataclass(frozen=True)
class Rule:
    id: str
    severity: str
    title: str
    types: tuple[str, ...] | None
    check: Callable[[Context], Iterator[Hit]]

    def applies_to(self, profile_type: str) -> bool:
        return self.types is None or profile_type in self.types


RULES: list[Rule] = []


def rule(rule_id: str, severity: str, title: str, types: tuple[str, ...] | None = None):
    def register(check: Callable[[Context], Iterator[Hit]]):
        RULES.append(Rule(rule_id, severity, title, types, check))
        return check

    return register


def all_containers(ctx: Context) -> Iterator[Container]:
    for manifest in workloads(ctx):
        yield from containers(manifest)


def ensemble_containers(ctx: Context) -> Iterator[Container]:
    """The StatefulSets' main containers (not init containers)."""
    for statefulset in ctx.by_kind["StatefulSet"]:
        yield from containers(statefulset, lists=("containers",))


def replicas(statefulset) -> int:
    value = get(statefulset.doc, ("spec", "replicas"))
    return value if isinstance(value, int) else 1


def sc_path(c: Container, key: str, pod: bool = False) -> tuple:
    return (*(c.pod_path if pod else c.path), "securityContext", key)


# --- non-root ------------------------------------------------------------------------------------------------


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


# --- PodDisruptionBudget -------------------------------------------------------------------------------------


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


# --- anti-affinity -------------------------------------------------------------------------------------------


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


# --- ensemble ------------------------------------------------------------------------------------------------


@rule("ZK-ENS-001", ERROR, "replicas is odd and at least 3 (1 is a warning on laptop profiles)")
def odd_replicas(ctx: Context):
    for statefulset in ctx.by_kind["StatefulSet"]:
        size = replicas(statefulset)
        if size == 1:
            yield Hit(statefulset, ("spec", "replicas"), "a single member has no fault tolerance; use replicas: 3",
                      WARNING if ctx.is_laptop else None)
        elif size % 2 == 0 or size < 3:
            yield Hit(statefulset, ("spec", "replicas"), f"{size} members tolerate {(size - 1) // 2} failed "
                      f"member(s), no more than {size - 1} would; use an odd number >= 3 (3 or 5)")



def mounted_volume(c: Container, mount_path: str) -> tuple[dict | None, int | None]:
    """The pod volume the container mounts at mount_path (None if nothing is), and the mount's index."""
    for index, mount in enumerate(get_list(c.spec, ("volumeMounts",))):
        if isinstance(mount, dict) and str(mount.get("mountPath", "")).rstrip("/") == mount_path:
            volumes = get_list(c.manifest.doc, (*c.pod_path, "volumes"))
            volume = next((v for v in volumes if isinstance(v, dict) and v.get("name") == mount.get("name")), None)
            return volume or {}, index
    return None, None


@rule("ZK-ENS-002", ERROR, f"the member count the members read ({ENSEMBLE_DIR}/replicas) equals replicas")
def ensemble_count(ctx: Context):
    for c in ensemble_containers(ctx):
        size = replicas(c.manifest)
        volume, _ = mounted_volume(c, ENSEMBLE_DIR)
        name = get(volume, ("configMap", "name"))
        if not name:
            yield Hit(c.manifest, (*c.path, "volumeMounts"), f"container {c.name} mounts no ConfigMap at "
                      f"{ENSEMBLE_DIR}, so its members never learn how many voters the ensemble should have; mount "
                      f"one whose key replicas is {size} (the base's zookeeper-ensemble, the chart's "
                      "<fullname>-ensemble)")
            continue
        config_map = ctx.named("ConfigMap", name)
        if config_map is None:
            continue  # not among the checked objects (a ConfigMap of the user's): nothing to compare
        count = get(config_map.doc, ("data", ENSEMBLE_KEY))
        if count is None or str(count).strip() != str(size):
            got = "has no key replicas" if count is None else f"says replicas {count}"
            yield Hit(config_map, ("data", "replicas"), f"{config_map.ref} {got} but {c.manifest.ref} has replicas "
                      f"{size}: the members would grow or shrink the voting set to a count the StatefulSet does not "
                      "run; set both together (components/five-members, or the chart's replicas)")


@rule("ZK-ENS-007", ERROR, "no fixed server list (ZOO_SERVERS, --servers) beside the count the members read")
def no_static_server_count(ctx: Context):
    for c in ensemble_containers(ctx):
        setting = ctx.flag(c, "servers") or ctx.env(c).get("ZOO_SERVERS")
        if setting is not None and mounted_volume(c, ENSEMBLE_DIR)[0] is not None:
            yield Hit(setting.manifest, setting.path, f"ZOO_SERVERS/--servers={setting.value} gives {c.manifest.ref} "
                      f"a fixed server list although its members read their count from {ENSEMBLE_DIR}: the pod "
                      "template then depends on the count, so every scaling restarts every member, and the list "
                      "fights the dynamic membership; remove it")


@rule("ZK-ADM-001", ERROR, f"the reconfiguration authority (a Secret with key password) is mounted at {ADMIN_DIR}")
def admin_secret_mounted(ctx: Context):
    for c in ensemble_containers(ctx):
        volume, index = mounted_volume(c, ADMIN_DIR)
        if not get(volume, ("secret", "secretName")):
            what = "nothing" if volume is None else "no Secret"
            yield Hit(c.manifest, (*c.path, "volumeMounts", *(() if index is None else (index,))),
                      f"container {c.name} mounts {what} at {ADMIN_DIR}: without the admin password the ensemble "
                      "has no super user, so reconfiguration is open to every client; mount a Secret with the key "
                      "password there (the base's zookeeper-admin, the chart's <fullname>-admin or "
                      "auth.existingSecret)")
            continue
        items = get_list(volume, ("secret", "items"))
        if items and not any(get(i, ("key",)) == ADMIN_KEY and get(i, ("path",)) == ADMIN_KEY for i in items):
            index = get_list(c.manifest.doc, (*c.pod_path, "volumes")).index(volume)
            yield Hit(c.manifest, (*c.pod_path, "volumes", index, "secret", "items"),
                      f"the Secret volume's items leave out {ADMIN_DIR}/password; drop items, or map the key "
                      "password to the path password")


SKIP_ACL = re.compile(r"-Dzookeeper\.skipACL=(\S+)")


@rule("ZK-ADM-002", ERROR, "ACLs are enforced (no -Dzookeeper.skipACL)")
def no_skip_acl(ctx: Context):
    for c in ensemble_containers(ctx):
        env = ctx.env(c)
        settings = [env[var] for var in JVM_OPTION_VARS if var in env]
        if SKIP_ACL.search(command_text(c)):
            settings.append(Setting(command_text(c), c.manifest, command_item(c, r"skipACL")))
        for setting in settings:
            for match in SKIP_ACL.finditer(setting.value):
                if match.group(1).strip("'\"").lower() in ("yes", "true"):
                    yield Hit(setting.manifest, setting.path, f"{match.group(0)} turns every ACL off: any client "
                              "may reconfigure the ensemble (reconfig), delete any znode and read every secret kept "
                              "in it; remove it (the members reconfigure as the super user of the admin Secret)")


def dev_admin_password() -> str | None:
    """The password components/dev-admin-secret ships (known to anyone who reads the repository)."""
    path = REPO_ROOT / DEV_ADMIN_COMPONENT
    if not path.exists():
        return None
    for generator in get_list(yaml.safe_load(path.read_text(encoding="utf-8")), ("secretGenerator",)):
        for literal in get_list(generator, ("literals",)):
            key, _, value = str(literal).partition("=")
            if key == ADMIN_KEY:
                return value
    return None


DEV_ADMIN_COMPONENT = "components/dev-admin-secret/kustomization.yaml"


@rule("ZK-ADM-003", ERROR, "a shared cluster's admin Secret does not carry the repository's laptop password",
      types=("production", "openshift"))
def no_known_admin_password(ctx: Context):
    known = dev_admin_password()
    if known is None:
        return
    for secret in ctx.by_kind["Secret"]:
        for field in ("stringData", "data"):
            value = get(secret.doc, (field, ADMIN_KEY))
            if value is None:
                continue
            text = str(value)
            if field == "data":
                try:
                    text = base64.b64decode(text, validate=True).decode("utf-8", "replace")
                except (binascii.Error, ValueError):
                    continue
            if text == known:
                yield Hit(secret, (field, ADMIN_KEY), f"{secret.ref} carries the laptop password of "
                          f"{DEV_ADMIN_COMPONENT}, which anyone who reads the repository knows, and with it may "
                          "reconfigure the ensemble; drop that component and create the Secret yourself (README, "
                          "\"The admin Secret\")")


@rule("ZK-ENS-003", ERROR, "serviceName names a headless Service in the manifests")
def headless_service(ctx: Context):
    for statefulset in ctx.by_kind["StatefulSet"]:
        name = get(statefulset.doc, ("spec", "serviceName"))
        service = ctx.named("Service", name)
        if not name:
            yield Hit(statefulset, ("spec", "serviceName"), "set serviceName to a headless Service: members find "
                      "each other by its DNS names")
        elif service is None:
            yield Hit(statefulset, ("spec", "serviceName"), f"serviceName {name} names no Service in these "
                      "manifests; add a headless Service (clusterIP: None) with that name")
        elif not headless(service):
            yield Hit(service, ("spec", "clusterIP"), f"{service.ref} is the StatefulSet's serviceName but not "
                      "headless; set clusterIP: None")


def headless(service) -> bool:
    """clusterIP: None (a missing clusterIP means the API server assigns one: not headless)."""
    return get(service.doc, ("spec", "clusterIP")) == "None"


def governing_services(ctx: Context):
    for statefulset in ctx.by_kind["StatefulSet"]:
        service = ctx.named("Service", get(statefulset.doc, ("spec", "serviceName")))
        if service is not None:
            yield statefulset, service


@rule("ZK-ENS-004", ERROR, "the headless Service publishes not-ready addresses")
def publishes_not_ready(ctx: Context):
    for _, service in governing_services(ctx):
        if get(service.doc, ("spec", "publishNotReadyAddresses")) is not True:
            yield Hit(service, ("spec", "publishNotReadyAddresses"), "set publishNotReadyAddresses: true so members "
                      "resolve each other before they are Ready (else a new ensemble cannot form a quorum)")


@rule("ZK-ENS-005", ERROR, "the headless Service's selector matches the pods")
def service_selects_pods(ctx: Context):
    for statefulset, service in governing_services(ctx):
        labels = pod_labels(statefulset)
        if not reach.selects(service, labels):
            yield Hit(service, ("spec", "selector"), f"{service.ref}'s selector does not match the pod labels "
                      f"{dict(labels)}; members get no DNS records: use the pod labels")


@rule("ZK-ENS-006", ERROR, "OrderedReady start is not combined with a quorum readiness probe")
def no_ordered_ready_deadlock(ctx: Context):
    for c in ensemble_containers(ctx):
        policy = get(c.manifest.doc, ("spec", "podManagementPolicy")) or "OrderedReady"
        command = get_list(c.spec, ("readinessProbe", "exec", "command"))
        if policy != "Parallel" and replicas(c.manifest) > 1 and "srvr" in probe_words(command):
            yield Hit(c.manifest, ("spec", "podManagementPolicy"), "readiness waits for a quorum (srvr) but "
                      "OrderedReady starts member 1 only after member 0 is Ready: it never is; set "
                      "podManagementPolicy: Parallel")


# --- Service wiring ------------------------------------------------------------------------------------------


def _governing(ctx: Context, service) -> bool:
    return any(s is service for _, s in governing_services(ctx))


@rule("ZK-SVC-001", ERROR, "every Service selects exactly the ensemble's pods (a client Service only serving members)")
def service_selects_the_ensemble(ctx: Context):
    statefulsets = ctx.by_kind["StatefulSet"]
    for service in ctx.by_kind["Service"]:
        selector = get_map(service.doc, ("spec", "selector"))
        if not selector:
            yield Hit(service, ("spec", "selector"), f"{service.ref} has no selector, so Kubernetes never fills its "
                      "endpoints: set it to the StatefulSet's pod labels")
            continue
        matched = reach.selected(ctx, service, statefulsets)
        if statefulsets and not matched and not _governing(ctx, service):  # ZK-ENS-005 reports the governing one
            names = ", ".join(f"{s.ref} {dict(pod_labels(s))}" for s in statefulsets)
            yield Hit(service, ("spec", "selector"), f"{service.ref}'s selector {dict(selector)} matches no pod of "
                      f"{names}: connections to it reach nothing; use the pod labels")
        others = [w.ref for w in reach.selected(ctx, service) if w not in statefulsets]
        if matched and others:
            yield Hit(service, ("spec", "selector"), f"{service.ref} also selects the pods of {', '.join(others)}: "
                      "clients would be sent to them too; select with the StatefulSet's selector labels")
        for statefulset in matched:
            missing = reach.wider_than(service, statefulset)
            if missing:
                yield Hit(service, ("spec", "selector"), f"{service.ref}'s selector is wider than {statefulset.ref}'s "
                          f"and may select other apps' pods; add {', '.join(missing)}")
        if not headless(service) and get(service.doc, ("spec", "publishNotReadyAddresses")) is True:
            yield Hit(service, ("spec", "publishNotReadyAddresses"), f"{service.ref} is a client Service but "
                      "publishes not-ready addresses, so clients reach members that serve no quorum; remove it "
                      "(only the headless Service needs it)")


def _unresolved(ctx: Context, kind: str, what: str):
    for manifest in ctx.by_kind[kind]:
        for ref in reach.ports_reached(ctx, manifest):
            for workload in ref.missing_in():
                how = "names no port of" if ref.by_name else "is no containerPort of"
                yield Hit(manifest, ref.path, f"{what} {ref.target!r} {how} {workload.ref}'s containers (declared: "
                          f"{reach.port_list(workload)}): traffic through {manifest.ref} to it reaches nothing; use a "
                          "declared port's name or number")


@rule("ZK-SVC-002", ERROR, "every Service targetPort resolves to a port the selected containers declare")
def service_target_ports(ctx: Context):
    yield from _unresolved(ctx, "Service", "targetPort")


ENDPOINTS_FILE = ENDPOINTS.relative_to(REPO_ROOT).as_posix()


@rule("ZK-SVC-003", ERROR, "every Service port the docs promise clients (docs/endpoints.yaml) exists")
def documented_endpoints_exist(ctx: Context):
    for endpoint in promised_endpoints(ctx.source):
        name, port = endpoint.service, endpoint.port
        service = ctx.named("Service", name)
        where = (f"{ENDPOINTS_FILE}:{endpoint.line} promises {ctx.source} users {name}:{port} (the docs' \"Clients "
                 "connect to\" line)")
        if service is None:
            anchor = (ctx.by_kind["StatefulSet"] or ctx.manifests)[0]
            yield Hit(anchor, ("metadata", "name"), f"{where}, but no Service {name} is rendered; name the client "
                      f"Service so, or correct {ENDPOINTS_FILE} and run `nox -s lint -- --fix`")
        elif port not in [get(p, ("port",)) for p in get_list(service.doc, ("spec", "ports"))]:
            yield Hit(service, ("spec", "ports"), f"{where}, but {service.ref} has no port {port}; add it, or correct "
                      f"{ENDPOINTS_FILE} and run `nox -s lint -- --fix`")


# --- NetworkPolicy -------------------------------------------------------------------------------------------


@rule("ZK-NET-001", ERROR, "a NetworkPolicy's pod selector selects pods in these manifests")
def network_policy_selects(ctx: Context):
    for policy in ctx.by_kind["NetworkPolicy"]:
        if workloads(ctx) and not reach.selected(ctx, policy):
            yield Hit(policy, ("spec", "podSelector"), f"{policy.ref}'s podSelector matches none of the pods here "
                      f"({', '.join(f'{w.ref} {dict(pod_labels(w))}' for w in workloads(ctx))}), so it protects "
                      "nothing of the ensemble; use the pod labels")


@rule("ZK-NET-002", ERROR, "every NetworkPolicy port resolves to a port the pods it concerns declare")
def network_policy_ports(ctx: Context):
    yield from _unresolved(ctx, "NetworkPolicy", "port")


def policies_for(ctx: Context, statefulset) -> list:
    return [p for p in ctx.by_kind["NetworkPolicy"] if reach.selects(p, pod_labels(statefulset))]


def policy_types(policy) -> set[str]:
    """The directions a NetworkPolicy restricts (Kubernetes' default: Ingress, plus Egress when it has egress)."""
    listed = get_list(policy.doc, ("spec", "policyTypes"))
    if listed:
        return {str(t) for t in listed}
    return {"Ingress"} | ({"Egress"} if get(policy.doc, ("spec", "egress")) is not None else set())


QUORUM_PORTS = (("ZOO_SERVER_PORT", SERVER_PORT, "quorum"), ("ZOO_ELECTION_PORT", ELECTION_PORT, "leader election"),
                ("ZOO_CLIENT_PORT", CLIENT_PORT, "the ensemble loop's checks of its peers"))
QUORUM_HARM = {"the ensemble loop's checks of its peers": "members cannot tell which peers are up, so the "
               "ensemble never grows or shrinks to replicas"}


def member_port(ctx: Context, container: Container, variable: str, default: int) -> tuple[int, set[str]]:
    """A port start.sh listens on (its ZOO_* setting, else the default) and the names the pod declares for it."""
    setting = ctx.env(container).get(variable)
    number = int(setting.value) if setting and setting.value.strip().isdigit() else default
    return number, {str(p["name"]) for _, p in reach.declared_ports(container.manifest, number) if p.get("name")}


def port_listed(ports: list, number: int, names: set[str]) -> bool:
    """A NetworkPolicy rule's ports admit TCP `number` (no ports: every port; a named port: by container port name)."""
    if not ports:
        return True
    for entry in ports:
        entry = entry if isinstance(entry, dict) else {}
        if str(entry.get("protocol", "TCP")) != "TCP":
            continue
        port, end = entry.get("port"), entry.get("endPort")
        if port is None or str(port) in names or str(port) == str(number):
            return True
        if isinstance(port, int) and isinstance(end, int) and port <= number <= end:
            return True
    return False


def peer_is_member(peer, labels: dict) -> bool:
    """A peer that surely includes the members: a podSelector matching them in the same namespace (no
    namespaceSelector) or in every namespace (namespaceSelector: {})."""
    if not isinstance(peer, dict) or "ipBlock" in peer:
        return False
    namespaces = peer.get("namespaceSelector")
    if namespaces is not None and (get_map(peer, ("namespaceSelector",)) or not isinstance(namespaces, dict)):
        return False
    pods = peer.get("podSelector")
    return pods is None and namespaces is not None or selector_matches(pods, labels)


def admits_members(policies: list, direction: str, labels: dict, number: int, names: set[str]) -> bool:
    """Some rule of these policies lets the members reach each other on the port (in one direction)."""
    peers_key = "from" if direction == "ingress" else "to"
    for policy in policies:
        for entry in get_list(policy.doc, ("spec", direction)):
            if not port_listed(get_list(entry, ("ports",)), number, names):
                continue
            peers = get_list(entry, (peers_key,))
            if not peers or any(peer_is_member(peer, labels) for peer in peers):
                return True
    return False


@rule("ZK-NET-003", ERROR, "production: a NetworkPolicy selects the members", types=("production",))
def production_network_policy(ctx: Context):
    for statefulset in ctx.by_kind["StatefulSet"]:
        if not [p for p in policies_for(ctx, statefulset) if "Ingress" in policy_types(p)]:
            yield Hit(statefulset, (*pod_spec_path(statefulset)[:-1], "metadata", "labels"),
                      f"no NetworkPolicy selects the pods of {statefulset.ref}: any pod may reach the quorum and "
                      "election ports; add one (components/network-policy, or networkPolicy.enabled in the chart)")


@rule("ZK-NET-004", ERROR, "NetworkPolicies let members reach each other on the quorum, election and client ports")
def members_reach_each_other(ctx: Context):
    for c in ensemble_containers(ctx):
        labels, policies = pod_labels(c.manifest), policies_for(ctx, c.manifest)
        for direction, kind in (("ingress", "Ingress"), ("egress", "Egress")):
            restricting = [p for p in policies if kind in policy_types(p)]
            if not restricting:
                continue
            for variable, default, purpose in QUORUM_PORTS:
                number, names = member_port(ctx, c, variable, default)
                if not admits_members(restricting, direction, labels, number, names):
                    shown = "/".join([str(number), *sorted(names)])
                    harm = QUORUM_HARM.get(purpose, "the ensemble cannot form a quorum")
                    yield Hit(restricting[0], ("spec", direction), f"no {direction} rule of "
                              f"{', '.join(p.ref for p in restricting)} admits the members {dict(labels)} to each "
                              f"other on port {shown} ({purpose}): {harm}; add a rule for this port with a "
                              "podSelector of the pod labels")


@rule("ZK-NET-005", WARNING, "the client port is open only to the clients named, not to every source")
def client_port_not_open_to_all(ctx: Context):
    for c in ensemble_containers(ctx):
        number, names = member_port(ctx, c, "ZOO_CLIENT_PORT", CLIENT_PORT)
        for policy in policies_for(ctx, c.manifest):
            for index, entry in enumerate(get_list(policy.doc, ("spec", "ingress"))):
                if not port_listed(get_list(entry, ("ports",)), number, names):
                    continue
                peers = get_list(entry, ("from",))
                anyone = not peers or any(
                    isinstance(peer, dict) and (peer.get("namespaceSelector") == {} and not peer.get("podSelector")
                                                or get(peer, ("ipBlock", "cidr")) in ("0.0.0.0/0", "::/0"))
                    for peer in peers)
                if anyone:
                    yield Hit(policy, ("spec", "ingress", index), f"this rule admits every source to the client port "
                              f"{number}; list the client pods or namespaces in `from` instead")


# --- resources -----------------------------------------------------------------------------------------------


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


# --- probes --------------------------------------------------------------------------------------------------


@rule("ZK-PRB-001", ERROR, "liveness probe present")
def liveness_probe(ctx: Context):
    for c in ensemble_containers(ctx):
        if not c.spec.get("livenessProbe"):
            yield Hit(c.manifest, (*c.path, "livenessProbe"), f"container {c.name}: add a livenessProbe "
                      f"(exec {PROBE_SCRIPT} {CLIENT_PORT} live: ruok answers imok)")


@rule("ZK-PRB-002", ERROR, "readiness probe present")
def readiness_probe(ctx: Context):
    for c in ensemble_containers(ctx):
        if not c.spec.get("readinessProbe"):
            yield Hit(c.manifest, (*c.path, "readinessProbe"), f"container {c.name}: add a readinessProbe "
                      f"(exec {PROBE_SCRIPT} {CLIENT_PORT} ready: the member serves)")


@rule("ZK-PRB-003", ERROR, "every four-letter word the probes use is whitelisted")
def probe_words_whitelisted(ctx: Context):
    for c in ensemble_containers(ctx):
        whitelist, setting = ctx.whitelist(c)
        for probe in ("livenessProbe", "startupProbe", "readinessProbe"):
            command = get_list(c.spec, (probe, "exec", "command"))
            missing = sorted(probe_words(command) - whitelist) if "*" not in whitelist else []
            if missing:
                where = (f"the whitelist {','.join(sorted(whitelist))} set in {setting.where}" if setting else
                         "no 4lw.commands.whitelist (ZooKeeper >= 3.5 then allows only srvr)")
                yield Hit(c.manifest, (*c.path, probe, "exec", "command"), f"the {probe} sends "
                          f"{', '.join(missing)}, but the server has {where}; add {', '.join(missing)} to "
                          f"ZOO_4LW_COMMANDS_WHITELIST, or the probe always fails{ctx.unseen_config_maps(c)}")


# --- image ---------------------------------------------------------------------------------------------------


def image_tag(image: str) -> tuple[str | None, bool]:
    """(tag, has digest) of an image reference."""
    name, _, digest = image.partition("@")
    last = name.rsplit("/", 1)[-1]
    return (last.split(":", 1)[1] if ":" in last else None), bool(digest)


@rule("ZK-IMG-001", ERROR, "image has a pinned tag (not latest) or a digest")
def pinned_image(ctx: Context):
    for c in all_containers(ctx):
        image = str(c.spec.get("image") or "")
        tag, digest = image_tag(image)
        if digest:
            continue
        if tag is None:
            yield Hit(c.manifest, (*c.path, "image"), f"image {image!r} has no tag (means latest); pin a version "
                      "tag or a digest")
        elif tag == "latest":
            yield Hit(c.manifest, (*c.path, "image"), f"image {image!r} uses latest; pin a version tag or a digest")


@rule("ZK-IMG-002", ERROR, "laptop profiles use a locally loaded image (imagePullPolicy not Always)",
      types=LAPTOP_TYPES)
def laptop_pull_policy(ctx: Context):
    for c in all_containers(ctx):
        if c.spec.get("imagePullPolicy") == "Always":
            yield Hit(c.manifest, (*c.path, "imagePullPolicy"), "imagePullPolicy Always pulls an image that was only "
                      "loaded into the node (kind load / minikube image load); use IfNotPresent")


# Registries reserved for examples (RFC 2606): components/registry-image ships one until a user sets theirs.
PLACEHOLDER_REGISTRY = re.compile(r"(?:.+\.)?example(?:\.com|\.net|\.org)?")
REGISTRY_COMPONENT = "components/registry-image/kustomization.yaml"


@rule("ZK-IMG-003", WARNING, "the image does not come from a placeholder registry (registry.example.com)")
def placeholder_registry(ctx: Context):
    for c in all_containers(ctx):
        image = str(c.spec.get("image") or "")
        host = image.split("/", 1)[0] if "/" in image else ""
        if PLACEHOLDER_REGISTRY.fullmatch(host):
            yield Hit(c.manifest, (*c.path, "image"), f"image {image} names the placeholder registry {host}, which "
                      "no node can pull from; push the image to your registry (nox -s image -- --push REGISTRY) "
                      f"and set newName in {REGISTRY_COMPONENT} to it (image.repository for the chart)")


RULES_BY_ID = {r.id: r for r in RULES}
