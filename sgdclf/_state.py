"""The training state: everything a fit carries, defined once.

A model being trained is more than its weights. Between epochs and between
fits (partial_fit, warm_start, the rounds of the Dask estimator) it carries:

    piece            per weight        per model            when
    ---------------  ----------------  -------------------  -----------------------
    weights          coef              intercept            always
    schedule                           t, eta               always
    averaged SGD     average_coef      average_intercept    average
    L1 (cumulative)  l1_q              l1_u                 penalty l1, elasticnet
    AdaGrad          adagrad_g         intercept_g          learning_rate="adagrad"

``TrainingState`` holds them as the kernel reads them (``scalars`` has one
row of ``_kernel.MODEL_STATE_DTYPE`` per model); ``OPTIMISER`` names the
optional pieces and the estimator attributes that keep them, so that
starting a fit (``TrainingState.start``), committing it
(``TrainingState.attributes``), checking a loaded model (``check_state``)
and mixing Dask blocks all read the same table. Adding a piece of optimiser
state is one row here, one array field and the kernel's use of it.

The two rules that several places need are functions here too:
``average_in_use`` (is ``coef_`` the averaged iterate?) and ``penalty_value``.
"""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from . import _kernel


def uses_average(p):
    return bool(p.average)


def uses_l1(p):
    return p.penalty in ("l1", "elasticnet")


def uses_adagrad(p):
    return p.learning_rate == "adagrad"


def average_in_use(average, t):
    """Whether the model's coef_ is the averaged iterate: ``average`` is on
    and at least ``average`` updates were made (t counts updates from 1)."""
    return bool(average) and average <= t - 1


def l1_share(penalty, l1_ratio):
    """The share of alpha that goes to the L1 part of the penalty: 1 for
    "l1", l1_ratio for "elasticnet", 0 for "l2" (and None)."""
    return {"l1": 1.0, "elasticnet": l1_ratio}.get(penalty, 0.0)


def penalty_value(coef, *, penalty, alpha, l1_ratio):
    """alpha * ((1 - r) / 2 * |w|^2 + r * |w|_1), r = l1_share; 0 for None."""
    if penalty is None:
        return 0.0
    r = l1_share(penalty, l1_ratio)
    w = _dense(coef)
    return alpha * (
        0.5 * (1.0 - r) * float(np.sum(np.square(w))) + r * float(np.sum(np.abs(w)))
    )


@dataclass(frozen=True)
class Piece:
    """One optional piece of optimiser state: a per-weight array and a
    per-model scalar, kept on the estimator as two attributes."""

    array: str  # TrainingState field, (n_models, n_features)
    scalar: str  # field of the per-model state (MODEL_STATE_DTYPE)
    array_attribute: str
    scalar_attribute: str
    used: Callable  # used(parameters) -> bool
    # A new fit (warm_start) keeps it from the previous fit of the same shape.
    # AdaGrad's sums: from zero sums, every weight whose feature has not yet
    # appeared would take steps of eta0 / sqrt(1e-8) and be wiped out.
    kept_by_new_fit: bool
    # The scalar attribute takes coef_'s dtype (it can become intercept_).
    scalar_in_weight_dtype: bool


OPTIMISER = (
    Piece(
        "average_coef",
        "average_intercept",
        "_average_coef",
        "_average_intercept",
        uses_average,
        kept_by_new_fit=False,
        scalar_in_weight_dtype=True,
    ),
    Piece("l1_q", "l1_u", "_l1_q", "_l1_u", uses_l1, False, False),
    Piece(
        "adagrad_g",
        "intercept_g",
        "_adagrad_g",
        "_adagrad_intercept_g",
        uses_adagrad,
        kept_by_new_fit=True,
        scalar_in_weight_dtype=False,
    ),
)
# With averaging, coef_ / intercept_ are the average once it is in use and the
# SGD iterate is kept here (the next partial_fit continues from it).
STANDARD = ("_standard_coef", "_standard_intercept")

# Every optional fitted attribute, in pairs (array, scalar), and its shape:
# "w" is (n_models, n_features) of coef_'s dtype, "b" (n_models,).
PAIRS = (
    *((p.array_attribute, p.scalar_attribute) for p in OPTIMISER),
    STANDARD,
)
OPTIONAL_ATTRIBUTES = {
    name: kind for pair in PAIRS for name, kind in zip(pair, "wb", strict=True)
}
# What one epoch changes (and the Dask estimator averages over blocks).
TRAINED_ATTRIBUTES = ("coef_", "intercept_", *OPTIONAL_ATTRIBUTES)


