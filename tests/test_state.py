"""The training state (sgdclf/_state.py): one definition of what a fit carries."""

import numpy as np
import pytest
from sklearn.datasets import make_classification

from sgdclf import SGDLogisticClassifier
from sgdclf._state import (
    OPTIMISER,
    OPTIONAL_ATTRIBUTES,
    PAIRS,
    TrainingState,
    average_in_use,
    penalty_value,
)

X, y = make_classification(n_samples=200, n_features=6, random_state=0)
X3, y3 = make_classification(
    n_samples=300, n_features=6, n_informative=4, n_classes=3, random_state=0
)

# Parameters under which each piece of OPTIMISER is in use.
USING = {
    "average_coef": dict(average=True),
    "l1_q": dict(penalty="elasticnet"),
    "adagrad_g": dict(learning_rate="adagrad", eta0=0.1),
}


def test_the_table_names_every_piece_once():
    assert {p.array for p in OPTIMISER} == set(USING)
    names = [n for pair in PAIRS for n in pair]
    assert len(names) == len(set(names)) == len(OPTIONAL_ATTRIBUTES)


@pytest.mark.parametrize("piece", OPTIMISER, ids=lambda p: p.array)
def test_a_fit_keeps_exactly_the_pieces_it_uses(piece):
    model = SGDLogisticClassifier(random_state=0, **USING[piece.array]).fit(X3, y3)
    assert getattr(model, piece.array_attribute).shape == model.coef_.shape
    assert getattr(model, piece.scalar_attribute).shape == (3,)
    for other in OPTIMISER:
        if other is not piece:
            assert not hasattr(model, other.array_attribute)
            assert not hasattr(model, other.scalar_attribute)


@pytest.mark.parametrize("piece", OPTIMISER, ids=lambda p: p.array)
def test_a_refit_without_a_piece_leaves_none_of_it_behind(piece):
    model = SGDLogisticClassifier(random_state=0, **USING[piece.array]).fit(X, y)
    model.set_params(**SGDLogisticClassifier().get_params()).set_params(random_state=0)
    model.fit(X, y)
    assert not hasattr(model, piece.array_attribute)
    assert not hasattr(model, piece.scalar_attribute)
    assert not any(hasattr(model, name) for name in OPTIONAL_ATTRIBUTES)


@pytest.mark.parametrize("piece", OPTIMISER, ids=lambda p: p.array)
def test_partial_fit_continues_every_piece(piece):
    """Two partial_fit calls on the halves carry the whole state: the same
    model as the kernel's state run over both halves in one object."""
    params = dict(random_state=0, shuffle=False, **USING[piece.array])
    halves = SGDLogisticClassifier(**params)
    halves.partial_fit(X[:100], y[:100], classes=[0, 1])
    carried = getattr(halves, piece.array_attribute).copy()
    assert carried.any() or piece.array == "l1_q"
    halves.partial_fit(X[100:], y[100:])
    # The same second step from a state rebuilt by start(resume=True):
    restarted = SGDLogisticClassifier(**params)
    restarted.partial_fit(X[:100], y[:100], classes=[0, 1])
    state = TrainingState.start(
        restarted, 1, X.shape[1], X.dtype, previous=vars(restarted), resume=True
    )
    np.testing.assert_array_equal(getattr(state, piece.array), carried)
    np.testing.assert_array_equal(
        state.scalars[piece.scalar], getattr(restarted, piece.scalar_attribute)
    )
    assert state.scalars["t"][0] == restarted.t_
    restarted.partial_fit(X[100:], y[100:])
    np.testing.assert_array_equal(restarted.coef_, halves.coef_)


