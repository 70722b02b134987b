"""Disclosure control's cost (governance.disclosure, pure Python): a filtered view as governance reads it,
over a random registry, beside the unfiltered view's one-way protection of the same counts (the bare
baseline, run side by side in the same rounds). Prints ratios to the baseline, not a pass/fail.

    .venv/bin/python -m bench disclosure [--people 300] [--tracks 3] [--rounds 10] [--seed 1]
"""
from __future__ import annotations

import argparse
import random

from bench.common import print_figures, time_side_by_side
from governance import disclosure

DIMS = ("category", "sector", "region", "gender", "language")
VOCAB = {"category": ("engineer", "researcher", "official"),
         "sector": ("health", "justice", "education", "finance", "interior", "agriculture"),
         "region": tuple(f"r{i:02d}" for i in range(12)), "gender": ("f", "m"),
         "language": ("fr", "ar", "ary", "zgh", "en")}


def registry(people: int, tracks: int, seed: int) -> dict:
    """Groups per scope (None: the programme; 1..tracks: each track), people spread over every
    combination; some people hold two tracks."""
    rng = random.Random(seed)
    scopes: dict = {None: {}}
    for _ in range(people):
        attrs = tuple(rng.choice(VOCAB[d]) for d in DIMS)
        scopes[None][attrs] = scopes[None].get(attrs, 0) + 1
        held = rng.sample(range(1, tracks + 1), 2 if tracks > 1 and rng.random() < 0.1 else 1) if tracks else []
        for track in held:
            scopes.setdefault(track, {})[attrs] = scopes.setdefault(track, {}).get(attrs, 0) + 1
    return {scope: [(dict(zip(DIMS, key)), count) for key, count in counts.items()]
            for scope, counts in scopes.items()}


def unfiltered(groups) -> dict:
    """The bare baseline: every one-way breakdown protected against the total (what the unfiltered
    view costs)."""
    grand = sum(count for _attrs, count in groups)
    result = {}
    for dim in DIMS:
        counts: dict[str, int] = {}
        for attrs, count in groups:
            counts[attrs[dim]] = counts.get(attrs[dim], 0) + count
        result[dim] = disclosure.protect(counts, grand, total_shown=disclosure.shown(grand))
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bench disclosure", description=__doc__)
    parser.add_argument("--people", type=int, default=300)
    parser.add_argument("--tracks", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--registries", type=int, default=5, help="random registries per sample (seeds)")
    parser.add_argument("--seed", type=int, default=1, help="the first seed")
    args = parser.parse_args(argv)
    # The cost depends a lot on how many small cells a registry has: each sample runs over several.
    all_scopes = [registry(args.people, args.tracks, seed) for seed in range(args.seed, args.seed + args.registries)]

    def each(view):
        return lambda: [view(scopes) for scopes in all_scopes]

    variants = {
        "unfiltered view (baseline)": each(lambda scopes: unfiltered(scopes[None])),
        "view ?sector=health": each(lambda scopes: disclosure.filtered_view(scopes[None], {"sector": "health"}, DIMS)),
        "view ?sector=health&region=r00": each(lambda scopes: disclosure.filtered_view(
            scopes[None], {"sector": "health", "region": "r00"}, DIMS)),
    }
    if hasattr(disclosure, "Family"):  # the protection across tracks, where it exists
        variants["view ?track=1"] = each(lambda scopes: disclosure.Family(scopes, DIMS).view(1, {}))
        variants["view ?track=1&sector=health"] = each(
            lambda scopes: disclosure.Family(scopes, DIMS).view(1, {"sector": "health"}))
    print(f"{args.registries} random registries of {args.people} people over every combination of "
          f"{', '.join(DIMS)}, {args.tracks} tracks; {args.rounds} rounds; times per registry set")
    print_figures(time_side_by_side(variants, rounds=args.rounds, warmup=args.warmup))
