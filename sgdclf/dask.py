"""Data-parallel training on Dask (``pip install "sgdclf[dask]"``).

Iterative parameter mixing: each round (epoch), every block of rows runs one
local SGD epoch, on the worker that holds it, starting from the current
global model; the resulting models are averaged, weighted by rows, into the
next global model (with ``average`` on, the averaged iterates are mixed the
same way: parallelised SGD in the style of Zinkevich et al. 2010). A block
whose sample weights are all zero takes the penalty's steps alone, as its rows
would in memory (see _mix). Only the models travel between the client and the
workers; X stays where it is.

The rounds use Dask's current scheduler: the ``distributed`` client if one
exists (any cluster: local, dask-jobqueue, Kubernetes), else the local one.
"""

import copy
import warnings

import numpy as np
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning, DataConversionWarning
from sklearn.metrics import log_loss
from sklearn.utils import check_array, check_random_state, compute_class_weight
from sklearn.utils.multiclass import check_classification_targets

from ._classifier import SGDLogisticClassifier
from ._schedule import StoppingRule
from ._state import (
    TRAINED_ATTRIBUTES,
    TrainingState,
    average_in_use,
    penalty_value,
)
from ._training import held_out_mask

try:
    import dask
    import dask.array as da
    import dask.dataframe as dd
except ImportError as exc:  # pragma: no cover - the extra is missing
    raise ImportError('sgdclf.dask needs dask: pip install "sgdclf[dask]"') from exc


