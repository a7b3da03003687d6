"""The kernel's entry points check what they are handed before reading it.

The epoch loops run with bounds checks off; a caller's mistake (or a model
file that lies about its shapes) must give ValueError, never an access
outside an array. Each case breaks one argument of a valid call.
"""

import numpy as np
import pytest
import scipy.sparse as sp
from kernel_arguments import kernel_options

from sgdclf import _kernel

N_ROWS, N_FEATURES, N_MODELS = 6, 4, 3


def _options(**changes):
    """Elasticnet, averaging from the first step, a constant step: every
    optimiser array in use."""
    return kernel_options(
        **{
            "penalty": _kernel.PENALTIES["elasticnet"],
            "alpha": 1e-3,
            "schedule": _kernel.SCHEDULES["constant"],
            "eta0": 0.01,
            "optimal_init": 0.0,
            "average_start": 1.0,
            **changes,
        }
    )


def _arguments(sparse):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(N_ROWS, N_FEATURES))
    state = np.zeros(N_MODELS, dtype=_kernel.MODEL_STATE_DTYPE)
    state["t"] = 1.0
    state["eta"] = 0.01
    weights = np.zeros((N_MODELS, N_FEATURES))
    arguments = dict(
        order=np.arange(N_ROWS, dtype=np.int64),
        y_code=(np.arange(N_ROWS) % N_MODELS).astype(np.int32),
        sample_weight=np.ones(1),
        coef=weights.copy(),
        average_coef=weights.copy(),
        l1_q=weights.copy(),
        adagrad_g=np.zeros((0, N_FEATURES)),
        models=np.arange(N_MODELS, dtype=np.int64),
        model_class=np.arange(N_MODELS, dtype=np.int32),
        state=state,
        options=_options(),
    )
    if sparse:
        Xs = sp.csr_matrix(X)
        arguments.update(data=Xs.data, indices=Xs.indices, indptr=Xs.indptr.copy())
    else:
        arguments.update(X=X)
    return arguments


def _call(arguments):
    epoch = _kernel.epoch_csr if "indptr" in arguments else _kernel.epoch_dense
    return epoch(**arguments)


@pytest.mark.parametrize("sparse", [False, True])
def test_a_valid_call_runs(sparse):
    arguments = _arguments(sparse)
    assert _call(arguments) == -1
    assert np.abs(arguments["coef"]).sum() > 0


def _without_rows(a):
    return a[:0]


BROKEN = {
    "coef has more rows than state": lambda a: a.update(
        coef=np.zeros((N_MODELS + 2, N_FEATURES))
    ),
    "model_class too short": lambda a: a.update(model_class=a["model_class"][:1]),
    "state too short": lambda a: a.update(state=a["state"][:1]),
    "a model beyond coef": lambda a: a.update(
        models=np.array([0, N_MODELS], dtype=np.int64)
    ),
    "a negative model": lambda a: a.update(models=np.array([-1], dtype=np.int64)),
    "no models": lambda a: a.update(models=np.zeros(0, dtype=np.int64)),
    "averaging without average_coef": lambda a: a.update(
        average_coef=_without_rows(a["average_coef"])
    ),
    "average_coef of another width": lambda a: a.update(
        average_coef=np.zeros((N_MODELS, N_FEATURES + 1))
    ),
    "L1 without l1_q": lambda a: a.update(l1_q=_without_rows(a["l1_q"])),
    "l1_q with too few rows": lambda a: a.update(l1_q=a["l1_q"][:1].copy()),
    "AdaGrad without adagrad_g": lambda a: a.update(
        options=_options(schedule=_kernel.SCHEDULES["adagrad"])
    ),
    "a row beyond X": lambda a: a.update(order=np.array([0, N_ROWS], dtype=np.int64)),
    "a negative row": lambda a: a.update(order=np.array([-1], dtype=np.int64)),
    "y_code too short": lambda a: a.update(y_code=a["y_code"][:2].copy()),
    "sample_weight of another length": lambda a: a.update(sample_weight=np.ones(2)),
    "no sample_weight": lambda a: a.update(sample_weight=np.ones(0)),
    "multinomial on some models only": lambda a: a.update(
        models=a["models"][:2].copy(), options=_options(multinomial=True)
    ),
    "an unknown penalty code": lambda a: a.update(options=_options(penalty=7)),
    "an unknown schedule code": lambda a: a.update(options=_options(schedule=0)),
}
DENSE_ONLY = {
    "X of another width than coef": lambda a: a.update(
        X=np.zeros((N_ROWS, N_FEATURES + 1))
    ),
}
SPARSE_ONLY = {
    "indptr beyond the stored values": lambda a: a["indptr"].__setitem__(-1, 10**6),
    "decreasing indptr": lambda a: a["indptr"].__setitem__(2, 0),
    "indptr not from 0": lambda a: a["indptr"].__setitem__(0, 1),
    "indices shorter than data": lambda a: a.update(indices=a["indices"][:3].copy()),
}


