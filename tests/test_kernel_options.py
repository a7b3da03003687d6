"""The kernel reads its options once per fit: the penalty becomes numbers."""

import numpy as np
import pytest
import scipy.sparse as sp
from kernel_arguments import kernel_options

from sgdclf import _kernel


def _fit_coef(penalty, l1_ratio, schedule="optimal"):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 5))
    y_code = (X[:, 0] > 0).astype(np.int32)
    coef = np.zeros((1, 5))
    state = np.zeros(1, dtype=_kernel.MODEL_STATE_DTYPE)
    state["t"] = 1.0
    state["eta"] = 0.1
    empty = np.zeros((0, 5))
    l1 = penalty in ("l1", "elasticnet")
    runner = _kernel.EpochRunner(
        X=X,
        y_code=y_code,
        sample_weight=np.ones(1),
        coef=coef,
        average_coef=empty,
        l1_q=np.zeros((1, 5)) if l1 else empty,
        adagrad_g=np.zeros((1, 5)) if schedule == "adagrad" else empty,
        model_class=np.ones(1, dtype=np.int32),
        state=state,
        options=kernel_options(
            penalty=_kernel.PENALTIES[penalty],
            l1_ratio=l1_ratio,
            schedule=_kernel.SCHEDULES[schedule],
        ),
    )
    for _ in range(3):
        assert (
            runner.run(np.zeros(1, dtype=np.int64), np.arange(40, dtype=np.int64)) == -1
        )
    return coef, state.copy()


@pytest.mark.parametrize("penalty", ["l2", "l1", None])
@pytest.mark.parametrize("schedule", ["optimal", "adagrad"])
def test_l1_ratio_only_matters_for_elasticnet(penalty, schedule):
    coef, state = _fit_coef(penalty, 0.15, schedule)
    for l1_ratio in (0.0, 0.7, 1.0):
        other_coef, other_state = _fit_coef(penalty, l1_ratio, schedule)
        np.testing.assert_array_equal(other_coef, coef)
        np.testing.assert_array_equal(other_state, state)


def test_elasticnet_uses_l1_ratio():
    assert not np.array_equal(
        _fit_coef("elasticnet", 0.15)[0], _fit_coef("elasticnet", 0.7)[0]
    )


def _runner(X, coef, state, sparse):
    rows = dict(X=X)
    if sparse:
        A = sp.csr_matrix(X)
        rows = dict(data=A.data, indices=A.indices, indptr=A.indptr)
    empty = np.zeros((0, X.shape[1]))
    return _kernel.EpochRunner(
        **rows,
        y_code=(X[:, 0] > 0).astype(np.int32),
        sample_weight=np.ones(1),
        coef=coef,
        average_coef=empty,
        l1_q=empty,
        adagrad_g=empty,
        model_class=np.ones(1, dtype=np.int32),
        state=state,
        options=kernel_options(),
    )


@pytest.mark.parametrize("sparse", [False, True])
def test_the_cached_row_norms_give_what_fresh_ones_give(sparse):
    # A runner keeps x . x of the rows its epochs have reached (for the
    # objective); epochs over other subsets of rows must not notice.
    rng = np.random.default_rng(1)
    X = rng.normal(size=(30, 6))
    X[rng.random(X.shape) < 0.3] = 0.0
    orders = [
        rng.choice(30, size=k, replace=False).astype(np.int64) for k in (10, 30, 20)
    ]
    results = []
    for reuse in (True, False):
        coef = np.zeros((1, 6))
        state = np.zeros(1, dtype=_kernel.MODEL_STATE_DTYPE)
        state["t"] = 1.0
        runner = _runner(X, coef, state, sparse)
        sums = []
        for order in orders:
            if not reuse:
                runner = _runner(X, coef, state, sparse)
            assert runner.run(np.zeros(1, dtype=np.int64), order) == -1
            sums.append(state.copy())
        results.append((coef.copy(), sums))
    np.testing.assert_array_equal(results[0][0], results[1][0])
    for a, b in zip(results[0][1], results[1][1], strict=True):
        np.testing.assert_array_equal(a, b)
