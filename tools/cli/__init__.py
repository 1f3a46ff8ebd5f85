"""Layer 1, the external CLIs: kubectl (with kustomize), helm, kubeconform, promtool, the container engine, checkov,
and ZooKeeper's own CLI surface (four-letter words, zkCli.sh argv, parsing their replies). One module per CLI; each
may import tools.base only."""
