"""Layer 4, the image: build.py builds it (jars pinned and verified, the context staged, the engine's build),
ensemble.py runs it as a StatefulSet would, on one private network (the one local ensemble: the image and
monitoring tests, the benchmarks, and the smoke local target over it). May import tools.base, tools.cli,
tools.render and tools.checks; the CLI is __main__.py (`nox -s image`)."""
