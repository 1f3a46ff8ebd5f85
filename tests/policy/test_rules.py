"""Every rule: the hand-written fixtures pass it; a one-field mutation fails it at the expected object, field and line.

The expected line is found in the mutated text (the line a reader would point at), never taken from the code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest

from tests.policy.conftest import fixture_text, line_number
from tools.base.errors import UserError
from tools.checks.policy import RULES, has_errors
from tools.checks.policy.context import probe_words
from tools.checks.policy.rules.resources import headroom
from tools.render import HELM_RELEASE
from tools.render.blocks import ENDPOINTS, load_endpoints, promised_endpoints

STS = "StatefulSet/zk"
POD = "spec.template.spec"
ZK = f"{POD}.containers[zookeeper]"


@dataclass(frozen=True)
class Case:
    rule: str
    fixture: str  # production | laptop | openshift
    profile_type: str
    old: str  # text replaced once in the fixture ("" = no change)
    new: str
    object: str
    path: str
    line: str  # the exact line the finding must point at (in the mutated text)
    after: str | None = None  # ...its first occurrence after the first line containing this
    severity: str = "error"
    source: str | None = None  # check as a profile rendered from this source (overlay, chart)

    @property
    def id(self) -> str:
        return f"{self.rule}-{self.fixture}-{self.profile_type}-{self.path.rsplit('.', 1)[-1]}"


def mutate(case: Case) -> str:
    text = fixture_text(case.fixture)
    if case.old:
        assert text.count(case.old) == 1, f"mutation anchor {case.old!r} must occur once in {case.fixture}"
        text = text.replace(case.old, case.new)
    return text


CLIENT_SELECTOR = "      targetPort: client\n  selector:\n    app: zk\n    role: ensemble\n"
NETWORK_POLICY = """---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: zk
spec:
  podSelector:
    matchLabels:
      app: zk
  ingress:
    - ports:
        - port: client
        - port: 2888
  egress:
    - to:
        - podSelector:
            matchLabels:
              role: ensemble
      ports:
        - port: server
