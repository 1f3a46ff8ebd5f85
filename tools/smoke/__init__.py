"""Smoke test: deploy a real three-member ensemble and run the tutorial's checks against it.

`python -m tools.smoke --target local|kind|minikube|openshift|current --via kustomize|helm [--keep] [--report FILE]`

One scenario (scenario.py) runs over a small Target interface (target.py); the targets differ only in how they
deploy, run a command in a member, stop and start members, and remove or recreate the ensemble: targets/local.py
(containers on the host) and targets/kube.py (a StatefulSet in a fresh namespace, driven by kubectl;
targets/connect.py gets the cluster ready), whose scenario is scenarios/kube/ (one ordered step table over one module
per step family). `--scenario scale` (scenarios/scale.py, local target) resizes 3 -> 5 -> 3, rolls and kills members
under a writer that counts acknowledged writes (writer.py). ZooKeeper's own CLI (four-letter words, zkCli.sh,
parsing) is tools/cli/zookeeper.py.

Layer 6: may import every lower layer (base, cli, render, checks, image, cluster).
"""
