"""The smoke targets: where the ensemble runs (local containers, or a StatefulSet on a cluster) behind target.Target."""
