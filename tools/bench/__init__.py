"""Layer 7, the benchmarks (`nox -s bench`): __main__.py runs the sections and prints one table; one module per
section (validate, policy, image, smoke, cluster), each with run() -> [(name, value with unit)]. May import every
lower layer; never tools.mutate (the other package of layer 7)."""
