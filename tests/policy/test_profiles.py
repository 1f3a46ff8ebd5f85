"""The real profiles: every overlay and chart profile passes with zero errors; findings trace to repository files."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tools import REPO_ROOT
from tools.base.profiles import Profile, all_profiles
from tools.checks.policy import check, check_manifests, has_errors
from tools.checks.policy.sources import HelmTracer
from tools.cli.helm import Helm
from tools.render import render_all
from tools.render.manifests import load_file

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "policy"


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> dict[Profile, Path]:
    return render_all(all_profiles(), tmp_path_factory.mktemp("build"))


def test_every_profile_passes_with_zero_errors(rendered):
    findings = check(rendered)
    assert set(findings.checked) == {p.name for p in rendered}
    errors = [f"{f.profile} {f.rule} {f.object} {f.path} at {f.location}: {f.message}" for f in findings
              if f.severity == "error"]
    assert errors == []
    assert not has_errors(findings)


def test_profile_types_get_their_own_rules(rendered):
    checked = check(rendered, trace_sources=False).checked
    assert "ZK-AFF-002" in checked["overlay-production"] and "ZK-AFF-002" not in checked["overlay-kind"]
    assert "ZK-OCP-001" in checked["overlay-openshift"] and "ZK-OCP-001" not in checked["overlay-production"]
    assert "ZK-AFF-003" in checked["overlay-minikube"] and "ZK-AFF-003" not in checked["overlay-openshift"]
    if "chart-default" in checked:
        assert not {"ZK-AFF-002", "ZK-AFF-003", "ZK-OCP-001", "ZK-IMG-002"} & set(checked["chart-default"])


def test_deployable_output_has_no_origin_annotations(rendered):
    for path in rendered.values():
        assert "config.kubernetes.io/origin" not in path.read_text()


def source_line(path: Path, line: str) -> int:
    return path.read_text().splitlines().index(line) + 1


@pytest.fixture
def repo_copy(tmp_path) -> Path:
    for part in ("base", "components", "overlays"):
        shutil.copytree(REPO_ROOT / part, tmp_path / part)
    return tmp_path


def replace_in(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert text.count(old) == 1, f"{old!r} must occur once in {path}"
    path.write_text(text.replace(old, new))


def test_overlay_findings_trace_to_patch_base_and_generator_lines(repo_copy):
    """A field from the base, one from a component's patch and a generator literal each name their own file:line."""
    replace_in(repo_copy / "base/poddisruptionbudget.yaml", "maxUnavailable: 1", "maxUnavailable: 0")
    replace_in(repo_copy / "components/laptop/memory-patch.yaml", "memory: 512Mi", "memory: 300Mi")
    replace_in(repo_copy / "overlays/production/anti-affinity-required-patch.yaml",
               "- topologyKey: kubernetes.io/hostname", "- topologyKey: kubernetes.io/host")
    profiles = [Profile("overlay", "kind", repo_copy), Profile("overlay", "production", repo_copy)]
    findings = check(render_all(profiles, repo_copy / "build"))
    by_rule = {(f.profile, f.rule): f for f in findings}

    pdb = by_rule["overlay-kind", "ZK-PDB-005"]
    assert (pdb.object, pdb.path) == ("PodDisruptionBudget/zookeeper", "spec.maxUnavailable")
    base_pdb = repo_copy / "base/poddisruptionbudget.yaml"
    assert pdb.source == f"base/poddisruptionbudget.yaml:{source_line(base_pdb, '  maxUnavailable: 0')}"
    rendered = Path(repo_copy / "build/overlay-kind.yaml").read_text().splitlines()
    assert rendered[pdb.line - 1] == "  maxUnavailable: 0"

    heap = by_rule["overlay-kind", "ZK-RES-004"]  # the laptop heap (256M) no longer fits the 300Mi limit
    assert heap.path == "data.ZOO_HEAP" and heap.object.startswith("ConfigMap/zookeeper-config-")
    laptop = repo_copy / "components/laptop/kustomization.yaml"
    assert heap.source == f"components/laptop/kustomization.yaml:{source_line(laptop, '      - ZOO_HEAP=256M')}"

    affinity = by_rule["overlay-production", "ZK-AFF-002"]
    patch = repo_copy / "overlays/production/anti-affinity-required-patch.yaml"
    assert affinity.source == ("overlays/production/anti-affinity-required-patch.yaml:"
                               f"{source_line(patch, '          requiredDuringSchedulingIgnoredDuringExecution:')}")


def chart_findings(tmp_path, env: str, extra_values: str):
    """Findings on the chart rendered with env's values file plus extra_values (written to a file of its own)."""
    values = tmp_path / "extra-values.yaml"
    values.write_text(extra_values)
    ci_values = Profile("chart", env).path
    (tmp_path / f"chart-{env}.yaml").write_text(Helm().template(REPO_ROOT / "chart", values=[ci_values, values]))
    tracer = HelmTracer(REPO_ROOT / "chart", [values, ci_values, REPO_ROOT / "chart/values.yaml"], REPO_ROOT)
    return check_manifests(load_file(tmp_path / f"chart-{env}.yaml"), f"chart-{env}", env, tracer), values