class DaskSGDLogisticClassifier(SGDLogisticClassifier):
    """SGDLogisticClassifier trained on Dask arrays or DataFrames, block-parallel.

    Same parameters as :class:`sgdclf.SGDLogisticClassifier`. ``fit`` takes X
    chunked by rows (a dask array with one chunk across the columns, or a
    dask DataFrame) and y (dask array or Series) with the same row chunks.
    ``max_iter`` counts rounds; ``tol`` / ``n_iter_no_change`` watch the
    training objective of the mixed model (computed by the workers from their
    blocks at the start of each round), or with ``early_stopping`` its
    accuracy on ``validation_fraction`` of the rows, held out in every block
    (chosen by a hash of the row index, so the same rows in every round).

    ``predict``, ``predict_proba``, ``predict_log_proba`` and
    ``decision_function`` return lazy dask arrays for dask input (computed
    block-wise on the workers) and NumPy arrays for NumPy input.
    :meth:`to_local` returns a plain fitted SGDLogisticClassifier.
    """

    def fit(self, X, y, coef_init=None, intercept_init=None, sample_weight=None):
        """Fit by iterative parameter mixing over the row blocks of X.

        ``coef_init`` / ``intercept_init`` (or, with ``warm_start``, the
        previous fit) give the starting model, as in SGDLogisticClassifier.
        """
        self._check_options(partial=False, validate_params=True)
        if self.solver != "sgd":
            raise ValueError(
                f"DaskSGDLogisticClassifier trains with solver='sgd' only (got "
                f"solver={self.solver!r}): SAGA's gradient memory and its "
                "sums are per example and do not mix across blocks. Use "
                "SGDLogisticClassifier(solver='saga') on data that fits in memory."
            )
        columns = list(X.columns) if isinstance(X, dd.DataFrame) else None
        X, y, sample_weight = _row_blocks(X, y, sample_weight)
        dtype = _training_dtype(X.dtype)
        if X.dtype.kind in "biuf" and X.dtype != dtype:
            # As check_array in memory: bool, integer and float16 X train in
            # float64 (converted block by block on the workers).
            X = X.astype(dtype)
        classes = np.unique(da.unique(y).compute())
        # The in-memory fit's errors (NaN, continuous labels) before any round,
        # not from whichever block first meets them among all classes.
        check_classification_targets(classes)
        if len(classes) < 2:
            raise ValueError(
                f"The training data must contain at least 2 classes; got "
                f"{list(classes)}."
            )
        params = self.get_params()
        if self.class_weight == "balanced":
            counts = np.array(dask.compute(*[(y == c).sum() for c in classes]))
            params["class_weight"] = dict(
                zip(
                    classes,
                    compute_class_weight(
                        "balanced", classes=classes, y=np.repeat(classes, counts)
                    ),
                    strict=True,
                )
            )
        blocks = list(
            zip(
                X.to_delayed().ravel(),
                y.to_delayed().ravel(),
                [None] * X.numblocks[0]
                if sample_weight is None
                else sample_weight.to_delayed().ravel(),
                strict=True,
            )
        )
        offsets = np.r_[0, np.cumsum(X.chunks[0])]
        # Empty blocks (e.g. after filtering) have nothing to train on.
        keep = [i for i, rows in enumerate(X.chunks[0]) if rows > 0]
        blocks = [blocks[i] for i in keep]
        where = [(i, int(offsets[i])) for i in keep]  # block index, first row
        rng = check_random_state(self.random_state)
        rule = StoppingRule(
            tol=self.tol,
            n_iter_no_change=self.n_iter_no_change,
            minimize=not self.early_stopping,
        )
        held_out = self.validation_fraction if self.early_stopping else 0.0
        state = self._starting_state(
            classes, X.shape[1], dtype, coef_init, intercept_init
        )
        state_before, n_iter = None, 0
        # scikit-learn's callbacks: a task per round, given the mixed model.
        callbacks = self._begin_callbacks(X, y, sample_weight)
        rounds = None
        if callbacks is not None:
            rounds = callbacks.rounds(
                lambda r: (
                    dict(copy.deepcopy(state), n_iter_=r + 1)
                    if state is not None
                    else None
                )
            )
        for round_index in range(self.max_iter):
            if rounds is not None:
                rounds.begin(round_index)
            seeds = rng.randint(np.iinfo(np.int32).max, size=len(blocks))
            tasks = [
                dask.delayed(_local_epoch)(
                    params, state, Xb, yb, wb, classes, int(seed), place, held_out
                )
                for (Xb, yb, wb), seed, place in zip(blocks, seeds, where, strict=True)
            ]
            results = dask.compute(*tasks)
            state, objective = _mix(results, params)
            n_iter += 1
            if rounds is not None and rounds.end(round_index):
                break  # a callback asked to stop: the model so far
            if self.early_stopping:
                if state_before is not None:
                    # The workers scored the model they started from.
                    # Accuracy weighted by sample and class weight, as in memory.
                    seen = sum(r["validation_weight"] for r in results)
                    if seen == 0:
                        raise ValueError(
                            f"validation_fraction={self.validation_fraction} holds out "
                            "no rows of non-zero sample weight; raise it or disable "
                            "early_stopping."
                        )
                    if rule.observe(
                        sum(r["validation_correct"] for r in results) / seen
                    ):
                        break
                state_before = state
            elif rule.observe(objective):
                break
        else:
            if self.tol is not None:
                warnings.warn(
                    "Maximum number of iterations reached before "
                    "convergence. Consider increasing max_iter to improve "
                    "the fit.",
                    ConvergenceWarning,
                    stacklevel=2,
                )
        for name in _fitted(self):  # nothing of an earlier fit survives
            del self.__dict__[name]
        self.__dict__.update(state)
        self.n_iter_ = n_iter
        if columns is not None and all(isinstance(c, str) for c in columns):
            self.feature_names_in_ = np.asarray(columns, dtype=object)
        if callbacks is not None:
            callbacks.end_fit()
        return self

    def partial_fit(self, X, y, classes=None, sample_weight=None):
        if isinstance(X, (da.Array, dd.DataFrame)):
            raise TypeError(
                "partial_fit takes in-memory chunks; for dask input use "
                "fit (or dask_ml.wrappers.Incremental around "
                "SGDLogisticClassifier)."
            )
        return super().partial_fit(X, y, classes=classes, sample_weight=sample_weight)

    def to_local(self):
        """A plain fitted SGDLogisticClassifier with a copy of this model."""
        local = SGDLogisticClassifier(**self.get_params())
        local.__dict__.update(copy.deepcopy(_fitted(self)))
        return local

    def _starting_state(self, classes, n_features, dtype, coef_init, intercept_init):
        """The model the first round starts from: None (zeros), coef_init /
        intercept_init, or with warm_start the previous fit (schedule restarted,
        as SGDLogisticClassifier's warm start does; AdaGrad keeps its sums).

        The weights take the training dtype (``dtype``, see _training_dtype),
        whatever the dtype of the previous fit or of the given arrays."""
        warm = self.warm_start and hasattr(self, "coef_")
        if coef_init is None and intercept_init is None and not warm:
            return None
        if warm:  # each of the two defaults to the previous fit's, as in memory
            coef_init = self.coef_ if coef_init is None else coef_init
            if intercept_init is None:
                intercept_init = self.intercept_
        n_models = 1 if len(classes) == 2 else len(classes)
        start = TrainingState.start(
            self,
            n_models,
            n_features,
            np.dtype(dtype),
            previous=vars(self) if warm else None,
            coef_init=coef_init,
            intercept_init=intercept_init,
        )
        return dict(
            start.attributes(self, t=1.0),
            classes_=classes,
            n_features_in_=n_features,
            n_iter_=0,
        )

    def decision_function(self, X):
        return self._blockwise(X, "decision_function")

    def predict_proba(self, X):
        return self._blockwise(X, "predict_proba")

    def predict_log_proba(self, X):
        return self._blockwise(X, "predict_log_proba")

    def predict(self, X):
        return self._blockwise(X, "predict")

    def _blockwise(self, X, method):
        local = self.to_local()
        if isinstance(X, dd.DataFrame):
            X = X.to_dask_array(lengths=True)
        if not isinstance(X, da.Array):
            return getattr(local, method)(X)
        if X.numblocks[1] != 1:
            X = X.rechunk({1: -1})
        k = len(self.classes_)
        sample = getattr(local, method)(np.zeros((1, X.shape[1]), dtype=X.dtype))

        def block(b):
            if b.shape[0] == 0:  # an empty block (e.g. after filtering)
                return np.empty((0,) + sample.shape[1:], dtype=sample.dtype)
            return getattr(local, method)(b)

        if sample.ndim == 1:
            return X.map_blocks(block, drop_axis=1, dtype=sample.dtype)
        return X.map_blocks(block, chunks=(X.chunks[0], (k,)), dtype=sample.dtype)


