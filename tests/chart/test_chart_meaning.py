"""What the rendered chart means: names that let members find each other under any release and namespace,
selectors that select the members (and only them), settings that follow the values."""

import base64
import hashlib
import re
import shutil

import pytest
import yaml
from chart_helpers import CHART, CI_VALUES, one, render

from tools import REPO_ROOT
from tools.base.run import run
from tools.base.versions import image_version
from tools.cli.helm import Helm

SELECTOR_KEYS = {"app.kubernetes.io/name", "app.kubernetes.io/instance", "app.kubernetes.io/component"}
RELEASES = [("zk", "default"), ("kafka-coordination", "messaging"), ("zookeeper", "zk-prod")]


def pod_labels(objects):
    return one(objects, "StatefulSet")["spec"]["template"]["metadata"]["labels"]


def selects(selector: dict, labels: dict) -> bool:
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


@pytest.mark.parametrize(("release", "namespace"), RELEASES)
def test_members_find_their_peers_under_any_release_and_namespace(release, namespace):
    objects = render(release=release, namespace=namespace)
    statefulset = one(objects, "StatefulSet")
    fullname = statefulset["metadata"]["name"]
    assert fullname == (release if "zookeeper" in release else f"{release}-zookeeper")
    headless = one(objects, "Service", f"{fullname}-headless")
    # start.sh reads the headless Service's name from `hostname -f`, which Kubernetes builds from serviceName.
    assert statefulset["spec"]["serviceName"] == headless["metadata"]["name"]
    assert headless["spec"]["clusterIP"] == "None" and headless["spec"]["publishNotReadyAddresses"] is True
    assert selects(headless["spec"]["selector"], pod_labels(objects))
    config = one(objects, "ConfigMap", f"{fullname}-config")
    (container,) = statefulset["spec"]["template"]["spec"]["containers"]
    assert container["envFrom"] == [{"configMapRef": {"name": config["metadata"]["name"]}}]
    volumes = {v["name"]: v for v in statefulset["spec"]["template"]["spec"]["volumes"]}
    mounts = {m["mountPath"]: volumes.get(m["name"]) for m in container["volumeMounts"]}
    assert mounts["/etc/zookeeper/ensemble"]["configMap"]["name"] == f"{fullname}-ensemble"
    assert one(objects, "ConfigMap", f"{fullname}-ensemble")["data"] == {"replicas": "3"}
    assert mounts["/etc/zookeeper/admin"]["secret"]["secretName"] == f"{fullname}-admin"
    assert set(one(objects, "Secret", f"{fullname}-admin")["data"]) == {"password"}
    assert {"name": "POD_NAMESPACE", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}} in container["env"]
    # The helm test pod addresses members by the same names.
    test_env = {e["name"]: e["value"] for e in one(objects, "Pod")["spec"]["containers"][0]["env"]}
    assert test_env["ZK_STATEFULSET"] == fullname and test_env["ZK_HEADLESS_SERVICE"] == headless["metadata"]["name"]
    assert all("namespace" not in o["metadata"] for o in objects)


@pytest.mark.parametrize(("release", "namespace"), RELEASES)
@pytest.mark.parametrize("env", ["default", "production"])
def test_every_selector_selects_exactly_the_members(release, namespace, env):
    objects = render(release=release, namespace=namespace, values=[] if env == "default" else [CI_VALUES[env]])
    statefulset = one(objects, "StatefulSet")
    labels = pod_labels(objects)
    pod_spec = statefulset["spec"]["template"]["spec"]
    selectors = {
        "StatefulSet": statefulset["spec"]["selector"]["matchLabels"],
        "PodDisruptionBudget": one(objects, "PodDisruptionBudget")["spec"]["selector"]["matchLabels"],
        **{f"Service/{s['metadata']['name']}": s["spec"]["selector"] for s in objects if s["kind"] == "Service"},
    }
    anti_affinity = pod_spec["affinity"]["podAntiAffinity"]
    for term in anti_affinity.get("requiredDuringSchedulingIgnoredDuringExecution", []):
        selectors["anti-affinity (required)"] = term["labelSelector"]["matchLabels"]
    for term in anti_affinity.get("preferredDuringSchedulingIgnoredDuringExecution", []):
        selectors["anti-affinity (preferred)"] = term["podAffinityTerm"]["labelSelector"]["matchLabels"]
    for index, spread in enumerate(pod_spec.get("topologySpreadConstraints", [])):
        selectors[f"topologySpreadConstraints[{index}]"] = spread["labelSelector"]["matchLabels"]
    test_pod_labels = one(objects, "Pod")["metadata"]["labels"]
    for owner, selector in selectors.items():
        assert set(selector) == SELECTOR_KEYS, owner
        assert selector["app.kubernetes.io/instance"] == release, owner
        assert selects(selector, labels), f"{owner} does not select the members"
        assert not selects(selector, test_pod_labels), f"{owner} selects the helm test pod"


