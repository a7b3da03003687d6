"""SGDLogisticClassifier: parameters, input validation, preparation, attributes.

fit / partial_fit, each step one method:
  1. validate   _validate_params (constraints, by _fit_context), _check_options,
                _validate_Xy, labels
  2. prepare    _prepare -> _Fit: label codes, class x sample weights, the
                validation split, the TrainingState to start from (copies;
                see _state.py), the kernel's options, the stopping rules
  3. run        _run: _training.run_epochs, kernel epochs + stopping rules
  4. commit     _commit: coef_, intercept_, t_, n_iter_ and the optimiser
                state's attributes (TrainingState.attributes), only on success"""

import functools
import warnings
from dataclasses import dataclass
from itertools import repeat
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from scipy.special import expit, log_expit, log_softmax, logsumexp, softmax
from sklearn.base import BaseEstimator, _fit_context

try:  # scikit-learn >= 1.9: set_callbacks (ProgressBar, ScoringMonitor)
    from sklearn.callback import CallbackSupportMixin
except ImportError:  # pragma: no cover - older scikit-learn

    class CallbackSupportMixin:
        pass


from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model._base import LinearClassifierMixin, SparseCoefMixin
from sklearn.model_selection import StratifiedShuffleSplit
from sklearn.utils import check_random_state, compute_class_weight
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.extmath import safe_sparse_dot
from sklearn.utils.multiclass import check_classification_targets, unique_labels
from sklearn.utils.validation import (
    _assert_all_finite,
    _check_feature_names,
    _check_n_features,
    _check_sample_weight,
    check_is_fitted,
    validate_data,
)

from . import _kernel
from ._schedule import optimal_t0
from ._state import OPTIONAL_ATTRIBUTES, PAIRS, TrainingState, _dense, l1_share
from ._training import Data, Stopping, run_epochs, run_saga


class _sgd_only:
    """A method that exists for solver="sgd" only: with "saga", looking it
    up raises AttributeError saying why (scikit-learn's tools, which look
    for partial_fit, then see that the model cannot learn chunk by chunk).
    scikit-learn's available_if would replace the reason by "has no
    attribute"."""

    def __init__(self, method):
        self.method = method
        functools.update_wrapper(self, method)

    def __get__(self, obj, owner=None):
        if obj is not None and obj.solver == "saga":
            raise AttributeError(
                f"solver='saga' cannot {self.method.__name__}: its gradient "
                "memory holds one number per example of the whole data set. "
                "Use fit, or solver='sgd' to train chunk by chunk."
            )
        return self.method.__get__(obj, owner)