def _training_dtype(dtype):
    """The dtype a fit on X of ``dtype`` trains in: float32 and float64 as
    they are, anything else float64 (check_array's choice in memory; what it
    refuses, such as complex numbers, the workers refuse)."""
    dtype = np.dtype(dtype)
    return dtype if dtype in (np.float32, np.float64) else np.dtype(np.float64)


def _fitted(model):
    """The fitted state of an estimator: attributes ending or starting in "_"."""
    return {
        k: v for k, v in model.__dict__.items() if k.endswith("_") or k.startswith("_")
    }


def _row_blocks(X, y, sample_weight):
    """X, y, sample_weight as dask arrays with the same row chunks, X with one
    chunk across the columns."""
    if isinstance(X, dd.DataFrame):
        X = X.to_dask_array(lengths=True)
    if isinstance(y, (dd.Series, dd.DataFrame)):
        y = y.to_dask_array(lengths=True)
    if isinstance(sample_weight, (dd.Series, dd.DataFrame)):
        sample_weight = sample_weight.to_dask_array(lengths=True)
    if not isinstance(X, da.Array):
        raise TypeError(
            "DaskSGDLogisticClassifier.fit takes a dask array or "
            f"DataFrame; got {type(X).__name__}. For data in memory use "
            "SGDLogisticClassifier."
        )
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D; got shape {X.shape}.")
    if any(np.isnan(c) for c in X.chunks[0]):
        raise ValueError(
            "X has unknown chunk sizes; compute them first "
            "(e.g. X.compute_chunk_sizes())."
        )
    if X.numblocks[1] != 1:
        raise ValueError(
            f"X must be chunked by rows only (one chunk across the {X.shape[1]} "
            f"columns; it has {X.numblocks[1]}): rechunk with X.rechunk({{1: -1}})."
        )
    y = da.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:  # as column_or_1d in memory
        warnings.warn(
            "A column-vector y was passed when a 1d array was expected. "
            "Please change the shape of y to (n_samples,), for example "
            "using ravel().",
            DataConversionWarning,
            stacklevel=3,
        )
        y = y[:, 0]
    if y.ndim != 1 or y.shape[0] != X.shape[0]:
        raise ValueError(f"y must be 1-D with {X.shape[0]} rows; got shape {y.shape}.")
    y = y.rechunk((X.chunks[0],))
    if sample_weight is not None:
        if np.ndim(sample_weight) == 0:  # a number: every row, as in memory
            sample_weight = da.full(
                X.shape[0], float(sample_weight), chunks=(X.chunks[0],)
            )
        sample_weight = da.asarray(sample_weight)
        if sample_weight.shape != (X.shape[0],):
            raise ValueError(
                f"sample_weight must be 1-D with {X.shape[0]} rows (one "
                f"per row of X); got shape {sample_weight.shape}."
            )
        sample_weight = sample_weight.rechunk((X.chunks[0],))
    return X, y, sample_weight


