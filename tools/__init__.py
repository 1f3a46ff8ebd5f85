"""kube-zookeeper's toolchain, in layers that import only downward (tests/test_layers.py checks it):

    0 base/     errors, run, progress, versions, toolcache, yamlfile, profiles, contract (and this module: REPO_ROOT)
    1 cli/      one module per external CLI: kubectl, helm, kubeconform, promtool, engine, checkov, zookeeper
    2 render/   render every profile; manifests, schemas, crds, pod, blocks, values_table
    3 checks/   validate, parity, lint, alerts, policy/
    4 image/    build, ensemble
    5 cluster/  the local control plane and its real node
    6 smoke/    the smoke targets and scenarios
    7 bench/, mutate/   benchmarks; the mutation suite (neither imports the other)

A module may import its own package (without a cycle) and the packages of lower layers. Each package's __init__.py
says what it holds; noxfile.py runs the entry points (`python -m tools.<package>`)."""

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
