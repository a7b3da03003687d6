"""The epoch loop: kernel epochs for a set of binary models, with stopping rules.

Data flow of a fit (see ``_classifier.py`` for the first two steps):

    validate -> prepare (dtype, labels, weights, split) -> run_epochs -> attributes

``run_epochs`` owns the epoch loop: the kernel (EpochRunner.train) draws
each epoch's permutation, runs the epochs and shows the units' objectives to
their tol rules, and comes back to the loop when a rule fires (then the
adaptive schedule lowers eta or the unit stops), when the weights stop being
finite (then it raises), or after every epoch when the loop has work each
epoch (callbacks, verbose output, the early-stopping score, threads over
groups of models when ``n_jobs`` asks for them). It works on the arrays it
is given and never sees the estimator.
"""

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from joblib import cpu_count, effective_n_jobs
from sklearn.utils.extmath import row_norms

from . import _kernel
from ._schedule import ADAPTIVE_DIVISOR, ADAPTIVE_MIN_ETA, StoppingRule


@dataclass
class Data:
    """Training rows as the kernel reads them."""

    X: object  # C-contiguous ndarray or CSR matrix, float32/float64
    y_code: np.ndarray  # int32 label codes (index into classes_)
    sample_weight: np.ndarray  # same dtype as X; one per row, or one for all rows
    train_rows: np.ndarray  # int64 rows to train on, or None for all rows

    @property
    def n_train(self):
        return self.X.shape[0] if self.train_rows is None else self.train_rows.shape[0]


@dataclass
class Stopping:
    max_iter: int
    tol: float | None
    n_iter_no_change: int
    adaptive: bool
    # Called as score(models) -> validation score of the unit made of these
    # models, or None for the training objective.
    validation_score: object = None
    # scikit-learn's callbacks: begin(epoch), end(epoch) -> stop; or None.
    epoch_tasks: object = None


class DivergenceError(ValueError):
    pass


def held_out_mask(rows, fraction):
    """Rows kept out of training, chosen by a multiplicative hash of their
    index (Knuth's constant): the same rows every pass, about ``fraction``
    of them, without a random generator. Used by the command line's
    --holdout and by the Dask estimator's early stopping."""
    if not fraction:
        return np.zeros(len(rows), dtype=bool)
    hashed = (np.asarray(rows, dtype=np.uint64) * np.uint64(2654435761)) % np.uint64(
        2**32
    )
    return hashed < np.uint64(int(fraction * 2**32))


def _runner(data, state, options):
    """The kernel's EpochRunner for these rows, state and options: everything
    checked and bound once (a fit on small data runs thousands of short
    epochs; binding the arrays each time cost more than the rows)."""
    X = data.X
    rows = (
        dict(X=X)
        if isinstance(X, np.ndarray)  # (scipy's issparse is an ABC check)
        else dict(data=X.data, indices=X.indices, indptr=X.indptr)
    )
    runner = _kernel.EpochRunner(
        **rows,
        y_code=data.y_code,
        sample_weight=data.sample_weight,
        coef=state.coef,
        average_coef=state.average_coef,
        l1_q=state.l1_q,
        adagrad_g=state.adagrad_g,
        model_class=state.model_class,
        state=state.scalars,
        options=options,
    )
    return runner


# A multinomial team synchronises its threads once per example (~0.3 us on a
# 2-core machine), so it only pays off when an example carries enough work:
# classes x non-zeros per row multiply-adds, a sparse one (scattered weights)
# counting ~4 dense ones. Measured with n_jobs=2, 5 epochs (speedup of fit):
# dense K x d = 10 x 50: 0.65, 10 x 200: 0.99, 10 x 300: 1.15, 30 x 100: 1.28;
# sparse K x nnz = 10 x 40: 0.86-1.06, 10 x 100: 1.34, 20 x 100: 2.1.
TEAM_MIN_WORK = 2500
SPARSE_WORK_FACTOR = 4


def _team_pays_off(data, n_models):
    X = data.X
    if sp.issparse(X):
        work = SPARSE_WORK_FACTOR * X.nnz / max(X.shape[0], 1)
    else:
        work = X.shape[1]
    return _kernel.team_threads_available() and n_models * work >= TEAM_MIN_WORK