def _local_epoch(params, state, X, y, sample_weight, classes, seed, where, held_out):
    """One SGD epoch over one block, from the global model (runs on a worker).

    ``where`` is (the block's index, its first row in X); errors name both.
    Rows chosen by ``held_out`` (a fraction) are not trained on; the global
    model's accuracy on them, weighted as in memory, is returned for early
    stopping, and the training rows' total absolute weight (``mass``).
    """
    index, offset = where
    try:
        return _block_epoch(
            params, state, X, y, sample_weight, classes, seed, offset, held_out
        )
    except ValueError as exc:
        raise ValueError(
            f"In block {index} (rows {offset}-{offset + len(y) - 1} of X): {exc}"
        ) from None


def _block_epoch(params, state, X, y, sample_weight, classes, seed, offset, held_out):
    model = SGDLogisticClassifier(
        **{**params, "random_state": seed, "early_stopping": False}
    )
    if state is not None:
        model.__dict__.update(copy.deepcopy(state))
    # Once here, not in each of predict, predict_proba and partial_fit below.
    X = check_array(
        X,
        accept_sparse="csr",
        dtype=[np.float64, np.float32],
        order="C",
        ensure_all_finite=False,
    )
    weight = _row_weights(params, classes, y, sample_weight)
    validation_correct = validation_weight = 0.0
    rows = np.arange(offset, offset + len(y))  # in X, for error messages
    if held_out:
        mask = held_out_mask(rows, held_out)
        bad = _non_finite_row(X[mask])
        if bad is not None:
            row = rows[mask][bad]
            raise ValueError(
                f"Input X contains NaN or infinity in row {row}, one of the rows "
                "held out for early stopping; remove or impute those values (e.g. "
                "with sklearn.impute.SimpleImputer), or disable early_stopping."
            )
        if state is not None and mask.any():
            correct = model.predict(X[mask]) == y[mask]
            w = np.ones(len(correct)) if weight is None else weight[mask]
            validation_correct, validation_weight = float(w @ correct), float(w.sum())
        X, y, rows = X[~mask], y[~mask], rows[~mask]
        if sample_weight is not None:
            sample_weight = sample_weight[~mask]
        if weight is not None:
            weight = weight[~mask]
    result = dict(
        state=None,
        n=len(y),
        mass=0.0,
        loss=0.0,
        validation_correct=validation_correct,
        validation_weight=validation_weight,
    )
    if not len(y):
        return result
    # The objective's loss term is unweighted, as SGDLogisticClassifier's.
    if state is not None:
        result["loss"] = float(
            log_loss(y, model.predict_proba(X), labels=classes, normalize=False)
        )
    else:
        result["loss"] = len(y) * float(np.log(len(classes)))  # the zero model
    result["mass"] = float(len(y) if weight is None else np.abs(weight).sum())
    if result["mass"] == 0:
        # In memory, rows of zero weight still take the penalty's steps and
        # advance the schedule; partial_fit refuses weights that are all zero,
        # so give them a weight too small to move any weight but a (near) zero
        # one (sqrt of the smallest normal number: its products stay normal).
        sample_weight = np.full(len(y), np.sqrt(np.finfo(X.dtype).tiny))
    try:
        model.partial_fit(X, y, classes=classes, sample_weight=sample_weight)
    except ValueError:
        # Training stops at the first non-finite row, counted among the rows
        # it was given; name it by its row in X.
        bad = _non_finite_row(X)
        if bad is None:
            raise
        raise ValueError(
            f"Input X contains NaN or infinity in row {rows[bad]}; remove "
            "or impute those values (e.g. with "
            "sklearn.impute.SimpleImputer)."
        ) from None
    result["state"] = _fitted(model)
    return result