def test_labels_name_the_release_version_and_chart():
    for obj in render(release="zk"):
        labels = obj["metadata"]["labels"]
        assert labels["app.kubernetes.io/instance"] == "zk"
        assert labels["app.kubernetes.io/managed-by"] == "Helm"
        assert labels["app.kubernetes.io/part-of"] == "kube-zookeeper"
        assert labels["app.kubernetes.io/version"] == "3.9.5"
        assert labels["helm.sh/chart"] == "zookeeper-0.1.0"


def test_five_replicas_make_a_five_member_ensemble():
    objects = render(set_values=["replicas=5"])
    assert one(objects, "StatefulSet")["spec"]["replicas"] == 5
    assert one(objects, "ConfigMap", "zk-zookeeper-ensemble")["data"]["replicas"] == "5"
    assert "ZOO_SERVERS" not in one(objects, "ConfigMap", "zk-zookeeper-config")["data"]
    test_env = {e["name"]: e["value"] for e in one(objects, "Pod")["spec"]["containers"][0]["env"]}
    assert test_env["ZK_MEMBERS"] == "5"
    assert one(objects, "PodDisruptionBudget")["spec"]["maxUnavailable"] == 1


def test_the_configmap_has_the_keys_of_the_kustomize_base():
    base_keys = {line.split("=", 1)[0] for line in (REPO_ROOT / "base" / "zookeeper.env").read_text().splitlines()
                 if line.strip() and not line.startswith("#")}
    data = one(render(), "ConfigMap", "zk-zookeeper-config")["data"]
    assert set(data) == base_keys
    assert all(isinstance(v, str) for v in data.values())


def test_a_long_release_name_keeps_every_name_a_valid_dns_label():
    release = "a" * 53  # the longest release name helm accepts
    objects = render(release=release)
    names = [o["metadata"]["name"] for o in objects]
    assert all(len(n) <= 63 for n in names), names
    fullname = one(objects, "StatefulSet")["metadata"]["name"]
    # The pods' controller-revision-hash label is `<statefulset>-<10 characters>`: it must fit in 63 too.
    assert len(fullname) + 11 <= 63
    assert one(objects, "StatefulSet")["spec"]["serviceName"] in names


def test_the_checksum_annotation_is_the_sha256_of_the_configmap_and_rolls_the_pods_on_a_settings_change():
    def rendered(*set_values):
        """(the pods' checksum/config annotation, sha256 of the ConfigMap document helm prints)."""
        text = Helm().template(CHART, set_values=list(set_values))
        (document,) = [d.split("\n", 1)[1] for d in re.split(r"^---\n", text, flags=re.MULTILINE)
                       if d.startswith("# Source: zookeeper/templates/configmap.yaml\n")]
        template = one([o for o in yaml.safe_load_all(text) if o], "StatefulSet")["spec"]["template"]
        return template["metadata"]["annotations"]["checksum/config"], hashlib.sha256(document.encode()).hexdigest()

    default, heap, spread = rendered(), rendered("heap=600M"), rendered("zoneSpread=true")
    for annotation, configmap_hash in (default, heap, spread):
        assert annotation == configmap_hash
    assert heap[0] != default[0]  # a setting in the ConfigMap changed: the pods roll
    assert spread[0] == default[0]  # only the pod spec changed: the StatefulSet rolls them anyway, not the checksum


@pytest.mark.parametrize("env", CI_VALUES)
def test_every_pod_runs_non_root_with_the_locked_down_security_context(env):
    objects = render(values=[CI_VALUES[env]])
    pods = [one(objects, "StatefulSet")["spec"]["template"]["spec"], one(objects, "Pod")["spec"]]
    for spec in pods:
        assert spec["automountServiceAccountToken"] is False
        assert spec["securityContext"]["runAsNonRoot"] is True
        assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        for container in spec["containers"]:
            context = container["securityContext"]
            assert context["allowPrivilegeEscalation"] is False and context["capabilities"]["drop"] == ["ALL"]
            assert context["readOnlyRootFilesystem"] is True
            assert container["resources"]["requests"]["memory"] and container["resources"]["limits"]["memory"]
            assert not container["image"].endswith(":latest") and ":" in container["image"]
        pinned = {k: spec["securityContext"].get(k) for k in ("runAsUser", "runAsGroup", "fsGroup")}
        if env == "openshift":
            assert pinned == {"runAsUser": None, "runAsGroup": None, "fsGroup": None}
        else:
            assert pinned == {"runAsUser": 1000, "runAsGroup": None, "fsGroup": 1000}