def _train_private(data, state, models, options, order, rules):
    """One epoch of one thread's models (single-model units) on private
    copies of their rows: (bad row, the models whose rule fired).

    Threads that wrote to neighbouring rows of the shared arrays would share
    cache lines (the weights and t are written for every example), which costs
    more than the copies.
    """
    private = state.models(models)
    _, bad_row, fired = _runner(data, private, options).train(
        np.arange(models.shape[0], dtype=np.int64),
        order,
        rows=None,
        seed=None,
        first_epoch=0,
        n_epochs=1,
        unit_sizes=np.ones(models.shape[0], dtype=np.int64),
        rules=rules,
        divisor=max(data.n_train, 1),
    )
    state.put(models, private)
    return bad_row, [int(models[k]) for k in fired]


def _check_finite(data, bad_rows, epoch):
    """Raise if an epoch met a non-finite margin or left non-finite weights.

    ``bad_rows``: what each kernel call of the epoch returned: -1 (fine), a
    row (its margin was not finite), or WEIGHTS_NOT_FINITE (the kernel
    checks the weights it trained at the end of the epoch: -2). X is not scanned
    for NaN/inf before training: a NaN or infinity in a row makes its margin
    non-finite, which the kernel reports (the row), so the check costs
    nothing extra. Telling X's fault from divergence needs a look at that one
    row only.
    """
    if min(bad_rows) == max(bad_rows) == -1:
        return
    for row in bad_rows:
        if row < 0:
            continue
        x = data.X[row]
        values = x.data if sp.issparse(x) else x
        if not np.isfinite(values).all():
            raise ValueError(
                f"Input X contains NaN or infinity (row {row}); remove or impute "
                "those values (e.g. with sklearn.impute.SimpleImputer)."
            )
    raise DivergenceError(
        f"Training diverged at epoch {epoch + 1}: the weights are no "
        "longer finite. Scale the features (e.g. with StandardScaler) "
        "or lower eta0 (or raise alpha)."
    )


def run_epochs(data, state, options, stopping, *, seed, shuffle, n_jobs, verbose):
    """Train every model for up to ``stopping.max_iter`` epochs.

    The models stop in units: each one-vs-rest model alone, or all the models
    of a multinomial fit together (their objective is the sum of the models'
    sums). Returns an int array: the epochs each model ran. Raises ValueError
    naming the epoch if the weights stop being finite.

    (See the module doc for what the kernel does and what is done here.)
    """
    n_models = state.coef.shape[0]
    n_train = data.n_train
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
    divisor = max(n_train, 1)
    # (joblib's effective_n_jobs costs ~7 us: only asked when it matters)
    n_threads = 1 if n_models == 1 else max(1, min(effective_n_jobs(n_jobs), n_models))
    team = 1
    if options["multinomial"]:
        # The kernel splits each example's classes across a team of threads.
        # Its spin barrier needs a core per thread.
        team = min(n_threads, cpu_count()) if _team_pays_off(data, n_models) else 1
        n_threads = 1
    pool = ThreadPoolExecutor(n_threads) if n_threads > 1 else None
    runner = _runner(data, state, options) if pool is None else None
    tasks = stopping.epoch_tasks
    validation = stopping.validation_score
    # With tol=None no rule can stop a model or lower eta: skip them (unless
    # verbose reports the values).
    watch = stopping.tol is not None or verbose
    # The kernel shows the objective to the rules unless a validation score
    # stands in for it.
    kernel_rules = watch and validation is None
    each_epoch = (
        pool is not None or tasks is not None or verbose or validation is not None
    )
    # One buffer for every epoch's permutation (a fresh array per epoch costs
    # page faults on large data).
    if shuffle:
        order = np.empty(n_train, dtype=np.int64)
    elif data.train_rows is None:
        order = np.arange(n_train, dtype=np.int64)
    else:
        order = data.train_rows
    epochs_run = 0
    start = time.perf_counter()
    try:
        while epochs_run < stopping.max_iter and active:
            epoch = epochs_run
            if tasks is not None:
                tasks.begin(epoch)
            if verbose:
                print(f"-- Epoch {epoch + 1}")
            if pool is None:
                ran, bad_row, fired = runner.train(
                    np.concatenate([units[u] for u in active]),
                    order,
                    rows=data.train_rows,
                    seed=seed if shuffle else None,
                    first_epoch=epoch,
                    n_epochs=1 if each_epoch else stopping.max_iter - epoch,
                    unit_sizes=np.array([len(units[u]) for u in active], np.int64),
                    rules=[rules[u] for u in active] if kernel_rules else None,
                    divisor=divisor,
                    n_threads=team,
                )
                fired = {active[k] for k in fired}
                bad_rows = [bad_row]
            else:
                # (Threads only for one-vs-rest: unit u is model u.)
                ran = 1
                if shuffle:
                    _kernel.shuffle_rows(order, data.train_rows, seed, epoch)
                groups = np.array_split(
                    np.array(active, dtype=np.int64), min(n_threads, len(active))
                )
                results = list(
                    pool.map(
                        lambda g: _train_private(
                            data,
                            state,
                            g,
                            options,
                            order,
                            [rules[u] for u in g] if kernel_rules else None,
                        ),
                        groups,
                    )
                )
                bad_rows = [bad for bad, _ in results]
                fired = {u for _, models in results for u in models}
            epochs_run += ran
            _check_finite(data, bad_rows, epochs_run - 1)
            if tasks is not None and tasks.end(epochs_run - 1):
                break  # a callback asked to stop: the model so far
            if not watch:
                continue
            still_active = []
            for u in active:
                unit = units[u]
                if validation is not None and rules[u].observe(validation(unit)):
                    fired.add(u)
                if verbose:  # (the value the rule saw, the kernel's or the score)
                    _report(state, unit, n_train, rules[u].last, stopping, start)
                if u in fired:
                    if stopping.adaptive and state.scalars["eta"][unit[0]] > (
                        ADAPTIVE_MIN_ETA
                    ):
                        state.scalars["eta"][unit] /= ADAPTIVE_DIVISOR
                        rules[u].restart_count()
                    else:
                        if verbose:
                            print(
                                f"Convergence after {epochs_run} epochs took "
                                f"{time.perf_counter() - start:.2f} seconds"
                            )
                        n_iter[unit] = epochs_run
                        continue
                still_active.append(u)
            active = still_active
    finally:
        if pool is not None:
            pool.shutdown()
    for u in active:  # the units still active ran every epoch
        n_iter[units[u]] = epochs_run
    return n_iter


