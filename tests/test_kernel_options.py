"""The kernel reads its options once per fit: the penalty becomes numbers."""

import numpy as np
import pytest

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
        options=dict(
            penalty=_kernel.PENALTIES[penalty],
            alpha=1e-2,
            l1_ratio=l1_ratio,
            schedule=_kernel.SCHEDULES[schedule],
            eta0=0.1,
            power_t=0.5,
            optimal_init=100.0,
            fit_intercept=True,
            average_start=0.0,
            track_objective=True,
            multinomial=False,
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
