"""A real Kubernetes control plane on 127.0.0.1 (`nox -s cluster -- up|down|status`).

build.py builds the pinned etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kwok once from the Go
module proxy into the tool cache; pki.py makes the certificates; control_plane.py starts, checks and stops the
processes. kwok runs the nodes: pods are scheduled, admitted and reported Running/Ready, PVCs bind, but no container
runs, so nothing that needs ZooKeeper itself can be checked on them; node/ adds one real node that does run them.
http.py is the health probe both use.

Layer 5: may import tools.base, cli, render, checks and image.
"""