def _report(state, unit, n_train, value, stopping, start):
    w = state.coef[unit]
    st = state.scalars[unit]
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


# ---------------------------------------------------------------- SAGA


def saga_step_size(X, sample_weight, *, l2, fit_intercept, multinomial):
    """SAGA's constant step, 1 / (2 L + min(2 n l2, L)) (Defazio et al.
    2014, as scikit-learn's saga): L bounds the curvature of any one
    example's term, s_i * (|x_i|^2 + [fit_intercept]) times 1/4 (the
    logistic loss's largest second derivative) or 1/2 (the softmax's,
    Böhning's bound), plus l2. The sample weight counts (scikit-learn's
    leaves it out, and a weight of 100 then diverges)."""
    sq = row_norms(X, squared=True) + float(fit_intercept)
    curvature = 0.5 if multinomial else 0.25
    L = curvature * float(np.max(np.abs(sample_weight) * sq, initial=0.0)) + l2
    if L <= 0.0:  # (every row zero, no intercept, no penalty: nothing to learn)
        L = 1.0
    return 1.0 / (2.0 * L + min(2.0 * X.shape[0] * l2, L))


def run_saga(data, state, options, stopping, *, seed, shuffle, n_jobs, verbose):
    """SAGA epochs (the kernel's saga_epoch) until the largest change of a
    weight in an epoch is at most ``tol`` times the largest weight (the
    criterion of scikit-learn's sag and saga), or ``max_iter`` epochs.
    Returns an int array: the epochs each model ran (all the same)."""
    X = data.X
    n_models, n_features = state.coef.shape
    n_rows = X.shape[0]
    multinomial = options["multinomial"]
    l2, l1 = options["l2"], options["l1"]
    step = saga_step_size(
        X,
        data.sample_weight,
        l2=l2,
        fit_intercept=options["fit_intercept"],
        multinomial=multinomial,
    )
    if not np.isfinite(step) or step == 0.0:
        sq = row_norms(X, squared=True)
        row = (
            int(np.flatnonzero(~np.isfinite(sq))[0])
            if not np.isfinite(sq).all()
            else -1
        )
        raise ValueError(
            f"Input X contains NaN or infinity (row {row}), or values too large "
            "to square; remove or impute them, or scale the features."
            if row >= 0
            else "The sample weights are too large for a step size; scale them down."
        )
    # c**L and sum_{t<L} c**t for the lagged steps of sparse coordinates.
    decay_pow = (1.0 - step * l2) ** np.arange(n_rows + 1, dtype=np.float64)
    decay_sum = np.concatenate(([0.0], np.cumsum(decay_pow[:-1])))
    intercept = np.ascontiguousarray(state.scalars["intercept"], dtype=np.float64)
    grad_sum = np.zeros((n_models, n_features), dtype=np.float64)
    intercept_grad_sum = np.zeros(n_models, dtype=np.float64)
    rows = (
        dict(data=X.data, indices=X.indices, indptr=X.indptr)
        if sp.issparse(X)
        else dict(X=X)
    )
    arrays = dict(
        **rows,
        y_code=data.y_code,
        sample_weight=data.sample_weight,
        coef=state.coef,
        intercept=intercept,
        grad_sum=grad_sum,
        intercept_grad_sum=intercept_grad_sum,
        model_class=state.model_class,
        decay_pow=decay_pow,
        decay_sum=decay_sum,
        step=step,
        l2=l2,
        l1=l1,
        fit_intercept=options["fit_intercept"],
        multinomial=multinomial,
    )
    # One-vs-rest models are independent: with n_jobs, groups of them run in
    # threads, each on its own rows of the arrays and its own memory (the
    # last gradient scalars: a row per example, a column per model of the
    # group, so that an example's are read together).
    n_threads = 1
    if not multinomial and n_models > 1:
        n_threads = max(1, min(effective_n_jobs(n_jobs), n_models))
    groups = np.array_split(np.arange(n_models, dtype=np.int64), n_threads)
    memories = [np.zeros((n_rows, len(g)), dtype=state.coef.dtype) for g in groups]
    pool = ThreadPoolExecutor(n_threads) if n_threads > 1 else None
    order = np.arange(n_rows, dtype=np.int64)
    epochs_run = 0

    # From zero weights the memory starts empty and the first epoch averages
    # over the examples seen so far (as scikit-learn's sag and saga do): it
    # then ends near the optimum. From any other start (warm_start, coef_init)
    # it starts full, each example's gradient at the starting weights, so a
    # good model stays where it is.
    cold = not state.coef.any() and not intercept.any()
    seen = 0 if cold else None

    def run(group, fill_memory=False):
        return _kernel.saga_epoch(
            models=groups[group],
            memory=memories[group],
            order=order,
            fill_memory=fill_memory,
            seen=seen,
            **arrays,
        )

    def run_all(fill_memory=False):
        if pool is None:
            return [run(0, fill_memory)]
        return list(pool.map(lambda g: run(g, fill_memory), range(len(groups))))

    start = time.perf_counter()
    try:
        # (A warm start: every example's gradient at the starting weights.)
        if not cold:
            _check_finite(data, run_all(True), 0)
        for epoch in range(stopping.max_iter):
            if stopping.epoch_tasks is not None:
                stopping.epoch_tasks.begin(epoch)
            if shuffle:
                _kernel.shuffle_rows(order, None, seed, epoch)
            previous = state.coef.copy(), intercept.copy()
            bad_rows = run_all()
            seen = None
            epochs_run = epoch + 1
            state.scalars["intercept"] = intercept
            _check_finite(data, bad_rows, epoch)
            if stopping.epoch_tasks is not None and stopping.epoch_tasks.end(epoch):
                break  # a callback asked to stop: the model so far
            change = max(
                np.max(np.abs(state.coef - previous[0])),
                np.max(np.abs(intercept - previous[1])),
            )
            largest = max(np.max(np.abs(state.coef)), np.max(np.abs(intercept)))
            if verbose:
                print(
                    f"-- Epoch {epoch + 1}: largest change {change:.3g}, largest "
                    f"weight {largest:.3g}, {time.perf_counter() - start:.2f} s"
                )
            if stopping.tol is not None and change <= stopping.tol * largest:
                if verbose:
                    print(f"Convergence after {epoch + 1} epochs")
                break
    finally:
        if pool is not None:
            pool.shutdown()
    return np.full(n_models, epochs_run, dtype=np.int64)
