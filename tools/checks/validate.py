"""`nox -s validate`: render every profile, kubeconform it against every Kubernetes version, run the policy rules
and the chart/overlay parity check. Exit 0 only when all pass."""

from __future__ import annotations

import argparse
import importlib
import os
import re
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tools.base.errors import UserError, cli
from tools.base.profiles import Profile, select
from tools.base.yamlfile import load_all
from tools.cli.kubeconform import Kubeconform, Outcome
from tools.render import BUILD_DIR, render_all, schemas


def api_kinds(path: Path) -> set[tuple[str, str]]:
    """The (apiVersion, kind) pairs in a YAML file; a syntax error is a UserError naming file and line."""
    return {(d["apiVersion"], d["kind"]) for d in load_all(path)
            if isinstance(d, dict) and isinstance(d.get("apiVersion"), str) and isinstance(d.get("kind"), str)}


def _explain(outcome: Outcome) -> str:
    if outcome.message.startswith("could not find schema"):
        return (f"no schema for apiVersion {outcome.api_version} kind {outcome.kind}: the API is removed or unknown"
                " in these versions (PodDisruptionBudget needs policy/v1 since Kubernetes 1.25)")
    detail = re.search(r" - at '([^']*)': (.*)$", outcome.message)
    if detail:
        return f"at {detail.group(1) or '/'}: {detail.group(2)}"
    return outcome.message


def _version_span(kube_versions: list[str]) -> str:
    return kube_versions[0] if len(kube_versions) == 1 else f"{kube_versions[0]}..{kube_versions[-1]}"


def schema_findings(files: list[Path], kube_versions: list[str]) -> list[str]:
    """kubeconform every file against every version; one line per distinct problem, listing the versions it hits."""
    kinds = set().union(*(api_kinds(f) for f in files))
    kubeconform = Kubeconform.pinned()  # a missing kubeconform fails before the schemas are built
    schemas.ensure(kinds, kube_versions)
    locations = schemas.locations()
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        batches = pool.map(lambda v: kubeconform.validate(files, v, locations), kube_versions)
        outcomes = [o for batch in batches for o in batch]
    problems: dict[tuple[str, str, str, str], list[str]] = {}
    for outcome in outcomes:
        if outcome.failed:
            key = (_display(outcome.file), f"{outcome.kind}/{outcome.name}", _explain(outcome))
            problems.setdefault(key, []).append(outcome.kube_version)
    return [f"{file}: {obj}: {message} [Kubernetes {_version_span(found)}]"
            for (file, obj, message), found in sorted(problems.items())]


def _display(file: str) -> str:
    relative = os.path.relpath(file)
    return file if relative.startswith("..") else relative


def _check_module(name: str):
    """tools.checks.<name>, which validate needs to run a check; a missing or broken module is an error naming it (the
    check is never skipped)."""
    try:
        return importlib.import_module(f"tools.checks.{name}")
    except Exception as exc:  # noqa: BLE001 -- any import failure is reported, with its cause
        raise UserError(f"cannot run the {name} check: importing tools.checks.{name} failed ({type(exc).__name__}: "
                        f"{exc})") from None


def _policy_and_parity(rendered: dict[Profile, Path], summary: list[str]) -> list[str]:
    policy, parity = _check_module("policy"), _check_module("parity")
    failures: list[str] = []
    findings = policy.check(rendered)
    print(policy.format_report(findings, "table"))
    errors = sum(f.severity == policy.ERROR for f in findings)
    rules = sum(len(ids) for ids in findings.checked.values())
    summary.append(f"policy: {len(findings.checked)} profiles, {rules} rule checks: {errors} errors, "
                   f"{len(findings) - errors} warnings")
    failures += [f"policy: {f.rule} {f.profile} {f.object}: error above"
                 for f in findings if f.severity == policy.ERROR]
    envs = parity.environments_compared(rendered)
    differences = parity.check(rendered)
    failures += [f"parity: {d}" for d in differences]
    compared = ", ".join(envs) or "none: no environment has both its overlay and chart profile among the targets"
    summary.append(f"parity: {len(envs)} environments compared ({compared}): {len(differences)} differences")
    if envs and not differences:
        print(f"parity: the chart matches the overlays for {', '.join(envs)}")
    return failures


@cli
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="validate", description=__doc__)
    parser.add_argument("targets", nargs="*",
                        help="profile names, or YAML files to check instead (default: all profiles)")
    parser.add_argument("--build-dir", type=Path, default=BUILD_DIR)
    parser.add_argument("--kube-versions", metavar="V1,V2", help="only these Kubernetes versions, e.g. v1.25.0,v1.37.0")
    args = parser.parse_args(argv)
    files = [Path(t) for t in args.targets if t.endswith((".yaml", ".yml"))]
    names = [t for t in args.targets if t not in map(str, files)]
    kube_versions = schemas.kubernetes_versions()
    if args.kube_versions:
        wanted = args.kube_versions.split(",")
        unknown = sorted(set(wanted) - set(kube_versions))
        if unknown:
            raise UserError(f"--kube-versions: no schemas for {', '.join(unknown)}; known: {', '.join(kube_versions)}")
        kube_versions = [v for v in kube_versions if v in wanted]
    rendered: dict[Profile, Path] = {}
    summary: list[str] = []
    if names or not files:
        rendered = render_all(select(names), args.build_dir)
        files += rendered.values()
        summary.append(f"render: {len(rendered)} profiles ({', '.join(p.name for p in rendered)})")
    failures = schema_findings(files, kube_versions)
    for line in failures:
        print(f"FAIL {line}", file=sys.stderr)
    print(f"kubeconform -strict: {len(files)} files x {len(kube_versions)} Kubernetes versions "
          f"({_version_span(kube_versions)}): {'FAILED' if failures else 'ok'}")
    summary.append(f"kubeconform -strict: {len(files)} files x {len(kube_versions)} Kubernetes versions: "
                   f"{len(failures)} problems")
    if rendered:
        extra = _policy_and_parity(rendered, summary)
        for line in extra:
            print(f"FAIL {line}", file=sys.stderr)
        failures += extra
    else:
        summary.append("policy and parity: not run on files given by path (they need rendered profiles; "
                       "`nox -s policy -- --as TYPE FILE` checks files)")
    print("validate ran:\n" + "\n".join(f"  {line}" for line in summary))
    if failures:
        raise UserError(f"validation failed: {len(failures)} problem(s), listed above")
    return 0

if __name__ == "__main__":
    raise SystemExit(main())