class SGDLogisticClassifier(
    CallbackSupportMixin, LinearClassifierMixin, SparseCoefMixin, BaseEstimator
):
    """Logistic regression trained by stochastic gradient descent.

    A drop-in for ``SGDClassifier(loss="log_loss")``: the same per-example
    algorithm, schedules, penalties and parameters, run by a typed Cython
    kernel that reads each example once per epoch for all classes. Beyond
    SGDClassifier: true multinomial (softmax) training
    (``multi_class="multinomial"``) and per-coordinate AdaGrad steps
    (``learning_rate="adagrad"``).

    For each example (x, y) in a random order, with margin p = w . x + b and
    y in {0, 1}, the log loss log(1 + exp(p)) - y p has gradient
    (sigmoid(p) - y) x with respect to w (the chain rule through p), so SGD
    steps ``w -= eta * (sigmoid(p) - y) * x`` (times the sample and class
    weights), after shrinking w by the L2 penalty and before truncating it by
    the L1 penalty. One pass over the data is an epoch.

    Parameters
    ----------
    loss : "log_loss", default="log_loss"
        The logistic loss, the only one: accepted so that code written for
        ``SGDClassifier(loss="log_loss")`` runs unchanged. Any other value
        raises a ValueError pointing to SGDClassifier.
    penalty : {"l2", "l1", "elasticnet"} or None, default="l2"
        Regulariser added to the log loss.
    alpha : float, default=1e-4
        Regularisation strength; also sets the "optimal" learning rate.
    l1_ratio : float in [0, 1], default=0.15
        Share of L1 in the elastic net (used only with ``penalty="elasticnet"``).
    fit_intercept : bool, default=True
        Whether to learn an intercept.
    max_iter : int, default=1000
        Maximum number of epochs (passes over the data) of ``fit``.
    tol : float or None, default=1e-3
        Stop when the training objective (or, with early stopping, the
        validation accuracy) has not improved by ``tol`` for
        ``n_iter_no_change`` epochs. None: run ``max_iter`` epochs.
    shuffle : bool, default=True
        Visit the examples in a fresh random order every epoch.
    verbose : int, default=0
        Print one line per epoch when positive.
    n_jobs : int or None, default=None
        Threads for multiclass problems; the results do not depend on it.
        One-vs-rest splits the classes across threads; multinomial splits the
        classes of each example across a team of threads, used only when an
        example carries enough work (classes x non-zeros per row >= 2500, a
        sparse non-zero counting 4) and with at most one thread per core.
        None means 1 unless in a joblib context.
    random_state : int, RandomState instance or None, default=None
        Seeds the shuffling and the early-stopping split.
    learning_rate : {"optimal", "constant", "invscaling", "adaptive", "adagrad"}, \
            default="optimal"
        Step-size schedule: ``1 / (alpha (t0 + t - 1))``, ``eta0``,
        ``eta0 / t ** power_t``, ``eta0`` divided by 5 on each plateau, or
        AdaGrad's per-coordinate ``eta0 / sqrt(1e-8 + G_j)``, G_j the sum of
        coordinate j's squared gradients (the intercept likewise); with
        AdaGrad the penalty is applied as a proximal step of the same size.
    eta0 : float > 0, default=0.01
        Initial step of the "constant", "invscaling" and "adaptive" schedules,
        and AdaGrad's base step, which is in units of the weights: AdaGrad's
        first step moves each weight whose feature is non-zero by about
        ``eta0``, whatever the feature's scale. The default 0.01 suits unscaled
        features (whose weights are small); on standardised features 0.1
        usually converges in fewer epochs (digits, multinomial, 20 epochs:
        held-out log-loss 0.24 with 0.01, 0.11 with 0.1, 0.31 with 1).
    power_t : float >= 0, default=0.5
        Exponent of the "invscaling" schedule.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the training data (stratified) and
        stop when its accuracy stops improving.
    validation_fraction : float in (0, 1), default=0.1
        Share of the data held out for early stopping.
    n_iter_no_change : int, default=5
        Epochs without improvement before stopping (or, for "adaptive",
        before dividing the step by 5).
    class_weight : dict, "balanced" or None, default=None
        Weight of each class; multiplies ``sample_weight``. "balanced" uses
        ``n_samples / (n_classes * np.bincount(y))``.
    warm_start : bool, default=False
        Start ``fit`` from the previous solution.
    average : bool or int, default=False
        Averaged SGD: ``coef_`` is the average of the iterates from update
        number ``average`` on (True means from the first update).
    multi_class : {"ovr", "multinomial"}, default="ovr"
        For more than two classes: "ovr" trains one binary model per class
        (one-vs-rest, as SGDClassifier); "multinomial" trains the K weight
        vectors jointly on the softmax cross-entropy, every example updating
        all K with the gradient ``(softmax(p) - onehot(y)) x``. Either way each
        example is read once per epoch. With two classes both are the same
        binary logistic regression (``coef_`` of shape (1, n_features)): the
        two-class softmax of scores (0, p) is exactly the sigmoid of p.
    solver : {"sgd", "saga"}, default="sgd"
        "sgd": the schedules above, for streaming, ``partial_fit`` and one
        pass over huge data. "saga": variance-reduced per-example steps
        (Defazio, Bach & Lacoste-Julien 2014) that converge to the exact
        minimiser of the same objective, mean weighted log loss + ``alpha``
        times the penalty, which is LogisticRegression's model with
        ``C = 1 / (alpha * n_samples)``. Its constant step comes from the data
        (the largest squared row norm times sample weight, the intercept and
        the L2 part); it keeps one gradient number per example and model.
        ``tol`` is then scikit-learn's sag/saga criterion: stop when no weight
        changed in an epoch by more than ``tol`` times the largest weight.
        It does not use ``learning_rate``, ``eta0``, ``power_t``, ``average``
        or ``early_stopping``, and cannot ``partial_fit``.

    Attributes
    ----------
    coef_ : ndarray of shape (1, n_features) or (n_classes, n_features)
        Weights; float32 when trained on float32 data.
    intercept_ : ndarray of shape (1,) or (n_classes,)
        Intercepts.
    classes_ : ndarray of shape (n_classes,)
        The class labels.
    n_iter_ : int
        Epochs run by the last call (the maximum over classes).
    t_ : float
        Number of weight updates so far, plus one (counted as
        SGDClassifier does: ``n_iter_ * n_samples`` per call).
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Feature names, when X was a DataFrame with string column names.

    See Also
    --------
    sklearn.linear_model.SGDClassifier : the scikit-learn estimator this mirrors.
    sklearn.linear_model.LogisticRegression : batch solvers of the same model.

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sgdclf import SGDLogisticClassifier
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> clf = make_pipeline(StandardScaler(), SGDLogisticClassifier(random_state=0))
    >>> clf.fit(X, y).score(X, y) > 0.95
    True
    >>> clf.predict_proba(X[:2]).shape
    (2, 2)
    """

    _parameter_constraints: dict = {
        "loss": [str],
        "penalty": [StrOptions({"l2", "l1", "elasticnet"}), None],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "l1_ratio": [Interval(Real, 0, 1, closed="both")],
        "fit_intercept": ["boolean"],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left"), None],
        "shuffle": ["boolean"],
        "verbose": ["verbose"],
        "n_jobs": [Integral, None],
        "random_state": ["random_state"],
        "learning_rate": [StrOptions(set(_kernel.SCHEDULES))],
        "eta0": [Interval(Real, 0, None, closed="neither")],
        "power_t": [Interval(Real, 0, None, closed="left")],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "class_weight": [StrOptions({"balanced"}), dict, None],
        "warm_start": ["boolean"],
        "average": [Interval(Integral, 0, None, closed="neither"), "boolean"],
        "multi_class": [StrOptions({"ovr", "multinomial"})],
        "solver": [StrOptions({"sgd", "saga"})],
    }

    def _validate_params(self):
        # A GridSearchCV fits clones with a handful of distinct parameter
        # sets; checking each against the constraints costs ~70 us a fit. The
        # outcome depends only on the values: remember the sets that passed
        # when every value is an immutable scalar (so the key is the value).
        key = _params_key(self)
        if key is not None and key in _VALID_PARAMS:
            return
        super()._validate_params()
        if key is not None:
            if len(_VALID_PARAMS) >= 1024:
                _VALID_PARAMS.clear()
            _VALID_PARAMS.add(key)

    @classmethod
    def _get_param_names(cls):
        # scikit-learn reads __init__'s signature on every get_params and
        # parameter validation (~80 us each); it does not change.
        names = cls.__dict__.get("_param_names")
        if names is None:
            names = super()._get_param_names()
            cls._param_names = names
        return list(names)

    def __init__(
        self,
        *,
        loss="log_loss",
        penalty="l2",
        alpha=1e-4,
        l1_ratio=0.15,
        fit_intercept=True,
        max_iter=1000,
        tol=1e-3,
        shuffle=True,
        verbose=0,
        n_jobs=None,
        random_state=None,
        learning_rate="optimal",
        eta0=0.01,
        power_t=0.5,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=5,
        class_weight=None,
        warm_start=False,
        average=False,
        multi_class="ovr",
        solver="sgd",
    ):
        self.loss = loss
        self.penalty = penalty
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.tol = tol
        self.shuffle = shuffle
        self.verbose = verbose
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.learning_rate = learning_rate
        self.eta0 = eta0
        self.power_t = power_t
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.class_weight = class_weight
        self.warm_start = warm_start
        self.average = average
        self.multi_class = multi_class
        self.solver = solver

    def __setstate__(self, state):
        # Models saved before these parameters existed: the log loss, by SGD.
        state.setdefault("solver", "sgd")
        state.setdefault("loss", "log_loss")
        super().__setstate__(state)

    # ------------------------------------------------------------ public API

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, coef_init=None, intercept_init=None, sample_weight=None):
        """Fit the model by SGD for up to ``max_iter`` epochs.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data. C-contiguous float32/float64 arrays and CSR
            matrices are used without a copy.
        y : array-like of shape (n_samples,)
            Class labels, of any type.
        coef_init : ndarray of shape (n_classes, n_features), default=None
            Starting weights ((1, n_features) or (n_features,) when binary).
        intercept_init : ndarray of shape (n_classes,), default=None
            Starting intercepts.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the examples, multiplied by the class weights.

        Returns
        -------
        self : object
            Fitted estimator.
        """
        self._check_options(partial=False)
        with _all_or_nothing(self):
            X, y = self._validate_Xy(X, y, reset=True)
            classes, y_code = _labels(y)
            if self.warm_start and hasattr(self, "coef_"):
                if coef_init is None:
                    coef_init = _dense(self.coef_)
                if intercept_init is None:
                    intercept_init = self.intercept_
            job = self._prepare(
                X,
                y,
                classes,
                y_code,
                sample_weight,
                max_iter=self.max_iter,
                resume=False,
                coef_init=coef_init,
                intercept_init=intercept_init,
            )
            callbacks = self._begin_callbacks(X, y, sample_weight)
            n_iter = self._run(job, callbacks)
            self._commit(classes, job.state, n_iter, X.shape[0], resume=False)
            if callbacks is not None:
                callbacks.end_fit()
        if self.tol is not None and self.n_iter_ == self.max_iter:
            warnings.warn(
                "Maximum number of iterations reached before convergence. "
                "Consider increasing max_iter to improve the fit.",
                ConvergenceWarning,
                stacklevel=2,
            )
        return self

    @_sgd_only
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """Run one epoch of SGD over the given examples, continuing the model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            A chunk of training data.
        y : array-like of shape (n_samples,)
            Labels of the chunk; each must be one of ``classes``.
        classes : array-like of shape (n_classes,), default=None
            All the classes; required on the first call, optional afterwards
            (then it must equal ``classes_``).
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the examples.

        Returns
        -------
        self : object
            Updated estimator.
        """
        fresh = not hasattr(self, "classes_")
        # Every call: set_params may have changed the parameters since the last.
        self._check_options(partial=True)
        if fresh:
            if classes is None:
                raise ValueError(
                    "classes must be passed on the first call to partial_fit."
                )
        with _all_or_nothing(self):
            X, y = self._validate_Xy(X, y, reset=fresh)
            if classes is None:
                classes = self.classes_
            else:
                classes = unique_labels(classes)
                if not fresh and not np.array_equal(classes, self.classes_):
                    raise ValueError(
                        f"classes={classes!r} is not the same as on the first call "
                        f"to partial_fit, which was {self.classes_!r}."
                    )
            unknown = np.setdiff1d(np.unique(y), classes)
            if unknown.size:
                raise ValueError(
                    f"y contains labels {unknown.tolist()} that are not in "
                    f"classes {classes.tolist()}."
                )
            y_code = np.searchsorted(classes, y).astype(np.int32)
            job = self._prepare(
                X, y, classes, y_code, sample_weight, max_iter=1, resume=not fresh
            )
            n_iter = self._run(job)
            self._commit(classes, job.state, n_iter, X.shape[0], resume=not fresh)
        return self

    def decision_function(self, X):
        """Margins w . x + b: one column per model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        scores : ndarray of shape (n_samples,) for two classes, else
            (n_samples, n_classes)
        """
        scores = self._plain_scores(X)
        if scores is not None:
            return scores
        check_is_fitted(self)
        # As in fit, X is not scanned for NaN/inf up front: a non-finite value
        # makes its row's scores non-finite, and only then is X looked at. A
        # sparse coef_ (after sparsify) skips zero weights, so X is checked.
        X = validate_data(
            self,
            X,
            accept_sparse="csr",
            reset=False,
            ensure_all_finite=sp.issparse(self.coef_),
        )
        if sp.issparse(X):
            _check_csr(X)
        coef = self.coef_.T if self.coef_.ndim == 2 else self.coef_
        with np.errstate(over="ignore", invalid="ignore"):
            scores = safe_sparse_dot(X, coef, dense_output=True) + self.intercept_
        if not np.isfinite(scores).all():
            _assert_all_finite(X.data if sp.issparse(X) else X, input_name="X")
            row = int(np.flatnonzero(~np.isfinite(scores).all(axis=-1))[0])
            raise ValueError(
                f"The scores w . x + b of row {row} of X overflow (beyond "
                f"{np.finfo(scores.dtype).max:.3g}) although X is finite: its "
                "values are too large for this model. Scale the features the "
                "same way as the training data (e.g. with the same StandardScaler)."
            )
        return scores.ravel() if scores.ndim > 1 and scores.shape[1] == 1 else scores

    def _plain_scores(self, X):
        """Scores of a plain float ndarray of the fitted width, or None.

        scikit-learn's validation costs ~100 us a call, most of the time of a
        one-row prediction. An input it could not object to (an ndarray of
        float32/float64 with rows and the fitted number of columns, for a
        model fitted without feature names and with dense coef_) skips it;
        anything else, and any score that is not finite (NaN in X, overflow),
        returns None for the validating path, which raises its errors.
        """
        coef = self.__dict__.get("coef_")
        if (
            not _plain_X(X)
            or type(coef) is not np.ndarray
            or X.shape[1] != self.__dict__.get("n_features_in_")
            or "feature_names_in_" in self.__dict__
        ):
            return None
        with np.errstate(over="ignore", invalid="ignore"):
            scores = X @ coef.T + self.intercept_
        if not np.isfinite(scores).all():
            return None
        return scores.ravel() if scores.shape[1] == 1 else scores

    def predict(self, X):
        """Class labels: the class of the largest score (binary: score > 0).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        labels : ndarray of shape (n_samples,)
        """
        return self._class_of(self.decision_function(X))

    def _class_of(self, scores):
        """The predicted class of each row of scores (binary: score > 0)."""
        best = (scores > 0).astype(np.intp) if scores.ndim == 1 else scores.argmax(1)
        return self.classes_[best]

    def score(self, X, y, sample_weight=None):
        """Mean accuracy of ``predict(X)`` against ``y`` (scikit-learn's
        ``accuracy_score``, weighted by ``sample_weight``), the default score
        of GridSearchCV and cross_val_score.

        A plain float ndarray X (see predictions) with integer or boolean
        labels and no sample weights is scored here: accuracy_score's checks
        cost ~100 us a call, a quarter of a grid search on small data. The
        result is the same; any other input goes through accuracy_score.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        score : float
        """
        classes = self.__dict__.get("classes_")
        if (
            sample_weight is None
            and type(y) is np.ndarray
            and y.ndim == 1
            and y.dtype.kind in "iub"
            and type(classes) is np.ndarray
            and classes.dtype.kind in "iub"
            and _plain_X(X)
            and X.shape[0] == y.shape[0]
        ):
            scores = self._plain_scores(X)
            if scores is not None:
                return float(np.mean(self._class_of(scores) == y))
        return super().score(X, y, sample_weight=sample_weight)

    def predict_proba(self, X):
        """Class probabilities.

        Binary: the sigmoid of the decision function. More than two classes:
        with ``multi_class="multinomial"`` the softmax of the decision
        function; with "ovr" the one-vs-rest sigmoids normalised to sum to one.
        Exact at extreme margins: no 1 - p rounding, and rows whose sigmoids
        all underflow are normalised in log space instead of giving 0 / 0.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
        """
        scores = self.decision_function(X)
        if scores.ndim == 1:
            proba = np.empty((scores.shape[0], 2), dtype=scores.dtype)
            expit(-scores, out=proba[:, 0])
            expit(scores, out=proba[:, 1])
            return proba
        if self.multi_class == "multinomial":
            # In float64: float32 scores near 3e38 would overflow the shift.
            return softmax(scores.astype(np.float64), axis=1).astype(scores.dtype)
        proba = expit(scores)
        total = proba.sum(axis=1)
        # Rows where every class's sigmoid (nearly) underflows: 1e-154 in
        # float64, 1e-19 in float32.
        tiny = total < np.sqrt(np.finfo(proba.dtype).tiny)
        if tiny.any():
            proba[tiny] = np.exp(self._log_proba(scores[tiny]))
            total[tiny] = 1.0
        proba /= total[:, np.newaxis]
        return proba

    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba`, computed in float64 so that it
        is finite for any margin (cast back to float32 for a float32 model,
        where below about -1e38 it becomes -inf).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
        """
        scores = self.decision_function(X)
        if scores.ndim == 1:
            return np.column_stack([log_expit(-scores), log_expit(scores)])
        return self._log_proba(scores)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags

    # ------------------------------------------------------------ 1. validate

    def _check_options(self, *, partial, validate_params=False):
        """The rules between parameters. The parameters themselves are
        validated by fit's and partial_fit's decorator (_fit_context, once a
        call); callers without it pass ``validate_params=True``."""
        if validate_params:
            self._validate_params()
        if self.loss != "log_loss":
            raise ValueError(
                f"loss={self.loss!r}: SGDLogisticClassifier trains logistic "
                "regression, loss='log_loss' only. For other losses use "
                f"sklearn.linear_model.SGDClassifier(loss={self.loss!r})."
            )
        if self.learning_rate == "optimal" and self.alpha == 0:
            raise ValueError(
                "alpha must be > 0 with learning_rate='optimal': the optimal "
                "schedule's step is 1 / (alpha * t)."
            )
        if self.solver == "saga":
            self._check_saga_options()
        if partial and self.early_stopping:
            raise ValueError("early_stopping must be False with partial_fit.")
        if partial and self.class_weight == "balanced":
            raise ValueError(
                "class_weight='balanced' is not supported by partial_fit, which "
                "sees one chunk at a time. Compute the weights once with "
                "sklearn.utils.compute_class_weight('balanced', classes=classes, "
                "y=y) on (a sample of) all labels and pass them as a dict."
            )

    def _check_saga_options(self):
        # (partial_fit is not available with saga: _can_partial_fit)
        defaults = {"learning_rate": "optimal", "eta0": 0.01, "power_t": 0.5}
        unused = [
            f"{name}={getattr(self, name)!r}"
            for name, default in defaults.items()
            if getattr(self, name) != default
        ]
        if self.average:
            unused.append(f"average={self.average!r}")
        if self.early_stopping:
            unused.append("early_stopping=True")
        if unused:
            raise ValueError(
                f"solver='saga' does not use {', '.join(unused)}: its step size "
                "comes from the data and it converges to the optimum itself. "
                "Leave them at their defaults, or use solver='sgd'."
            )

    def _validate_Xy(self, X, y, *, reset):
        """Checked X (C-ordered float array or canonical CSR) and y."""
        original = X
        if _plain(X, y):
            # Nothing scikit-learn's checks could change or refuse (~300 us a
            # fit on small data): only the feature count and names they record.
            _check_n_features(self, X, reset=reset)
            if reset:  # an ndarray has no feature names
                self.__dict__.pop("feature_names_in_", None)
            elif "feature_names_in_" in self.__dict__:
                _check_feature_names(self, X, reset=False)  # (it warns)
            return X, y
        # NaN and infinity in X are caught during training, for free (see
        # _training._check_finite), instead of by a separate pass over X here.
        X, y = validate_data(
            self,
            X,
            y,
            accept_sparse="csr",
            dtype=[np.float64, np.float32],
            order="C",
            accept_large_sparse=True,
            ensure_all_finite=False,
            reset=reset,
        )
        check_classification_targets(y)
        if sp.issparse(X):
            _check_csr(X)
            if not all(a.flags.c_contiguous for a in (X.data, X.indices, X.indptr)):
                # (e.g. data is a strided view) The kernel reads contiguous arrays.
                X = sp.csr_matrix(
                    (
                        np.ascontiguousarray(X.data),
                        np.ascontiguousarray(X.indices),
                        np.ascontiguousarray(X.indptr),
                    ),
                    shape=X.shape,
                )
        if sp.issparse(X) and not X.has_canonical_format:
            # A row may store a column twice; AdaGrad's per-coordinate step and
            # the L1 truncation must see one summed entry (copy, not the input).
            X = X.copy()
            X.sum_duplicates()
        if sp.issparse(X) and X.indices.dtype != X.indptr.dtype:
            if X is original:
                X = X.copy()  # never modify the caller's matrix
            X.indices = X.indices.astype(np.int64)
            X.indptr = X.indptr.astype(np.int64)
        return X, y

    # ------------------------------------------------------------ 2. prepare

    def _prepare(
        self,
        X,
        y,
        classes,
        y_code,
        sample_weight,
        *,
        max_iter,
        resume,
        coef_init=None,
        intercept_init=None,
    ):
        """Everything the epochs need, as a _Fit: the rows as the kernel
        reads them (label codes, class x sample weights, the early-stopping
        split), the TrainingState to start from (copies: the estimator is
        untouched until _commit), the kernel's options and the stopping rules.
        ``resume`` continues the fitted state (partial_fit); otherwise a new
        fit starts from coef_init / intercept_init."""
        n_features = X.shape[1]
        if len(classes) < 2:
            raise ValueError(
                "The training data must contain at least 2 classes; got "
                f"{len(classes)} class: {list(classes)}."
            )
        if resume:
            try:
                check_state(self)
            except ValueError as exc:
                raise ValueError(
                    f"The fitted state of this estimator is inconsistent ({exc}); "
                    "fit it again from scratch."
                ) from None
            if n_features != self.coef_.shape[1]:
                raise ValueError(
                    f"X has {n_features} features, but the model was trained with "
                    f"{self.coef_.shape[1]}."
                )
        dtype = X.dtype
        weight = self._row_weights(X, y, classes, y_code, sample_weight)
        n_models = 1 if len(classes) == 2 else len(classes)
        multinomial = self.multi_class == "multinomial" and n_models > 1
        # warm_start keeps some optimiser state of the previous fit (AdaGrad's).
        previous = vars(self) if resume or self.warm_start else None
        if previous is not None and "coef_" not in previous:
            previous = None
        state = TrainingState.start(
            self,
            n_models,
            n_features,
            dtype,
            previous=previous,
            resume=resume,
            coef_init=coef_init,
            intercept_init=intercept_init,
        )

        validation = self._validation_split(y, weight) if self.early_stopping else None
        train_rows = None  # all rows
        if validation is not None:
            train_rows = np.flatnonzero(~validation).astype(np.int64)
            # Training visits the other rows and stops at a non-finite one.
            held_out = X[validation]  # (the one copy of these rows)
            values = held_out.data if sp.issparse(held_out) else held_out
            with np.errstate(over="ignore", invalid="ignore"):
                # The sum first: no boolean copy of the rows unless it is not finite.
                finite = np.isfinite(values.sum()) or np.isfinite(values).all()
            if not finite:
                raise ValueError(
                    "Input X contains NaN or infinity (in the rows held out for "
                    "early stopping); remove or impute those values."
                )
        data = Data(X=X, y_code=y_code, sample_weight=weight, train_rows=train_rows)

        track = bool(self.verbose) or (self.tol is not None and not self.early_stopping)
        options = dict(
            penalty=_kernel.PENALTIES[self.penalty],
            alpha=float(self.alpha),
            l1_ratio=float(self.l1_ratio),
            schedule=_kernel.SCHEDULES[self.learning_rate],
            eta0=float(self.eta0),
            power_t=float(self.power_t),
            optimal_init=optimal_t0(self.alpha)
            if self.learning_rate == "optimal"
            else 0.0,
            fit_intercept=bool(self.fit_intercept),
            average_start=float(self.average),
            track_objective=track,
            multinomial=multinomial,
            # The penalty as two strengths (SAGA's options).
            l1=float(self.alpha) * l1_share(self.penalty, self.l1_ratio),
            l2=0.0
            if self.penalty is None
            else float(self.alpha) * (1.0 - l1_share(self.penalty, self.l1_ratio)),
        )
        stopping = Stopping(
            max_iter=max_iter,
            tol=self.tol,
            n_iter_no_change=self.n_iter_no_change,
            adaptive=self.learning_rate == "adaptive",
            validation_score=(
                None
                if validation is None
                else _ValidationScore(
                    held_out,
                    y_code[validation],
                    weight[validation],
                    state,
                    self.average,
                    multinomial,
                )
            ),
        )
        # (int first: isinstance with the Integral ABC is slow)
        if isinstance(self.random_state, int) or isinstance(
            self.random_state, Integral
        ):
            seed = _seed_of(int(self.random_state))
        else:
            seed = check_random_state(self.random_state).randint(np.iinfo(np.int32).max)
        return _Fit(
            data=data,
            state=state,
            options=options,
            stopping=stopping,
            seed=seed,
            classes=classes,
        )

    def _row_weights(self, X, y, classes, y_code, sample_weight):
        """Each row's weight (sample_weight times class_weight) in X's dtype,
        or a single 1 when every row weighs 1 (the kernel then reads one
        number for all rows)."""
        if (
            sample_weight is None
            and self.class_weight is None
            and not self.early_stopping
        ):
            return np.array([1.0], dtype=X.dtype)
        weight = _check_sample_weight(
            sample_weight,
            X,
            dtype=np.float64,
            allow_all_zero_weights=self.early_stopping,
        )
        if self.class_weight is not None:  # (None would cost a pass over y)
            # Not in place: weight may be the caller's sample_weight array.
            weight = (
                weight
                * compute_class_weight(self.class_weight, classes=classes, y=y)[y_code]
            )
        return np.ascontiguousarray(weight, dtype=X.dtype)

    def _validation_split(self, y, weight):
        """Boolean mask of the stratified early-stopping validation rows."""
        splitter = StratifiedShuffleSplit(
            test_size=self.validation_fraction, random_state=self.random_state
        )
        try:
            _, val = next(splitter.split(np.zeros((len(y), 1)), y))
        except ValueError as exc:
            raise ValueError(
                f"Cannot hold out validation_fraction={self.validation_fraction} "
                f"of {len(y)} samples for early stopping: {exc} Increase the "
                "number of samples or validation_fraction, or disable early_stopping."
            ) from exc
        if not np.any(weight[val] > 0):
            raise ValueError(
                "The sample weights of the early-stopping validation set are all "
                "zero; use another random_state or disable early_stopping."
            )
        mask = np.zeros(len(y), dtype=bool)
        mask[val] = True
        return mask

    # ------------------------------------------------------------ 3. run

    def _run(self, job, callbacks=None):
        """The epochs (kernel + stopping rules): the epochs each model ran."""
        if callbacks is not None:
            job.stopping.epoch_tasks = callbacks.epochs(job)
        run = run_saga if self.solver == "saga" else run_epochs
        return run(
            job.data,
            job.state,
            job.options,
            job.stopping,
            seed=job.seed,
            shuffle=self.shuffle,
            n_jobs=self.n_jobs,
            verbose=self.verbose,
        )

    def _begin_callbacks(self, X, y, sample_weight):
        """scikit-learn's callbacks (set_callbacks, or propagated by a
        Pipeline or a search): the fit's task begun, or None when there are
        none (then nothing is done per epoch)."""
        if not (getattr(self, "_skl_callbacks", None) or _callbacks_above(self)):
            return None
        return _FitTasks(self, X, y, sample_weight)

    # ------------------------------------------------------------ 4. attributes

    def _commit(self, classes, state, n_iter, n_samples, *, resume):
        """The fitted attributes, from the trained state. As SGDClassifier,
        t_ counts every sample of every epoch (validation rows too)."""
        t_start = self.t_ if resume else 1.0
        n_iter = max(n_iter.tolist())  # (ndarray.max: ~10 us in Python wrappers)
        for name in OPTIONAL_ATTRIBUTES:  # (of pieces this fit did not use)
            self.__dict__.pop(name, None)
        self.__dict__.update(
            state.attributes(self, t=t_start + n_iter * n_samples),
            classes_=classes,
            n_iter_=n_iter,
        )

    def _log_proba(self, scores):
        """Log-probabilities from scores, in float64 (then scores' dtype).

        One-vs-rest: log of the sigmoids normalised to sum to 1. The logs are
        shifted by their row maximum before the log-sum-exp, or at scores
        like -1e17 the normaliser's log k would be lost to rounding.
        """
        scores64 = scores.astype(np.float64, copy=False)
        if self.multi_class == "multinomial":
            return log_softmax(scores64, axis=1).astype(scores.dtype, copy=False)
        log_p = log_expit(scores64)
        log_p -= log_p.max(axis=1, keepdims=True)
        log_p -= logsumexp(log_p, axis=1, keepdims=True)
        return log_p.astype(scores.dtype, copy=False)


def _callbacks_above(estimator):
    """Whether the meta-estimators that fit this estimator have callbacks.

    GridSearchCV and Pipeline hand every fit their task context
    (``_parent_callback_ctx``) even when they have no callbacks; only a
    callback up that task tree could see this fit's tasks, so without one
    the fit makes none (in a 60-fit search on breast cancer they were ~20%
    of its time). An attribute missing from a context counts as callbacks."""
    context = getattr(estimator, "_parent_callback_ctx", None)
    while context is not None:
        if getattr(context, "_callbacks", True):
            return True
        context = getattr(context, "parent", None)
    return False


class _FitTasks:
    """A fit as scikit-learn's callbacks see it: a root task with one subtask
    per epoch. At the end of an epoch the callbacks get the model so far
    (``fitted_estimator``: a copy of the estimator with that epoch's
    coef_, intercept_ ...) and may ask to stop; the fit then ends cleanly
    with that model."""

    def __init__(self, estimator, X, y, sample_weight):
        self.estimator = estimator
        self.hook_data = dict(
            X=X,
            y=y,
            metadata=None
            if sample_weight is None
            else {"sample_weight": sample_weight},
        )
        self.context = estimator._init_callback_context(
            task_name="fit", max_subtasks=estimator.max_iter
        )
        self.context.call_on_fit_task_begin(estimator=estimator, **self.hook_data)

    def epochs(self, job):
        """The epoch tasks of an in-memory fit of ``job``."""
        estimator, state = self.estimator, job.state
        n_samples = job.data.X.shape[0]

        def model_so_far(epoch):
            # (fit only, which starts the count at t = 1)
            attributes = state.attributes(estimator, t=1.0 + (epoch + 1) * n_samples)
            copies = {
                name: np.array(value) if isinstance(value, np.ndarray) else value
                for name, value in attributes.items()
            }
            return dict(copies, classes_=job.classes, n_iter_=epoch + 1)

        return _EpochTasks(self, model_so_far)

    def rounds(self, model_so_far):
        """Tasks for rounds of the Dask estimator (see ``_EpochTasks``)."""
        return _EpochTasks(self, model_so_far, task_name="round")

    def end_fit(self):
        self.context.call_on_fit_task_end(
            estimator=self.estimator, **self.hook_data, reconstruction_attributes={}
        )


class _EpochTasks:
    """begin(epoch) and end(epoch) -> stop, called by the epoch loops;
    ``model_so_far(epoch)`` gives the fitted attributes after that epoch."""

    def __init__(self, fit, model_so_far, task_name="epoch"):
        self.fit = fit
        self.model_so_far = model_so_far
        self.task_name = task_name
        self.task = None

    def begin(self, epoch):
        self.task = self.fit.context.subcontext(task_name=self.task_name)
        self.task.call_on_fit_task_begin(
            estimator=self.fit.estimator, **self.fit.hook_data
        )

    def end(self, epoch):
        return bool(
            self.task.call_on_fit_task_end(
                estimator=self.fit.estimator,
                **self.fit.hook_data,
                reconstruction_attributes=lambda: self.model_so_far(epoch),
            )
        )


@dataclass
class _Fit:
    """A prepared fit: what run_epochs takes."""

    data: Data
    state: TrainingState
    options: dict
    stopping: Stopping
    seed: int
    classes: np.ndarray


class _ValidationScore:
    """Weighted accuracy on the held-out rows of a unit of models.

    One one-vs-rest model: accuracy of its binary decision (labels in {0, 1}),
    as SGDClassifier scores it. All models of a multinomial fit: accuracy of
    the argmax over classes.
    """

    def __init__(self, X, y_code, weight, state, average, multinomial):
        self.X = X
        self.y_code = y_code
        self.weight = weight
        self.state = state
        self.average = average
        self.multinomial = multinomial

    def __call__(self, unit):
        p = self.state
        w, b = p.in_use(unit, self.average)
        scores = np.asarray(self.X @ w.T) + b
        if self.multinomial:
            predicted = p.model_class[unit][np.argmax(scores, axis=1)]
            correct = predicted == self.y_code
        else:
            correct = (scores[:, 0] > 0) == (self.y_code == p.model_class[unit[0]])
        return float(np.average(correct, weights=self.weight))


class _all_or_nothing:
    """Restore the estimator's attributes if training fails half-way."""

    def __init__(self, estimator):
        self.estimator = estimator

    def __enter__(self):
        self.saved = dict(self.estimator.__dict__)

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None:
            self.estimator.__dict__.clear()
            self.estimator.__dict__.update(self.saved)
        return False


def _labels(y):
    """classes_ and each label's index in it.

    Integer and boolean labels (the usual case) whose values span at most
    ~2 len(y): the kernel's label_codes, one call (numpy's sort, neighbour
    comparison and searchsorted were ~25 us of a small fit when other work
    had evicted them from the CPU's caches). Other numbers: numpy's unique;
    other label types: scikit-learn's unique_labels, which checks for mixed
    types. (numpy's unique with return_inverse would save the searchsorted
    but peaks at five times the size of y.)
    """
    kind = y.dtype.kind
    if kind in "bi" or (kind == "u" and y.dtype.itemsize < 8):  # (int64 holds it)
        found = _kernel.label_codes(
            y.astype(np.int64, copy=False), max_span=2 * y.shape[0] + 1024
        )
        if found is not None:
            classes, codes = found
            return classes.astype(y.dtype, copy=False), codes
    if kind in "biuf":
        classes = np.unique(y)
    else:
        classes = unique_labels(y)
    return classes, np.searchsorted(classes, y).astype(np.int32)


_FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def _plain_X(X):
    """X a 2-D float32/float64 ndarray (not a subclass) with rows and columns:
    scikit-learn's array checks would pass it through unchanged."""
    return (
        type(X) is np.ndarray
        and X.ndim == 2
        and X.dtype in _FLOAT_DTYPES
        and X.shape[0] >= 1
        and X.shape[1] >= 1
    )


def _plain(X, y):
    """A plain X (_plain_X) that is C-contiguous, as the kernel reads it, and
    y a 1-D integer or boolean ndarray of as many labels: inputs fit's
    validation would pass through unchanged (integer labels are always
    classes)."""
    return (
        _plain_X(X)
        and X.flags.c_contiguous
        and type(y) is np.ndarray
        and y.ndim == 1
        and y.dtype.kind in "iub"
        and y.shape[0] == X.shape[0]
    )


# Parameter sets that passed _validate_params (see there).
_VALID_PARAMS = set()
_SCALAR_TYPES = frozenset((str, int, float, bool, type(None)))


def _params_key(estimator):
    """The estimator's class and parameter values as a hashable key, or None
    when a value is not a plain immutable scalar (a dict, a RandomState...).
    Types are part of the key: True == 1, but the constraints tell them
    apart. (Built by map over the names: a loop in Python cost ~5 us.)"""
    names = estimator._get_param_names()
    values = vars(estimator)
    found = tuple(map(values.get, names, repeat(values)))  # (missing: not a scalar)
    types = tuple(map(type, found))
    if not _SCALAR_TYPES.issuperset(types):
        return None
    seed = values.get("random_state")
    if type(seed) is int and 0 <= seed < 2**32:
        # Every one passes: one key for them all.
        at = names.index("random_state")
        found = (*found[:at], "a valid seed", *found[at + 1 :])
    return (type(estimator), found, types)


def _seed_of(random_state):
    """The kernel's seed for an integer random_state (0 .. 2**32 - 1): the
    integer through one step of the splitmix64 generator the epochs' shuffles
    use (_kernel.mixed_seed), so nearby integers give unrelated seeds; the
    same integer always gives the same seed. (Drawing it from a
    RandomState(random_state) cost ~30 us a fit, a tenth of a small fit.)"""
    return _kernel.mixed_seed(random_state)


def _check_csr(X):
    """Refuse a CSR matrix whose arrays contradict its shape.

    scipy's constructor accepts them (a column index beyond the declared
    width, row pointers beyond the stored entries), and reading one, in our
    kernel or in scipy's products, would go out of bounds.
    """
    n_rows, n_cols = X.shape
    indptr = X.indptr
    if (
        indptr.shape != (n_rows + 1,)
        or indptr[0] != 0
        or indptr[-1] > min(X.indices.shape[0], X.data.shape[0])
        or (np.diff(indptr) < 0).any()
    ):
        raise ValueError(
            "X is a malformed CSR matrix: its row pointers (indptr) do not "
            f"describe {n_rows} rows of its {X.data.shape[0]} stored values. "
            "Build it with scipy.sparse.csr_matrix((data, indices, indptr)) from "
            "consistent arrays."
        )
    indices = X.indices[: indptr[-1]]
    if indices.size and (indices.min() < 0 or indices.max() >= n_cols):
        bad = indices[(indices < 0) | (indices >= n_cols)][0]
        raise ValueError(
            f"X is a malformed CSR matrix: it stores column index {bad}, but its "
            f"shape {X.shape} declares {n_cols} columns. Give the matrix its true "
            "shape (scipy.sparse.csr_matrix(..., shape=(n_rows, n_columns)))."
        )


# ---------------------------------------------------------------- fitted state

# Everything fit and partial_fit leave on the estimator, by shape: "w" is
# (n_models, n_features) of coef_'s dtype, "b" (n_models,) of a float dtype.
# Required when fitted; the optional ones (_state.OPTIONAL_ATTRIBUTES) come in
# pairs, written together by _commit.
_REQUIRED_STATE = ("classes_", "coef_", "intercept_", "n_iter_", "t_", "n_features_in_")
# How the command line read the training files (predict reads the same way).
_CLI_INPUT = "sgdclf_input_"
_OTHER_STATE = ("feature_names_in_", "_metadata_request", _CLI_INPUT)


def check_state(model):
    """Raise ValueError naming the first field of ``model`` that does not fit
    the others: the parameters, then every fitted array's type, dtype, shape
    and finiteness. A model read from a file is untrusted input; this is what
    ``sgdclf.load`` runs before returning one. An unfitted model (no fitted
    attribute at all) only has its parameters checked.
    """
    state = vars(model)
    if not all(isinstance(name, str) for name in state):
        raise ValueError("attribute names must be strings")
    params = model._get_param_names()
    missing = [name for name in params if name not in state]
    if missing:
        raise ValueError(f"the parameters {missing} are missing")
    model._check_options(partial=False, validate_params=True)
    unknown = sorted(
        set(state)
        - set(params)
        - set(_REQUIRED_STATE)
        - set(OPTIONAL_ATTRIBUTES)
        - set(_OTHER_STATE)
    )
    if unknown:
        raise ValueError(f"unexpected attributes {unknown}")
    present = [
        name for name in (*_REQUIRED_STATE, *OPTIONAL_ATTRIBUTES) if name in state
    ]
    if not present:
        return
    missing = [name for name in _REQUIRED_STATE if name not in state]
    if missing:
        raise ValueError(f"a fitted model needs {missing}, which are missing")

    def fail(name, what):
        raise ValueError(f"{name} {what}")

    classes = state["classes_"]
    if not isinstance(classes, np.ndarray) or classes.ndim != 1 or len(classes) < 2:
        fail("classes_", "must be a 1-D array of at least 2 labels")
    try:
        distinct = np.unique(classes)
    except TypeError:
        fail("classes_", "mixes label types")
    if len(distinct) != len(classes) or not np.array_equal(distinct, classes):
        fail("classes_", "must be sorted and distinct")
    n_features = state["n_features_in_"]
    if (
        isinstance(n_features, bool)
        or not isinstance(n_features, Integral)
        or (n_features < 1)
    ):
        fail("n_features_in_", f"must be a positive integer, not {n_features!r}")
    if not isinstance(state["n_iter_"], Integral) or state["n_iter_"] < 0:
        fail("n_iter_", "must be a non-negative integer")
    t = state["t_"]
    try:  # (a float holds every count up to 2**53 exactly)
        t_ok = (
            isinstance(t, Real) and not isinstance(t, bool) and 1 <= float(t) <= 2**53
        )
    except OverflowError:
        t_ok = False
    if not t_ok:
        fail("t_", f"must be a number of updates in [1, 2**53], not {t!r:.40}")
    names = state.get("feature_names_in_")
    if names is not None and not (
        isinstance(names, np.ndarray)
        and names.shape == (n_features,)
        and all(isinstance(n, str) for n in names)
    ):
        fail("feature_names_in_", f"must be {n_features} strings")

    if _CLI_INPUT in state:
        _check_cli_input(state[_CLI_INPUT], n_features)

    n_models = 1 if len(classes) == 2 else len(classes)
    coef = state["coef_"]
    if sp.issparse(coef):
        if coef.format != "csr":
            fail("coef_", "must be a dense array or a CSR matrix")
        try:
            coef.check_format(full_check=True)
        except ValueError as exc:
            fail("coef_", f"is a malformed CSR matrix ({exc})")
        values = coef.data
    elif isinstance(coef, np.ndarray):
        values = coef
    else:
        fail("coef_", f"must be an array, not {type(coef).__name__}")
    dtype = coef.dtype
    if dtype not in (np.float32, np.float64):
        fail("coef_", f"must be float32 or float64, not {dtype}")
    shapes = {"w": (n_models, n_features), "b": (n_models,)}
    if coef.shape != shapes["w"]:
        fail(
            "coef_",
            f"has shape {coef.shape}; {len(classes)} classes and "
            f"{n_features} features need {shapes['w']}",
        )
    if not np.isfinite(values).all():
        fail("coef_", "contains NaN or infinity")
    for name, kind in (("intercept_", "b"), *OPTIONAL_ATTRIBUTES.items()):
        if name not in state:
            continue
        a = state[name]
        if not isinstance(a, np.ndarray) or a.shape != shapes[kind]:
            fail(name, f"must be an array of shape {shapes[kind]}")
        allowed = (dtype,) if kind == "w" else (np.float32, np.float64)
        if a.dtype not in allowed:
            expected = " or ".join(np.dtype(a).name for a in allowed)
            fail(name, f"has dtype {a.dtype}; expected {expected}")
        if not np.isfinite(a).all():
            fail(name, "contains NaN or infinity")
        if name.startswith("_adagrad") and (a < 0).any():
            fail(name, "must not be negative (sums of squares)")
    for first, second in PAIRS:
        if (first in state) != (second in state):
            fail(
                first if first not in state else second,
                f"is missing: it comes with {first if first in state else second}",
            )


def _check_cli_input(layout, n_features):
    """The command line's record of how it read the training files."""
    name = _CLI_INPUT
    if not isinstance(layout, dict):
        raise ValueError(f"{name} must be a dict")
    unknown = set(layout) - {"format", "zero_based", "label_column", "columns"}
    if unknown:
        raise ValueError(f"{name} has unknown fields {sorted(map(str, unknown))}")
    if layout.get("format", "svmlight") not in ("svmlight", "csv"):
        raise ValueError(f"{name}['format'] must be 'svmlight' or 'csv'")
    if not isinstance(layout.get("zero_based", False), bool):
        raise ValueError(f"{name}['zero_based'] must be True or False")
    label = layout.get("label_column")
    if isinstance(label, bool) or not isinstance(label, (str, int, type(None))):
        raise ValueError(f"{name}['label_column'] must be a column name or number")
    columns = layout.get("columns", [])
    if (
        not isinstance(columns, list)
        or len(columns) not in (0, n_features)
        or not all(isinstance(c, str) for c in columns)
        or len(set(columns)) != len(columns)
        or label in columns
    ):
        raise ValueError(
            f"{name}['columns'] must name the {n_features} feature columns, each "
            "once, the label column not among them"
        )