def test_a_chart_finding_names_the_values_file_line_that_set_the_value(tmp_path):
    findings, values = chart_findings(tmp_path, "kind", "image:\n  pullPolicy: Always\n")
    (pull,) = [f for f in findings if f.rule == "ZK-IMG-002" and f.object == "StatefulSet/zk-zookeeper"]
    assert pull.source == f"{values}:{source_line(values, '  pullPolicy: Always')}"


def test_a_chart_field_composed_from_several_values_names_the_template_line(tmp_path):
    findings, _ = chart_findings(tmp_path, "production", "{}\n")
    assert [f.rule for f in findings if f.severity == "error"] == []
    (placeholder,) = [f for f in findings if f.rule == "ZK-IMG-003" and f.object == "StatefulSet/zk-zookeeper"]
    # the image combines repository, tag and digest in a helper: the template line, not one guessed value
    statefulset = REPO_ROOT / "chart/templates/statefulset.yaml"
    line = source_line(statefulset, '          image: {{ include "zookeeper.image" . | quote }}')
    assert placeholder.source == f"chart/templates/statefulset.yaml:{line}"


def test_replicas_set_by_kustomize_replicas_field_trace_to_that_field(repo_copy):
    kustomization = repo_copy / "overlays/production/kustomization.yaml"
    kustomization.write_text(kustomization.read_text() + "\nreplicas:\n  - name: zookeeper\n    count: 4\n")
    findings = check(render_all([Profile("overlay", "production", repo_copy)], repo_copy / "build"))
    (even,) = [f for f in findings if f.rule == "ZK-ENS-001"]
    assert even.path == "spec.replicas"
    assert even.source == f"overlays/production/kustomization.yaml:{source_line(kustomization, '    count: 4')}"


def test_a_removed_pdb_is_not_blamed_on_an_unrelated_patch(repo_copy):
    replace_in(repo_copy / "base/kustomization.yaml", "  - poddisruptionbudget.yaml\n", "")
    findings = check(render_all([Profile("overlay", "production", repo_copy)], repo_copy / "build"))
    (missing,) = [f for f in findings if f.rule == "ZK-PDB-002"]
    statefulset = repo_copy / "base/statefulset.yaml"
    assert missing.source == f"base/statefulset.yaml:{source_line(statefulset, '  name: zookeeper')}"


def test_the_placeholder_registry_traces_to_the_component_that_sets_it(repo_copy):
    findings = check(render_all([Profile("overlay", "production", repo_copy)], repo_copy / "build"))
    (placeholder,) = [f for f in findings if f.rule == "ZK-IMG-003"]
    component = repo_copy / "components/registry-image/kustomization.yaml"
    line = source_line(component, "    newName: registry.example.com/platform/kube-zookeeper")
    assert placeholder.source == f"components/registry-image/kustomization.yaml:{line}"
    assert "components/registry-image/kustomization.yaml" in placeholder.message


def test_inline_and_json6902_patches_trace_to_their_lines(tmp_path):
    """An inline `patch: |` names its line in the kustomization; a JSON 6902 op names its value's line."""
    (tmp_path / "base").mkdir()
    shutil.copy(FIXTURES / "production.yaml", tmp_path / "base" / "ensemble.yaml")
    (tmp_path / "base" / "kustomization.yaml").write_text("resources:\n  - ensemble.yaml\n")
    overlay = tmp_path / "overlays" / "production"
    overlay.mkdir(parents=True)
    (overlay / "kustomization.yaml").write_text(
        "resources:\n  - ../../base\n"
        "patches:\n"
        "  - patch: |-\n"
        "      apiVersion: policy/v1\n"
        "      kind: PodDisruptionBudget\n"
        "      metadata:\n"
        "        name: zk\n"
        "      spec:\n"
        "        maxUnavailable: 0\n"
        "  - path: replicas-patch.yaml\n"
        "    target:\n"
        "      kind: StatefulSet\n"
        "      name: zk\n")
    (overlay / "replicas-patch.yaml").write_text("- op: replace\n  path: /spec/replicas\n  value: 4\n")
    findings = check(render_all([Profile("overlay", "production", tmp_path)], tmp_path / "build"))
    by_rule = {f.rule: f for f in findings}
    kustomization = overlay / "kustomization.yaml"
    assert by_rule["ZK-PDB-005"].source == ("overlays/production/kustomization.yaml:"
                                            f"{source_line(kustomization, '        maxUnavailable: 0')}")
    assert by_rule["ZK-ENS-001"].source == ("overlays/production/replicas-patch.yaml:"
                                            f"{source_line(overlay / 'replicas-patch.yaml', '  value: 4')}")
    # a field no patch touches comes from the resource file itself
    servers = source_line(FIXTURES / "production.yaml", '  replicas: "3"')
    assert by_rule["ZK-ENS-002"].source == f"base/ensemble.yaml:{servers}"
