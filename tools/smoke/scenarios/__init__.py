"""The smoke scenarios beyond the tutorial's (tools/smoke/scenario.py), each as step modules."""