@pytest.mark.parametrize(
    "sparse, case",
    [
        *[(False, c) for c in [*BROKEN, *DENSE_ONLY]],
        *[(True, c) for c in [*BROKEN, *SPARSE_ONLY]],
    ],
)
def test_inconsistent_arguments_raise_before_any_access(sparse, case):
    arguments = _arguments(sparse)
    {**BROKEN, **DENSE_ONLY, **SPARSE_ONLY}[case](arguments)
    coef = arguments["coef"].copy()
    with pytest.raises(ValueError):
        _call(arguments)
    np.testing.assert_array_equal(arguments["coef"], coef)  # nothing trained


@pytest.mark.parametrize("column", [N_FEATURES, 2**31 - 1, -1])
@pytest.mark.parametrize("adagrad", [False, True])
def test_a_csr_column_beyond_the_width_stops_the_epoch_at_its_row(column, adagrad):
    # The column indices are checked row by row, as the epoch reads them
    # (AdaGrad's catch-up writes to a row's columns before its margin).
    arguments = _arguments(sparse=True)
    indices = arguments["indices"].copy()
    row = 3
    indices[arguments["indptr"][row]] = column
    arguments["indices"] = indices
    if adagrad:
        arguments["options"] = _options(schedule=_kernel.SCHEDULES["adagrad"])
        arguments["adagrad_g"] = np.zeros((N_MODELS, N_FEATURES))
    assert _call(arguments) == row


# ---------------------------------------------------------------- EpochRunner.train


class _Rule:
    """A stopping rule that records the values it was shown."""

    def __init__(self, stop_at=None):
        self.values = []
        self.stop_at = stop_at

    def observe(self, value):
        self.values.append(value)
        return len(self.values) == self.stop_at


def _train_call(changes=None):
    """A runner from _arguments(dense) and a valid train call's arguments
    (two units: model 0, models 1 and 2; shuffled epochs)."""
    arguments = _arguments(sparse=False)
    models, order = arguments.pop("models"), arguments.pop("order")
    runner = _kernel.EpochRunner(**arguments)
    call = dict(
        models=models,
        order=order,
        rows=None,
        seed=5,
        first_epoch=0,
        n_epochs=3,
        unit_sizes=np.array([1, 2], dtype=np.int64),
        rules=[_Rule(), _Rule()],
        divisor=float(N_ROWS),
    )
    call.update(changes or {})
    return runner, arguments, call


def _train(runner, call):
    return runner.train(call.pop("models"), call.pop("order"), **call)


def test_train_runs_epochs_and_shows_each_unit_its_objective():
    runner, arguments, call = _train_call()
    rules = call["rules"]
    assert _train(runner, call) == (3, -1, [])
    assert [len(r.values) for r in rules] == [3, 3]
    state = arguments["state"]
    assert rules[0].values[-1] == state["objective_sum"][0] / N_ROWS
    assert rules[1].values[-1] == pytest.approx(
        state["objective_sum"][1:].sum() / N_ROWS, rel=1e-15
    )


def test_train_stops_after_the_epoch_a_rule_fires():
    runner, _, call = _train_call({"rules": [_Rule(), _Rule(stop_at=2)]})
    assert _train(runner, call) == (2, -1, [1])


def test_train_shuffles_each_epoch_as_shuffle_rows():
    runner, _, call = _train_call({"n_epochs": 1, "first_epoch": 4})
    order = call["order"]
    _train(runner, call)
    expected = np.empty(N_ROWS, dtype=np.int64)
    _kernel.shuffle_rows(expected, None, 5, 4)
    np.testing.assert_array_equal(order, expected)


BROKEN_TRAIN = {
    "units of more models than listed": {"unit_sizes": np.array([1, 3], np.int64)},
    "units of fewer models than listed": {"unit_sizes": np.array([1, 1], np.int64)},
    "an empty unit": {"unit_sizes": np.array([0, 1, 2], np.int64)},
    "a rule short": {"rules": [_Rule()]},
    "rows of another length than order": {"rows": np.arange(3, dtype=np.int64)},
    "a row beyond X in rows": {
        "rows": np.array([0, 1, 2, 3, 4, N_ROWS], dtype=np.int64)
    },
    "an order longer than X": {"order": np.zeros(N_ROWS + 1, dtype=np.int64)},
    "a row beyond X in an unshuffled order": {
        "seed": None,
        "order": np.array([0, N_ROWS], dtype=np.int64),
    },
    "a model beyond coef": {"models": np.array([0, 1, N_MODELS], dtype=np.int64)},
}


@pytest.mark.parametrize("case", BROKEN_TRAIN)
def test_train_checks_its_arguments_before_any_epoch(case):
    runner, arguments, call = _train_call(BROKEN_TRAIN[case])
    coef = arguments["coef"].copy()
    with pytest.raises(ValueError):
        _train(runner, call)
    np.testing.assert_array_equal(arguments["coef"], coef)  # nothing trained
