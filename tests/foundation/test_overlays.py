"""What the rendered overlays mean: scheduling, security, disruption budget, memory."""

import pytest
import yaml

from tools import REPO_ROOT
from tools.base.profiles import ENVIRONMENTS, LAPTOP_ENVIRONMENTS, Profile
from tools.checks import validate
from tools.cli import kubeconform
from tools.cli.kubectl import Kubectl
from tools.render import render, schemas

MI = 1024 * 1024
UNITS = {"Ki": 1024, "Mi": MI, "Gi": 1024 * MI, "K": 1000, "M": 1000**2, "G": 1000**3}
# minikube's default VM: 2 CPUs and 2200 MB; leave 512 MiB for the control plane and system pods.
MINIKUBE_DEFAULT_MEMORY = 2200 * 1000**2
MINIKUBE_SYSTEM_RESERVE = 512 * MI


def quantity(text: str) -> int:
    for suffix, factor in UNITS.items():
        if text.endswith(suffix):
            return int(float(text[: -len(suffix)]) * factor)
    return int(text)


@pytest.fixture(scope="module", params=ENVIRONMENTS)
def overlay(request) -> tuple[str, list[dict]]:
    return request.param, list(yaml.safe_load_all(render(Profile("overlay", request.param))))


def one(docs: list[dict], kind: str, **where) -> dict:
    found = [d for d in docs if d["kind"] == kind and all(d["spec"].get(k) == v for k, v in where.items())]
    assert len(found) == 1, f"expected one {kind}, found {len(found)}"
    return found[0]


def settings(docs: list[dict]) -> dict:
    """The generated ConfigMap of ZOO_* settings (production also has the dashboard's ConfigMap)."""
    found = [d for d in docs if d["kind"] == "ConfigMap" and "ZOO_DATA_DIR" in (d.get("data") or {})]
    assert len(found) == 1, f"expected one settings ConfigMap, found {len(found)}"
    return found[0]


def selects(selector: dict, labels: dict) -> bool:
    assert set(selector) <= {"matchLabels"}, "only matchLabels selectors are used here"
    return all(labels.get(k) == v for k, v in selector["matchLabels"].items())