def test_a_new_fit_keeps_only_the_pieces_kept_by_new_fit():
    model = SGDLogisticClassifier(
        random_state=0, warm_start=True, average=True, penalty="l1"
    )
    model.fit(X, y)
    state = TrainingState.start(model, 1, X.shape[1], X.dtype, previous=vars(model))
    assert state.scalars["t"][0] == 1.0  # the schedule restarts
    assert not state.average_coef.any() and not state.l1_q.any()
    assert state.scalars["l1_u"][0] == 0 and state.scalars["average_intercept"][0] == 0
    adagrad = SGDLogisticClassifier(learning_rate="adagrad", eta0=0.1).fit(X, y)
    state = TrainingState.start(adagrad, 1, X.shape[1], X.dtype, previous=vars(adagrad))
    np.testing.assert_array_equal(state.adagrad_g, adagrad._adagrad_g)
    # ... and not from a fit of another shape.
    state = TrainingState.start(adagrad, 3, X.shape[1], X.dtype, previous=vars(adagrad))
    assert not state.adagrad_g.any()


def test_average_in_use():
    assert not average_in_use(False, 1e9)
    assert not average_in_use(10, 10)  # 9 updates made
    assert average_in_use(10, 11)
    assert average_in_use(True, 2)
    model = SGDLogisticClassifier(average=150, max_iter=1, tol=None).fit(
        X[:100], y[:100]
    )
    assert model.t_ == 101 and model.coef_ is model._standard_coef
    model.partial_fit(X[100:], y[100:])
    assert model.coef_ is model._average_coef


@pytest.mark.parametrize("penalty", ["l2", "l1", "elasticnet", None])
def test_penalty_value(penalty):
    w = np.array([[1.0, -2.0, 0.5]])
    sq, ab = 1 + 4 + 0.25, 3.5
    r = {"l2": 0.0, "l1": 1.0, "elasticnet": 0.3, None: None}[penalty]
    expected = 0.0 if r is None else 0.1 * (0.5 * (1 - r) * sq + r * ab)
    got = penalty_value(w, penalty=penalty, alpha=0.1, l1_ratio=0.3)
    assert got == pytest.approx(expected, rel=1e-15)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("penalty", ["l2", "l1", "elasticnet"])
def test_penalty_value_is_the_kernels(penalty):
    """The objective the kernel tracks for AdaGrad is the epoch's loss plus
    n times penalty_value of the weights at the end of the epoch."""
    model = SGDLogisticClassifier(
        learning_rate="adagrad", eta0=0.1, alpha=0.01, penalty=penalty, max_iter=1
    )
    model.fit(X, y)
    job = model._prepare(
        X, y, model.classes_, y.astype(np.int32), None, max_iter=1, resume=True
    )
    model._run(job)
    st = job.state.scalars[0]
    expected = penalty_value(
        job.state.coef, penalty=penalty, alpha=0.01, l1_ratio=model.l1_ratio
    )
    assert (st["objective_sum"] - st["loss_sum"]) / len(y) == pytest.approx(
        expected, rel=1e-9
    )


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_the_epochs_loss_sum_is_the_log_loss_of_its_margins():
    """The kernel sums each example's log loss at the margin it stepped from
    (the log1p parts as the log of their product, logged every ~1000
    examples): with a step of 1e-15 the margins are those of the starting
    weights. Half the rows are zero (margin = intercept = 0, factor 2), so the
    product is logged within the epoch; some margins are large (factor ~1)."""
    rng = np.random.default_rng(0)
    n = 3000
    Xl = rng.normal(size=(n, 4)) * rng.choice([0.0, 1.0, 30.0], size=(n, 1))
    yl = rng.integers(0, 2, size=n)
    w0 = np.array([1.0, -2.0, 0.5, 0.05])
    model = SGDLogisticClassifier(
        learning_rate="constant", eta0=1e-15, penalty=None, shuffle=False, max_iter=1
    )
    model.fit(Xl, yl, coef_init=w0[None, :], intercept_init=np.zeros(1))
    model.coef_[:] = w0  # (the fit above moved them a little)
    model.intercept_[:] = 0.0
    job = model._prepare(
        Xl, yl, model.classes_, yl.astype(np.int32), None, max_iter=1, resume=True
    )
    model._run(job)
    p = Xl @ w0
    expected = np.sum(np.logaddexp(0.0, p) - yl * p)
    st = job.state.scalars[0]
    assert st["loss_sum"] == pytest.approx(expected, rel=1e-9)
    assert st["objective_sum"] == pytest.approx(expected, rel=1e-9)