def _row_weights(params, classes, y, sample_weight):
    """sample_weight times class_weight per row, as the in-memory fit weighs
    rows; None when every row weighs 1."""
    if sample_weight is None and params["class_weight"] is None:
        return None
    weight = (
        np.ones(len(y))
        if sample_weight is None
        else np.asarray(sample_weight, dtype=np.float64)
    )
    if params["class_weight"] is not None:
        per_class = compute_class_weight(params["class_weight"], classes=classes, y=y)
        weight = weight * per_class[np.searchsorted(classes, y)]
    return weight


def _non_finite_row(X):
    """Index of the first row of X (dense or CSR) with NaN or infinity, or None."""
    if sp.issparse(X):
        bad = np.flatnonzero(~np.isfinite(X.data))
        return (
            int(np.searchsorted(X.indptr, bad[0], side="right") - 1)
            if bad.size
            else None
        )
    bad = np.flatnonzero(~np.isfinite(X).all(axis=1))
    return int(bad[0]) if bad.size else None


def _mix(results, params):
    """The average of the block models, each weighted by its training rows;
    the objective of the mixed model (the mean loss over those rows).

    By rows, not by total sample weight: the in-memory objective is the
    weighted loss divided by the number of rows (plus the penalty), which is
    the row-weighted sum of the blocks' objectives. A block whose rows all
    weigh zero has the penalty alone for objective; its model is the round's
    start after the penalty's steps, as those rows do in memory. (Measured
    on 6000 rows in 4 blocks, 30 rounds, alpha 1e-4 to 1e-2, blocks weighing
    0, 0.01 or 1, 2, 4, 8: weighting by total weight instead, which leaves a
    zero-weight block out, ended 1.1 to 20 times further from the optimum
    of the weighted objective.)
    """
    results = [r for r in results if r["n"] > 0]
    if not results:
        raise ValueError(
            "No block has rows to train on (with early_stopping, lower "
            "validation_fraction or use larger blocks)."
        )
    if not any(r["mass"] > 0 for r in results):  # refused in memory too
        raise ValueError(
            "Sample weights must contain at least one non-zero number "
            "(times class_weight, on the rows not held out for early "
            "stopping)."
        )
    n = np.array([r["n"] for r in results], dtype=np.float64)
    weights = n / n.sum()
    state = dict(results[0]["state"])
    for name in TRAINED_ATTRIBUTES:
        if name in state and state[name] is not None:
            state[name] = sum(
                w * r["state"][name] for w, r in zip(weights, results, strict=True)
            )
            if hasattr(results[0]["state"][name], "dtype"):
                state[name] = np.asarray(
                    state[name], dtype=results[0]["state"][name].dtype
                )
    # Every block advanced the schedule by its own rows; the mix by their mean.
    state["t_"] = float(np.mean([r["state"]["t_"] for r in results]))
    # Each block chose coef_ (averaged or not) by its own t_: choose again.
    if "_average_coef" in state:
        use_average = average_in_use(params["average"], state["t_"])
        state["coef_"] = state["_average_coef" if use_average else "_standard_coef"]
        state["intercept_"] = state[
            "_average_intercept" if use_average else "_standard_intercept"
        ]
    coef = state["coef_"]
    penalty = penalty_value(
        coef,
        penalty=params["penalty"],
        alpha=params["alpha"],
        l1_ratio=params["l1_ratio"],
    )
    objective = sum(r["loss"] for r in results) / n.sum() + penalty
    if not np.all(np.isfinite(coef)) or not np.isfinite(objective):
        raise ValueError(
            "Training diverged: the weights are no longer finite. "
            "Scale the features or lower eta0 (or raise alpha)."
        )
    return state, objective
