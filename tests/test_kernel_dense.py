"""The dense row operations: the inline version (short rows) and the version
compiled for several instruction sets (long rows) give the same bits."""

import numpy as np
import pytest

from sgdclf import _kernel


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("n", [1, 3, 7, 8, 9, 15, 16, 17, 30, 31, 32, 33, 64, 100])
def test_short_and_wide_dense_dots_agree_bit_for_bit(dtype, n):
    rng = np.random.default_rng(n)
    w = rng.normal(size=n).astype(dtype)
    x = (rng.normal(size=n) * 10.0 ** rng.integers(-8, 8, size=n)).astype(dtype)
    short = _kernel.py_dense_dot(w, x, False)
    wide = _kernel.py_dense_dot(w, x, True)
    assert short == wide
    assert short == pytest.approx(np.dot(w.astype(np.float64), x), rel=1e-4, abs=1e-6)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("n", [1, 5, 16, 33, 100])
def test_short_and_wide_dense_axpy_agree_bit_for_bit(dtype, n):
    rng = np.random.default_rng(n)
    x = rng.normal(size=n).astype(dtype)
    w_short = rng.normal(size=n).astype(dtype)
    w_wide = w_short.copy()
    _kernel.py_dense_axpy(w_short, -0.3, x, False)
    _kernel.py_dense_axpy(w_wide, -0.3, x, True)
    np.testing.assert_array_equal(w_short, w_wide)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("averaging", [False, True])
def test_dense_l1_truncation_is_the_scalar_loop_bit_for_bit(dtype, averaging):
    # Weights of both signs, zeros (left alone), a NaN (left alone), pending
    # penalties that move a weight part of the way, to zero, and that would
    # cross zero (stopped at zero).
    rng = np.random.default_rng(0)
    n = 203
    v = rng.normal(size=n).astype(dtype)
    v[::7] = 0.0
    v[5] = -0.0
    v[11] = np.nan
    q = (rng.normal(size=n) * 0.3).astype(dtype)
    A = rng.normal(size=n).astype(dtype) if averaging else np.zeros(0, dtype)
    got = {}
    for dense in (True, False):
        arrays = [v.copy(), q.copy(), A.copy()]
        _kernel.py_truncate_l1(*arrays, 0.75, 0.4, 0.3, dense)
        got[dense] = arrays
    for a, b in zip(got[True], got[False], strict=True):
        assert a.tobytes() == b.tobytes()
    moved = got[True][0]
    assert np.isnan(moved[11]) and np.signbit(moved[5]) and moved[7] == 0.0
    assert (moved == 0).sum() > (v == 0).sum() + 10  # some stopped at zero
    finite = np.isfinite(v)
    assert (np.sign(moved[finite]) * np.sign(v[finite]) >= 0).all()  # never across
