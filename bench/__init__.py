"""Benchmarks, run by `make bench` (`python -m bench`): figures printed as ratios against a bare baseline
measured side by side, never a pass/fail test. See bench/__main__.py for how they are found and run."""
