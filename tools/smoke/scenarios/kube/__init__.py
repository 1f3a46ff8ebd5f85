"""What every cluster target checks about Kubernetes itself, around the ZooKeeper steps: one ordered step table.

The real commands a user types run against a real API server: a server-side strict dry run, then the apply (or
`helm upgrade --install`) into a namespace that enforces the `restricted` Pod Security Standard; the rollout; where
the scheduler put each member; the Services' endpoints; the PDB against the eviction API; requests the quorum cannot
absorb refused (an even count, 3 -> 7, 3 -> 1); scaling 3 -> 5 -> 3 with the one setting, members 0..2 untouched;
scaling down under a writer (5 -> 3 with an eviction at once, 7 -> 5 -> 3 back to back); a rolling update watched
pod by pod; a second apply (or `helm rollback`, and an upgrade from the previous commit's chart); the delete.

Where the members run no containers (kwok nodes), the ZooKeeper steps are reported as `not run`, never as passed;
`--target local` covers them. On kwok nodes (which run nothing) the scenario cordons nodes to give a profile the
layout it is meant for (one node for the laptop profiles) and to keep an evicted member down. On the run's own
cluster (`nox -s cluster`, kwok or real nodes) it applies the scaling admission policy (admission/) as a platform's
admin would; on kind, minikube or the current cluster it touches neither.

STEPS below is the whole scenario in order; each step is a function of one family module (deploy, placement,
disruption, scaling, update, teardown) or one of the tutorial's ZooKeeper steps (tools/smoke/scenario.py, whose own
`deploy` the first steps here replace), and gets the shared context (context.KubeContext).
"""

from __future__ import annotations

from collections.abc import Callable

from tools.smoke.scenario import NotRun, Scenario
from tools.smoke.scenarios.kube import deploy, disruption, placement, scaling, teardown, update
from tools.smoke.scenarios.kube.context import KubeContext

ALWAYS = "always"
MEMBERS_RUN = "where members run"  # else `not run` (kwok nodes run no ZooKeeper)
HELM = "helm only"


STEPS: tuple[tuple[str, Callable[[KubeContext], str], str], ...] = (
    ("namespace-restricted", deploy.restricted_namespace, ALWAYS),
    ("admin-secret", deploy.admin_secret, ALWAYS),
    ("server-dry-run-strict", deploy.server_dry_run, ALWAYS),
    ("apply-and-rollout", deploy.apply_and_rollout, ALWAYS),
    ("pods-running-pvcs-bound", deploy.pods_running_pvcs_bound, ALWAYS),
    ("scheduling", placement.scheduling, ALWAYS),
    ("service-endpoints", placement.service_endpoints, ALWAYS),
    ("quorum", deploy.quorum, ALWAYS),  # says `not run` itself where members run no containers
    ("ruok", Scenario.every_member_imok, MEMBERS_RUN),
    ("roles", Scenario.one_leader_rest_followers, MEMBERS_RUN),
    ("followers-synced", Scenario.leader_sees_followers_synced, MEMBERS_RUN),
    ("write", Scenario.write_first_value, MEMBERS_RUN),
    ("read-every-member", Scenario.read_first_value_everywhere, MEMBERS_RUN),
    ("delete-pod-keeps-data", disruption.delete_pod_keeps_data, MEMBERS_RUN),
    ("stop-one-member", Scenario.stop_first_member, MEMBERS_RUN),
    ("write-one-down", Scenario.write_with_one_member_down, MEMBERS_RUN),
    ("stop-second-member", Scenario.stop_second_member, MEMBERS_RUN),
    ("write-refused-without-quorum", Scenario.write_without_quorum, MEMBERS_RUN),
    ("quorum-lost-probes", disruption.quorum_lost_probes, MEMBERS_RUN),
    ("restart-both", Scenario.restart_stopped_members, MEMBERS_RUN),
    ("refused-write-absent", Scenario.refused_write_never_appears, MEMBERS_RUN),
    ("remove-ensemble", Scenario.remove_ensemble, MEMBERS_RUN),
    ("recreate-on-same-volumes", Scenario.recreate_ensemble, MEMBERS_RUN),
    ("data-survives-recreate", Scenario.last_value_survives, MEMBERS_RUN),
    ("pdb-eviction", disruption.pdb_eviction, ALWAYS),
    ("scale-refused", scaling.scale_refused, ALWAYS),
    ("scale-out-and-back", scaling.scale_out_and_back, ALWAYS),
    ("scale-down-under-load", scaling.scale_down_under_load, MEMBERS_RUN),
    ("rolling-update", update.rolling_update, ALWAYS),
    ("reapply-or-rollback", update.reapply_or_rollback, ALWAYS),
    ("delete-keeps-pvcs", teardown.delete_keeps_pvcs, ALWAYS),
    ("reapply-keeps-data", teardown.reapply_keeps_data, MEMBERS_RUN),
    ("upgrade-from-previous-chart", update.upgrade_from_previous_chart, HELM),
)


class KubeScenario(KubeContext):
    """The Kubernetes checks, then (where members run) the ZooKeeper scenario, then the day-2 commands."""

    def steps(self) -> list[tuple[str, Callable[[], str]]]:
        return [(name, self.bind(step, when)) for name, step, when in STEPS if when != HELM or self.kube.via == "helm"]

    def bind(self, step: Callable[[KubeContext], str], when: str) -> Callable[[], str]:
        """The step as the runner calls it, with this context; where members run no containers, a ZooKeeper step
        is `not run` (see Scenario.run), never passed."""

        def run() -> str:
            if when == MEMBERS_RUN and not self.members_run_containers():
                raise NotRun(self.not_run)
            return step(self)

        return run

    def step(self, name: str) -> str:
        """Run one step of the table by name (tests and benchmarks that need only some)."""
        return dict(self.steps())[name]()

    def run(self):
        try:
            return super().run()
        finally:
            disruption.uncordon(self)
