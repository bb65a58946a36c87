"""The replica benchmark's percentile: nearest rank, as its table says."""

from __future__ import annotations

import math

import pytest

from bench.bench_replicas import percentile


def test_the_nearest_rank_percentile_is_a_sample_at_least_q_percent_are_at_or_below() -> None:
    samples = [float(n) for n in range(100, 0, -1)]  # 1..100, unsorted
    assert percentile(samples, 50) == 50.0
    assert percentile(samples, 95) == 95.0
    assert percentile(samples, 99) == 99.0
    assert percentile(samples, 100) == 100.0
    # 50 samples (one burst of clicks): p99 is the largest, p95 the third largest, p50 the 25th.
    burst = [float(n) for n in range(1, 51)]
    assert percentile(burst, 99) == 50.0
    assert percentile(burst, 95) == 48.0
    assert percentile(burst, 50) == 25.0
    assert percentile([7.0], 1) == 7.0


def test_no_samples_have_no_percentile_and_q_must_be_in_range() -> None:
    assert math.isnan(percentile([], 50))
    with pytest.raises(ValueError, match="not in"):
        percentile([1.0], 0)
    with pytest.raises(ValueError, match="not in"):
        percentile([1.0], 101)
