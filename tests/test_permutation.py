"""The kernel's epoch permutation (Fisher-Yates on a splitmix64 stream)."""

import numpy as np
import pytest
from scipy.stats import chisquare

from sgdclf import _kernel


def test_is_a_permutation_of_the_given_rows_and_deterministic():
    rows = np.arange(3, 3000, 3, dtype=np.int64)
    a, b, c = (np.empty_like(rows) for _ in range(3))
    _kernel.shuffle_rows(a, rows, 7)
    _kernel.shuffle_rows(b, rows, 7)
    _kernel.shuffle_rows(c, rows, 8)
    assert np.array_equal(np.sort(a), rows)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)


@pytest.mark.parametrize("n", [6, 7])  # (positions drawn in pairs: both ends)
def test_every_position_is_equally_likely(n):
    trials = 30_000
    counts = np.zeros((n, n))
    rows = np.arange(n, dtype=np.int64)
    out = np.empty_like(rows)
    for seed in range(trials):
        _kernel.shuffle_rows(out, rows, seed)
        counts[out, np.arange(n)] += 1
    # Each element lands in each position with probability 1/n.
    p_value = chisquare(counts.ravel()).pvalue
    assert p_value > 1e-4
    assert np.abs(counts / trials - 1 / n).max() < 0.015


def test_empty_and_single_row():
    for n in (0, 1):
        rows = np.arange(n, dtype=np.int64)
        out = np.empty_like(rows)
        _kernel.shuffle_rows(out, rows, 1)
        assert np.array_equal(out, rows)


def test_the_epochs_of_a_fit_are_independent_permutations():
    """A fit passes one seed and the epoch number: the epochs' permutations
    differ, and over many epochs of one seed every position is equally
    likely, as over many seeds."""
    n, epochs = 6, 30_000
    rows = np.arange(n, dtype=np.int64)
    out = np.empty_like(rows)
    first = np.empty_like(rows)
    _kernel.shuffle_rows(first, None, 123, 0)
    _kernel.shuffle_rows(out, None, 123, 0)
    assert np.array_equal(first, out)
    counts = np.zeros((n, n))
    for epoch in range(epochs):
        _kernel.shuffle_rows(out, None, 123, epoch)
        counts[out, np.arange(n)] += 1
    assert chisquare(counts.ravel()).pvalue > 1e-4
    # Consecutive epochs are not the same permutation shifted or repeated.
    big = [np.empty(1000, dtype=np.int64) for _ in range(3)]
    for epoch, b in enumerate(big):
        _kernel.shuffle_rows(b, None, 123, epoch)
    assert not np.array_equal(big[0], big[1]) and not np.array_equal(big[1], big[2])
    assert abs(np.corrcoef(big[0], big[1])[0, 1]) < 0.1