def test_the_test_pod_is_a_helm_test_hook_using_the_members_image():
    objects = render(values=[CI_VALUES["production"]])
    pod = one(objects, "Pod")
    assert pod["metadata"]["annotations"]["helm.sh/hook"] == "test"
    assert pod["spec"]["restartPolicy"] == "Never"
    member_image = one(objects, "StatefulSet")["spec"]["template"]["spec"]["containers"][0]["image"]
    assert member_image == f"registry.example.com/platform/kube-zookeeper:{image_version()}"
    assert pod["spec"]["containers"][0]["image"] == member_image


def test_a_digest_pins_the_image_by_digest():
    digest = "sha256:" + "ab" * 32
    image = one(render(set_values=[f"image.digest={digest}"]), "StatefulSet")["spec"]["template"]["spec"][
        "containers"][0]["image"]
    assert image == f"kube-zookeeper@{digest}"


def test_production_keeps_the_transaction_log_on_its_own_volume():
    objects = render(values=[CI_VALUES["production"]])
    statefulset = one(objects, "StatefulSet")
    claims = {c["metadata"]["name"]: c["spec"]["resources"]["requests"]["storage"]
              for c in statefulset["spec"]["volumeClaimTemplates"]}
    assert claims == {"datadir": "10Gi", "datalogdir": "10Gi"}
    (container,) = statefulset["spec"]["template"]["spec"]["containers"]
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    settings = one(objects, "ConfigMap", "zk-zookeeper-config")["data"]  # production has the dashboard's too
    assert mounts["datalogdir"] == settings["ZOO_DATA_LOG_DIR"]
    assert settings["ZOO_DATA_DIR"].startswith(mounts["datadir"] + "/")


def test_the_helm_test_script_passes_shellcheck(tmp_path):
    if not shutil.which("shellcheck"):
        pytest.skip("shellcheck is not installed")
    (container,) = one(render(), "Pod")["spec"]["containers"]
    assert container["command"][:2] == ["bash", "-c"]
    script = tmp_path / "helm-test.sh"
    script.write_text(container["command"][2])
    result = run(["shellcheck", "--shell=bash", str(script)], check=False, timeout=60)
    assert result.code == 0, result.stdout


def test_replicas_changes_no_member_pod_template():
    """The StatefulSet controller restarts members only for a new pod template: checksum/config and everything else in
    it stay the same from 3 to 5 members; only spec.replicas and the ensemble ConfigMap's count change."""
    three, five = render(), render(set_values=["replicas=5"])
    before, after = one(three, "StatefulSet"), one(five, "StatefulSet")
    assert before["spec"]["template"] == after["spec"]["template"]
    assert before["spec"]["template"]["metadata"]["annotations"]["checksum/config"]
    assert (before["spec"]["replicas"], after["spec"]["replicas"]) == (3, 5)
    assert one(three, "ConfigMap", "zk-zookeeper-config") == one(five, "ConfigMap", "zk-zookeeper-config")


def test_a_changed_setting_still_rolls_the_members():
    before = one(render(), "StatefulSet")["spec"]["template"]["metadata"]["annotations"]["checksum/config"]
    after = one(render(set_values=["zookeeper.logLevel=WARN"]), "StatefulSet")["spec"]["template"]["metadata"][
        "annotations"]["checksum/config"]
    assert before != after


def test_the_admin_password_is_random_on_install_and_can_be_yours():
    """Without a cluster to look the Secret up in, each render makes a new 32-character password; with
    auth.existingSecret the chart renders no Secret and mounts the one named."""
    first, second = (one(render(), "Secret", "zk-zookeeper-admin")["data"]["password"] for _ in range(2))
    assert first != second
    assert len(base64.b64decode(first)) == 32
    objects = render(set_values=["auth.existingSecret=zk-admin-of-mine"])
    assert [o for o in objects if o["kind"] == "Secret"] == []
    volumes = one(objects, "StatefulSet")["spec"]["template"]["spec"]["volumes"]
    assert {"name": "admin", "secret": {"secretName": "zk-admin-of-mine", "defaultMode": 0o444}} in volumes
