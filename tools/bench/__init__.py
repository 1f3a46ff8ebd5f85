"""Layer 7, the benchmarks (`nox -s bench`). May import every lower layer; never tools.mutate (the other package of
layer 7).

    __main__.py   the section table (SECTIONS, in the order they run), the command line, the runner
    measure.py    Measure (name, value, unit, the baseline and goals it is compared with) and Options (--repeat)
    timing.py     wall and CPU time, best, median, ratio, load average: the only timing helpers
    memory.py     resident memory from /proc
    report.py     the one printer: a Markdown table per section on stdout, JSON with --json FILE

One module per section, each with one entry point `run(options: Options) -> list[Measure]`: validate.py, policy.py,
image.py, smoke.py, cluster.py (its fresh_cluster is shared with real_node.py), real_node.py.
"""
