"""Sampler mixes: one budget split by shares, each sampler drawing its count from its own pool, a pair found by
two samplers counted once; and the shares the kept silver achieved. Pure functions over candidate frames
(`sampling.sample_mixed_candidates` builds the pools)."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from .. import registry


def mix_candidates(
    pools: dict[str, pd.DataFrame], shares: dict[str, float], *, cap: int | None = None, seed: int = 42
) -> pd.DataFrame:
    """The candidates of a sampler mix, drawn from each sampler's pool (sentence1, sentence2, sampler).

    The budget is the largest pool (what the most productive sampler gives alone), at most `cap`; it is split by
    `shares` (largest remainders, so the counts sum to it). In the order of `shares`, each sampler draws its count
    at random (with `seed`) from its pool, skipping pairs an earlier sampler drew: a pair found by two samplers
    counts once, for the earlier, and the later one draws others in its place. When a pool cannot fill its count
    the budget shrinks until every share can be met, so each sampler's count is its share of the total within
    one pair."""
    names = list(shares)
    budget = max((len(pools[name]) for name in names), default=0)
    if cap is not None:
        budget = min(budget, int(cap))
    rng = np.random.default_rng((seed, 1))
    order = {name: rng.permutation(len(pools[name])) for name in names}
    keys = {name: _unordered_keys(pools[name]) for name in names}
    quotas = split_budget(budget, shares)
    taken: set[tuple[str, str]] = set()
    picks: dict[str, list[int]] = {}
    for name in names:
        picks[name] = []
        for row in order[name]:
            if len(picks[name]) >= quotas[name]:
                break
            if keys[name][row] not in taken:
                taken.add(keys[name][row])
                picks[name].append(int(row))
    if any(len(picks[name]) < quotas[name] for name in names):
        total = sum(shares.values())
        budget = min(int(len(picks[name]) / (shares[name] / total) + 1e-9) for name in names)
        quotas = split_budget(budget, shares)
        picks = {name: rows[: quotas[name]] for name, rows in picks.items()}
    parts = [pools[name].iloc[picks[name]][["sentence1", "sentence2", "sampler"]] for name in names]
    if not parts:
        return pd.DataFrame({"sentence1": [], "sentence2": [], "sampler": []})
    return pd.concat(parts, ignore_index=True)


def split_budget(budget: int, shares: dict[str, float]) -> dict[str, int]:
    """`budget` split by `shares` into whole counts that sum to it (largest remainders; ties to the earlier)."""
    total = sum(shares.values())
    exact = {name: budget * share / total for name, share in shares.items()}
    counts = {name: int(value + 1e-9) for name, value in exact.items()}
    left = budget - sum(counts.values())
    for name in sorted(exact, key=lambda n: -(exact[n] - counts[n]))[: max(left, 0)]:
        counts[name] += 1
    return counts


def achieved_shares(samplers: Iterable[str], shares: dict[str, float]) -> dict[str, float]:
    """Each mixed sampler's share of the pairs whose `sampler` (the search that found them) belongs to the mix;
    pairs from elsewhere (e.g. 'given') are not counted."""
    owner = {part: name for name in shares for part in registry.SEARCHES[name]}
    counts = dict.fromkeys(shares, 0)
    for search in samplers:
        if search in owner:
            counts[owner[search]] += 1
    total = sum(counts.values())
    return {name: (count / total if total else 0.0) for name, count in counts.items()}


def _unordered_keys(pairs: pd.DataFrame) -> list[tuple[str, str]]:
    """One key per unordered pair of sentences (the same for both orders)."""
    return [(a, b) if a <= b else (b, a) for a, b in zip(pairs["sentence1"], pairs["sentence2"])]
