"""The epoch loop: kernel epochs for a set of binary models, with stopping rules.

Data flow of a fit (see ``_classifier.py`` for the first two steps):

    validate -> prepare (dtype, labels, weights, split) -> run_epochs -> attributes

``run_epochs`` owns everything that happens once per epoch: drawing the
permutation, calling the kernel (in threads over groups of models when
``n_jobs`` asks for it), checking for divergence, the tol / early-stopping
rules and the adaptive schedule. It works on the arrays it is given and never
sees the estimator.
"""

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from . import _kernel
from ._schedule import ADAPTIVE_DIVISOR, ADAPTIVE_MIN_ETA, StoppingRule


@dataclass
class Data:
    """Training rows as the kernel reads them."""

    X: object  # C-contiguous ndarray or CSR matrix, float32/float64
    y_code: np.ndarray  # int32 label codes (index into classes_)
    sample_weight: np.ndarray  # same dtype as X
    train_rows: np.ndarray  # int64 rows to train on (validation rows left out)


@dataclass
class Parameters:
    """The models' weights and state; updated in place by the kernel."""

    coef: np.ndarray  # (n_models, n_features)
    average_coef: np.ndarray  # (n_models, n_features), or (0, n_features)
    l1_q: np.ndarray  # (n_models, n_features), or (0, n_features)
    adagrad_g: np.ndarray  # (n_models, n_features), or (0, n_features)
    state: np.ndarray  # (n_models,) of _kernel.MODEL_STATE_DTYPE
    model_class: np.ndarray  # (n_models,) int32 positive label code per model


@dataclass
class Stopping:
    max_iter: int
    tol: float | None
    n_iter_no_change: int
    adaptive: bool
    # Called as score(models) -> validation score of the unit made of these
    # models, or None for the training objective.
    validation_score: object = None


class DivergenceError(ValueError):
    pass


def _kernel_call(data, params, models, options, order):
    X = data.X
    common = dict(
        order=order,
        y_code=data.y_code,
        sample_weight=data.sample_weight,
        coef=params.coef,
        average_coef=params.average_coef,
        l1_q=params.l1_q,
        adagrad_g=params.adagrad_g,
        models=models,
        model_class=params.model_class,
        state=params.state,
        options=options,
    )
    if sp.issparse(X):
        _kernel.epoch_csr(data=X.data, indices=X.indices, indptr=X.indptr, **common)
    else:
        _kernel.epoch_dense(X=X, **common)


def run_epochs(data, params, options, stopping, *, rng, shuffle, n_jobs, verbose):
    """Train every model for up to ``stopping.max_iter`` epochs.

    The models stop in units: each one-vs-rest model alone, or all the models
    of a multinomial fit together (their objective is the sum of the models'
    sums). Returns an int array: the epochs each model ran. Raises ValueError
    naming the epoch if the weights stop being finite.
    """
    n_models = params.coef.shape[0]
    n_train = data.train_rows.shape[0]
    n_iter = np.zeros(n_models, dtype=np.int64)
    if options["multinomial"]:
        units = [np.arange(n_models, dtype=np.int64)]
    else:
        units = [np.array([m], dtype=np.int64) for m in range(n_models)]
    rules = [
        StoppingRule(
            tol=stopping.tol,
            n_iter_no_change=stopping.n_iter_no_change,
            minimize=stopping.validation_score is None,
        )
        for _ in units
    ]
    active = list(range(len(units)))
    # Threads split the models of one-vs-rest; a multinomial step needs every
    # class's margin, so its models are never split.
    n_threads = 1 if options["multinomial"] else max(1, min(n_jobs, n_models))
    pool = ThreadPoolExecutor(n_threads) if n_threads > 1 else None
    start = time.perf_counter()
    try:
        for epoch in range(stopping.max_iter):
            if verbose:
                print(f"-- Epoch {epoch + 1}")
            order = rng.permutation(data.train_rows) if shuffle else data.train_rows
            models = np.concatenate([units[u] for u in active])
            if pool is None:
                _kernel_call(data, params, models, options, order)
            else:
                groups = np.array_split(models, min(n_threads, models.shape[0]))
                list(
                    pool.map(
                        lambda g: _kernel_call(data, params, g, options, order),
                        groups,
                    )
                )
            n_iter[models] = epoch + 1
            intercepts = params.state["intercept"][models]
            if not (
                np.isfinite(intercepts).all()
                and _kernel.all_finite(params.coef, models)
            ):
                raise DivergenceError(
                    f"Training diverged at epoch {epoch + 1}: the weights are no "
                    "longer finite. Scale the features (e.g. with StandardScaler) "
                    "or lower eta0 (or raise alpha)."
                )
            still_active = []
            for u in active:
                unit = units[u]
                st = params.state[unit]
                if stopping.validation_score is not None:
                    value = stopping.validation_score(unit)
                else:
                    value = st["objective_sum"].sum() / max(n_train, 1)
                if verbose:
                    _report(params, unit, n_train, value, stopping, start)
                if rules[u].observe(value):
                    if stopping.adaptive and st["eta"][0] > ADAPTIVE_MIN_ETA:
                        params.state["eta"][unit] /= ADAPTIVE_DIVISOR
                        rules[u].restart_count()
                    else:
                        if verbose:
                            print(
                                f"Convergence after {epoch + 1} epochs took "
                                f"{time.perf_counter() - start:.2f} seconds"
                            )
                        continue
                still_active.append(u)
            active = still_active
            if not active:
                break
    finally:
        if pool is not None:
            pool.shutdown()
    return n_iter


def _report(params, unit, n_train, value, stopping, start):
    w = params.coef[unit]
    st = params.state[unit]
    line = (
        f"Norm: {np.linalg.norm(w):.2f}, NNZs: {np.count_nonzero(w)}, "
        f"Bias: {st['intercept'][0]:.6f}, T: {st['t'][0] - 1:.0f}, "
        f"Avg. loss: {st['loss_sum'].sum() / max(n_train, 1):.6f}"
    )
    if stopping.validation_score is None:
        line += f", Objective: {value:.6f}"
    else:
        line += f", Validation score: {value:.6f}"
    print(line)
    print(f"Total training time: {time.perf_counter() - start:.2f} seconds.")
