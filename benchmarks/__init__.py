"""hubopt benchmarks (``make bench``); see benchmarks/run.py."""
