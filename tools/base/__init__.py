"""Layer 0, the base: errors, running commands, progress lines, pinned versions, the tool cache, YAML syntax checks,
the profiles, and the image's contract (contract.py). Imports nothing of the project but `tools` (REPO_ROOT)."""
