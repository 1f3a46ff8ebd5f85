"""Monitoring: the prometheus-operator CRDs and their kubeconform schemas (crds), the alert rules and dashboard of
the rendered profiles and the metric names they use (rules)."""
