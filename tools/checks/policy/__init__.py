"""Policy rules over rendered manifests, with located findings.

API for other tools (tools/checks/validate.py):
    findings = check({profile: rendered_path, ...})     # list[Finding], every profile's rules
    findings = check_files([path, dir], "production")     # files/directories checked together as one profile
    text = format_report(findings, "table" | "json" | "junit")
    has_errors(findings) -> bool                           # any error-severity finding
"""

from __future__ import annotations

from pathlib import Path

from tools import REPO_ROOT
from tools.base.errors import UserError
from tools.base.profiles import Profile
from tools.checks.policy.context import Context
from tools.checks.policy.model import ERROR, PROFILE_TYPES, WARNING, Finding, format_path
from tools.checks.policy.report import format_report
from tools.checks.policy.rules import RULES, RULES_BY_ID, Rule
from tools.checks.policy.sources import Tracer, display, tracer_for
from tools.render.manifests import Manifest, load_file

__all__ = ["ERROR", "PROFILE_TYPES", "RULES", "RULES_BY_ID", "WARNING", "Finding", "Findings", "Rule", "check",
           "check_files", "check_manifests", "format_report", "has_errors", "profile_type"]


class Findings(list):
    """Findings plus what was checked: profile -> ids of the rules that ran (the JUnit report lists them all)."""

    def __init__(self, items=(), checked: dict[str, list[str]] | None = None):
        super().__init__(items)
        self.checked: dict[str, list[str]] = dict(checked or {})

    def extend_with(self, other: Findings) -> None:
        self.extend(other)
        self.checked.update(other.checked)


def profile_type(profile: Profile) -> str:
    return profile.env if profile.env in PROFILE_TYPES else "default"


def _shown(path: Path) -> str:
    return display(path, REPO_ROOT, Path.cwd())


def check_manifests(manifests: list[Manifest], label: str, kind_of_profile: str,
                    tracer: Tracer | None = None, source: str | None = None) -> Findings:
    """Run every rule that applies to kind_of_profile over one profile's objects (rendered from `source`, overlay or
    chart, when they were: the endpoints the docs promise users of that source apply)."""
    if kind_of_profile not in PROFILE_TYPES:
        raise ValueError(f"unknown profile type {kind_of_profile}")
    ctx = Context(label, kind_of_profile, manifests, source)
    rules = [r for r in RULES if r.applies_to(kind_of_profile)]
    findings, seen = Findings(checked={label: [r.id for r in rules]}), set()
    for rule in rules:
        for hit in _hits(rule, ctx, manifests):
            key = (rule.id, id(hit.manifest), hit.path)
            if key in seen:
                continue
            seen.add(key)
            findings.append(Finding(
                rule=rule.id, severity=hit.severity or rule.severity, profile=label, object=hit.manifest.ref,
                path=format_path(hit.manifest.doc, hit.path), file=_shown(hit.manifest.file),
                line=hit.manifest.line_of(hit.path), source=tracer(hit.manifest, hit.path) if tracer else None,
                message=hit.message))
    findings.sort(key=lambda f: (f.severity != ERROR, f.rule, f.object, f.line))
    return findings


def _hits(rule: Rule, ctx: Context, manifests: list[Manifest]):
    """The rule's hits; a structure no rule expects (a list where a mapping belongs...) is a located UserError."""
    try:
        return list(rule.check(ctx))
    except (AttributeError, TypeError, ValueError, KeyError) as exc:
        files = ", ".join(sorted({str(m.file) for m in manifests}))
        raise UserError(f"{files}: {rule.id} cannot read the objects ({type(exc).__name__}: {exc}); "
                        "check their structure against the Kubernetes schema (nox -s validate)") from None


def check(rendered: dict[Profile, Path], trace_sources: bool = True) -> Findings:
    """Check each profile's rendered file with its profile type's rules; UserError on unreadable input."""
    findings = Findings()
    for profile, path in rendered.items():
        tracer = tracer_for(profile) if trace_sources else None
        findings.extend_with(check_manifests(load_file(path), profile.name, profile_type(profile), tracer,
                                             profile.source))
    return findings


def manifest_files(paths: list[Path]) -> list[Path]:
    """The files given, a directory standing for its *.yaml and *.yml files (sorted)."""
    files = []
    for path in map(Path, paths):
        if path.is_dir():
            found = sorted([*path.glob("*.yaml"), *path.glob("*.yml")])
            if not found:
                raise UserError(f"{path}: no *.yaml or *.yml files in this directory")
            files += found
        else:
            files.append(path)
    return files


def check_files(paths: list[Path], kind_of_profile: str) -> Findings:
    """Check manifest files (or directories of them) together, as one profile of the given type
    (production, openshift, minikube, kind, default): like `kubectl apply -f` would deploy them."""
    files = manifest_files(paths)
    manifests = [m for path in files for m in load_file(path)]
    label = _shown(files[0]) if len(files) == 1 else f"{_shown(files[0])} (+{len(files) - 1} more files)"
    return check_manifests(manifests, label, kind_of_profile)


def has_errors(findings: list[Finding]) -> bool:
    return any(f.severity == ERROR for f in findings)
