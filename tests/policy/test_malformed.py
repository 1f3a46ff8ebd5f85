"""Objects with a wrong structure (a list where a mapping belongs, a string for a list...) never crash the rules."""

from __future__ import annotations

from pathlib import Path

import pytest
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from tests.policy.conftest import FIXTURES
from tools.base.errors import UserError
from tools.checks.policy import RULES_BY_ID, check_manifests, has_errors
from tools.render.manifests import Manifest, load_file


def paths_of(node, prefix=()):
    """Every path to a mapping or list value below node."""
    items = node.items() if isinstance(node, CommentedMap) else enumerate(node)
    for key, value in items:
        if isinstance(value, (CommentedMap, CommentedSeq)):
            yield (*prefix, key)
            yield from paths_of(value, (*prefix, key))


def load(name: str) -> list:
    return list(YAML().load_all((FIXTURES / f"{name}.yaml").read_text()))


PROFILE_OF = {"production": "production", "laptop": "kind", "openshift": "openshift"}  # each passes as its own


def guarded(doc, path) -> bool:
    """A field whose loss some rule must report: any securityContext or resources, and the PDB's selector."""
    return path[-1] in ("securityContext", "resources") or (doc.get("kind") == "PodDisruptionBudget"
                                                              and tuple(path) == ("spec", "selector"))


@pytest.mark.parametrize("fixture", list(PROFILE_OF))
@pytest.mark.parametrize("wrong", ["text", ["a", 1], 7], ids=["string", "list", "number"])
def test_wrong_types_never_crash_a_rule(fixture, wrong):
    """Every mapping or list replaced by a wrong type: the rules still answer with located findings, and where the
    replaced field is one they guard, with an error."""
    docs = load(fixture)
    checked = errors_required = 0
    for doc_index, doc in enumerate(docs):
        for path in list(paths_of(doc)):
            mutated = load(fixture)
            parent = mutated[doc_index]
            for key in path[:-1]:
                parent = parent[key]
            parent[path[-1]] = wrong
            manifests = [Manifest(d, Path(f"{fixture}.yaml"), i, 1) for i, d in enumerate(mutated)]
            findings = check_manifests(manifests, fixture, PROFILE_OF[fixture])  # findings, never an exception
            for finding in findings:
                assert finding.rule in RULES_BY_ID and finding.line >= 1 and finding.message, finding
            if guarded(doc, path):
                errors_required += 1
                assert has_errors(findings), f"{fixture}: {'.'.join(map(str, path))} = {wrong!r} passed every rule"
            checked += 1
    assert checked > 30 and errors_required >= 3


def test_a_rule_tripping_over_input_is_a_user_error_naming_the_file(monkeypatch):
    import tools.checks.policy as policy
    from tools.checks.policy.rules import Rule

    def trips(ctx):
        raise TypeError("'int' object is not iterable")
        yield

    monkeypatch.setattr(policy, "RULES", [Rule("ZK-TEST-001", "error", "trips", None, trips)])
    manifests = [Manifest(d, Path("odd.yaml"), i, 1) for i, d in enumerate(load("production"))]
    with pytest.raises(UserError, match=r"odd\.yaml: ZK-TEST-001 cannot read the objects \(TypeError"):
        policy.check_manifests(manifests, "odd", "production")


def test_a_rewritten_file_is_parsed_again_even_at_the_same_size(tmp_path):
    """load_file caches parses by content, so a render rewritten within one clock tick is never served stale."""
    path = tmp_path / "rendered.yaml"
    path.write_text("apiVersion: v1\nkind: Service\nmetadata:\n  name: aaaa\n")
    assert [m.name for m in load_file(path)] == ["aaaa"]
    path.write_text("apiVersion: v1\nkind: Service\nmetadata:\n  name: bbbb\n")
    assert [m.name for m in load_file(path)] == ["bbbb"]
