"""`python -m tools.smoke`: deploy a real ensemble and run the tutorial's checks (see tools/smoke/__init__.py)."""

from __future__ import annotations

import argparse
from pathlib import Path

from tools import REPO_ROOT
from tools.errors import UserError, cli
from tools.smoke import clusters
from tools.smoke.report import table, write_json
from tools.smoke.scenario import Report, Scenario
from tools.smoke.target import Target

TARGETS = ("local", "kind", "minikube", "openshift", "current")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tools.smoke", description=__doc__.splitlines()[0])
    parser.add_argument("--target", choices=TARGETS, default="local", help="where the ensemble runs (default local)")
    parser.add_argument(
        "--via",
        choices=("kustomize", "helm"),
        default="kustomize",
        help="deploy overlays/<env> (kustomize) or chart/ with chart/ci/<env>-values.yaml (helm)",
    )
    parser.add_argument(
        "--env",
        choices=("minikube", "kind", "openshift", "production"),
        default=None,
        help="which overlay or values file to deploy (default: the target's own; "
        "kind's for local, minikube's for current)",
    )
    parser.add_argument("--context", help="kubectl context (openshift, current; default: the current one)")
    parser.add_argument("--keep", action="store_true", help="keep the volumes (PVCs) after the run")
    parser.add_argument("--report", type=Path, help="JSON report path (default build/smoke-<target>.json)")
    parser.add_argument("--rollout-timeout", type=int, default=600, help="seconds to wait for the pods (default 600)")
    return parser.parse_args(argv)


def run_scenario(target: Target, keep: bool) -> Report:
    """The scenario, then the target's teardown whatever happened (volumes kept only with keep)."""
    try:
        return Scenario(target).run()
    finally:
        print(f"smoke: tearing down{' (keeping volumes)' if keep else ''}", flush=True)
        target.teardown(keep_volumes=keep)


def local_target(env: str, via: str) -> Target:
    from tools.engine import Engine
    from tools.profiles import Profile
    from tools.smoke.local import LocalTarget, ensure_image

    engine = Engine.detect()
    target = LocalTarget(engine, Profile("overlay" if via == "kustomize" else "chart", env))
    ensure_image(engine, target.template.image)
    return target


def finish(report: Report, path: Path) -> None:
    """Print the table, write the JSON; a failed step becomes a UserError naming it and why."""
    print(table(report))
    write_json(report, path)
    print(f"smoke: report written to {path}")
    if not report.ok:
        step = report.failed_step
        raise UserError(f"smoke step {step.name!r} failed: {step.detail}")


@cli
def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    env = args.env or {"local": "kind", "current": "minikube"}.get(args.target, args.target)
    cluster = None
    try:
        if args.target == "local":
            target = local_target(env, args.via)
        else:
            from tools.smoke.kube import Helm, Kubectl, KubeTarget, check_reachable, deploy_source, new_namespace

            deploy_source(REPO_ROOT, args.via, env)  # a missing overlay or values file fails before any cluster work
            cluster = clusters.prepare(args.target, env, args.context, args.keep, print)
            namespace = new_namespace()
            kubectl = Kubectl(cluster.kubectl_program, cluster.context, namespace)
            check_reachable(kubectl)
            helm = None
            if args.via == "helm":
                from tools import helm as helm_tool

                helm = Helm(helm_tool.helm(), cluster.context, namespace)
            target = KubeTarget(cluster.env, args.via, kubectl, helm, rollout_timeout=args.rollout_timeout)
        report = run_scenario(target, args.keep)
    finally:
        if cluster:
            cluster.cleanup()
    finish(report, args.report or REPO_ROOT / "build" / f"smoke-{args.target}.json")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
