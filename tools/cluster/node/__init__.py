"""One real node for the local cluster (`nox -s cluster -- up --node real`): pods run the project's image.

containerd from Debian (run by hand with its own config, root, state and socket), Debian's CNI plugins on a bridge of
its own, a pause image built from source, the kubelet and kube-proxy (iptables mode) from the control plane's
wrapper module, CoreDNS as a host process on the bridge address, and local-path-provisioner serving the `standard`
class with real directories. config.py writes the files, images.py moves the images in, host.py records and
restores what the node changes on the host, real.py starts and stops it all.
"""
