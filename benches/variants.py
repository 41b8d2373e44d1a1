#!/usr/bin/env python3
"""Build variants side by side: runs the `inference` benchmark binary of each variant in
turn (interleaved rounds, the order rotated every round so no variant always goes first),
then prints per variant the median prompt-processing and decode tokens/s over the rounds and
the ratio of each median to the first variant's.

Usage:
  benches/variants.py --rounds 5 NAME=BENCH_BINARY[,ENV=VALUE...] ...
e.g.
  benches/variants.py --rounds 5 base=/tmp/v/omp-dyn/inference \
      static=/tmp/v/omp-static/inference static-passive=/tmp/v/omp-static/inference,OMP_WAIT_POLICY=PASSIVE

Each benchmark run does ZONEGATE_BENCH_RUNS (default here 1) repetitions of each figure
and prints their median; this script takes the median of those over the rounds.
The binaries are what `cargo bench --bench inference --no-run` prints as `Executable`.
"""

import argparse
import os
import re
import statistics
import subprocess
import sys
import time

FIGURES = [
    ("pp", re.compile(r"prompt processing .*?\s([0-9.]+) tokens/s")),
    ("decode1", re.compile(r"decode, 1 concurrent.*?\s([0-9.]+) tokens/s")),
    ("decode4", re.compile(r"decode, 4 concurrent.*?\s([0-9.]+) tokens/s")),
]


def parse_variant(spec):
    name, _, rest = spec.partition("=")
    if not name or not rest:
        sys.exit(f"variant {spec!r}: expected NAME=BINARY[,ENV=VALUE...]")
    binary, *env = rest.split(",")
    extra = {}
    for kv in env:
        k, _, v = kv.partition("=")
        if not k:
            sys.exit(f"variant {spec!r}: bad ENV=VALUE {kv!r}")
        extra[k] = v
    if not os.access(binary, os.X_OK):
        sys.exit(f"variant {name}: {binary} is not an executable")
    return name, binary, extra


def run_once(binary, extra, runs):
    env = dict(os.environ, ZONEGATE_BENCH_RUNS=str(runs), **extra)
    t0 = time.monotonic()
    out = subprocess.run([binary], env=env, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        sys.exit(f"{binary} failed ({out.returncode}):\n{out.stdout}\n{out.stderr[-2000:]}")
    values = {}
    for key, rx in FIGURES:
        m = rx.search(out.stdout)
        if not m:
            sys.exit(f"{binary}: no {key} figure in:\n{out.stdout}")
        values[key] = float(m.group(1))
    values["wall_s"] = time.monotonic() - t0
    return values


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--runs", type=int, default=1, help="ZONEGATE_BENCH_RUNS for each benchmark run")
    ap.add_argument("variants", nargs="+")
    args = ap.parse_args()
    variants = [parse_variant(v) for v in args.variants]
    results = {name: [] for name, _, _ in variants}
    for r in range(args.rounds):
        k = r % len(variants)
        for name, binary, extra in variants[k:] + variants[:k]:
            v = run_once(binary, extra, args.runs)
            results[name].append(v)
            print(f"round {r + 1} {name:<16} pp {v['pp']:8.1f}  decode1 {v['decode1']:7.1f}  decode4 {v['decode4']:7.1f} tokens/s  ({v['wall_s']:.0f} s)", flush=True)
    base = variants[0][0]
    med = {name: {key: statistics.median(x[key] for x in rs) for key, _ in FIGURES} for name, rs in results.items()}
    print(f"\nmedians over {args.rounds} rounds (tokens/s), ratio to {base}:")
    for name, m in med.items():
        cells = "  ".join(f"{key} {m[key]:8.1f} ({m[key] / med[base][key]:.2f}x)" for key, _ in FIGURES)
        print(f"{name:<16} {cells}")


if __name__ == "__main__":
    main()
