"""The kernel's entry points check what they are handed before reading it.

The epoch loops run with bounds checks off; a caller's mistake (or a model
file that lies about its shapes) must give ValueError, never an access
outside an array. Each case breaks one argument of a valid call.
"""

import numpy as np
import pytest
import scipy.sparse as sp

from sgdclf import _kernel

N_ROWS, N_FEATURES, N_MODELS = 6, 4, 3


def _options(**changes):
    options = dict(
        penalty=_kernel.PENALTIES["elasticnet"],
        alpha=1e-3,
        l1_ratio=0.15,
        schedule=_kernel.SCHEDULES["constant"],
        eta0=0.01,
        power_t=0.5,
        optimal_init=0.0,
        fit_intercept=True,
        average_start=1.0,
        track_objective=True,
        multinomial=False,
    )
    options.update(changes)
    return options


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
