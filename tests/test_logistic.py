"""The kernel's logistic loss and gradient: values, derivatives, extremes."""

import math

import numpy as np
import pytest

from sgdclf import _kernel


@pytest.mark.parametrize("p", [-30.0, -3.0, -0.5, 0.0, 0.7, 4.0, 25.0])
@pytest.mark.parametrize("y", [0.0, 1.0])
def test_loss_values(p, y):
    # Independent reference: logaddexp(0, p) = log(1 + exp(p)); for y = 1 and
    # large p the difference cancels, so compare with a tolerance in p's units.
    expected = np.logaddexp(0.0, p) - y * p
    assert _kernel.py_log_loss(p, y) == pytest.approx(
        expected, rel=1e-12, abs=1e-14 * abs(p)
    )


@pytest.mark.parametrize("p", [-8.0, -1.3, 0.0, 0.4, 2.5, 9.0])
@pytest.mark.parametrize("y", [0.0, 1.0])
def test_gradient_matches_finite_differences(p, y):
    h = 1e-6
    numeric = (_kernel.py_log_loss(p + h, y) - _kernel.py_log_loss(p - h, y)) / (2 * h)
    assert _kernel.py_log_loss_gradient(p, y) == pytest.approx(numeric, abs=1e-8)


def test_sigmoid_values():
    for p in [-20.0, -1.0, 0.0, 1.0, 20.0]:
        assert _kernel.py_sigmoid(p) == pytest.approx(1 / (1 + math.exp(-p)), rel=1e-14)


@pytest.mark.parametrize("p", [-1e308, -800.0, -40.0, 40.0, 800.0, 1e308])
def test_extreme_margins_are_finite_and_exact(p):
    s = _kernel.py_sigmoid(p)
    assert 0.0 <= s <= 1.0
    assert math.isfinite(_kernel.py_log_loss(p, 0.0))
    assert math.isfinite(_kernel.py_log_loss(p, 1.0))
    # Far in the tails the loss is linear in p or exactly tiny, never inf/NaN.
    if p > 0:
        assert _kernel.py_log_loss(p, 0.0) == pytest.approx(p)
        assert _kernel.py_log_loss(p, 1.0) == pytest.approx(math.exp(-p), abs=1e-300)
    else:
        assert _kernel.py_log_loss(p, 1.0) == pytest.approx(-p)
    g = _kernel.py_log_loss_gradient(p, 1.0)
    assert -1.0 <= g <= 0.0


def test_sigmoid_tail_precision():
    # exp(-40) ~ 4.2e-18 must not be lost to 1 - sigmoid(40) rounding.
    assert _kernel.py_sigmoid(-40.0) == pytest.approx(math.exp(-40.0), rel=1e-12)
    assert np.isfinite(_kernel.py_log_loss(-745.5, 1.0))


@pytest.mark.parametrize("p", [-800.0, -40.0, -3.5, -1e-9, 0.0, 1e-9, 2.0, 37.0, 800.0])
@pytest.mark.parametrize("y", [0.0, 1.0])
def test_sigmoid_and_loss_from_one_exp(p, y):
    s, loss = _kernel.py_sigmoid_and_loss(p, y)
    assert s == _kernel.py_sigmoid(p)
    # log(1 + exp(p)) - y p, written the other way round: log1p(exp(p)) - y p
    # for p <= 0, (1 - y) p + log1p(exp(-p)) above (no cancellation).
    if p <= 0:
        expected = math.log1p(math.exp(p)) - y * p
    else:
        expected = (1 - y) * p + math.log1p(math.exp(-p))
    assert loss == pytest.approx(expected, rel=1e-14, abs=1e-300)