"""


def network_policy_case(rule: str, old: str, new: str, path: str, line: str) -> Case:
    """The production fixture plus a NetworkPolicy with one edit."""
    return Case(rule, "production", "production", CLIENT_SELECTOR,
                CLIENT_SELECTOR + NETWORK_POLICY.replace(old, new), "NetworkPolicy/zk", path, line)


NP_KIND = "kind: NetworkPolicy"
NP = "NetworkPolicy/zk-members"
CLIENT_PEERS = "      from:\n        - podSelector:\n            matchLabels:\n              app: kafka\n"
PDB_SELECTOR = "  maxUnavailable: 1\n  selector:\n    matchLabels:\n      app: zk\n      role: ensemble\n"
CASES = [
    # non-root
    Case("ZK-SEC-001", "production", "production", "        runAsNonRoot: true\n", "        runAsNonRoot: false\n",
         STS, f"{POD}.securityContext.runAsNonRoot", "        runAsNonRoot: false"),
    Case("ZK-SEC-001", "production", "production", "        runAsNonRoot: true\n", "", STS,
         f"{POD}.securityContext.runAsNonRoot", "      securityContext:"),
    Case("ZK-SEC-001", "laptop", "kind", "            allowPrivilegeEscalation: false\n",
         "            allowPrivilegeEscalation: false\n            runAsNonRoot: false\n", STS,
         f"{ZK}.securityContext.runAsNonRoot", "            runAsNonRoot: false"),
    Case("ZK-SEC-002", "production", "production", "runAsUser: 1000", "runAsUser: 0", STS,
         f"{POD}.securityContext.runAsUser", "        runAsUser: 0"),
    Case("ZK-SEC-003", "production", "production", "privileged: false", "privileged: true", STS,
         f"{ZK}.securityContext.privileged", "            privileged: true"),
    Case("ZK-SEC-004", "production", "production", "            allowPrivilegeEscalation: false\n", "", STS,
         f"{ZK}.securityContext.allowPrivilegeEscalation", "          securityContext:"),
    Case("ZK-SEC-005", "production", "production", "drop: [ALL]", "drop: [NET_RAW]", STS,
         f"{ZK}.securityContext.capabilities.drop", "              drop: [NET_RAW]"),
    Case("ZK-SEC-005", "production", "production", "drop: [ALL]", "drop: [ALL]\n              add: [SYS_ADMIN]", STS,
         f"{ZK}.securityContext.capabilities.add", "              add: [SYS_ADMIN]"),
    Case("ZK-SEC-006", "production", "production", "type: RuntimeDefault", "type: Unconfined", STS,
         f"{POD}.securityContext.seccompProfile.type", "          type: Unconfined"),
    Case("ZK-SEC-006", "laptop", "minikube", "type: RuntimeDefault", "type: Unconfined", STS,
         f"{ZK}.securityContext.seccompProfile.type", "              type: Unconfined"),
    Case("ZK-SEC-007", "production", "production", "      automountServiceAccountToken: false\n", "", STS,
         f"{POD}.automountServiceAccountToken", "    spec:", severity="warning"),
    Case("ZK-SEC-007", "openshift", "openshift", "\nautomountServiceAccountToken: false", "", STS,
         f"{POD}.automountServiceAccountToken", "    spec:", severity="warning"),
    Case("ZK-SEC-008", "production", "production", "            readOnlyRootFilesystem: true\n", "", STS,
         f"{ZK}.securityContext.readOnlyRootFilesystem", "          securityContext:"),
    Case("ZK-SEC-008", "laptop", "kind", "            readOnlyRootFilesystem: true\n", "", STS,
         f"{ZK}.securityContext.readOnlyRootFilesystem", "          securityContext:", severity="warning"),
    # OpenShift
    Case("ZK-OCP-001", "production", "openshift", "", "", STS, f"{POD}.securityContext.fsGroup",
         "        fsGroup: 1000"),
    Case("ZK-OCP-001", "openshift", "openshift", "            allowPrivilegeEscalation: false\n",
         "            allowPrivilegeEscalation: false\n            runAsGroup: 1000\n", STS,
         f"{ZK}.securityContext.runAsGroup", "            runAsGroup: 1000"),
    # PodDisruptionBudget
    Case("ZK-PDB-001", "production", "production", "apiVersion: policy/v1\n", "apiVersion: policy/v1beta1\n",
         "PodDisruptionBudget/zk", "apiVersion", "apiVersion: policy/v1beta1"),
    Case("ZK-PDB-002", "production", "production", PDB_SELECTOR, PDB_SELECTOR.replace("app: zk", "app: other"),
         STS, "metadata.name", "  name: zk",
         after="kind: StatefulSet"),
    Case("ZK-PDB-002", "production", "production", "---\napiVersion: apps/v1\n",
         "---\napiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata:\n  name: zk-extra\nspec:\n"
         "  maxUnavailable: 1\n  selector:\n    matchLabels:\n      app: zk\n      role: ensemble\n"
         "---\napiVersion: apps/v1\n", "PodDisruptionBudget/zk-extra", "spec.selector", "  selector:",
         after="name: zk-extra"),
    Case("ZK-PDB-003", "production", "production", PDB_SELECTOR, PDB_SELECTOR.replace("      role: ensemble\n", ""),
         "PodDisruptionBudget/zk", "spec.selector", "  selector:", after="kind: PodDisruptionBudget"),
    Case("ZK-PDB-003", "laptop", "kind", "  minAvailable: 2\n  selector:\n    matchLabels:\n      app: zk\n",
         "  minAvailable: 2\n  selector:\n    matchLabels:\n      app: zookeeper\n", "PodDisruptionBudget/zk",
         "spec.selector", "  selector:", after="kind: PodDisruptionBudget"),
    Case("ZK-PDB-003", "laptop", "kind", "  minAvailable: 2\n  selector:\n    matchLabels:\n      app: zk\n",
         "  minAvailable: 2\n", "PodDisruptionBudget/zk", "spec.selector", "spec:", after="kind: PodDisruptionBudget"),
    Case("ZK-PDB-004", "laptop", "kind", "minAvailable: 2", "minAvailable: 1", "PodDisruptionBudget/zk",
         "spec.minAvailable", "  minAvailable: 1"),
    Case("ZK-PDB-004", "production", "production", "maxUnavailable: 1", "maxUnavailable: 60%",
         "PodDisruptionBudget/zk", "spec.maxUnavailable", "  maxUnavailable: 60%"),
    Case("ZK-PDB-005", "production", "production", "maxUnavailable: 1", "maxUnavailable: 0",
         "PodDisruptionBudget/zk", "spec.maxUnavailable", "  maxUnavailable: 0"),
    Case("ZK-PDB-005", "laptop", "minikube", "minAvailable: 2", "minAvailable: 100%",
         "PodDisruptionBudget/zk", "spec.minAvailable", "  minAvailable: 100%"),
    # anti-affinity
    Case("ZK-AFF-001", "production", "production", "                  app: zk\n",
         "                  app: zookeeper\n", STS,
         f"{POD}.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].labelSelector",
         "              labelSelector:", after="requiredDuringScheduling"),
    Case("ZK-AFF-001", "production", "production", "values: [ensemble]", "values: [client]", STS,
         f"{POD}.topologySpreadConstraints[0].labelSelector", "          labelSelector:",
         after="topologySpreadConstraints"),
    Case("ZK-AFF-001", "laptop", "kind", "                    app: zk\n", "                    app: zookeeper\n",
         STS, f"{POD}.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].podAffinityTerm"
         ".labelSelector", "                labelSelector:"),
    Case("ZK-AFF-002", "production", "production", "            - topologyKey: kubernetes.io/hostname",
         "            - topologyKey: topology.kubernetes.io/zone", STS,
         f"{POD}.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution",
         "          requiredDuringSchedulingIgnoredDuringExecution:"),
    Case("ZK-AFF-003", "production", "kind", "", "", STS,
         f"{POD}.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0]",
         "            - topologyKey: kubernetes.io/hostname"),
    Case("ZK-AFF-004", "laptop", "kind", "podAntiAffinity:", "podAffinity:", STS,
         f"{POD}.affinity.podAntiAffinity", "      affinity:", severity="warning"),
    # ensemble
    Case("ZK-ENS-001", "production", "production", "replicas: 3", "replicas: 4", STS, "spec.replicas",
         "  replicas: 4"),
    Case("ZK-ENS-001", "production", "production", "replicas: 3", "replicas: 1", STS, "spec.replicas",
         "  replicas: 1"),
    Case("ZK-ENS-001", "laptop", "kind", "replicas: 3", "replicas: 1", STS, "spec.replicas", "  replicas: 1",
         severity="warning"),
    Case("ZK-ENS-002", "production", "production", 'replicas: "3"', 'replicas: "5"', "ConfigMap/zk-ensemble",
         "data.replicas", '  replicas: "5"'),
    Case("ZK-ENS-002", "laptop", "kind", "            - name: ensemble\n              mountPath: /etc/zookeeper/"
         "ensemble/\n              readOnly: true\n", "", STS, f"{ZK}.volumeMounts", "          volumeMounts:"),
    Case("ZK-ENS-002", "openshift", "openshift", '  replicas: "3"\n', "", "ConfigMap/zk-config", "data.replicas",
         "data:"),
    Case("ZK-ENS-007", "production", "production", "  ZOO_HEAP: 1G\n", '  ZOO_HEAP: 1G\n  ZOO_SERVERS: "3"\n',
         "ConfigMap/zk-config", "data.ZOO_SERVERS", '  ZOO_SERVERS: "3"'),
    Case("ZK-ENS-007", "laptop", "kind", '["--log_level=INFO"]', '["--log_level=INFO", "--servers=3"]', STS,
         f"{ZK}.args[1]", '          args: ["--log_level=INFO", "--servers=3"]'),
    # the authority to reconfigure
    Case("ZK-ADM-001", "production", "production", "            - name: admin\n              mountPath: "
         "/etc/zookeeper/admin\n", "", STS, f"{ZK}.volumeMounts", "          volumeMounts:"),
    Case("ZK-ADM-001", "openshift", "openshift", "          secret:\n            secretName: zk-admin\n",
         "          emptyDir: {}\n", STS, f"{ZK}.volumeMounts[admin]", "            - name: admin"),
    Case("ZK-ADM-001", "laptop", "kind", "                path: password", "                path: pass", STS,
         f"{POD}.volumes[admin].secret.items", "            items:"),
    Case("ZK-ADM-002", "production", "production", "  ZOO_HEAP: 1G\n", "  ZOO_HEAP: 1G\n  JVMFLAGS: "
         "-Dzookeeper.skipACL=yes\n", "ConfigMap/zk-config", "data.JVMFLAGS", "  JVMFLAGS: -Dzookeeper.skipACL=yes"),
    Case("ZK-ADM-002", "openshift", "openshift", "-Xms512m -Xmx512m", "-Xms512m -Xmx512m -Dzookeeper.skipACL=true",
         STS, f"{ZK}.env[JVMFLAGS].value", "              value: -Xms512m -Xmx512m -Dzookeeper.skipACL=true"),
    Case("ZK-ADM-003", "production", "production", "kind: ConfigMap\nmetadata:\n  name: zk-ensemble\n",
         "kind: Secret\nmetadata:\n  name: zk-admin\nstringData:\n  password: laptop-only-not-a-secret\n---\n"
         "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: zk-ensemble\n", "Secret/zk-admin",
         "stringData.password", "  password: laptop-only-not-a-secret"),
    Case("ZK-ENS-003", "production", "production", "serviceName: zk-headless", "serviceName: zk-peers", STS,
         "spec.serviceName", "  serviceName: zk-peers"),
    Case("ZK-ENS-003", "production", "production", "clusterIP: None", "clusterIP: 10.96.0.10", "Service/zk-headless",
         "spec.clusterIP", "  clusterIP: 10.96.0.10"),
    Case("ZK-ENS-003", "production", "production", "  clusterIP: None\n", "", "Service/zk-headless",
         "spec.clusterIP", "spec:", after="name: zk-headless"),  # no clusterIP: the API server assigns one
    Case("ZK-ENS-004", "production", "production", "  publishNotReadyAddresses: true\n", "", "Service/zk-headless",
         "spec.publishNotReadyAddresses", "spec:", after="kind: Service"),
    Case("ZK-ENS-005", "production", "production", "    role: ensemble\n---\napiVersion: policy/v1",
         "    role: client\n---\napiVersion: policy/v1", "Service/zk-headless", "spec.selector", "  selector:",
         after="kind: Service"),
    Case("ZK-ENS-006", "production", "production", "podManagementPolicy: Parallel",
         "podManagementPolicy: OrderedReady", STS, "spec.podManagementPolicy", "  podManagementPolicy: OrderedReady"),
    # Service wiring
    Case("ZK-SVC-001", "production", "production", CLIENT_SELECTOR, CLIENT_SELECTOR.replace("app: zk", "app: zoo"),
         "Service/zk", "spec.selector", "  selector:", after="targetPort: client"),
    Case("ZK-SVC-001", "production", "production", CLIENT_SELECTOR, CLIENT_SELECTOR.replace("    role: ensemble\n", ""),
         "Service/zk", "spec.selector", "  selector:", after="targetPort: client"),
    Case("ZK-SVC-001", "production", "production", CLIENT_SELECTOR,
         CLIENT_SELECTOR.replace("  selector:", "  publishNotReadyAddresses: true\n  selector:"), "Service/zk",
         "spec.publishNotReadyAddresses", "  publishNotReadyAddresses: true", after="targetPort: client"),
    Case("ZK-SVC-001", "production", "production", CLIENT_SELECTOR, CLIENT_SELECTOR + "---\napiVersion: v1\n"
         "kind: Pod\nmetadata:\n  name: zk-test\n  labels: {app: zk, role: ensemble}\nspec:\n"
         "  containers: [{name: t, image: 'zk:1'}]\n", "Service/zk", "spec.selector", "  selector:",
         after="targetPort: client"),
    Case("ZK-SVC-002", "production", "production", "targetPort: client", "targetPort: clients", "Service/zk",
         "spec.ports[client].targetPort", "      targetPort: clients"),
    Case("ZK-SVC-002", "production", "production", "    - name: server\n      port: 2888\n",
         "    - name: server\n      port: 2889\n", "Service/zk-headless", "spec.ports[server].port",
         "      port: 2889"),
    Case("ZK-SVC-003", "production", "production", "", "", STS, "metadata.name", "  name: zk",
         after="kind: StatefulSet", source="overlay"),  # docs/endpoints.yaml promises overlay users Service zookeeper
    # NetworkPolicy
    network_policy_case("ZK-NET-001", "      app: zk\n", "      app: zoo\n", "spec.podSelector", "  podSelector:"),
    network_policy_case("ZK-NET-002", "- port: client", "- port: clients", "spec.ingress[0].ports[0].port",
                        "        - port: clients"),
    network_policy_case("ZK-NET-002", "- port: 2888", "- port: 4888", "spec.ingress[0].ports[1].port",
                        "        - port: 4888"),
    network_policy_case("ZK-NET-002", "- port: server", "- port: election", "spec.egress[0].ports[0].port",
                        "        - port: election"),
    # resources
    Case("ZK-RES-005", "production", "production", "              cpu: 500m\n              memory: 2Gi\n",
         "              cpu: 500m\n              memory: 3Gi\n", STS, f"{ZK}.resources.requests.memory",
         "              memory: 3Gi"),
    Case("ZK-RES-001", "production", "production", "              cpu: 500m\n              memory: 2Gi\n",
         "              cpu: 500m\n", STS, f"{ZK}.resources.requests.memory", "            requests:"),
    Case("ZK-RES-002", "production", "production", "            limits:\n              memory: 2Gi\n", "", STS,
         f"{ZK}.resources.limits.memory", "          resources:"),
    Case("ZK-RES-003", "production", "production", "              cpu: 500m\n", "", STS,
         f"{ZK}.resources.requests.cpu", "            requests:"),
    Case("ZK-RES-004", "production", "production", "ZOO_HEAP: 1G", "ZOO_HEAP: 1800M", "ConfigMap/zk-config",
         "data.ZOO_HEAP", "  ZOO_HEAP: 1800M"),
    Case("ZK-RES-004", "openshift", "openshift", "-Xmx512m", "-Xmx900m", STS, f"{ZK}.env[JVMFLAGS].value",
         "              value: -Xms512m -Xmx900m"),
    Case("ZK-RES-004", "laptop", "kind", '["--log_level=INFO"]', '["--log_level=INFO", "--heap=400M"]', STS,
         f"{ZK}.args[1]",
         '          args: ["--log_level=INFO", "--heap=400M"]'),
    Case("ZK-RES-004", "openshift", "openshift", "-Xms512m -Xmx512m", "-XX:MaxRAMPercentage=80", STS,
         f"{ZK}.env[JVMFLAGS].value", "              value: -XX:MaxRAMPercentage=80"),
    # probes
    Case("ZK-PRB-001", "production", "production",
         '          livenessProbe:\n            exec:\n              command: [ready_live.sh, "2181", live]\n', "",
         STS, f"{ZK}.livenessProbe", "        - name: zookeeper"),
    Case("ZK-PRB-002", "production", "production",
         '          readinessProbe:\n            exec:\n              command: [ready_live.sh, "2181", ready]\n', "",
         STS, f"{ZK}.readinessProbe", "        - name: zookeeper"),
    Case("ZK-PRB-003", "production", "production", "ZOO_4LW_COMMANDS_WHITELIST: ruok,srvr,mntr",
         "ZOO_4LW_COMMANDS_WHITELIST: srvr,mntr", STS, f"{ZK}.livenessProbe.exec.command",
         '              command: [ready_live.sh, "2181", live]'),
    Case("ZK-PRB-003", "production", "production", "ZOO_4LW_COMMANDS_WHITELIST: ruok,srvr,mntr",
         "ZOO_4LW_COMMANDS_WHITELIST: ruok,mntr", STS, f"{ZK}.readinessProbe.exec.command",
         '              command: [ready_live.sh, "2181", ready]'),
    Case("ZK-PRB-003", "production", "production", "  ZOO_4LW_COMMANDS_WHITELIST: ruok,srvr,mntr\n", "", STS,
         f"{ZK}.livenessProbe.exec.command", '              command: [ready_live.sh, "2181", live]'),
    Case("ZK-PRB-003", "laptop", "kind", "ruok srvr", "srvr", STS, f"{ZK}.livenessProbe.exec.command",
         '              command: [sh, -c, "printf ruok | nc -w1 127.0.0.1 2181 | grep imok"]'),
    Case("ZK-PRB-003", "openshift", "openshift", "4lw.commands.whitelist=*", "4lw.commands.whitelist=ruok, srvr",
         STS, f"{ZK}.readinessProbe.exec.command",
         '              command: [sh, -c, "ready_live.sh 2181 ready && metrics.sh 2181 >/dev/null"]'),
    # network policy
    Case("ZK-NET-003", "production", "production", "kind: NetworkPolicy\n", "kind: Ingress\n", STS,
         "spec.template.metadata.labels", "      labels:", after="kind: StatefulSet"),
    Case("ZK-NET-004", "production", "production", "        - port: 3888\n", "        - port: 3889\n", NP,
         "spec.ingress", "  ingress:", after=NP_KIND),
    Case("ZK-NET-004", "production", "default", "        - port: 3888\n      from:\n        - podSelector:\n"
         "            matchLabels:\n              app: zk\n", "        - port: 3888\n      from:\n"
         "        - podSelector:\n            matchLabels:\n              app: zk-client\n", NP,
         "spec.ingress", "  ingress:", after=NP_KIND),
    Case("ZK-NET-004", "production", "production", "  policyTypes: [Ingress]\n", "  policyTypes: [Ingress, Egress]\n",
         NP, "spec.egress", "spec:", after=NP_KIND),
    Case("ZK-NET-005", "production", "production", CLIENT_PEERS, "", NP, "spec.ingress[0]", "    - ports:",
         after=NP_KIND, severity="warning"),
    Case("ZK-NET-005", "production", "production", CLIENT_PEERS, "      from:\n        - namespaceSelector: {}\n",
         NP, "spec.ingress[0]", "    - ports:", after=NP_KIND, severity="warning"),
    # image
    Case("ZK-IMG-001", "production", "production", "zk:3.9.5-1", "zk:latest", STS, f"{ZK}.image",
         "          image: registry.corp.internal/zk:latest"),
    Case("ZK-IMG-001", "laptop", "kind", "image: kube-zookeeper:3.9.5-1", "image: localhost:5000/kube-zookeeper",
         STS, f"{ZK}.image", "          image: localhost:5000/kube-zookeeper"),
    Case("ZK-IMG-002", "laptop", "kind", "imagePullPolicy: IfNotPresent", "imagePullPolicy: Always", STS,
         f"{ZK}.imagePullPolicy", "          imagePullPolicy: Always"),
    Case("ZK-IMG-003", "production", "production", "registry.corp.internal/zk", "registry.example.com/zk", STS,
         f"{ZK}.image", "          image: registry.example.com/zk:3.9.5-1", severity="warning"),
]


@pytest.mark.parametrize(("fixture", "profile_type"), [
    ("production", "production"), ("production", "default"), ("laptop", "kind"), ("laptop", "minikube"),
    ("laptop", "default"), ("openshift", "openshift"), ("openshift", "default")])
def test_fixtures_pass_every_rule(check_text, fixture, profile_type):
    findings = check_text(fixture_text(fixture), profile_type)
    assert [(f.rule, f.path, f.message) for f in findings] == []


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_rule_fails_at_its_location(check_text, case):
    text = mutate(case)
    findings = check_text(text, case.profile_type, source=case.source)
    mine = [f for f in findings if f.rule == case.rule]
    assert mine, f"{case.rule} did not fire; got {[(f.rule, f.path) for f in findings]}"
    expected = (case.object, case.path, line_number(text, case.line, case.after), case.severity)
    assert expected in [(f.object, f.path, f.line, f.severity) for f in mine]
    finding = next(f for f in mine if (f.object, f.path) == expected[:2])
    assert finding.file.endswith("manifest.yaml") and finding.location.endswith(f":{finding.line}")
    assert finding.message
    assert has_errors(findings) is (case.severity == "error" or any(f.severity == "error" for f in findings))


def test_every_rule_has_a_failing_case():
    assert len({r.id for r in RULES}) == len(RULES), "rule ids are unique"
    assert {r.id for r in RULES} - {c.rule for c in CASES} == set()
    for rule in RULES:
        assert rule.severity in ("error", "warning") and rule.title


@pytest.mark.parametrize(("fixture", "profile_type", "old", "new", "rule"), [
    # legitimate alternatives a rule must accept
    ("production", "production", "zk:3.9.5-1", "zk@sha256:" + "ab" * 32, "ZK-IMG-001"),
    ("laptop", "kind", "image: kube-zookeeper:3.9.5-1", "image: localhost:5000/kube-zookeeper:3.9.5-1",
     "ZK-IMG-001"),
    ("production", "production", "maxUnavailable: 1", "minAvailable: 2", "ZK-PDB-004"),
    ("production", "production", "maxUnavailable: 1", "maxUnavailable: 33%", "ZK-PDB-004"),
    ("production", "production", "maxUnavailable: 1", "minAvailable: 66%", "ZK-PDB-005"),
    ("production", "production", "ZOO_4LW_COMMANDS_WHITELIST: ruok,srvr,mntr", "ZOO_4LW_COMMANDS_WHITELIST: '*'",
     "ZK-PRB-003"),
    ("laptop", "kind", "  ZOO_4LW_COMMANDS_WHITELIST: ruok srvr\n",
     "  JVMFLAGS: -Dzookeeper.4lw.commands.whitelist=ruok,srvr\n", "ZK-PRB-003"),
    ("production", "production", "  ZOO_HEAP: 1G\n", "  ZOO_HEAP: 1G\n  JVMFLAGS: -Dzookeeper.skipACL=no\n",
     "ZK-ADM-002"),
    ("production", "production", "kind: ConfigMap\nmetadata:\n  name: zk-ensemble\n",
     "kind: Secret\nmetadata:\n  name: zk-admin\ndata:\n  password: c29tZXRoaW5nLWVsc2U=\n---\n"
     "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: zk-ensemble\n", "ZK-ADM-003"),  # a password of yours
    ("production", "production", 'command: [ready_live.sh, "2181", ready]', 'command: [ready_live.sh, "2181"]',
     "ZK-ENS-006"),
    ("production", "production", "ZOO_HEAP: 1G", "ZOO_HEAP: 1536M", "ZK-RES-004"),  # 1536Mi + 512Mi = 2Gi
    ("production", "production", "ZOO_HEAP: 1G", "ZOO_HEAP: ''", "ZK-RES-004"),  # start.sh derives it
    ("openshift", "openshift", "-Xms512m -Xmx512m", "-XX:MaxRAMPercentage=75", "ZK-RES-004"),
    ("production", "production", CLIENT_SELECTOR, CLIENT_SELECTOR + NETWORK_POLICY, "ZK-NET-001"),
    ("production", "production", CLIENT_SELECTOR, CLIENT_SELECTOR + NETWORK_POLICY, "ZK-NET-002"),
    ("production", "production", CLIENT_SELECTOR, CLIENT_SELECTOR + NETWORK_POLICY.replace(
        "  podSelector:\n    matchLabels:\n      app: zk\n", "  podSelector: {}\n"), "ZK-NET-001"),  # default deny
    ("production", "production", "targetPort: client", "targetPort: 2181", "ZK-SVC-002"),  # by number
    ("production", "production", "      targetPort: client\n", "", "ZK-SVC-002"),  # port 2181 is the target
    ("production", "production", "              cpu: 500m\n              memory: 2Gi\n",
     "              cpu: 500m\n              memory: 1Gi\n", "ZK-RES-005"),
    # members named by port name (the container's ports), by a port range, or from every namespace
    ("production", "production", "        - port: 2888\n        - port: 3888\n",
     "        - port: server\n        - port: 3888\n", "ZK-NET-004"),
    ("production", "production", "        - port: 2888\n        - port: 3888\n",
     "        - port: 2800\n          endPort: 3900\n", "ZK-NET-004"),
    ("production", "production", "        - podSelector:\n            matchLabels:\n              app: zk\n",
     "        - namespaceSelector: {}\n          podSelector:\n            matchLabels:\n              app: zk\n",
     "ZK-NET-004"),
    ("production", "production", "  policyTypes: [Ingress]\n", "  policyTypes: [Ingress, Egress]\n  egress:\n"
     "    - to:\n        - podSelector:\n            matchLabels:\n              app: zk\n", "ZK-NET-004"),
])
def test_rule_accepts_alternative(check_text, fixture, profile_type, old, new, rule):
    text = fixture_text(fixture)
    assert text.count(old) == 1
    findings = check_text(text.replace(old, new), profile_type)
    assert rule not in [f.rule for f in findings]


def test_heap_limit_boundary_uses_the_stated_headroom(check_text):
    """heap + max(128Mi, 25% of the limit) may equal the limit, not exceed it."""
    assert headroom(2 * 2**30) == 512 * 2**20 and headroom(256 * 2**20) == 128 * 2**20
    text = fixture_text("production")
    over = check_text(text.replace("ZOO_HEAP: 1G", "ZOO_HEAP: 1537M"), "production")
    assert [f.rule for f in over] == ["ZK-RES-004"]
    assert "headroom 512Mi" in over[0].message and "max(128Mi, 25% of the limit)" in over[0].message


def test_message_says_what_to_change(check_text):
    text = fixture_text("production").replace("maxUnavailable: 1", "maxUnavailable: 2")
    findings = [f for f in check_text(text, "production") if f.rule == "ZK-PDB-004"]
    assert len(findings) == 1 and "maxUnavailable: 1" in findings[0].message and "quorum 2" in findings[0].message


@pytest.mark.parametrize(("command", "words"), [
    (["ready_live.sh", "2181"], {"ruok"}),  # no mode = live
    (["ready_live.sh", "2181", "live"], {"ruok"}),
    (["ready_live.sh", "2181", "ready"], {"srvr"}),
    (["sh", "-c", "ready_live.sh 2181"], {"ruok"}),
    (["sh", "-c", "ready_live.sh '2181' ready"], {"srvr"}),
    (["metrics.sh", "2181"], {"mntr"}),
    (["sh", "-c", "echo ruok | nc localhost 2181"], {"ruok"}),
    (["bash", "-c", "printf 'stat' | nc -w1 127.0.0.1 2181"], {"stat"}),
    (["sh", "-c", "test -f /opt/zookeeper/conf/zoo.cfg"], set()),
    (["zkServer.sh", "status"], {"srvr"}),
    (["/opt/zookeeper/bin/zkOk.sh"], {"ruok"}),
])
def test_probe_words(command, words):
    assert probe_words(command) == words


def test_the_promised_endpoints_are_read_per_source_from_their_data_file(check_text):
    """docs/endpoints.yaml promises overlay users `zookeeper:2181` and chart users `zk-zookeeper:2181` (release zk)."""
    lines = ENDPOINTS.read_text().splitlines()
    overlay_line = next(i for i, line in enumerate(lines, 1) if line.strip() == "- service: zookeeper")
    chart_line = next(i for i, line in enumerate(lines, 1) if line.strip() == "- service: zk-zookeeper")
    assert [(e.service, e.port, e.line) for e in promised_endpoints("overlay")] == [("zookeeper", 2181, overlay_line)]
    assert [(e.service, e.port, e.line) for e in promised_endpoints("chart")] == [("zk-zookeeper", 2181, chart_line)]
    assert promised_endpoints(None) == []  # files checked as they are promise nothing

    kept = fixture_text("production").replace("kind: Service\nmetadata:\n  name: zk\n",
                                              "kind: Service\nmetadata:\n  name: zookeeper\n")
    assert "ZK-SVC-003" not in [f.rule for f in check_text(kept, "production", source="overlay")]
    broken = kept.replace("      port: 2181\n", "      port: 2182\n")
    (finding,) = [f for f in check_text(broken, "production", source="overlay") if f.rule == "ZK-SVC-003"]
    assert (finding.object, finding.path) == ("Service/zookeeper", "spec.ports")
    assert f"docs/endpoints.yaml:{overlay_line}" in finding.message and "zookeeper:2181" in finding.message


def test_a_promise_changed_in_the_data_file_is_what_the_rule_checks(tmp_path):
    """The rule reads the data, not prose: promising 2182 fails a rendering whose client Service offers 2181."""
    changed = tmp_path / "endpoints.yaml"
    changed.write_text(ENDPOINTS.read_text().replace("port: 2181", "port: 2182"))
    assert [e.port for e in promised_endpoints("overlay", changed)] == [2182]
    assert [e.port for e in promised_endpoints("chart", changed)] == [2182]


@pytest.mark.parametrize(("old", "new", "message"), [
    ("      port: 2181\n", "      port: twenty\n", r"endpoints.yaml:\d+: each client endpoint is `service: NAME`"),
    ("overlay:", "overlays:", r"endpoints.yaml:1: expected a mapping with exactly the keys overlay, chart"),
    ("  clients:\n    - service: zookeeper", "  client:\n    - service: zookeeper", r"endpoints.yaml:\d+: overlay "
     "needs clients"),
])
def test_a_malformed_endpoints_file_is_refused_with_file_and_line(tmp_path, old, new, message):
    broken = tmp_path / "endpoints.yaml"
    text = ENDPOINTS.read_text()
    assert old in text
    broken.write_text(text.replace(old, new, 1))
    with pytest.raises(UserError, match=message):
        promised_endpoints("overlay", broken)


def test_the_chart_promise_names_the_release_the_chart_profiles_render():
    assert load_endpoints()["chart"].release == HELM_RELEASE


# Advice that a user follows must pass the other rules, in the syntax the field takes.


def test_heap_advice_is_in_the_heap_syntax_and_fixes_the_finding(check_text):
    text = fixture_text("production").replace("ZOO_HEAP: 1G", "ZOO_HEAP: 1800M")
    (finding,) = [f for f in check_text(text, "production") if f.rule == "ZK-RES-004"]
    advised = re.search(r"lower the heap to (\S+) or raise the limit", finding.message).group(1)
    assert re.fullmatch(r"[1-9][0-9]*[kKmMgG]", advised), f"{advised} is not a heap size start.sh and the JVM take"
    assert advised == "1536M"  # 2Gi limit - max(128Mi, 512Mi) headroom
    assert check_text(text.replace("ZOO_HEAP: 1800M", f"ZOO_HEAP: {advised}"), "production") == []


def test_pdb_advice_for_two_members_does_not_break_the_drain_rule(check_text):
    text = fixture_text("production").replace("replicas: 3", "replicas: 2").replace('replicas: "3"', 'replicas: "2"')
    findings = check_text(text, "production")
    (quorum,) = [f for f in findings if f.rule == "ZK-PDB-004"]
    assert "maxUnavailable: 0" not in quorum.message and "minAvailable: 2" not in quorum.message
    assert "run 3 members" in quorum.message and "maxUnavailable: 1" in quorum.message
    fixed = text.replace("replicas: 2", "replicas: 3").replace('replicas: "2"', 'replicas: "3"')
    assert check_text(fixed, "production") == []


def test_a_placeholder_registry_warns_and_names_the_component_to_edit(check_text):
    text = fixture_text("production").replace("registry.corp.internal/zk", "registry.example.com/platform/zk")
    findings = check_text(text, "production")
    assert [(f.rule, f.severity) for f in findings] == [("ZK-IMG-003", "warning")]
    assert "components/registry-image/kustomization.yaml" in findings[0].message
    assert not has_errors(findings)