@dataclass
class TrainingState:
    """The models' weights and optimiser state, as the kernel updates them in
    place. Unused pieces are arrays with no rows."""

    coef: np.ndarray  # (n_models, n_features), the SGD iterate
    average_coef: np.ndarray  # (n_models, n_features) or (0, n_features)
    l1_q: np.ndarray  # likewise
    adagrad_g: np.ndarray  # likewise
    scalars: np.ndarray  # (n_models,) MODEL_STATE_DTYPE: intercept, t, eta, ...
    model_class: np.ndarray  # (n_models,) int32 positive label code per model

    @classmethod
    def start(
        cls,
        p,
        n_models,
        n_features,
        dtype,
        *,
        previous=None,
        resume=False,
        coef_init=None,
        intercept_init=None,
    ):
        """The state a fit starts from, as fresh copies (the estimator is
        untouched until the fit commits).

        ``p`` has the estimator's parameters as attributes; ``previous`` is
        the fitted attributes of the previous fit (a mapping) or None.
        ``resume`` (partial_fit) continues it: its SGD iterate, t and every
        piece in use. Otherwise a new fit starts at t = 1 from ``coef_init``
        and ``intercept_init`` (zeros when None), as SGDClassifier restarts
        its schedule, and keeps from ``previous`` only the pieces
        ``kept_by_new_fit``.
        """
        shape = (n_models, n_features)
        scalars = np.zeros(n_models, dtype=_kernel.MODEL_STATE_DTYPE)
        scalars["eta"] = p.eta0
        if resume:
            scalars["t"] = previous["t_"]
            coef = previous.get(STANDARD[0], previous["coef_"])
            coef = np.array(_dense(coef), dtype=dtype, order="C")
            scalars["intercept"] = previous.get(STANDARD[1], previous["intercept_"])
        else:
            scalars["t"] = 1.0
            coef = initial(coef_init, shape, dtype, "coef_init")
            if intercept_init is not None:  # (else the zeros of np.zeros)
                scalars["intercept"] = initial(
                    intercept_init, (n_models,), dtype, "intercept_init"
                )
        arrays = {}
        unused = None  # (one array with no rows for all the unused pieces)
        for piece in OPTIMISER:
            if not piece.used(p):
                if unused is None:
                    unused = np.zeros((0, n_features), dtype=dtype)
                arrays[piece.array] = unused
                continue
            kept = None
            if previous is not None and (resume or piece.kept_by_new_fit):
                kept = previous.get(piece.array_attribute)
            if kept is not None and kept.shape == shape:
                arrays[piece.array] = np.array(kept, dtype=dtype, order="C")
                scalars[piece.scalar] = previous[piece.scalar_attribute]
            else:
                arrays[piece.array] = np.zeros(shape, dtype=dtype)
        model_class = (
            np.array([1], dtype=np.int32)
            if n_models == 1
            else np.arange(n_models, dtype=np.int32)
        )
        return cls(coef=coef, scalars=scalars, model_class=model_class, **arrays)

    def attributes(self, p, *, t):
        """The fitted attributes that keep this state after ``t`` updates:
        coef_, intercept_, t_ and the attributes of the pieces in use."""
        dtype = self.coef.dtype
        out = {"t_": float(t)}
        intercept = self.scalars["intercept"].astype(dtype)
        for piece in OPTIMISER:
            if piece.used(p):
                scalar = self.scalars[piece.scalar]
                out[piece.array_attribute] = getattr(self, piece.array)
                out[piece.scalar_attribute] = (
                    scalar.astype(dtype)
                    if piece.scalar_in_weight_dtype
                    else scalar.copy()
                )
        if uses_average(p):
            out[STANDARD[0]], out[STANDARD[1]] = self.coef, intercept
        if average_in_use(p.average, t):
            out["coef_"] = out["_average_coef"]
            out["intercept_"] = out["_average_intercept"]
        else:
            out["coef_"], out["intercept_"] = self.coef, intercept
        return out

    def models(self, rows):
        """The state of the models ``rows`` alone, as copies (a thread trains
        them without sharing cache lines with the others); ``put`` writes
        them back."""

        def take(a):
            return a[rows].copy() if a.shape[0] else a

        return TrainingState(
            coef=take(self.coef),
            average_coef=take(self.average_coef),
            l1_q=take(self.l1_q),
            adagrad_g=take(self.adagrad_g),
            scalars=take(self.scalars),
            model_class=self.model_class[rows],
        )

    def put(self, rows, part):
        for name in ("coef", "average_coef", "l1_q", "adagrad_g", "scalars"):
            array = getattr(self, name)
            if array.shape[0]:
                array[rows] = getattr(part, name)

    def in_use(self, models, average):
        """Weights and intercepts the models' predictions use now."""
        st = self.scalars[models]
        if average_in_use(average, st["t"][0]):
            return self.average_coef[models], st["average_intercept"]
        return self.coef[models], st["intercept"]


def _dense(coef):
    return coef.toarray() if sp.issparse(coef) else coef


def initial(value, shape, dtype, name):
    """Starting array: zeros, or ``value`` checked against ``shape``."""
    if value is None:
        return np.zeros(shape, dtype=dtype)
    value = np.array(_dense(value), dtype=dtype, order="C")
    if value.size == int(np.prod(shape)) and (
        value.shape == shape or shape[0] == 1 or (len(shape) == 1 and value.ndim == 0)
    ):
        value = value.reshape(shape)
    if value.shape != shape:
        raise ValueError(
            f"{name} has shape {value.shape}; expected {shape} for this data."
        )
    if not np.isfinite(value).all():
        raise ValueError(f"{name} contains NaN or infinity.")
    return value
