"""Layer 3, the checks of rendered profiles: validate (kubeconform, policy, parity: `nox -s validate`), parity (chart
against overlay), lint (`nox -s lint`), alerts (the alert rules through promtool) and policy/ (the ZK-* rules). Each
may import tools.base, tools.cli and tools.render; validate reaches policy and parity by name, so a broken one is
reported instead of skipped."""
