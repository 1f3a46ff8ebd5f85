"""`python -m tools.checks.validate` end to end with the real kubectl kustomize and kubeconform."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml

from tools import REPO_ROOT
from tools.base.profiles import Profile
from tools.checks import validate as validate_module
from tools.cli import kubeconform
from tools.mutate import copy_repository
from tools.render import render_all, schemas

PYTHON = sys.executable


def validate(*args: str, env: dict | None = None, cwd: Path = REPO_ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([PYTHON, "-m", "tools.checks.validate", *args], capture_output=True, text=True, timeout=600,
                          cwd=cwd, env={**os.environ, "PYTHONPATH": str(REPO_ROOT), **(env or {})})


def assert_clean_failure(result: subprocess.CompletedProcess) -> None:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr + result.stdout


@pytest.fixture
def project_copy(tmp_path) -> Path:
    """A copy of the deployable tree, to break on purpose."""
    for part in ("base", "components", "overlays", "chart"):
        if (REPO_ROOT / part).exists():
            shutil.copytree(REPO_ROOT / part, tmp_path / part)
    return tmp_path


def test_every_profile_validates_against_every_kubernetes_version(tmp_path):
    result = validate("--build-dir", str(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    versions = schemas.kubernetes_versions()
    assert versions[0] == "v1.25.0" and len(versions) >= 13
    assert f"x {len(versions)} Kubernetes versions" in result.stdout
    assert {p.name for p in tmp_path.glob("overlay-*.yaml")} == {
        f"overlay-{env}.yaml" for env in ("minikube", "kind", "openshift", "production")}
    summary = result.stdout.split("validate ran:\n", 1)[1].splitlines()
    assert summary[0].startswith("  render: 9 profiles (overlay-minikube, ")
    assert summary[1] == f"  kubeconform -strict: 9 files x {len(versions)} Kubernetes versions: 0 problems"
    # the warnings: ZK-IMG-003, the placeholder registry in the openshift and production profiles
    assert summary[2].startswith("  policy: 9 profiles, ") and summary[2].endswith(": 0 errors, 6 warnings")
    assert summary[3] == "  parity: 4 environments compared (minikube, kind, openshift, production): 0 differences"


@pytest.mark.parametrize(("module", "broken"), [
    ("tools/checks/policy/__init__.py", "from tools.checks.policy.rules import RULES, RULES_BY_ID, Rule\n"),
    ("tools/checks/parity.py", "from tools.base.profiles import ENVIRONMENTS, Profile, select\n"),
])
def test_a_check_whose_module_cannot_load_is_an_error_naming_it(tmp_path, module, broken):
    """validate never skips a check: an import that fails (here, a name a refactor removed) fails the run."""
    copy = copy_repository(REPO_ROOT, tmp_path / "repo")
    text = (copy / module).read_text()
    assert text.count(broken) == 1
    (copy / module).write_text(text.replace(broken, broken.replace("import ", "import Gone, ")))
    name = module.removesuffix("/__init__.py").removesuffix(".py").replace("/", ".")
    result = validate("overlay-kind", "chart-kind", "--kube-versions", "v1.25.0", "--build-dir", str(tmp_path / "b"),
                      cwd=copy, env={"PYTHONPATH": str(copy)})
    assert_clean_failure(result)
    check = name.rsplit(".", 1)[-1]
    assert f"error: cannot run the {check} check: importing {name} failed (ImportError: cannot import name 'Gone'" \
        in result.stderr


def test_the_tutorials_policy_v1beta1_pdb_is_refused_as_a_removed_api(tutorial_manifest):
    result = validate(str(tutorial_manifest))
    assert_clean_failure(result)
    (line,) = [line for line in result.stderr.splitlines() if "PodDisruptionBudget" in line]
    assert os.path.relpath(tutorial_manifest, REPO_ROOT) in line
    assert "PodDisruptionBudget/zookeeper-pdb" in line
    assert "policy/v1beta1" in line and "removed" in line
    assert "v1.25.0..v1.37.0" in line or "v1.25.0.." in line


def test_an_unknown_field_fails_under_strict(tmp_path):
    subprocess.run([PYTHON, "-m", "tools.render", "overlay-kind", "--build-dir", str(tmp_path)], check=True,
                   cwd=REPO_ROOT, capture_output=True)
    docs = list(yaml.safe_load_all((tmp_path / "overlay-kind.yaml").read_text()))
    statefulset = next(d for d in docs if d["kind"] == "StatefulSet")
    statefulset["spec"]["template"]["spec"]["containers"][0]["memoryLimit"] = "512Mi"
    broken = tmp_path / "broken.yaml"
    broken.write_text(yaml.safe_dump_all(docs))
    result = validate(str(broken))
    assert_clean_failure(result)
    assert "StatefulSet/zookeeper" in result.stderr
    assert "/spec/template/spec/containers/0" in result.stderr and "memoryLimit" in result.stderr


def test_a_yaml_syntax_error_names_file_and_line_and_writes_nothing(project_copy):
    build = project_copy / "build"
    build.mkdir()
    earlier = build / "overlay-kind.yaml"
    earlier.write_text("# from an earlier render\n")
    patch = project_copy / "overlays" / "production" / "memory-patch.yaml"
    lines = patch.read_text().splitlines()
    bad_line = next(i for i, text in enumerate(lines) if "limits:" in text) + 1
    lines[bad_line - 1] = "            limits: [512Mi"
    patch.write_text("\n".join(lines) + "\n")
    result = subprocess.run([PYTHON, "-c", "import sys; from tools import render; from tools.base.errors import cli; "
                             "from tools.base.profiles import all_profiles; from pathlib import Path; "
                             "sys.exit(cli(lambda: render.render_all(all_profiles(Path(sys.argv[1])), "
                             "Path(sys.argv[2])))())", str(project_copy), str(build)],
                            capture_output=True, text=True, cwd=REPO_ROOT, timeout=120)
    assert_clean_failure(result)
    assert f"{patch}:{bad_line}:" in result.stderr or f"{patch}:{bad_line + 1}:" in result.stderr
    assert "YAML syntax error" in result.stderr
    assert sorted(p.name for p in build.iterdir()) == ["overlay-kind.yaml"]
    assert earlier.read_text() == "# from an earlier render\n"


def test_a_missing_kubectl_is_one_line_on_how_to_get_it(tmp_path):
    result = validate("--build-dir", str(tmp_path), env={"PATH": str(tmp_path)})
    assert_clean_failure(result)
    assert result.stderr.strip().count("\n") == 0
    assert "kubectl not found" in result.stderr and "install kubectl" in result.stderr


def test_a_missing_kubeconform_without_go_is_one_line_on_how_to_get_it(tmp_path, tutorial_manifest):
    result = validate(str(tutorial_manifest), env={"PATH": str(tmp_path), "KZ_CACHE_DIR": str(tmp_path / "cache")})
    assert_clean_failure(result)
    assert result.stderr.strip().count("\n") == 0
    assert "kubeconform" in result.stderr and "Go" in result.stderr


@pytest.mark.parametrize(("api_version", "kind"), [("apps/v1", "StatefulSet"), ("policy/v1", "PodDisruptionBudget"),
                                                   ("v1", "Service"), ("v1", "ConfigMap")])
def test_standalone_schemas_resolve_every_reference(api_version, kind, tmp_path, monkeypatch):
    monkeypatch.setenv("KZ_CACHE_DIR", str(tmp_path))
    root = schemas.ensure({(api_version, kind)}, ["v1.25.0"])
    path = root / "v1.25.0-standalone-strict" / kubeconform.schema_filename(api_version, kind)
    text = path.read_text()
    assert "_definitions.json" not in text and "kubernetes.io/api" not in text
    schema = json.loads(text)
    jsonschema.Draft202012Validator.check_schema(schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"apiVersion": api_version, "kind": kind, "metadata": {"name": "x", "bogus": 1}}, schema)


def test_parity_says_it_did_not_run_when_no_overlay_was_rendered(tmp_path):
    result = validate("chart-kind", "--kube-versions", "v1.37.0", "--build-dir", str(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "  parity: 0 environments compared (none: " in result.stdout
    assert "match" not in result.stdout.replace("matchLabels", "")


def test_parity_names_the_environments_it_compared(tmp_path):
    result = validate("overlay-kind", "chart-kind", "--kube-versions", "v1.37.0", "--build-dir", str(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "parity: the chart matches the overlays for kind\n" in result.stdout


def test_the_problem_count_counts_every_policy_error(project_copy):
    """Two policy errors are two problems in the closing line, not one."""
    for file, old, new in [("components/laptop/kustomization.yaml", "ZOO_HEAP=256M", "ZOO_HEAP=480M"),
                           ("base/poddisruptionbudget.yaml", "maxUnavailable: 1", "maxUnavailable: 0")]:
        text = (project_copy / file).read_text()
        assert text.count(old) == 1
        (project_copy / file).write_text(text.replace(old, new))
    rendered = render_all([Profile("overlay", "kind", project_copy)], project_copy / "build")
    failures = validate_module._policy_and_parity(rendered, summary=[])
    assert sorted(line.split()[1] for line in failures) == ["ZK-PDB-005", "ZK-RES-004"]
    assert all("overlay-kind" in line for line in failures)
