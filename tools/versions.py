"""Pinned versions of every external tool and schema set: the one place to change them."""

KUBECONFORM_MODULE = "github.com/yannh/kubeconform/cmd/kubeconform"
KUBECONFORM_VERSION = "v0.7.0"
HELM_MODULE = "helm.sh/helm/v3/cmd/helm"
HELM_VERSION = "v3.19.0"

# Kubernetes minor versions validated against: 1.25 up to the newest the kubernetes-validate package ships.
KUBERNETES_MIN_MINOR = 25

# The Kubernetes version `helm template` renders for (helm's own default, 1.20, is below the chart's kubeVersion).
HELM_TEMPLATE_KUBE_VERSION = "1.30.0"
