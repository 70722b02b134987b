"""Run the benchmarks: `python -m bench` runs every one; `python -m bench NAME [ARGS...]` runs one with its
own arguments (`python -m bench registry --rebuild`, `python -m bench pdf --rounds 3`); `--list` names them.

A benchmark is a module of this package with a `main(argv)` function. Each is imported only when it is
about to run, so one that fails to import or crashes is reported and the others still run.
"""
from __future__ import annotations

import importlib
import sys
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
NOT_BENCHMARKS = {"__init__", "__main__", "ceiling", "common", "servers"}  # helpers, not benchmarks
FIRST = ["registry"]  # run first when present; the others follow in name order


def available() -> dict[str, str]:
    """Benchmark name -> module name. `bench_pdf.py` is called `pdf` (and `bench_pdf` is accepted too)."""
    stems = sorted(p.stem for p in HERE.glob("*.py") if p.stem not in NOT_BENCHMARKS and not p.stem.startswith("_"))
    ordered = [s for s in FIRST if s in stems] + [s for s in stems if s not in FIRST]
    return {s.removeprefix("bench_"): f"bench.{s}" for s in ordered}


def run_one(name: str, module_name: str, argv: list[str]) -> bool:
    """Import and run one benchmark; True when it ran to the end."""
    print(f"\n=== bench {name} ===", flush=True)
    start = time.perf_counter()
    try:
        module = importlib.import_module(module_name)
        main = getattr(module, "main", None)
        if not callable(main):
            print(f"{module_name} has no main(): skipped")
            return True
        main(argv)
    except SystemExit as exit_:  # argparse and friends: a zero exit is a normal end
        if exit_.code not in (0, None):
            print(f"bench {name} exited with {exit_.code}", file=sys.stderr)
            return False
    except Exception:  # a benchmark's failure is reported, and must not hide the others
        traceback.print_exc()
        print(f"bench {name} FAILED to run (see the traceback above)", file=sys.stderr)
        return False
    finally:
        print(f"=== bench {name}: {time.perf_counter() - start:.1f} s ===", flush=True)
    return True


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    benches = available()
    if argv[:1] == ["--list"]:
        print(*benches, sep="\n")
        return 0
    if argv[:1] in (["-h"], ["--help"]):
        print(__doc__.strip(), "", "benchmarks: " + ", ".join(benches), sep="\n")
        return 0
    if argv:
        name = argv[0].removeprefix("bench_")
        if name not in benches:
            print(f"unknown benchmark {argv[0]!r}; known: {', '.join(benches)}", file=sys.stderr)
            return 2
        return 0 if run_one(name, benches[name], argv[1:]) else 1
    failed = [name for name, module in benches.items() if not run_one(name, module, [])]
    if failed:
        print(f"\nbenchmarks that failed to run: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
