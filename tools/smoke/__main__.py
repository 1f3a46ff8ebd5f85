"""`python -m tools.smoke`: deploy a real ensemble and run the tutorial's checks (see tools/smoke/__init__.py)."""

from __future__ import annotations

import argparse
from pathlib import Path

from tools import REPO_ROOT
from tools.base.errors import UserError, cli
from tools.base.profiles import ENVIRONMENTS, Profile
from tools.cli.engine import Engine
from tools.cli.helm import Helm
from tools.image.build import ensure_image
from tools.smoke.report import table, write_json
from tools.smoke.scenario import Report, Scenario
from tools.smoke.scenarios.kube import KubeScenario
from tools.smoke.scenarios.scale import ScaleScenario
from tools.smoke.target import Target
from tools.smoke.targets import connect
from tools.smoke.targets.kube import KubeTarget, check_reachable, deploy_source, new_namespace
from tools.smoke.targets.local import LocalTarget

TARGETS = ("local", "cluster", "kind", "minikube", "openshift", "current")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="nox -s smoke --", description=__doc__.splitlines()[0])
    parser.add_argument("--target", choices=TARGETS, default="local", help="where the ensemble runs (default local)")
    parser.add_argument(
        "--via",
        choices=("kustomize", "helm"),
        default="kustomize",
        help="deploy overlays/<env> (kustomize) or chart/ with chart/ci/<env>-values.yaml (helm)",
    )
    parser.add_argument(
        "--env",
        "--profile",
        choices=(*ENVIRONMENTS, "default", "all"),
        default=None,
        help="which overlay or values file to deploy (default: the target's own; kind's for local and cluster, "
        "minikube's for current; `default` is the chart without a values file, --via helm only; `all` runs every "
        "one in turn on a Kubernetes target)",
    )
    parser.add_argument(
        "--scenario",
        choices=("tutorial", "scale"),
        default="tutorial",
        help="tutorial: the tutorial's checks (default); scale: 3 -> 5 -> 3, a rolling restart and kill -9 "
        "mid-scale under a counting writer (--target local; about 4 min)",
    )
    parser.add_argument(
        "--node",
        choices=("kwok", "real"),
        default="kwok",
        help="--target cluster: run the members on the kwok nodes (default; the ZooKeeper steps are not run) or on "
        "the real node of `nox -s cluster -- up --node real` (every step runs)",
    )
    parser.add_argument("--context", help="kubectl context (openshift, current; default: the current one)")
    parser.add_argument("--keep", action="store_true", help="keep the volumes (PVCs) after the run")
    parser.add_argument("--report", type=Path,
                        help="JSON report path (default build/smoke-local.json, build/smoke-<target>-<via>-<env>.json)")
    parser.add_argument("--rollout-timeout", type=int, default=600, help="seconds to wait for the pods (default 600)")
    return parser.parse_args(argv)


def run_scenario(target: Target, keep: bool, scenario: Scenario | None = None) -> Report:
    """The scenario, then the target's teardown whatever happened (volumes kept only with keep)."""
    try:
        return (scenario or Scenario(target)).run()
    finally:
        print(f"smoke: tearing down{' (keeping volumes)' if keep else ''}", flush=True)
        target.teardown(keep_volumes=keep)


def local_target(env: str, via: str) -> Target:
    engine = Engine.detect()
    target = LocalTarget(engine, Profile("overlay" if via == "kustomize" else "chart", env))
    ensure_image(engine, target.template.image)
    return target


def finish(reports: list[tuple[Report, Path]]) -> None:
    """Print each table, write each JSON; a failed step becomes a UserError naming the profile, step and why."""
    for report, path in reports:
        print(table(report))
        write_json(report, path)
        print(f"smoke: report written to {path}")
    failed = [(report, path) for report, path in reports if not report.ok]
    if len(reports) > 1:
        print(f"smoke: {len(reports) - len(failed)} of {len(reports)} profiles passed")
    if failed:
        lines = [f"{path.stem}: step {report.failed_step.name!r} failed: {report.failed_step.detail}"
                 if report.failed_step else f"{path.stem}: no step passed" for report, path in failed]
        raise UserError("\n".join(lines))


def kube_report(args: argparse.Namespace, env: str) -> Report:
    """One profile on a cluster target: prepare the cluster, run the Kubernetes scenario, clean up."""
    deploy_source(REPO_ROOT, args.via, env)  # a missing overlay or values file fails before any cluster work
    cluster = connect.prepare(args.target, env, args.context, args.keep, print, node=args.node)
    try:
        kubectl = cluster.kubectl.with_namespace(new_namespace())
        check_reachable(kubectl)
        helm = Helm.like(kubectl) if args.via == "helm" else None
        target = KubeTarget(cluster.env, args.via, kubectl, helm, rollout_timeout=args.rollout_timeout)
        scenario = KubeScenario(target, nodes=cluster.nodes, not_run=cluster.not_run)
        report = run_scenario(target, args.keep, scenario)
        report.timings.update(cluster.timings)
        return report
    finally:
        cluster.cleanup()


def environments(args: argparse.Namespace) -> list[str]:
    """--env as given, `all` expanded (the chart's `default` profile too, for --via helm)."""
    if args.env == "all":
        if args.target in ("local", "openshift"):
            raise UserError(f"--env all needs a Kubernetes target that can take every profile, not {args.target}")
        return [*ENVIRONMENTS, *(["default"] if args.via == "helm" else [])]
    env = args.env or {"local": "kind", "cluster": "kind", "current": "minikube"}.get(args.target, args.target)
    if env == "default" and args.via != "helm":
        raise UserError("--env default is the chart without a values file: use it with --via helm")
    return [env]


@cli
def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    envs = environments(args)
    if args.scenario == "scale" and args.target != "local":
        raise UserError(f"--scenario scale runs on --target local; on {args.target} the scale steps are part of the "
                        "cluster scenario")
    if args.target == "local":
        target = local_target(envs[0], args.via)
        if args.scenario == "scale":
            report = run_scenario(target, args.keep, ScaleScenario(target))
            finish([(report, args.report or REPO_ROOT / "build" / "smoke-local-scale.json")])
            return 0
        report = run_scenario(target, args.keep)
        finish([(report, args.report or REPO_ROOT / "build" / "smoke-local.json")])
        return 0
    reports = []
    for env in envs:
        print(f"smoke: {args.target}: {args.via} {env}", flush=True)
        default = REPO_ROOT / "build" / f"smoke-{args.target}-{args.via}-{env}.json"
        path = args.report.with_name(f"{args.report.stem}-{env}{args.report.suffix}") if args.report and len(envs) > 1 \
            else args.report or default
        reports.append((kube_report(args, env), path))
    finish(reports)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