def walk(node, path=""):
    if isinstance(node, dict):
        for key, value in node.items():
            yield f"{path}.{key}", key, value
            yield from walk(value, f"{path}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from walk(value, f"{path}[{index}]")


def test_anti_affinity_is_required_only_in_production(overlay):
    env, docs = overlay
    pod = one(docs, "StatefulSet")["spec"]["template"]
    anti = pod["spec"]["affinity"]["podAntiAffinity"]
    if env == "production":
        assert "preferredDuringSchedulingIgnoredDuringExecution" not in anti
        terms = anti["requiredDuringSchedulingIgnoredDuringExecution"]
        assert [t["topologyKey"] for t in terms] == ["kubernetes.io/hostname"]
        spread = pod["spec"]["topologySpreadConstraints"]
        assert [c["topologyKey"] for c in spread] == ["topology.kubernetes.io/zone"]
        assert all(selects(c["labelSelector"], pod["metadata"]["labels"]) for c in spread)
    else:
        assert "requiredDuringSchedulingIgnoredDuringExecution" not in anti
        terms = [t["podAffinityTerm"] for t in anti["preferredDuringSchedulingIgnoredDuringExecution"]]
        assert [t["topologyKey"] for t in terms] == ["kubernetes.io/hostname"]
    assert all(selects(t["labelSelector"], pod["metadata"]["labels"]) for t in terms)


def test_openshift_pins_no_uid_gid_or_fsgroup_anywhere(overlay):
    env, docs = overlay
    pinned = sorted((path, value) for doc in docs for path, key, value in walk(doc)
                    if key in ("runAsUser", "runAsGroup", "fsGroup"))
    if env == "openshift":
        assert pinned == []
    else:  # the image's uid and the volumes' group, and nothing else (never 0)
        pod = ".spec.template.spec.securityContext"
        assert pinned == [(f"{pod}.fsGroup", 1000), (f"{pod}.runAsUser", 1000)]


def test_every_environment_runs_non_root_without_privileges(overlay):
    _, docs = overlay
    spec = one(docs, "StatefulSet")["spec"]["template"]["spec"]
    assert spec["securityContext"]["runAsNonRoot"] is True
    assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert spec["automountServiceAccountToken"] is False
    for container in spec["containers"]:
        context = container["securityContext"]
        assert context["allowPrivilegeEscalation"] is False
        assert context["capabilities"]["drop"] == ["ALL"]


def pods_kept(pdb: dict, replicas: int) -> int:
    """Members a PDB keeps through voluntary disruptions: minAvailable or replicas - maxUnavailable, each a count
    or a percentage (rounded up, as the disruption controller does)."""
    spec = pdb["spec"]
    (field,) = [f for f in ("minAvailable", "maxUnavailable") if f in spec]
    value = spec[field]
    count = -(-replicas * int(value[:-1]) // 100) if isinstance(value, str) else value
    return count if field == "minAvailable" else replicas - count


@pytest.mark.parametrize(("spec", "replicas", "kept"), [
    ({"maxUnavailable": 1}, 3, 2), ({"minAvailable": 2}, 3, 2), ({"maxUnavailable": "34%"}, 3, 1),
    ({"minAvailable": "50%"}, 5, 3)])
def test_pods_kept_reads_either_field(spec, replicas, kept):
    assert pods_kept({"spec": spec}, replicas) == kept


def test_pdb_selects_exactly_the_statefulset_pods_and_keeps_quorum(overlay):
    _, docs = overlay
    statefulset = one(docs, "StatefulSet")
    (pdb,) = [d for d in docs if d["kind"] == "PodDisruptionBudget"]
    assert pdb["apiVersion"] == "policy/v1"
    assert pdb["spec"]["selector"] == statefulset["spec"]["selector"]
    assert selects(pdb["spec"]["selector"], statefulset["spec"]["template"]["metadata"]["labels"])
    replicas = statefulset["spec"]["replicas"]
    quorum = replicas // 2 + 1
    assert quorum <= pods_kept(pdb, replicas) <= replicas - 1  # a quorum survives, and a node drain can proceed


def test_members_find_each_other_through_a_headless_service(overlay):
    _, docs = overlay
    statefulset = one(docs, "StatefulSet")
    name = statefulset["spec"]["serviceName"]
    headless = [d for d in docs if d["kind"] == "Service" and d["metadata"]["name"] == name]
    assert len(headless) == 1
    assert headless[0]["spec"]["clusterIP"] == "None"
    assert headless[0]["spec"]["publishNotReadyAddresses"] is True
    assert statefulset["spec"]["podManagementPolicy"] == "Parallel"
    config = settings(docs)
    (env_from,) = statefulset["spec"]["template"]["spec"]["containers"][0]["envFrom"]
    assert env_from["configMapRef"]["name"] == config["metadata"]["name"]
    assert "ZOO_SERVERS" not in config["data"]  # the count is not in the pod's settings: scaling restarts no one
    volumes = {v["name"]: v for v in statefulset["spec"]["template"]["spec"]["volumes"]}
    (container,) = statefulset["spec"]["template"]["spec"]["containers"]
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    count = [d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"] == "zookeeper-ensemble"]
    assert volumes[mounts["/etc/zookeeper/ensemble"]]["configMap"]["name"] == "zookeeper-ensemble"
    assert [int(c["data"]["replicas"]) for c in count] == [statefulset["spec"]["replicas"]]


@pytest.mark.parametrize("env", LAPTOP_ENVIRONMENTS)
def test_three_laptop_members_fit_a_default_minikube(env):
    docs = list(yaml.safe_load_all(render(Profile("overlay", env))))
    statefulset = one(docs, "StatefulSet")
    resources = statefulset["spec"]["template"]["spec"]["containers"][0]["resources"]
    members = statefulset["spec"]["replicas"]
    assert members * quantity(resources["requests"]["memory"]) <= MINIKUBE_DEFAULT_MEMORY - MINIKUBE_SYSTEM_RESERVE
    assert members * quantity(resources["limits"]["memory"]) <= MINIKUBE_DEFAULT_MEMORY


def jvm_size(text: str) -> int:
    """-Xmx sizes: k, m, g are binary (1024) multiples."""
    factor = {"k": 1024, "m": MI, "g": 1024 * MI}.get(text[-1].lower(), 1)
    return int(text[:-1]) * factor if factor > 1 else int(text)


def test_heap_fits_the_memory_limit_with_headroom(overlay):
    _, docs = overlay
    heap = jvm_size(settings(docs)["data"]["ZOO_HEAP"])
    container = one(docs, "StatefulSet")["spec"]["template"]["spec"]["containers"][0]
    limit = quantity(container["resources"]["limits"]["memory"])
    assert heap <= limit * 3 // 4


def test_production_keeps_the_transaction_log_on_its_own_volume():
    docs = list(yaml.safe_load_all(render(Profile("overlay", "production"))))
    statefulset = one(docs, "StatefulSet")
    claims = {c["metadata"]["name"] for c in statefulset["spec"]["volumeClaimTemplates"]}
    container = statefulset["spec"]["template"]["spec"]["containers"][0]
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    config = settings(docs)["data"]
    assert claims == {"datadir", "datalogdir"}
    assert (config["ZOO_DATA_LOG_DIR"] + "/").startswith(mounts["datalogdir"] + "/")
    assert config["ZOO_DATA_DIR"].startswith(mounts["datadir"] + "/")


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_kustomize_build_prints_no_deprecation_warning(env):
    """`kubectl apply -k` runs this same kustomize build first and prints its warnings (no cluster is needed for
    that part, and the test uses none)."""
    result = Kubectl().kustomize_build(Profile("overlay", env).path)
    assert result.stderr == ""


def test_kustomize_build_does_warn_about_a_deprecated_field(tmp_path):
    """The check above can fail: the same build prints a warning for the deprecated commonLabels."""
    (tmp_path / "kustomization.yaml").write_text("resources: [cm.yaml]\ncommonLabels: {app: zk}\n")
    (tmp_path / "cm.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n")
    result = Kubectl().kustomize_build(tmp_path)
    assert "commonLabels" in result.stderr and "deprecated" in result.stderr


def test_volume_claim_templates_carry_no_labels_that_change_on_upgrade(overlay):
    _, docs = overlay
    for claim in one(docs, "StatefulSet")["spec"]["volumeClaimTemplates"]:
        labels = claim["metadata"].get("labels", {})
        assert "app.kubernetes.io/version" not in labels, "volumeClaimTemplates are immutable in a StatefulSet"


def test_the_admin_secret_ships_only_with_the_laptop_overlays(overlay):
    """minikube and kind generate a throwaway one; openshift and production reference zookeeper-admin, which the
    user creates (a password in the repository would let anyone reconfigure a shared cluster's ensemble)."""
    env, docs = overlay
    pod = one(docs, "StatefulSet")["spec"]["template"]["spec"]
    mounts = {m["mountPath"]: m["name"] for m in pod["containers"][0]["volumeMounts"]}
    volume = {v["name"]: v for v in pod["volumes"]}[mounts["/etc/zookeeper/admin"]]
    secrets = [d for d in docs if d["kind"] == "Secret"]
    if env in LAPTOP_ENVIRONMENTS:
        (secret,) = secrets
        assert volume["secret"]["secretName"] == secret["metadata"]["name"]
        assert secret["metadata"]["name"].startswith("zookeeper-admin-")  # hash suffix: a new password rolls them
        assert set(secret["data"]) == {"password"}
    else:
        assert secrets == []
        assert volume["secret"]["secretName"] == "zookeeper-admin"
    assert volume["secret"]["defaultMode"] == 0o444


ADMISSION_FROM = "v1.30.0"  # admissionregistration.k8s.io/v1 ValidatingAdmissionPolicy is GA from Kubernetes 1.30


def test_the_scaling_admission_policy_is_valid_where_it_can_exist(tmp_path):
    """admission/ (applied once per cluster) passes kubeconform -strict on 1.30 and the newest version; on 1.29 the
    kind does not exist, as its README line says. The API server's own proof is the cluster target's scale-refused."""
    rendered = tmp_path / "admission.yaml"
    rendered.write_text(Kubectl().kustomize(REPO_ROOT / "admission"))
    versions = schemas.kubernetes_versions()
    newest = versions[-1]
    schemas.ensure(validate.api_kinds(rendered), [ADMISSION_FROM, newest])
    for version in (ADMISSION_FROM, newest):
        outcomes = kubeconform.Kubeconform.pinned().validate([rendered], version, schemas.locations())
        assert sorted((o.kind, o.status) for o in outcomes) == [
            ("ValidatingAdmissionPolicy", "statusValid"), ("ValidatingAdmissionPolicyBinding", "statusValid")]
    docs = list(yaml.safe_load_all(rendered.read_text()))
    policy = one(docs, "ValidatingAdmissionPolicy")
    binding = one(docs, "ValidatingAdmissionPolicyBinding")
    assert binding["spec"]["policyName"] == policy["metadata"]["name"] == "kube-zookeeper-scaling-step"
    assert binding["spec"]["validationActions"] == ["Deny"]
    # `kubectl scale` (the scale subresource) stays free: the smoke scenario stops members with it
    assert [r["resources"] for r in policy["spec"]["matchConstraints"]["resourceRules"]] == [["statefulsets"],
                                                                                          ["configmaps"]]
