"""The inner loop of sgdclf: one epoch of per-example logistic-regression SGD.

Everything that is not the inner loop (validation, labels, weights, schedules,
stopping rules, attributes) lives in Python; see ``_training.py``. The one
loop above it here, ``EpochRunner.train``, runs epochs back to back (each
with its permutation) and shows the stopping rules the epochs' objectives,
so that a fit of many short epochs does not return to Python for each.
(Two small helpers of the Python side are here for speed: the permutation,
``shuffle_rows``, and integer labels' codes, ``label_codes``.)

One epoch runs over the rows listed in ``order`` for a set of linear
models that share the data: one model for a binary problem, one per class for
one-vs-rest or multinomial. Each example is read once and updates every model,
with the GIL released. For one model with margin p = w . x + b, the loss's
derivative with respect to p is

    g = sigmoid(p) - y              binary / one-vs-rest, y in {0, 1}
    g = softmax(p)_k - [y == k]     multinomial, for every class k at once

and, by the chain rule, the loss's gradient is g * x for w and g for b. Then,
with the SGD schedules:

    eta    = schedule(t)
    w     *= 1 - eta * alpha * (1 - l1_ratio)   (L2 part: weight decay)
    w     += -eta * g * weight * x          (gradient step)
    b     += -eta * g * weight
    w_j    = truncate(w_j)   for touched j  (L1 part: cumulative penalty)
    avg   += (w - avg) / (t - average + 1)  (averaged SGD, once t >= average)
    t     += 1

``w`` is stored as ``wscale * v`` so the weight decay costs O(1) and a sparse
update costs O(nnz) (Bottou's trick); the running average is stored as
``(A + alpha_avg * v) / beta_avg`` for the same reason. Both are folded back
into plain arrays at the end of every epoch, so between calls the arrays hold
the true weights.

With ``learning_rate="adagrad"`` each coordinate has its own step
eta_j = eta0 / sqrt(eps + G_j), G_j the sum of its squared gradients, and the
penalty is applied as a proximal step with that same eta_j:

    G_j += (g * weight * x_j)^2
    w_j  = soft_threshold(w_j - eta_j * g * weight * x_j, eta_j * l1) / (1 + eta_j * l2)

A coordinate missing from a sparse row has no gradient, so its step is only
the proximal shrink with a fixed eta_j; k such steps compose in closed form
(``adagrad_catch_up``), applied when the coordinate is next touched or at the
end of the epoch. Dense and sparse input therefore give the same weights.
"""

from cython cimport floating
from cython.parallel cimport parallel
from libc.math cimport ceil, exp, expm1, fabs, isfinite, log, log1p, pow, sqrt
from libc.stdint cimport int32_t, int64_t, uint64_t
from libc.stdlib cimport free, malloc

import numpy as np

ctypedef fused index_t:
    int32_t
    int64_t

# Penalty codes (the L2 part decays weights, the L1 part truncates them).
cdef enum:
    PENALTY_NONE = 0
    PENALTY_L1 = 1
    PENALTY_L2 = 2
    PENALTY_ELASTICNET = 3

# Learning-rate schedule codes.
cdef enum:
    SCHEDULE_CONSTANT = 1
    SCHEDULE_OPTIMAL = 2
    SCHEDULE_INVSCALING = 3
    SCHEDULE_ADAPTIVE = 4
    SCHEDULE_ADAGRAD = 5

PENALTIES = {None: PENALTY_NONE, "l1": PENALTY_L1, "l2": PENALTY_L2,
             "elasticnet": PENALTY_ELASTICNET}
SCHEDULES = {"constant": SCHEDULE_CONSTANT, "optimal": SCHEDULE_OPTIMAL,
             "invscaling": SCHEDULE_INVSCALING, "adaptive": SCHEDULE_ADAPTIVE,
             "adagrad": SCHEDULE_ADAGRAD}

# Rows are prefetched this many rows ahead of their use (measured on 200k x 100
# float64, ns per row shuffled / in order: 1 ahead 167 / 85, 2: 153 / 76,
# 4: 154 / 71).
cdef Py_ssize_t PREFETCH_AHEAD = 4
# Below this the lazy weight scale is folded into the weights.
cdef double WSCALE_MIN = 1e-9
# AdaGrad's step is eta0 / sqrt(ADAGRAD_EPS + sum of squared gradients).
ADAGRAD_EPS = 1e-8
cdef double ADAGRAD_EPS_C = ADAGRAD_EPS


cdef struct Options:
    # Options shared by all models, read once per fit from the Python side's
    # options dict (read_options). The penalty arrives as a code and leaves as
    # numbers, so the loop never asks which penalty it has:
    bint has_l1             # L1 or elasticnet: the cumulative L1 truncation
    bint has_l2             # L2 or elasticnet: the weight decay
    double alpha
    double l1_ratio         # share of alpha in the L1 part: 1 for L1, the
    #                         l1_ratio option for elasticnet, 0 for L2 and none
    double l1_strength      # alpha * l1_ratio
    double l2_strength      # alpha * (1 - l1_ratio) with an L2 part, else 0
    int schedule
    double eta0
    double power_t
    double optimal_init     # t offset of the "optimal" schedule
    bint fit_intercept
    double average_start    # averaging starts when t >= this; 0 = off
    bint track_objective    # accumulate loss and objective per example
    bint multinomial        # softmax over the models (which must be all classes)
    # Derived: SGD with the objective tracked and no L1 part follows the
    # objective's v . v through each step from x . x (cached per row) and
    # v . x; the L1 truncation and AdaGrad update the norms weight by weight.
    bint follow_sq_norm


cdef struct ModelState:
    # Per-model scalars, a row of the structured array MODEL_STATE_DTYPE.
    double intercept
    double average_intercept
    double t                # number of updates so far, starting at 1
    double eta              # step for the constant and adaptive schedules
    double l1_u             # cumulative L1 penalty per unit weight
    double intercept_g      # AdaGrad: sum of the intercept's squared gradients
    # Out: sums over this epoch. Multinomial: the softmax loss is added to the
    # first model's sums, every model adds its own penalty, so the joint
    # objective is the sum over the models.
    double loss_sum
    double objective_sum


MODEL_STATE_DTYPE = np.dtype([
    ("intercept", np.float64),
    ("average_intercept", np.float64),
    ("t", np.float64),
    ("eta", np.float64),
    ("l1_u", np.float64),
    ("intercept_g", np.float64),
    ("loss_sum", np.float64),
    ("objective_sum", np.float64),
], align=True)


cdef struct Lazy:
    # In-epoch representation of one model: w = wscale * v and
    # average = (A + avg_alpha * v) / avg_beta; raw norms of v for the objective.
    double wscale
    double avg_alpha
    double avg_beta
    double sq_norm          # sum v_j^2
    double abs_norm         # sum |v_j|
    # The norms the objective's penalty uses: those of the iterate right after
    # its gradient step, before the L1 truncation (as SGDClassifier defines it).
    double penalty_sq_norm
    double penalty_abs_norm
    # The product of the epoch's 1 + exp(-|margin|) not yet in the model's
    # sums (see add_example).
    double loss_factor


# ---------------------------------------------------------------- logistic pieces

# Both the sigmoid and the loss are computed from e = exp(-|p|) <= 1, which
# never overflows; the epoch computes e once per example and the loss only
# after the step (the loss is not on the path to the next example's margin).

cdef inline double sigmoid_given(double p, double e) noexcept nogil:
    """1 / (1 + exp(-p)) given e = exp(-|p|): 1 / (1 + e) for p >= 0, e / (1 + e)
    below. The sign of p is a coin flip from one example to the next, so the
    two cases share one division and differ only in a select (no branch to
    mispredict)."""
    cdef double numerator = 1.0 if p >= 0 else e
    return numerator / (1.0 + e)


cdef inline double log_loss_linear(double p, double y) noexcept nogil:
    """The part of the logistic loss that is linear in p: max(p, 0) - y p."""
    return p * (1.0 - y) if p > 0 else -y * p


cdef inline double log_loss_given(double p, double y, double e) noexcept nogil:
    """The logistic loss log(1 + exp(p)) - y p given e = exp(-|p|):
    log(1 + exp(p)) = log1p(e) + max(p, 0)."""
    return log1p(e) + log_loss_linear(p, y)


cdef inline double sigmoid(double p) noexcept nogil:
    """1 / (1 + exp(-p)), without overflow for any p."""
    return sigmoid_given(p, exp(-fabs(p)))


cdef inline double sigmoid_and_loss(double p, double y, double* loss) noexcept nogil:
    """sigmoid(p), and the logistic loss log(1 + exp(p)) - y p into ``loss``,
    from one exp."""
    cdef double e = exp(-fabs(p))
    loss[0] = log_loss_given(p, y, e)
    return sigmoid_given(p, e)


def py_sigmoid(double p):
    """Python wrapper of the kernel's sigmoid, for tests."""
    return sigmoid(p)


def py_log_loss(double p, double y):
    """The kernel's logistic loss log(1 + exp(p)) - y p (from sigmoid_and_loss)."""
    cdef double loss
    sigmoid_and_loss(p, y, &loss)
    return loss


def py_sigmoid_and_loss(double p, double y):
    """Python wrapper of sigmoid_and_loss, for tests: (sigmoid, loss)."""
    cdef double loss
    cdef double s = sigmoid_and_loss(p, y, &loss)
    return s, loss


cdef inline double log_loss_gradient(double p, double y, double* e) noexcept nogil:
    """d log_loss / d p = sigmoid(p) - y, the step's g; e = exp(-|p|) is left
    in ``e`` for log_loss_given."""
    e[0] = exp(-fabs(p))
    return sigmoid_given(p, e[0]) - y


def py_log_loss_gradient(double p, double y):
    """Python wrapper of log_loss_gradient (the function the epoch calls)."""
    cdef double e
    return log_loss_gradient(p, y, &e)


cdef inline double softmax(const double* p, Py_ssize_t n, double* prob) noexcept nogil:
    """prob = softmax(p); returns log(sum_k exp(p_k)).

    Shifted by the largest p_k, so no exp overflows and the sum is >= 1.
    """
    cdef Py_ssize_t k
    cdef double top = p[0], total = 0.0
    for k in range(1, n):
        if p[k] > top:
            top = p[k]
    for k in range(n):
        prob[k] = exp(p[k] - top)
        total += prob[k]
    for k in range(n):
        prob[k] /= total
    return top + log(total)


def py_softmax_loss(const double[::1] scores, Py_ssize_t y):
    """Cross-entropy of softmax(scores) for class y, as the kernel computes it."""
    prob = np.empty(scores.shape[0])
    cdef double[::1] out = prob
    return softmax(&scores[0], scores.shape[0], &out[0]) - scores[y]


def py_softmax_gradient(const double[::1] scores, Py_ssize_t y):
    """d py_softmax_loss / d scores = softmax(scores) - onehot(y)."""
    prob = np.empty(scores.shape[0])
    cdef double[::1] out = prob
    softmax(&scores[0], scores.shape[0], &out[0])
    prob[y] -= 1.0
    return prob


# ---------------------------------------------------------------- row algebra
# A row is (x, ind, nnz): ind == NULL means a dense contiguous row of length nnz.

cdef extern from "_dense.h" nogil:
    void prefetch_bytes(const void* p, Py_ssize_t n_bytes)
    double dense_dot_f64(const double* w, const double* x, Py_ssize_t n)
    double dense_dot_f32(const float* w, const float* x, Py_ssize_t n)
    void dense_dots_f64(const double* W, Py_ssize_t stride, const int64_t* rows,
                        Py_ssize_t k, const double* x, Py_ssize_t n, double* out)
    void dense_dots_f32(const float* W, Py_ssize_t stride, const int64_t* rows,
                        Py_ssize_t k, const float* x, Py_ssize_t n, double* out)
    void dense_axpy_f64(double* w, double a, const double* x, Py_ssize_t n)
    void dense_axpy_f32(float* w, float a, const float* x, Py_ssize_t n)
    void dense_axpy_norms_f64(double* w, double a, const double* x, Py_ssize_t n,
                              double* sq_norm, double* abs_norm)
    void dense_axpy_norms_f32(float* w, float a, const float* x, Py_ssize_t n,
                              double* sq_norm, double* abs_norm)
    void truncate_l1_dense_f64(double* v, double* q, double* A, Py_ssize_t n,
                               double s, double u, double avg_alpha)
    void truncate_l1_dense_f32(float* v, float* q, float* A, Py_ssize_t n,
                               double s, double u, double avg_alpha)
    void saga_step_f64(double* w, double* s, const double* x, Py_ssize_t n,
                       double c, double eta, double delta, double inv_n, double tau)
    void saga_step_f32(float* w, double* s, const float* x, Py_ssize_t n,
                       double c, double eta, double delta, double inv_n, double tau)
    # (The two versions behind each dense_dot_* and dense_axpy_*, for tests.)
    double dense_dot_f64_short(const double* w, const double* x, Py_ssize_t n)
    double dense_dot_f64_wide(const double* w, const double* x, Py_ssize_t n)
    double dense_dot_f32_short(const float* w, const float* x, Py_ssize_t n)
    double dense_dot_f32_wide(const float* w, const float* x, Py_ssize_t n)
    void dense_axpy_f64_short(double* w, double a, const double* x, Py_ssize_t n)
    void dense_axpy_f64_wide(double* w, double a, const double* x, Py_ssize_t n)
    void dense_axpy_f32_short(float* w, float a, const float* x, Py_ssize_t n)
    void dense_axpy_f32_wide(float* w, float a, const float* x, Py_ssize_t n)


def py_dense_dot(const floating[::1] w, const floating[::1] x, bint wide):
    """w . x by the inline (short rows) or the instruction-set cloned (wide)
    version of the dense dot, for tests."""
    if w.shape[0] != x.shape[0] or x.shape[0] == 0:
        raise ValueError("w and x must have the same, non-zero length")
    if floating is double:
        if wide:
            return dense_dot_f64_wide(&w[0], &x[0], x.shape[0])
        return dense_dot_f64_short(&w[0], &x[0], x.shape[0])
    else:
        if wide:
            return dense_dot_f32_wide(&w[0], &x[0], x.shape[0])
        return dense_dot_f32_short(&w[0], &x[0], x.shape[0])


def py_dense_axpy(floating[::1] w, double a, const floating[::1] x, bint wide):
    """w += a * x by the inline or the cloned version, for tests."""
    if w.shape[0] != x.shape[0] or x.shape[0] == 0:
        raise ValueError("w and x must have the same, non-zero length")
    if floating is double:
        if wide:
            dense_axpy_f64_wide(&w[0], a, &x[0], x.shape[0])
        else:
            dense_axpy_f64_short(&w[0], a, &x[0], x.shape[0])
    else:
        if wide:
            dense_axpy_f32_wide(&w[0], <float>a, &x[0], x.shape[0])
        else:
            dense_axpy_f32_short(&w[0], <float>a, &x[0], x.shape[0])


cdef inline void prefetch_row(const floating* data, const index_t* indices,
                              const index_t* indptr, Py_ssize_t row_stride,
                              Py_ssize_t i) noexcept nogil:
    """Prefetch row i: in a shuffled epoch rows are read in random order, and
    waiting for each row's memory would cost more than the arithmetic."""
    if indices == NULL:
        prefetch_bytes(data + i * row_stride, row_stride * sizeof(floating))
    else:
        prefetch_bytes(data + indptr[i], (indptr[i + 1] - indptr[i]) * sizeof(floating))
        prefetch_bytes(indices + indptr[i],
                       (indptr[i + 1] - indptr[i]) * sizeof(index_t))


cdef inline double row_dot(const floating* w, const floating* x, const index_t* ind,
                           Py_ssize_t nnz) noexcept nogil:
    cdef Py_ssize_t j
    cdef double s = 0.0
    if ind == NULL:
        if floating is double:
            return dense_dot_f64(w, x, nnz)
        else:
            return dense_dot_f32(w, x, nnz)
    for j in range(nnz):
        s += w[ind[j]] * x[j]
    return s


cdef inline double row_sq_norm(const floating* x, Py_ssize_t nnz) noexcept nogil:
    """x . x of a row's stored values (contiguous for dense and CSR rows alike).

    (A plain loop here was one long chain of dependent additions: with tol
    set, it cost more than the rest of the step.)
    """
    if floating is double:
        return dense_dot_f64(x, x, nnz)
    else:
        return dense_dot_f32(x, x, nnz)


cdef inline void row_axpy(floating* w, double a, const floating* x,
                          const index_t* ind, Py_ssize_t nnz) noexcept nogil:
    """w += a * x."""
    cdef Py_ssize_t j
    cdef floating af = <floating>a
    if ind == NULL:
        if floating is double:
            dense_axpy_f64(w, af, x, nnz)
        else:
            dense_axpy_f32(w, af, x, nnz)
    else:
        for j in range(nnz):
            w[ind[j]] += af * x[j]


cdef inline void row_axpy_tracked(floating* w, double a, const floating* x,
                                  const index_t* ind, Py_ssize_t nnz,
                                  Lazy* lz) noexcept nogil:
    """w += a * x, keeping the raw squared and absolute norms of w current.
    A dense row (every weight changes) recomputes them in the same pass,
    with independent partial sums; a sparse row follows its weights'
    changes."""
    cdef Py_ssize_t j, k
    cdef double old, new
    if ind == NULL:
        if floating is double:
            dense_axpy_norms_f64(w, a, x, nnz, &lz.sq_norm, &lz.abs_norm)
        else:
            dense_axpy_norms_f32(w, <float>a, x, nnz, &lz.sq_norm, &lz.abs_norm)
        return
    # (The norms are summed in locals: w's stores might alias lz's fields, so
    # the compiler would otherwise store and reload them for every weight.)
    cdef double sq_norm = lz.sq_norm, abs_norm = lz.abs_norm
    cdef floating af = <floating>a
    for j in range(nnz):
        k = j if ind == NULL else ind[j]
        old = w[k]
        w[k] += af * x[j]
        new = w[k]
        sq_norm += new * new - old * old
        abs_norm += fabs(new) - fabs(old)
    lz.sq_norm = sq_norm
    lz.abs_norm = abs_norm


cdef inline void average_compensate(floating* A, double c, const floating* x,
                                    const index_t* ind, Py_ssize_t nnz) noexcept nogil:
    """A -= c * x: keeps the average unchanged while v moves by x * c / avg_alpha."""
    row_axpy(A, -c, x, ind, nnz)


cdef void truncate_l1(floating* v, floating* q, floating* A, Lazy* lz, double u,
                      const floating* x, const index_t* ind, Py_ssize_t nnz,
                      bint averaging, bint track) noexcept nogil:
    """Cumulative L1 penalty (Tsuruoka et al. 2009) on the coordinates of a row.

    u is the total penalty every weight should have received so far; q_j is what
    weight j actually received (signed). Each touched weight is moved towards 0
    by its pending penalty, never across 0. On a dense row every coordinate is
    touched; on a sparse row only the stored ones, so untouched weights catch up
    when their feature next appears. (A dense row whose norms are not followed
    takes the same arithmetic, branch-free, in _dense.h.)
    """
    cdef Py_ssize_t j, k
    cdef double s = lz.wscale, avg_alpha = lz.avg_alpha, inv_s = 1.0 / s
    if ind == NULL and not track:
        if floating is double:
            truncate_l1_dense_f64(v, q, A if averaging else NULL, nnz, s, u, avg_alpha)
        else:
            truncate_l1_dense_f32(v, q, A if averaging else NULL, nnz, s, u, avg_alpha)
        return
    cdef double sq_norm = lz.sq_norm, abs_norm = lz.abs_norm   # (see row_axpy_tracked)
    cdef double z, w_old, w_new
    for j in range(nnz):
        k = j if ind == NULL else ind[j]
        z = v[k]
        w_old = s * z
        if w_old > 0.0:
            w_new = w_old - (u + q[k])
            if w_new < 0.0:
                w_new = 0.0
        elif w_old < 0.0:
            w_new = w_old + (u - q[k])
            if w_new > 0.0:
                w_new = 0.0
        else:
            continue
        v[k] = <floating>(w_new * inv_s)
        q[k] += <floating>(s * (v[k] - z))
        if averaging:
            A[k] -= <floating>(avg_alpha * (v[k] - z))
        if track:
            sq_norm += <double>v[k] * v[k] - z * z
            abs_norm += fabs(v[k]) - fabs(z)
    lz.sq_norm = sq_norm
    lz.abs_norm = abs_norm


def py_truncate_l1(floating[::1] v, floating[::1] q, floating[::1] A, double wscale,
                   double u, double avg_alpha, bint dense):
    """truncate_l1 on every weight, for tests: as a dense row (``dense``: the
    branch-free loop of _dense.h) or as a CSR row storing every column (the
    scalar loop). ``A`` empty: no averaging."""
    cdef Py_ssize_t n = v.shape[0]
    cdef Lazy lz
    cdef bint averaging = A.shape[0] > 0
    if n == 0 or q.shape[0] != n or (averaging and A.shape[0] != n):
        raise ValueError("v, q (and A) must have the same, non-zero length")
    if not wscale > 0.0:
        raise ValueError("wscale must be positive")
    columns = np.arange(n, dtype=np.int64)
    cdef const int64_t[::1] ind = columns
    lz.wscale = wscale
    lz.avg_alpha = avg_alpha
    lz.sq_norm = lz.abs_norm = 0.0
    cdef const int64_t* columns_or_null = NULL if dense else &ind[0]
    cdef floating* average = &A[0] if averaging else NULL
    truncate_l1(&v[0], &q[0], average, &lz, u, &v[0], columns_or_null, n,
                averaging, False)


cdef void fold(floating* v, floating* A, Py_ssize_t n_features, Lazy* lz,
               bint averaging) noexcept nogil:
    """Write the lazy representation back into plain arrays (wscale = 1)."""
    cdef Py_ssize_t j
    cdef double s = lz.wscale, avg_alpha = lz.avg_alpha, avg_beta = lz.avg_beta
    if averaging:
        for j in range(n_features):
            A[j] = <floating>((A[j] + avg_alpha * v[j]) / avg_beta)
        lz.avg_alpha = 0.0
        lz.avg_beta = 1.0
    if s != 1.0:
        for j in range(n_features):
            v[j] = <floating>(v[j] * s)
        lz.sq_norm *= s * s
        lz.abs_norm *= s
        lz.penalty_sq_norm *= s * s
        lz.penalty_abs_norm *= s
        lz.wscale = 1.0


cdef void start_lazy(const floating* v, Py_ssize_t n_features, Lazy* lz) noexcept nogil:
    cdef Py_ssize_t j
    lz.wscale = 1.0
    lz.avg_alpha = 0.0
    lz.avg_beta = 1.0
    lz.sq_norm = 0.0
    lz.abs_norm = 0.0
    for j in range(n_features):
        lz.sq_norm += <double>v[j] * v[j]
        lz.abs_norm += fabs(v[j])
    lz.penalty_sq_norm = lz.sq_norm
    lz.penalty_abs_norm = lz.abs_norm
    lz.loss_factor = 1.0


# ---------------------------------------------------------------- options

cdef int read_options(Options* opt, dict options) except -1:
    """Fill ``opt`` from the options dict (keys: penalty, alpha, l1_ratio,
    schedule, eta0, power_t, optimal_init, fit_intercept, average_start,
    track_objective, multinomial), turning the penalty into numbers once, as
    scikit-learn's _plain_sgd does before its loop."""
    cdef int penalty = options["penalty"]
    if penalty not in (PENALTY_NONE, PENALTY_L1, PENALTY_L2, PENALTY_ELASTICNET):
        raise ValueError(f"unknown penalty code {penalty}")
    opt.schedule = options["schedule"]
    if opt.schedule not in (SCHEDULE_CONSTANT, SCHEDULE_OPTIMAL, SCHEDULE_INVSCALING,
                            SCHEDULE_ADAPTIVE, SCHEDULE_ADAGRAD):
        raise ValueError(f"unknown schedule code {opt.schedule}")
    opt.alpha = options["alpha"]
    opt.has_l1 = penalty == PENALTY_L1 or penalty == PENALTY_ELASTICNET
    opt.has_l2 = penalty == PENALTY_L2 or penalty == PENALTY_ELASTICNET
    if penalty == PENALTY_ELASTICNET:
        opt.l1_ratio = options["l1_ratio"]
    elif penalty == PENALTY_L1:
        opt.l1_ratio = 1.0
    else:
        opt.l1_ratio = 0.0
    opt.l1_strength = opt.alpha * opt.l1_ratio
    opt.l2_strength = opt.alpha * (1.0 - opt.l1_ratio) if opt.has_l2 else 0.0
    opt.eta0 = options["eta0"]
    opt.power_t = options["power_t"]
    opt.optimal_init = options["optimal_init"]
    opt.fit_intercept = options["fit_intercept"]
    opt.average_start = options["average_start"]
    opt.track_objective = options["track_objective"]
    opt.multinomial = options["multinomial"]
    opt.follow_sq_norm = (opt.track_objective and opt.has_l2 and not opt.has_l1
                          and opt.schedule != SCHEDULE_ADAGRAD)
    return 0


# ---------------------------------------------------------------- penalties

cdef inline double penalty_of(const floating* w, Py_ssize_t n_features,
                              const Options* opt) noexcept nogil:
    """alpha * ((1 - l1_ratio) / 2 * |w|^2 + l1_ratio * |w|_1) of plain weights."""
    cdef Py_ssize_t j
    cdef double sq = 0.0, ab = 0.0
    for j in range(n_features):
        sq += <double>w[j] * w[j]
        ab += fabs(w[j])
    return 0.5 * opt.l2_strength * sq + opt.l1_strength * ab


# ---------------------------------------------------------------- one SGD step

cdef inline double step_size(const Options* opt, ModelState* st) noexcept nogil:
    if opt.schedule == SCHEDULE_OPTIMAL:
        return 1.0 / (opt.alpha * (opt.optimal_init + st.t - 1.0))
    if opt.schedule == SCHEDULE_INVSCALING:
        return opt.eta0 / pow(st.t, opt.power_t)
    return st.eta


cdef inline double sgd_step(
    const floating* x, const index_t* ind, Py_ssize_t nnz, double xx, double vx,
    double g, double sample_weight,
    floating* v, floating* A, floating* q, Py_ssize_t n_features,
    ModelState* st, Lazy* lz, const Options* opt,
) noexcept nogil:
    """One SGD step of one model given g = d loss / d margin (see the module doc).

    ``vx`` is v . x, computed by the caller for the margin. Returns the
    objective's penalty term of this example (0 when it is not tracked).
    """
    cdef double eta = step_size(opt, st)
    cdef bint averaging = opt.average_start > 0 and st.t >= opt.average_start
    cdef double decay, update, delta, mu, s, step, step_v, penalty = 0.0
    cdef Py_ssize_t k

    if opt.track_objective and (opt.has_l1 or opt.has_l2):
        # (penalty=None: no term, as SGDClassifier's objective)
        s = lz.wscale
        penalty = opt.alpha * (
            (1.0 - opt.l1_ratio) * 0.5 * s * s * lz.penalty_sq_norm
            + opt.l1_ratio * s * lz.penalty_abs_norm)

    # Everything up to step_v is independent of g, so the CPU computes it
    # (the division included) while the margin's exp and sigmoid are in flight.
    step = -eta * sample_weight
    if opt.has_l2:
        decay = 1.0 - (1.0 - opt.l1_ratio) * eta * opt.alpha
        if decay < 0.0:
            decay = 0.0
        lz.wscale *= decay
        if lz.wscale < WSCALE_MIN:
            s = lz.wscale
            fold(v, A, n_features, lz, opt.average_start > 0)
            vx *= s     # v was rescaled by s
    step_v = step / lz.wscale
    update = step * g

    if update != 0.0:
        delta = step_v * g
        if opt.track_objective and opt.has_l1:
            row_axpy_tracked(v, delta, x, ind, nnz, lz)
        else:
            if opt.track_objective:
                lz.sq_norm += 2.0 * delta * vx + delta * delta * xx
            row_axpy(v, delta, x, ind, nnz)
        lz.penalty_sq_norm = lz.sq_norm
        lz.penalty_abs_norm = lz.abs_norm
        if averaging and lz.avg_alpha != 0.0:
            average_compensate(A, lz.avg_alpha * delta, x, ind, nnz)
    if opt.fit_intercept:
        st.intercept += update

    if opt.has_l1:
        st.l1_u += opt.l1_ratio * eta * opt.alpha
        # (A dense row's norms are recomputed after its next gradient step:
        # truncate_l1 need not follow them.)
        truncate_l1(v, q, A, lz, st.l1_u, x, ind, nnz,
                    averaging and lz.avg_alpha != 0.0,
                    opt.track_objective and ind != NULL)

    if averaging:
        mu = 1.0 / (st.t - opt.average_start + 1.0)
        if mu >= 1.0:
            # First averaged step: the average restarts at the current weights.
            for k in range(n_features):
                A[k] = 0.0
            lz.avg_alpha = lz.wscale * lz.avg_beta
            st.average_intercept = st.intercept
        else:
            lz.avg_beta /= 1.0 - mu
            lz.avg_alpha += mu * lz.wscale * lz.avg_beta
            st.average_intercept += (st.intercept - st.average_intercept) * mu
    st.t += 1.0
    return penalty


# ---------------------------------------------------------------- one AdaGrad step

cdef inline double prox(double z, double a, double b) noexcept nogil:
    """argmin_w (w - z)^2 / 2 + a |w| + b w^2 / 2: soft threshold, then shrink."""
    if z > a:
        return (z - a) / (1.0 + b)
    if z < -a:
        return (z + a) / (1.0 + b)
    return 0.0


cdef inline void shrink_stretch(double size, double a, double b, double n,
                                double* end, double* total) noexcept nogil:
    """n steps of size <- max(size - a, 0) / (1 + b), in closed form.

    With c = 1 + b, after i steps size_i = c^-i (size - a S_i), S_i = (c^i - 1) / b,
    until it reaches 0 (then it stays there). Writes size_n to ``end`` and the sum
    size_1 + ... + size_n to ``total``.
    """
    cdef double lc, m, d, r, decay
    if b < 1e-200:
        b = 0.0     # (the shrink would be below rounding for any n)
    lc = log1p(b)   # log c
    # m: number of steps that end above zero (size > a S_i  <=>  i < bound).
    if a <= 0.0:
        m = n
    elif lc <= 0.0:
        m = ceil(size / a) - 1.0
    else:
        m = ceil(log1p(size * b / a) / lc) - 1.0
    if m > n:
        m = n
    if m < 0.0:
        m = 0.0
    # End value c^-n (size - a S_n) = size c^-n - a (1 - c^-n) / b, written so
    # nothing overflows for large n.
    if m < n:
        end[0] = 0.0
    elif lc <= 0.0:
        end[0] = size - a * n
    else:
        decay = exp(-n * lc)
        end[0] = size * decay + a * expm1(-n * lc) / b
    if end[0] < 0.0:
        end[0] = 0.0
    # Sum of the m positive values: size R - (a / b) D with D = sum_i (1 - c^-i)
    # and R = m - D; the series keeps D accurate when m * log c is tiny.
    if lc <= 0.0:
        total[0] = size * m - a * m * (m + 1.0) / 2.0
        return
    if m * lc < 1e-4:
        d = (lc * m * (m + 1.0) / 2.0
             - lc * lc * m * (m + 1.0) * (2.0 * m + 1.0) / 12.0
             + lc * lc * lc * (m * (m + 1.0) / 2.0) ** 2 / 6.0)
    else:
        d = m + expm1(-m * lc) / b
    r = m - d
    total[0] = size * r - a * d / b
    if total[0] < 0.0:
        total[0] = 0.0


def py_shrink_stretch(double size, double a, double b, double n):
    """Python wrapper of shrink_stretch, for tests: returns (end, total)."""
    cdef double end = 0.0, total = 0.0
    shrink_stretch(size, a, b, n, &end, &total)
    return end, total


cdef inline void adagrad_catch_up(
    floating* w, floating* A, const floating* G, double* last, Py_ssize_t k,
    double t_to, const Options* opt,
) noexcept nogil:
    """Bring weight k through the steps last[k] + 1 .. t_to, in which it had no
    gradient: only AdaGrad's proximal shrink, with a fixed step, and averaging."""
    cdef double n = t_to - last[k]
    cdef double first = last[k] + 1.0
    cdef double w0, eta, end = 0.0, total = 0.0, n_before
    if n <= 0.0:
        return
    last[k] = t_to
    w0 = w[k]
    if w0 != 0.0:
        eta = opt.eta0 / sqrt(ADAGRAD_EPS_C + G[k])
        shrink_stretch(fabs(w0), eta * opt.alpha * opt.l1_ratio,
                       eta * opt.l2_strength, n, &end, &total)
        w[k] = <floating>(end if w0 > 0.0 else -end)
        if w0 < 0.0:
            total = -total
    if opt.average_start > 0 and first >= opt.average_start:
        n_before = first - opt.average_start
        A[k] = <floating>((n_before * A[k] + total) / (n_before + n))


cdef inline void adagrad_step(
    const floating* x, const index_t* ind, Py_ssize_t nnz,
    double g, double sample_weight,
    floating* w, floating* A, floating* G, double* last,
    ModelState* st, const Options* opt,
) noexcept nogil:
    """One AdaGrad step of one model on the coordinates of a row (module doc).

    ``last``: lazy AdaGrad (CSR rows) records there the step each touched
    weight is current up to; NULL when every step touches every weight.
    """
    cdef double grad = g * sample_weight
    cdef double l1 = opt.l1_strength, l2 = opt.l2_strength
    cdef bint averaging = opt.average_start > 0 and st.t >= opt.average_start
    cdef double mu = 1.0 / (st.t - opt.average_start + 1.0) if averaging else 0.0
    cdef double gj, eta
    cdef Py_ssize_t j, k
    for j in range(nnz):
        k = j if ind == NULL else ind[j]
        gj = grad * x[j]
        G[k] += <floating>(gj * gj)
        eta = opt.eta0 / sqrt(ADAGRAD_EPS_C + G[k])
        w[k] = <floating>prox(w[k] - eta * gj, eta * l1, eta * l2)
        if averaging:
            if mu >= 1.0:
                A[k] = w[k]
            else:
                A[k] += <floating>((w[k] - A[k]) * mu)
        if last != NULL:
            last[k] = st.t
    if opt.fit_intercept:
        st.intercept_g += grad * grad
        st.intercept -= opt.eta0 / sqrt(ADAGRAD_EPS_C + st.intercept_g) * grad
    if averaging:
        if mu >= 1.0:
            st.average_intercept = st.intercept
        else:
            st.average_intercept += (st.intercept - st.average_intercept) * mu
    st.t += 1.0


# ---------------------------------------------------------------- the epoch

cdef extern from "_team.h" nogil:
    int team_size()
    int team_rank()
    void team_omp_barrier()
    int team_available()
    ctypedef struct spin_barrier:
        int count
        int sense
        int size
    void spin_barrier_wait(spin_barrier* b, int* local_sense)


cdef struct Problem:
    # Everything an epoch reads and writes but the rows it visits and the
    # models it trains: bound once per fit by an EpochRunner, which checked
    # every array against the others. The floating-point arrays are typed by
    # the epoch function (its data and indices arguments carry the types).
    const void* indptr          # CSR row pointers; NULL for dense rows
    Py_ssize_t row_stride       # dense: values per row; CSR: 0
    Py_ssize_t n_rows
    Py_ssize_t n_features
    const int32_t* y_code       # label code per row
    const void* sample_weight   # one per row, or one for all rows
    Py_ssize_t weight_stride    # 1, or 0 when one sample weight serves every row
    void* coef                  # (n_models, n_features)
    # The optimisers' per-weight arrays, (n_models, n_features), each NULL
    # when the options do not use it:
    void* average_coef          # averaging: the running average
    void* l1_q                  # L1 part: the penalty each weight received
    void* adagrad_g             # AdaGrad: the sums of squared gradients
    const int32_t* model_class  # positive label code per model
    ModelState* state           # per-model scalars
    Py_ssize_t n_models         # rows of coef and state
    # AdaGrad on CSR rows: a weight missing from a row is brought up to date
    # (adagrad_catch_up) when its column next appears, or at the end of the
    # epoch; Epoch.last records the step up to which each weight is current.
    bint lazy_adagrad
    # follow_sq_norm: x . x of each row, computed when an epoch first reaches
    # the row (-1 until then); else NULL. Written by the leader only.
    double* row_sq_norms
    Options opt


cdef struct Epoch:
    # One epoch call as one thread sees it: the call's rows and models and
    # the scratch a team shares, the thread's role, and its own scratch.
    const int64_t* order        # the rows to visit, in this order
    Py_ssize_t n_order
    const int64_t* models       # the models to train (rows of coef and state)
    Py_ssize_t n_models
    double* margin              # shared: w . x + b of the current row per model,
    #                             two rows used alternately by consecutive rows
    double* last                # shared, lazy AdaGrad: (n_models, n_features);
    #                             else NULL
    spin_barrier* barrier       # shared by a team; NULL on one thread
    Py_ssize_t* bad_row         # shared out: a row the epoch stopped at, or -1
    # The thread's role: it steps models[lo:hi]; the leader (the only thread,
    # or rank 0 of a team) also reports the bad row and adds the multinomial
    # loss, which the whole team computes alike.
    Py_ssize_t lo
    Py_ssize_t hi
    bint leader
    # The thread's own scratch, n_models entries each (models[lo:hi] used).
    Lazy* lazy
    double* vx                  # v . x of the current row, per model
    double* prob                # softmax of the current row's margins


cdef inline bint columns_within(const index_t* ind, Py_ssize_t nnz,
                                Py_ssize_t n_features) noexcept nogil:
    """Every column index of a CSR row is in [0, n_features)."""
    cdef Py_ssize_t j
    cdef bint ok = True
    for j in range(nnz):
        ok &= <size_t>ind[j] < <size_t>n_features
    return ok


cdef inline bint finite_values(const double* a, Py_ssize_t n) noexcept nogil:
    cdef Py_ssize_t k
    for k in range(n):
        if not isfinite(a[k]):
            return False
    return True


cdef inline void prefetch_ahead(const floating* data, const index_t* indices,
                                const Problem* p, const Epoch* ep,
                                Py_ssize_t r) noexcept nogil:
    prefetch_visits(data, indices, <const index_t*>p.indptr, p.row_stride,
                    ep.order, ep.n_order, r)


cdef inline void prefetch_visits(const floating* data, const index_t* indices,
                                 const index_t* indptr, Py_ssize_t row_stride,
                                 const int64_t* order, Py_ssize_t n_order,
                                 Py_ssize_t r) noexcept nogil:
    """Prefetch the row PREFETCH_AHEAD visits after visit r; of CSR rows also
    the row pointers of the one twice as far, so that its data can be
    prefetched without waiting for them."""
    if r + PREFETCH_AHEAD < n_order:
        prefetch_row(data, indices, indptr, row_stride, order[r + PREFETCH_AHEAD])
        if indices != NULL and r + 2 * PREFETCH_AHEAD < n_order:
            prefetch_bytes(indptr + order[r + 2 * PREFETCH_AHEAD], 2 * sizeof(index_t))


cdef inline Py_ssize_t row_at(const floating* data, const index_t* indices,
                              const Problem* p, Py_ssize_t i, const floating** x,
                              const index_t** ind) noexcept nogil:
    """Row i as (x, ind, nnz): its values, their columns (NULL for a dense row,
    whose nnz values are the columns 0 .. nnz - 1) and its number of values.
    Returns nnz, or -1 when a CSR row stores a column outside [0, n_features)."""
    cdef const index_t* indptr = <const index_t*>p.indptr
    cdef Py_ssize_t nnz
    if indices == NULL:
        x[0] = data + i * p.row_stride
        ind[0] = NULL
        return p.row_stride
    x[0] = data + indptr[i]
    ind[0] = indices + indptr[i]
    nnz = indptr[i + 1] - indptr[i]
    return nnz if columns_within(ind[0], nnz, p.n_features) else -1


cdef inline floating* model_row(floating* a, Py_ssize_t m,
                                Py_ssize_t n_features) noexcept nogil:
    """Model m's row of a (n_models, n_features) array; NULL for an unused one."""
    return a + m * n_features if a != NULL else NULL


cdef inline void catch_up_row(const index_t* ind, Py_ssize_t nnz,
                              const Problem* p, const Epoch* ep, Py_ssize_t mi,
                              floating* w) noexcept nogil:
    """Lazy AdaGrad: bring model models[mi]'s weights that the row touches
    through the steps they had no gradient in (all its weights when averaging
    starts at this step), before the margin reads them."""
    cdef Py_ssize_t j, m = ep.models[mi], n_features = p.n_features
    cdef floating* A = model_row(<floating*>p.average_coef, m, n_features)
    cdef const floating* G = model_row(<floating*>p.adagrad_g, m, n_features)
    cdef double* last = ep.last + mi * n_features
    cdef double t_to = p.state[m].t - 1.0
    if p.state[m].t == p.opt.average_start:
        for j in range(n_features):
            adagrad_catch_up(w, A, G, last, j, t_to, &p.opt)
    else:
        for j in range(nnz):
            adagrad_catch_up(w, A, G, last, ind[j], t_to, &p.opt)


cdef inline void row_margins(const floating* x, const index_t* ind, Py_ssize_t nnz,
                             const Problem* p, Epoch* ep,
                             double* margin) noexcept nogil:
    """margin[mi] = w . x + b for the thread's models (and vx[mi] = v . x, the
    part the step reuses). A dense row's dots are one call for all models."""
    cdef Py_ssize_t mi
    cdef floating* W = <floating*>p.coef
    if p.lazy_adagrad:
        for mi in range(ep.lo, ep.hi):
            catch_up_row(ind, nnz, p, ep, mi, W + ep.models[mi] * p.n_features)
    if ind == NULL:
        if floating is double:
            dense_dots_f64(W, p.n_features, ep.models + ep.lo, ep.hi - ep.lo,
                           x, nnz, ep.vx + ep.lo)
        else:
            dense_dots_f32(W, p.n_features, ep.models + ep.lo, ep.hi - ep.lo,
                           x, nnz, ep.vx + ep.lo)
    else:
        for mi in range(ep.lo, ep.hi):
            ep.vx[mi] = row_dot(W + ep.models[mi] * p.n_features, x, ind, nnz)
    for mi in range(ep.lo, ep.hi):
        margin[mi] = ep.lazy[mi].wscale * ep.vx[mi] + p.state[ep.models[mi]].intercept


cdef inline void add_loss(ModelState* st, double loss) noexcept nogil:
    st.loss_sum += loss
    st.objective_sum += loss


cdef inline void softmax_row(const Problem* p, Epoch* ep, const double* margin,
                             int32_t y_code) noexcept nogil:
    """Multinomial: prob = softmax of the row's margins; the leader adds the
    row's cross-entropy to the first model's sums."""
    cdef Py_ssize_t j
    cdef double lse = softmax(margin, ep.n_models, ep.prob), loss = 0.0
    if p.opt.track_objective and ep.leader:
        for j in range(ep.n_models):
            if y_code == p.model_class[ep.models[j]]:
                loss = lse - margin[j]
        add_loss(&p.state[ep.models[0]], loss)


cdef inline double loss_gradient(const Options* opt, const Epoch* ep,
                                 double margin, Py_ssize_t mi, double y,
                                 double* e) noexcept nogil:
    """g = d loss / d margin for model models[mi] (module doc). Binary and
    one-vs-rest: of its logistic loss (with e = exp(-|margin|) for
    log_loss_given); multinomial: its share of the softmax."""
    if opt.multinomial:
        return ep.prob[mi] - y
    return log_loss_gradient(margin, y, e)


cdef inline double step_model(const floating* x, const index_t* ind, Py_ssize_t nnz,
                              double xx, double g, double sample_weight,
                              const Problem* p, Epoch* ep,
                              Py_ssize_t mi) noexcept nogil:
    """One optimiser step of model models[mi] given its g: AdaGrad's or SGD's.
    Returns SGD's penalty term for the objective (0 for AdaGrad)."""
    cdef Py_ssize_t m = ep.models[mi], n_features = p.n_features
    cdef floating* w = <floating*>p.coef + m * n_features
    cdef floating* A = model_row(<floating*>p.average_coef, m, n_features)
    if p.opt.schedule == SCHEDULE_ADAGRAD:
        adagrad_step(x, ind, nnz, g, sample_weight, w, A,
                     model_row(<floating*>p.adagrad_g, m, n_features),
                     ep.last + mi * n_features if p.lazy_adagrad else NULL,
                     &p.state[m], &p.opt)
        return 0.0
    return sgd_step(x, ind, nnz, xx, ep.vx[mi], g, sample_weight, w, A,
                    model_row(<floating*>p.l1_q, m, n_features), n_features,
                    &p.state[m], &ep.lazy[mi], &p.opt)


cdef inline void add_logged_loss(ModelState* st, Lazy* lz) noexcept nogil:
    """Move the product of the factors 1 + e into the model's sums, as its log."""
    add_loss(st, log(lz.loss_factor))
    lz.loss_factor = 1.0


cdef inline void add_example(const Options* opt, ModelState* st, Lazy* lz,
                             double margin, double y, double e,
                             double penalty) noexcept nogil:
    """The example's terms of the model's sums: its loss (binary and
    one-vs-rest; softmax_row added the multinomial loss before the step),
    then SGD's penalty term (AdaGrad's is added at the end of the epoch).

    The loss is log_loss_given: log1p(e) + log_loss_linear. The log1p parts
    are summed as the log of their product: each factor 1 + e lies in (1, 2],
    so ~1000 of them multiply without overflow, and one log per ~1000
    examples (and one at the end of the epoch, finish_epoch) replaces a log1p
    per example; a log1p was ~7% of a default fit on breast cancer. The
    product's rounding adds ~1e-16 relative per example, as a sum's does."""
    if not opt.multinomial:
        add_loss(st, log_loss_linear(margin, y))
        lz.loss_factor *= 1.0 + e
        if lz.loss_factor > 1e300:   # (one more factor cannot overflow)
            add_logged_loss(st, lz)
    if opt.schedule != SCHEDULE_ADAGRAD:
        st.objective_sum += penalty


cdef inline void remember_sq_norm(const floating* x, Py_ssize_t nnz,
                                  const Problem* p, Py_ssize_t i) noexcept nogil:
    """x . x of row i into the fit's cache, the first time an epoch reaches
    the row (an SGD step with the objective tracked reads it; x . x was ~13%
    of a default epoch on breast cancer's 30 features). Only the leader
    writes, before the team's barrier; every thread reads it after."""
    if p.row_sq_norms[i] < 0.0:
        p.row_sq_norms[i] = row_sq_norm(x, nnz)


cdef inline void stop_at(Epoch* ep, Py_ssize_t i) noexcept nogil:
    """The epoch stops at row i (every thread of a team stops at the same row;
    the leader reports it)."""
    if ep.leader:
        ep.bad_row[0] = i


cdef void begin_epoch(floating* coef, const Problem* p, Epoch* ep) noexcept nogil:
    """The thread's models before the first row: weights in their lazy form,
    the epoch's sums at zero, (lazy AdaGrad) every weight current."""
    cdef Py_ssize_t mi, m, j, n_features = p.n_features
    for mi in range(ep.lo, ep.hi):
        m = ep.models[mi]
        start_lazy(coef + m * n_features, n_features, &ep.lazy[mi])
        p.state[m].loss_sum = 0.0
        p.state[m].objective_sum = 0.0
        if p.lazy_adagrad:
            for j in range(n_features):
                ep.last[mi * n_features + j] = p.state[m].t - 1.0


cdef void finish_epoch(floating* coef, const Problem* p, Epoch* ep) noexcept nogil:
    """The thread's models after the last row: plain weights (and average)
    back in their arrays; AdaGrad's objective."""
    cdef const Options* opt = &p.opt
    cdef Py_ssize_t mi, m, j, n_features = p.n_features
    cdef floating* w
    cdef floating* A
    cdef const floating* G
    for mi in range(ep.lo, ep.hi):
        m = ep.models[mi]
        add_logged_loss(&p.state[m], &ep.lazy[mi])
        w = coef + m * n_features
        A = model_row(<floating*>p.average_coef, m, n_features)
        if opt.schedule != SCHEDULE_ADAGRAD:
            fold(w, A, n_features, &ep.lazy[mi], opt.average_start > 0)
            continue
        if p.lazy_adagrad:
            G = model_row(<floating*>p.adagrad_g, m, n_features)
            for j in range(n_features):
                adagrad_catch_up(w, A, G, ep.last + mi * n_features, j,
                                 p.state[m].t - 1.0, opt)
        if opt.track_objective:
            # AdaGrad's weights are only current at the end of the epoch; the
            # objective is the epoch's summed loss plus n_rows times their penalty.
            p.state[m].objective_sum += ep.n_order * penalty_of(w, n_features, opt)


cdef void run_epoch(const floating* data, const index_t* indices, const Problem* p,
                    Epoch* ep) noexcept nogil:
    """Train the thread's models ``models[lo:hi]`` on the rows ``order``.

    One-vs-rest and binary calls train all listed models on one thread. A
    multinomial epoch may run in a team of threads, each owning a slice of
    the classes: every thread writes its classes' margins, waits for the team,
    computes the same softmax from all margins, and steps its own classes.
    The arithmetic per class is the same as on one thread. (A single model
    on dense rows stepped by SGD runs run_dense_epoch_one_model instead.)
    """
    cdef const Options* opt = &p.opt
    cdef Py_ssize_t r, i, mi, m, nnz
    cdef const floating* x
    cdef const index_t* ind
    cdef double* margin
    cdef double xx = 0.0, y, g, weight, e = 0.0, penalty
    cdef const floating* sample_weight = <const floating*>p.sample_weight
    cdef int sense = 0

    begin_epoch(<floating*>p.coef, p, ep)
    for r in range(ep.n_order):
        i = ep.order[r]
        prefetch_ahead(data, indices, p, ep, r)
        nnz = row_at(data, indices, p, i, &x, &ind)
        if nnz < 0:
            # A CSR column outside X's width: stop before any weight is read.
            stop_at(ep, i)
            break
        if opt.follow_sq_norm and ep.leader:
            remember_sq_norm(x, nnz, p, i)
        margin = ep.margin + (r & 1) * ep.n_models
        row_margins(x, ind, nnz, p, ep, margin)
        if ep.barrier != NULL:
            spin_barrier_wait(ep.barrier, &sense)
        # A NaN or infinity in x makes every margin non-finite (0 * inf is NaN),
        # so this check stands in for a separate pass over X; diverged weights
        # show here too. Every thread of a team sees the same margins.
        if not finite_values(margin, ep.n_models):
            stop_at(ep, i)
            break
        if opt.multinomial:
            softmax_row(p, ep, margin, p.y_code[i])
        weight = sample_weight[i * p.weight_stride]
        if opt.follow_sq_norm:
            xx = p.row_sq_norms[i]
        for mi in range(ep.lo, ep.hi):
            m = ep.models[mi]
            y = 1.0 if p.y_code[i] == p.model_class[m] else 0.0
            g = loss_gradient(opt, ep, margin[mi], mi, y, &e)
            penalty = step_model(x, ind, nnz, xx, g, weight, p, ep, mi)
            if opt.track_objective:
                # (After the step: the loss is not on the path to the next
                # row's margin, so the CPU computes it alongside that.)
                add_example(opt, &p.state[m], &ep.lazy[mi], margin[mi], y, e, penalty)
    finish_epoch(<floating*>p.coef, p, ep)


cdef void run_dense_epoch_one_model(const floating* data, const Problem* p,
                                    Epoch* ep) noexcept nogil:
    """run_epoch for dense rows (and a CSR matrix storing no values, which
    row_at reads as rows of length 0) and a single model stepped by SGD (a
    binary problem, or a group of one one-vs-rest class): the same helpers in
    the same order, so the same weights to the bit (a test holds it to
    one-vs-rest's), without run_epoch's loop over models and the per-model
    scratch between margin and step, and with the rows' columns known to be
    none (NULL) at compile time.
    An epoch of a default binary fit on breast cancer takes ~15% less time
    (27.3 -> 23.2 us); 200k x 100 float32 rows ~13-19% less."""
    cdef const Options* opt = &p.opt
    cdef Py_ssize_t r, i, n_features = p.n_features, m = ep.models[ep.lo]
    cdef floating* v = <floating*>p.coef + m * n_features
    cdef floating* A = model_row(<floating*>p.average_coef, m, n_features)
    cdef floating* q = model_row(<floating*>p.l1_q, m, n_features)
    cdef ModelState* st = &p.state[m]
    cdef Lazy* lz = &ep.lazy[ep.lo]
    # As row_at reads a row: no columns; n_features values (0 for a CSR
    # matrix storing no values, whose indices pointer is NULL too).
    cdef const int32_t* no_columns = NULL
    cdef Py_ssize_t nnz = p.row_stride
    cdef const floating* sample_weight = <const floating*>p.sample_weight
    cdef int32_t positive = p.model_class[m]
    cdef const floating* x
    cdef double vx, margin, xx = 0.0, y, g, e = 0.0, penalty

    begin_epoch(<floating*>p.coef, p, ep)
    for r in range(ep.n_order):
        i = ep.order[r]
        prefetch_ahead(data, no_columns, p, ep, r)
        x = data + i * nnz
        if opt.follow_sq_norm:
            remember_sq_norm(x, nnz, p, i)
            xx = p.row_sq_norms[i]
        vx = row_dot(v, x, no_columns, nnz)
        margin = lz.wscale * vx + st.intercept
        if not isfinite(margin):
            stop_at(ep, i)
            break
        y = 1.0 if p.y_code[i] == positive else 0.0
        g = log_loss_gradient(margin, y, &e)
        penalty = sgd_step(x, no_columns, nnz, xx, vx, g,
                           sample_weight[i * p.weight_stride],
                           v, A, q, n_features, st, lz, opt)
        if opt.track_objective:
            add_example(opt, st, lz, margin, y, e, penalty)
    finish_epoch(<floating*>p.coef, p, ep)


cdef int alloc_scratch(Epoch* ep, Py_ssize_t n_threads, bint lazy_adagrad,
                       Py_ssize_t n_features) except -1:
    """Allocate an epoch's scratch for ep.n_models models and a team of up to
    n_threads (free with free_scratch, also after a failure)."""
    cdef Py_ssize_t n_models = max(ep.n_models, 1)
    cdef Py_ssize_t n = n_models * n_threads
    ep.lazy = <Lazy*>malloc(n * sizeof(Lazy))
    ep.vx = <double*>malloc(n * sizeof(double))
    ep.prob = <double*>malloc(n * sizeof(double))
    ep.margin = <double*>malloc(2 * n_models * sizeof(double))
    ep.last = NULL
    ep.barrier = NULL
    if lazy_adagrad:
        ep.last = <double*>malloc(n_models * n_features * sizeof(double))
    if (ep.lazy == NULL or ep.vx == NULL or ep.prob == NULL or ep.margin == NULL
            or (lazy_adagrad and ep.last == NULL)):
        raise MemoryError()
    return 0


cdef void free_scratch(Epoch* ep) noexcept:
    free(ep.lazy)
    free(ep.vx)
    free(ep.prob)
    free(ep.margin)
    free(ep.last)


def team_threads_available():
    """True when the kernel was built with OpenMP (multinomial epochs can use
    threads)."""
    return bool(team_available())


cdef inline Epoch team_member(const Epoch* shared, int rank, int size,
                              spin_barrier* barrier) noexcept nogil:
    """The epoch as thread ``rank`` of a team of ``size`` sees it: its slice of
    the classes, its own scratch, the team's barrier; rank 0 leads."""
    cdef Py_ssize_t n_models = shared.n_models
    cdef Epoch mine = shared[0]
    mine.lo = n_models * rank // size
    mine.hi = n_models * (rank + 1) // size
    mine.leader = rank == 0
    mine.lazy = shared.lazy + rank * n_models
    mine.vx = shared.vx + rank * n_models
    mine.prob = shared.prob + rank * n_models
    mine.barrier = barrier if size > 1 else NULL
    return mine


cdef void run_epoch_in_team(const floating* data, const index_t* indices,
                            const Problem* p, Epoch* ep, int n_threads) noexcept nogil:
    """run_epoch on one thread, or (multinomial) on a team splitting the classes."""
    cdef int size, rank
    cdef Epoch mine
    cdef spin_barrier barrier
    barrier.count = 0
    barrier.sense = 0
    if n_threads <= 1 or not p.opt.multinomial:
        # Alone: the thread steps every listed model, and leads.
        ep.lo = 0
        ep.hi = ep.n_models
        ep.leader = True
        if (indices == NULL and ep.n_models == 1 and not p.opt.multinomial
                and p.opt.schedule != SCHEDULE_ADAGRAD):
            run_dense_epoch_one_model(data, p, ep)
        else:
            run_epoch(data, indices, p, ep)
        return
    with parallel(num_threads=n_threads):
        # The team may be smaller than asked (e.g. nested parallelism): split
        # the classes by the actual size, so every thread reaches the barriers.
        size = team_size()
        rank = team_rank()
        if rank == 0:
            barrier.size = size
        team_omp_barrier()
        mine = team_member(ep, rank, size, &barrier)
        run_epoch(data, indices, p, &mine)


# ---------------------------------------------------------------- the bound entry point
# An EpochRunner checks every array it is given against the others (shapes,
# index ranges) once, when it is built; each epoch then checks only what
# changes between epochs (the rows to visit and the models to train), so no
# mistake in the caller, nor a model file that lies about its shapes, can
# make the kernel read or write outside an array. Column indices of CSR rows
# are checked row by row as the epoch reads them.

cdef int check_extra(str name, Py_ssize_t rows, Py_ssize_t cols, Py_ssize_t n_models,
                     Py_ssize_t n_features, bint needed) except -1:
    """A per-weight optimiser array: one row per model, or none when unused."""
    if (rows == n_models or (rows == 0 and not needed)) and (
            rows == 0 or cols == n_features):
        return 0
    raise ValueError(
        f"{name} has shape {(rows, cols)}; expected {(n_models, n_features)}"
        + ("" if needed else " or no rows"))


cdef int check_indptr(const index_t[::1] indptr, Py_ssize_t n_stored) except -1:
    """Row pointers of a CSR matrix: from 0, non-decreasing, within the
    ``n_stored`` entries of its data and indices."""
    cdef Py_ssize_t r
    if indptr.shape[0] < 1 or indptr[0] != 0:
        raise ValueError("indptr must start at 0")
    for r in range(1, indptr.shape[0]):
        if indptr[r] < indptr[r - 1] or indptr[r] > n_stored:
            raise ValueError(
                f"indptr[{r}] = {indptr[r]} is not within "
                f"[indptr[{r - 1}], {n_stored}]: the CSR arrays do not agree")
    return 0


cdef inline void* rows_or_null(floating[:, ::1] a) noexcept:
    return &a[0, 0] if a.shape[0] > 0 else NULL


cdef Py_ssize_t check_rows(
    const floating[::1] values, const index_t[::1] indices,
    const index_t[::1] indptr, bint sparse, Py_ssize_t n_rows,
    Py_ssize_t n_features, const int32_t[::1] y_code,
    const floating[::1] sample_weight,
) except -1:
    """The training rows (dense: ``n_rows`` x ``n_features`` values; CSR: its
    row pointers), one label per row and one weight per row or for all:
    returns the number of rows."""
    if sparse:
        check_indptr(indptr, min(values.shape[0], indices.shape[0]))
        n_rows = indptr.shape[0] - 1
    elif values.shape[0] != n_rows * n_features:
        raise ValueError(
            f"X has {values.shape[0]} values: not {n_rows} rows of {n_features}")
    if y_code.shape[0] != n_rows:
        raise ValueError(f"y_code has {y_code.shape[0]} labels for {n_rows} rows")
    if sample_weight.shape[0] != 1 and sample_weight.shape[0] != n_rows:
        raise ValueError(
            f"sample_weight has {sample_weight.shape[0]} weights for {n_rows} rows "
            "(one per row, or one for all)")
    return n_rows


cdef int _bind(
    EpochRunner runner,
    const floating[::1] values, const index_t[::1] indices,
    const index_t[::1] indptr, Py_ssize_t n_rows, bint sparse,
    const int32_t[::1] y_code, const floating[::1] sample_weight,
    floating[:, ::1] coef, floating[:, ::1] average_coef,
    floating[:, ::1] l1_q, floating[:, ::1] adagrad_g,
    const int32_t[::1] model_class, ModelState[::1] state,
) except -1:
    """Check the arrays against each other and point the runner's Problem at them."""
    cdef Problem* p = &runner.problem
    cdef Options* opt = &p.opt
    cdef Py_ssize_t n_models = coef.shape[0], n_features = coef.shape[1]
    cdef double[::1] cache
    if n_models < 1 or n_features < 1:
        raise ValueError(f"coef has shape {(n_models, n_features)}: no models")
    if state.shape[0] != n_models or model_class.shape[0] != n_models:
        raise ValueError(
            f"coef has {n_models} rows, state {state.shape[0]} and model_class "
            f"{model_class.shape[0]}: they need one per model")
    check_extra("average_coef", average_coef.shape[0], average_coef.shape[1],
                n_models, n_features, opt.average_start > 0)
    check_extra("l1_q", l1_q.shape[0], l1_q.shape[1], n_models, n_features,
                opt.has_l1)
    check_extra("adagrad_g", adagrad_g.shape[0], adagrad_g.shape[1], n_models,
                n_features, opt.schedule == SCHEDULE_ADAGRAD)
    n_rows = check_rows(values, indices, indptr, sparse, n_rows, n_features,
                        y_code, sample_weight)
    runner.data = &values[0] if values.shape[0] > 0 else NULL
    runner.indices = &indices[0] if sparse and indices.shape[0] > 0 else NULL
    p.indptr = &indptr[0] if sparse else NULL
    p.row_stride = 0 if sparse else n_features
    p.n_rows = n_rows
    p.n_features = n_features
    p.y_code = &y_code[0] if n_rows > 0 else NULL
    p.sample_weight = &sample_weight[0]
    p.weight_stride = 1 if sample_weight.shape[0] > 1 else 0
    p.coef = &coef[0, 0]
    p.average_coef = rows_or_null(average_coef) if opt.average_start > 0 else NULL
    p.l1_q = rows_or_null(l1_q) if opt.has_l1 else NULL
    p.adagrad_g = rows_or_null(adagrad_g) if opt.schedule == SCHEDULE_ADAGRAD else NULL
    p.lazy_adagrad = sparse and opt.schedule == SCHEDULE_ADAGRAD
    p.model_class = &model_class[0]
    p.state = &state[0]
    p.n_models = n_models
    p.row_sq_norms = NULL
    runner.row_sq_norms = None
    if opt.follow_sq_norm and n_rows > 0:
        runner.row_sq_norms = np.full(n_rows, -1.0)
        cache = runner.row_sq_norms
        p.row_sq_norms = &cache[0]
    runner.single = floating is float
    runner.wide = index_t is int64_t
    return 0


cdef bint coef_rows_finite(const floating* coef, Py_ssize_t n_features,
                           const int64_t* models, Py_ssize_t n_models) noexcept nogil:
    """True when every weight of the listed models (rows of coef) is finite.
    (The callers check the intercepts, kept in different places.)"""
    cdef Py_ssize_t mi, j, m
    for mi in range(n_models):
        m = models[mi]
        for j in range(n_features):
            if not isfinite(coef[m * n_features + j]):
                return False
    return True


cdef enum:
    # What an epoch returns when it ran through but left a weight not finite.
    WEIGHTS_NOT_FINITE = -2


# Dense X's stand-in for CSR's indices and indptr (read-only, no entries).
cdef object NO_INDICES = np.zeros(0, dtype=np.int32)
NO_INDICES.flags.writeable = False


cdef class EpochRunner:
    """One fit's arrays and options, checked and bound once; ``run`` trains
    some of the models for one epoch over the given rows.

    Dense X: ``EpochRunner(X=X, ...)``; CSR: ``EpochRunner(data=, indices=,
    indptr=, ...)``. ``coef``, ``average_coef``, ``l1_q``, ``adagrad_g`` have
    one row per model (the last three no rows when averaging / L1 / AdaGrad
    is off); ``model_class[m]`` is the label code that is positive for model
    m; ``sample_weight`` has one weight per row, or one for all rows. The
    runner keeps references to the arrays, and writes into ``coef``,
    ``average_coef``, ``l1_q``, ``adagrad_g`` and ``state``.
    """

    cdef Problem problem
    cdef const void* data       # X's values, typed by ``single``
    cdef const void* indices    # CSR column indices, typed by ``wide``; or NULL
    cdef bint single            # float32 (else float64)
    cdef bint wide              # int64 indices (else int32)
    cdef object arrays          # the arrays the pointers point into
    cdef object row_sq_norms    # the Problem's row_sq_norms, or None

    def __init__(self, *, X=None, data=None, indices=None, indptr=None, y_code,
                 sample_weight, coef, average_coef, l1_q, adagrad_g, model_class,
                 state, dict options):
        read_options(&self.problem.opt, options)
        sparse = X is None
        if sparse:
            values, n_rows = data, 0
        else:
            values, n_rows = X.reshape(-1), X.shape[0]
            if X.ndim != 2 or X.shape[1] != coef.shape[1]:
                raise ValueError(
                    f"X has shape {X.shape}, coef {coef.shape}: different widths")
            indices = indptr = NO_INDICES
        self.arrays = (values, indices, indptr, y_code, sample_weight, coef,
                       average_coef, l1_q, adagrad_g, model_class, state)
        # (The specialisation picked here, not by a fused def's dispatcher:
        # that inspected every argument in Python, ~40 us a fit when other
        # work had evicted it from the CPU's caches. By item size: comparing
        # dtypes cost more; the typed views check the exact types.)
        single, wide = values.itemsize == 4, indices.itemsize == 8
        if single and wide:
            _bind[float, int64_t](
                self, values, indices, indptr, n_rows, sparse, y_code,
                sample_weight, coef, average_coef, l1_q, adagrad_g, model_class,
                state)
        elif single:
            _bind[float, int32_t](
                self, values, indices, indptr, n_rows, sparse, y_code,
                sample_weight, coef, average_coef, l1_q, adagrad_g, model_class,
                state)
        elif wide:
            _bind[double, int64_t](
                self, values, indices, indptr, n_rows, sparse, y_code,
                sample_weight, coef, average_coef, l1_q, adagrad_g, model_class,
                state)
        else:
            _bind[double, int32_t](
                self, values, indices, indptr, n_rows, sparse, y_code,
                sample_weight, coef, average_coef, l1_q, adagrad_g, model_class,
                state)

    def run(self, const int64_t[::1] models, const int64_t[::1] order,
            int n_threads=1):
        """One epoch over the rows ``order`` for the models ``models`` (with
        ``options["multinomial"]``, every model; ``n_threads`` > 1 then splits
        the classes of each example across that many threads).

        Returns -1, or the index of a row whose margin was not finite (NaN or
        infinity in that row of X, or diverged weights) or that stores a
        column index outside X's width: the epoch stopped there; or
        WEIGHTS_NOT_FINITE (-2) when the epoch ended with a weight or an
        intercept of the listed models not finite.
        """
        self.check_models(models)
        self.check_rows_listed(order)
        if order.shape[0] == 0:
            return -1
        return self.epoch(models, order, n_threads)

    def train(self, const int64_t[::1] models, int64_t[::1] order, *, rows, seed,
              Py_ssize_t first_epoch, Py_ssize_t n_epochs,
              const int64_t[::1] unit_sizes, list rules, double divisor,
              int n_threads=1):
        """Up to ``n_epochs`` epochs (as ``run``), numbered from ``first_epoch``,
        without returning to Python in between: a fit on small data runs
        thousands of short epochs, and a round trip through Python's epoch
        loop cost ~10% of each (more when other work had evicted its code
        from the CPU's caches).

        ``seed`` None: every epoch visits ``order`` as given. Otherwise each
        epoch first writes into ``order`` the epoch's permutation of ``rows``
        (of 0 .. len(order) - 1 when ``rows`` is None), as shuffle_rows.

        The models form units that stop together: ``models`` lists the first
        unit's ``unit_sizes[0]`` models, then the next unit's... With
        ``rules`` (one per unit, objects with an ``observe(value) -> bool``
        method: _schedule.StoppingRule) each epoch shows every rule its
        unit's objective (the sum of its models' objective sums) divided by
        ``divisor``, and training stops after an epoch at which a rule says
        so. With ``rules`` None the epochs track nothing.

        Returns (epochs run, bad row, fired): the bad row as ``run`` returns
        it, for the last epoch run (training stops after an epoch that
        returned one); ``fired`` lists the units whose rule said stop after
        the last epoch.
        """
        cdef Problem* p = &self.problem
        cdef Py_ssize_t k, u, j, at, n_order = order.shape[0]
        cdef Py_ssize_t bad_row = -1
        cdef double value
        cdef const int64_t* row_list = NULL
        cdef const int64_t[::1] row_view
        cdef uint64_t shuffle_seed = 0
        cdef bint shuffle = seed is not None
        cdef list fired = []
        self.check_models(models)
        at = 0
        for u in range(unit_sizes.shape[0]):
            if unit_sizes[u] < 1:
                raise ValueError(f"unit {u} has no models")
            at += unit_sizes[u]
        if at != models.shape[0]:
            raise ValueError(
                f"the units have {at} models; models lists {models.shape[0]}")
        if rules is not None and len(rules) != unit_sizes.shape[0]:
            raise ValueError(
                f"{len(rules)} rules for {unit_sizes.shape[0]} units")
        if shuffle:
            shuffle_seed = seed
            if rows is not None:
                row_view = rows
                if row_view.shape[0] != n_order:
                    raise ValueError("order and rows differ in length")
                self.check_rows_listed(row_view)
                row_list = &row_view[0] if n_order > 0 else NULL
            elif n_order > p.n_rows:
                raise ValueError(
                    f"order has {n_order} entries, but there are {p.n_rows} rows")
        else:
            self.check_rows_listed(order)
        if n_order == 0:
            return 0, -1, fired
        for k in range(n_epochs):
            if shuffle:
                with nogil:
                    permute_rows(&order[0], n_order, row_list, shuffle_seed,
                                 first_epoch + k)
            bad_row = self.epoch(models, order, n_threads)
            if bad_row != -1:
                return k + 1, bad_row, fired
            if rules is None:
                continue
            at = 0
            for u in range(unit_sizes.shape[0]):
                value = 0.0
                for j in range(at, at + unit_sizes[u]):
                    value += p.state[models[j]].objective_sum
                at += unit_sizes[u]
                if rules[u].observe(value / divisor):
                    fired.append(u)
            if fired:
                return k + 1, -1, fired
        return n_epochs, -1, fired

    cdef int check_models(self, const int64_t[::1] models) except -1:
        """The models an epoch trains: at least one, each a row of coef (and
        every one of them for a multinomial epoch)."""
        cdef Problem* p = &self.problem
        cdef Py_ssize_t k, n_models = models.shape[0]
        if n_models < 1:
            raise ValueError("models is empty")
        for k in range(n_models):
            if models[k] < 0 or models[k] >= p.n_models:
                raise ValueError(
                    f"models lists {models[k]}, but there are {p.n_models} models")
        if p.opt.multinomial and n_models != p.n_models:
            raise ValueError("a multinomial epoch trains every model at once")
        return 0

    cdef int check_rows_listed(self, const int64_t[::1] order) except -1:
        """Rows an epoch visits: each a row of X."""
        cdef Py_ssize_t k, n_rows = self.problem.n_rows
        for k in range(order.shape[0]):
            if order[k] < 0 or order[k] >= n_rows:
                raise ValueError(
                    f"order lists row {order[k]}, but there are {n_rows} rows")
        return 0

    cdef Py_ssize_t epoch(self, const int64_t[::1] models, const int64_t[::1] order,
                          int n_threads) except -3:
        """One epoch over checked, non-empty ``models`` and ``order`` (run)."""
        cdef Problem* p = &self.problem
        cdef Py_ssize_t k, n_models = models.shape[0]
        cdef Py_ssize_t bad_row = -1
        cdef Epoch ep
        cdef bint finite
        n_threads = max(1, n_threads)
        ep.order = &order[0]
        ep.n_order = order.shape[0]
        ep.models = &models[0]
        ep.n_models = n_models
        ep.bad_row = &bad_row
        try:
            alloc_scratch(&ep, n_threads, p.lazy_adagrad, p.n_features)
            with nogil:
                if self.single and self.wide:
                    run_epoch_in_team(<const float*>self.data,
                                      <const int64_t*>self.indices, p, &ep, n_threads)
                elif self.single:
                    run_epoch_in_team(<const float*>self.data,
                                      <const int32_t*>self.indices, p, &ep, n_threads)
                elif self.wide:
                    run_epoch_in_team(<const double*>self.data,
                                      <const int64_t*>self.indices, p, &ep, n_threads)
                else:
                    run_epoch_in_team(<const double*>self.data,
                                      <const int32_t*>self.indices, p, &ep, n_threads)
        finally:
            free_scratch(&ep)
        if bad_row < 0:
            finite = True
            for k in range(n_models):
                finite = finite and isfinite(p.state[models[k]].intercept)
            with nogil:
                if self.single:
                    finite = finite and coef_rows_finite(
                        <const float*>p.coef, p.n_features, ep.models, n_models)
                else:
                    finite = finite and coef_rows_finite(
                        <const double*>p.coef, p.n_features, ep.models, n_models)
            if not finite:
                return WEIGHTS_NOT_FINITE
        return bad_row


def epoch_dense(*, X, models, order, n_threads=1, **arrays):
    """One epoch over the rows ``order`` of a C-contiguous dense X (see
    EpochRunner for the arrays): a runner bound for one call."""
    return EpochRunner(X=X, **arrays).run(models, order, n_threads)


def epoch_csr(*, data, indices, indptr, models, order, n_threads=1, **arrays):
    """One epoch over the rows ``order`` of a CSR matrix (data, indices, indptr);
    a row costs O(its non-zeros)."""
    return EpochRunner(data=data, indices=indices, indptr=indptr,
                       **arrays).run(models, order, n_threads)


# ---------------------------------------------------------------- labels

def label_codes(const int64_t[:] y, uint64_t max_span):
    """The distinct labels of ``y`` in order and each label's index among
    them, as (classes int64, codes int32); None when y is empty or
    max(y) - min(y) >= ``max_span`` (the table would be too large).

    Two passes over y and one over the span (a table of label -> code):
    what numpy's sort, neighbour comparison and searchsorted give, in one
    call; the sort and its temporaries were ~25 us of a small fit when
    other work had evicted them from the CPU's caches."""
    cdef Py_ssize_t i, n = y.shape[0], n_classes = 0
    cdef int64_t low, high
    cdef uint64_t span, v
    cdef int32_t* table
    cdef int64_t[::1] classes
    cdef int32_t[::1] codes
    if n == 0:
        return None
    low = high = y[0]
    for i in range(1, n):
        if y[i] < low:
            low = y[i]
        elif y[i] > high:
            high = y[i]
    span = <uint64_t>high - <uint64_t>low   # (no overflow in unsigned)
    if span >= max_span:
        return None
    span += 1
    table = <int32_t*>malloc(span * sizeof(int32_t))
    if table == NULL:
        raise MemoryError()
    try:
        for v in range(span):
            table[v] = -1       # (absent)
        for i in range(n):
            table[<uint64_t>y[i] - <uint64_t>low] = 0       # (present)
        for v in range(span):   # present labels, in order: their codes
            if table[v] == 0:
                table[v] = n_classes
                n_classes += 1
        classes_array = np.empty(n_classes, dtype=np.int64)
        codes_array = np.empty(n, dtype=np.int32)
        classes = classes_array
        codes = codes_array
        for v in range(span):
            if table[v] >= 0:
                classes[table[v]] = <int64_t>(<uint64_t>low + v)
        for i in range(n):
            codes[i] = table[<uint64_t>y[i] - <uint64_t>low]
    finally:
        free(table)
    return classes_array, codes_array


# ---------------------------------------------------------------- the permutation

cdef inline uint64_t splitmix64(uint64_t* state) noexcept nogil:
    """Next output of Vigna's splitmix64 generator (passes BigCrush)."""
    cdef uint64_t z
    state[0] += 0x9E3779B97F4A7C15ULL
    z = state[0]
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL
    return z ^ (z >> 31)


def mixed_seed(uint64_t value):
    """``value`` through one splitmix64 step, as a seed in [0, 2**31): the
    estimator's seed for an integer random_state."""
    return splitmix64(&value) & 0x7FFFFFFFULL


cdef inline uint64_t below32(uint64_t x, uint64_t bound,
                             uint64_t* state) noexcept nogil:
    """Uniform integer in [0, bound), bound <= 2**32, from 32 random bits x:
    Lemire's multiply-shift, rejecting (and drawing afresh from the stream)
    the few x that would make it uneven."""
    cdef uint64_t product = x * bound, threshold
    if (product & 0xFFFFFFFFULL) < bound:
        threshold = (0x100000000ULL - bound) % bound
        while (product & 0xFFFFFFFFULL) < threshold:
            product = (splitmix64(state) >> 32) * bound
    return product >> 32


cdef inline uint64_t below(uint64_t bound, uint64_t* state) noexcept nogil:
    """Uniform integer in [0, bound): below32 for bound <= 2**32, modulo with
    rejection above."""
    cdef uint64_t x, limit
    if bound <= 0xFFFFFFFFULL:
        return below32(splitmix64(state) >> 32, bound, state)
    limit = 0xFFFFFFFFFFFFFFFFULL - (0xFFFFFFFFFFFFFFFFULL % bound + 1) % bound
    x = splitmix64(state)
    while x > limit:
        x = splitmix64(state)
    return x % bound


def shuffle_rows(int64_t[::1] out, const int64_t[::1] rows, uint64_t seed,
                 uint64_t epoch=0):
    """Write a uniformly random permutation of ``rows`` into ``out``
    (of 0 .. len(out) - 1 when ``rows`` is None): the ``epoch``-th
    permutation of the fit seeded with ``seed``.

    Fisher-Yates with a splitmix64 stream, two positions drawn from each
    64-bit output (its halves): ~3x faster than
    numpy.random.Generator.permutation, whose bounded integers dominate an
    epoch's set-up on small rows. Each epoch's stream starts at the seed
    xor'ed with splitmix64's output for the epoch number (a well-mixed 64-bit
    offset, so no two epochs share a stream), which costs the fit nothing per
    epoch; a numpy Generator to draw the epochs' seeds cost ~13 us a fit.
    Same seed and epoch, same permutation.
    """
    cdef Py_ssize_t n = out.shape[0]
    if rows is not None and rows.shape[0] != n:
        raise ValueError("out and rows differ in length")
    if n == 0:
        return
    with nogil:
        permute_rows(&out[0], n, &rows[0] if rows is not None else NULL, seed, epoch)


cdef void permute_rows(int64_t* out, Py_ssize_t n, const int64_t* rows,
                       uint64_t seed, uint64_t epoch) noexcept nogil:
    """shuffle_rows on n >= 1 entries (rows NULL: of 0 .. n - 1)."""
    cdef Py_ssize_t i
    cdef uint64_t key = epoch
    cdef uint64_t state = seed ^ splitmix64(&key)
    cdef uint64_t x
    for i in range(n):
        out[i] = i if rows == NULL else rows[i]
    i = n - 1
    if <uint64_t>n <= 0xFFFFFFFFULL:
        # Two positions from each 64-bit output (its high and low halves):
        # the generator was half of the shuffle's time.
        while i >= 2:
            x = splitmix64(&state)
            swap_rows(out, i, below32(x >> 32, i + 1, &state))
            swap_rows(out, i - 1, below32(x & 0xFFFFFFFFULL, i, &state))
            i -= 2
    while i >= 1:
        swap_rows(out, i, below(i + 1, &state))
        i -= 1


cdef inline void swap_rows(int64_t* out, Py_ssize_t i, uint64_t j) noexcept nogil:
    cdef int64_t kept = out[i]
    out[i] = out[j]
    out[j] = kept


# ---------------------------------------------------------------- SAGA
# solver="saga" (Defazio, Bach & Lacoste-Julien 2014) minimises the same
# objective as the SGD schedules aim at,
#
#     F(w, b) = 1/n sum_i s_i loss_i(w . x_i + b) + l2 / 2 |w|^2 + l1 |w|_1,
#
# with a constant step eta and a memory of each example's last gradient
# scalar g_i (per model). At example i, with g the new scalar, S = sum_k g_k x_k
# the memory's sum (before this step) and m the examples in the memory:
#
#     delta = g - g_i;  g_i = g
#     w     = soft(c w - eta (delta x_i + S / m), eta l1),  c = 1 - eta l2
#     b    -= eta (delta + S_b / m)
#     S    += delta x_i;  S_b += delta
#
# The gradient's error is corrected by the memory, so the iterates converge to
# the minimiser of F itself (SGD's decreasing steps stop short of it). From
# zero weights the memory starts empty and fills during the first epoch: the
# t-th example of that epoch is new and m = t + 1 (the average over the
# examples seen so far, as in scikit-learn's sag); afterwards m = n. On a CSR
# row only the stored coordinates are stepped; a coordinate j a row does not
# store has no delta term, so its L steps since it was last current are the
# same map (c w - eta S_j / m_t, then the soft threshold) applied L times,
# done when j is next read or at the end of the epoch (saga_catch_up):
# in closed form with the tables c**L, sum_{t<L} c**t and (while the memory
# fills) Q[t] = sum_{u<t} c**(t-1-u) / m_u, or, when the L1 threshold makes
# the weight reach zero on the way, step by step until it does.

cdef struct SagaOptions:
    double step             # eta
    double decay            # c = 1 - eta * l2
    double l1_step          # eta * l1: the soft threshold
    Py_ssize_t n            # the examples the memory's sums are over
    Py_ssize_t seen         # how many were in the memory when the epoch began
    double inv_n            # 1 / n
    bint fit_intercept
    bint multinomial
    const double* decay_pow     # c**L, L = 0 .. n_order
    const double* decay_sum     # sum_{t < L} c**t
    const double* seen_sum      # (seen < n) Q[t] = sum_{u < t} c**(t-1-u) / m_u


cdef struct SagaCoord:
    # A CSR epoch's weight and memory sum of one coordinate, side by side:
    # a row's random columns then cost one cache line each, not two.
    double w
    double s


cdef inline double soft_threshold(double v, double tau) noexcept nogil:
    if v > tau:
        return v - tau
    if v < -tau:
        return v + tau
    return 0.0


cdef inline double saga_inv_m(Py_ssize_t t, const SagaOptions* o) noexcept nogil:
    """1 / m_t: the memory's sum is averaged over the m_t examples seen by step
    t (every example once the memory is full)."""
    if o.seen >= o.n:
        return o.inv_n
    return 1.0 / min(o.n, o.seen + t + 1)


cdef inline double saga_pull(Py_ssize_t t, Py_ssize_t k,
                             const SagaOptions* o) noexcept nogil:
    """sum_{u = t}^{t + k - 1} c**(t + k - 1 - u) / m_u: the average's total
    weight over the k steps from step t, each step's decayed by the later."""
    if o.seen >= o.n:
        return o.decay_sum[k] * o.inv_n
    return o.seen_sum[t + k] - o.decay_pow[k] * o.seen_sum[t]


cdef inline double saga_catch_up(double w, double s, Py_ssize_t first,
                                 Py_ssize_t end, const SagaOptions* o) noexcept nogil:
    """w after the steps first .. end - 1 with no gradient of its own: each
    step t is w = soft(c w - eta s / m_t, tau), s its memory sum. (Inline:
    without L1 it is one line; the threshold's cases are saga_catch_up_l1.)"""
    cdef Py_ssize_t lag = end - first
    if lag <= 0:
        return w
    if o.l1_step == 0.0:
        return o.decay_pow[lag] * w - o.step * s * saga_pull(first, lag, o)
    return saga_catch_up_l1(w, s, first, end, o)


cdef double saga_catch_up_l1(double w, double s, Py_ssize_t first,
                             Py_ssize_t end, const SagaOptions* o) noexcept nogil:
    """saga_catch_up with an L1 threshold tau > 0. 1 / m_t is constant, or
    (while the memory fills) decreasing: the pull eta |s| / m_t never grows,
    which keeps each stretch below monotone."""
    cdef Py_ssize_t lag = end - first, t, t1
    cdef double sigma = o.step * s, tau = o.l1_step, last_pull, e
    # While w keeps its sign the map is affine (c w - a_t - tau above zero,
    # c w - a_t + tau below); its iterates cannot cross zero and come back, so
    # an end value of the start's sign means no step crossed zero.
    if w > 0.0:
        e = (o.decay_pow[lag] * w - sigma * saga_pull(first, lag, o)
             - tau * o.decay_sum[lag])
        if e >= 0.0:
            return e
    elif w < 0.0:
        e = (o.decay_pow[lag] * w - sigma * saga_pull(first, lag, o)
             + tau * o.decay_sum[lag])
        if e <= 0.0:
            return e
    t = first
    while t < end and w != 0.0:
        w = soft_threshold(o.decay * w - sigma * saga_inv_m(t, o), tau)
        t += 1
    if t == end or fabs(sigma) * saga_inv_m(t, o) <= tau:
        return w  # (at zero with a pull within tau, it stays there)
    # From zero, the steps whose pull exceeds tau move it away on the side
    # opposite to s (affine again); then, if the pull falls within tau, it
    # decays back monotonically and stops at zero.
    t1 = end
    if o.seen < o.n and fabs(sigma) <= tau * o.n:
        last_pull = fabs(sigma) / tau - o.seen - 1  # the first t with pull <= tau
        if last_pull < end:
            t1 = max(t, <Py_ssize_t>ceil(last_pull))
    lag = t1 - t
    if sigma > 0.0:
        w = -(sigma * saga_pull(t, lag, o) - tau * o.decay_sum[lag])
    else:
        w = -(sigma * saga_pull(t, lag, o) + tau * o.decay_sum[lag])
    if t1 == end:
        return w
    lag = end - t1
    e = o.decay_pow[lag] * w - sigma * saga_pull(t1, lag, o)
    if w > 0.0:
        return max(e - tau * o.decay_sum[lag], 0.0)
    return min(e + tau * o.decay_sum[lag], 0.0)


cdef inline void row_add(double* s, double a, const floating* x,
                         const index_t* ind, Py_ssize_t nnz) noexcept nogil:
    """s += a * x, s in double."""
    cdef Py_ssize_t j
    for j in range(nnz):
        s[j if ind == NULL else ind[j]] += a * x[j]


cdef Py_ssize_t saga_run(
    const floating* data, const index_t* indices, const index_t* indptr,
    Py_ssize_t row_stride, Py_ssize_t n_features,
    const int32_t* y_code, const floating* sample_weight, Py_ssize_t weight_stride,
    floating* coef, double* intercept, floating* memory,
    double* grad_sum, double* intercept_grad_sum, const int32_t* model_class,
    const int64_t* models, Py_ssize_t n_models,
    const int64_t* order, Py_ssize_t n_order, const SagaOptions* o,
    double* margin, double* prob, double* b, double* sb, Py_ssize_t* last,
    SagaCoord* pair, bint fill_memory,
) noexcept nogil:
    """One SAGA epoch of the listed models over the rows ``order``; returns
    -1, or the row where it stopped (a non-finite margin, or a CSR column
    index outside the width). ``memory`` has a row per example and a column
    per listed model: an example's scalars share a cache line. ``margin``,
    ``prob``, ``b``, ``sb`` (one per listed model), ``last`` (one per
    feature, CSR) and ``pair`` (one per listed model and feature, CSR) are
    scratch space: a CSR epoch steps the weights and sums in ``pair`` and
    writes them back at its end.

    ``fill_memory``: instead of stepping, set every visited example's memory
    to its gradient at the current weights (and the sums to match), as SAGA
    starts: from a good model (warm start) the first steps then stay there.
    """
    cdef Py_ssize_t r, i, mi, m, jj, j, nnz, ahead, bad = -1
    cdef const floating* x
    cdef const index_t* ind
    cdef floating* w
    cdef double* s
    cdef double g, y, delta, eta = o.step, c = o.decay, tau = o.l1_step
    cdef double inv_n, v
    cdef bint sparse = indices != NULL
    cdef bint paired = sparse and not fill_memory
    cdef SagaCoord* cw
    for mi in range(n_models):
        # The intercepts and their sums are written every example: kept here
        # (not shared with the threads training other models).
        b[mi] = intercept[models[mi]]
        sb[mi] = intercept_grad_sum[models[mi]]
    if paired:
        for j in range(n_features):
            last[j] = 0
        for mi in range(n_models):
            m = models[mi]
            for j in range(n_features):
                pair[mi * n_features + j].w = coef[m * n_features + j]
                pair[mi * n_features + j].s = grad_sum[m * n_features + j]
    for r in range(n_order):
        i = order[r]
        prefetch_visits(data, indices, indptr, row_stride, order, n_order, r)
        if r + PREFETCH_AHEAD < n_order:
            # The later row's label, weight and memory: as scattered as its data.
            ahead = order[r + PREFETCH_AHEAD]
            prefetch_bytes(y_code + ahead, sizeof(int32_t))
            prefetch_bytes(sample_weight + ahead * weight_stride, sizeof(floating))
            prefetch_bytes(memory + ahead * n_models, n_models * sizeof(floating))
        if sparse:
            x = data + indptr[i]
            ind = indices + indptr[i]
            nnz = indptr[i + 1] - indptr[i]
            if not columns_within(ind, nnz, n_features):
                bad = i
                break
        else:
            x = data + i * row_stride
            ind = NULL
            nnz = n_features
        for mi in range(n_models):
            w = coef + models[mi] * n_features
            if paired:
                # The row's coordinates brought up to date (r steps so far)
                # in the pass that reads them for the margin.
                v = 0.0
                for jj in range(nnz):
                    cw = pair + mi * n_features + ind[jj]
                    cw.w = <floating>saga_catch_up(cw.w, cw.s, last[ind[jj]], r, o)
                    v += cw.w * x[jj]
                margin[mi] = v + b[mi]
            else:
                margin[mi] = row_dot(w, x, ind, nnz) + b[mi]
        if paired:
            for jj in range(nnz):
                last[ind[jj]] = r + 1
        if not finite_values(margin, n_models):
            bad = i
            break
        if o.multinomial:
            softmax(margin, n_models, prob)
        inv_n = saga_inv_m(r, o)
        for mi in range(n_models):
            m = models[mi]
            y = 1.0 if y_code[i] == model_class[m] else 0.0
            g = (prob[mi] if o.multinomial else sigmoid(margin[mi])) - y
            g *= sample_weight[i * weight_stride]
            delta = g - memory[i * n_models + mi]
            memory[i * n_models + mi] = <floating>g
            w = coef + m * n_features
            s = grad_sum + m * n_features
            if fill_memory:
                row_add(s, delta, x, ind, nnz)
                sb[mi] += delta
                continue
            if sparse:
                for jj in range(nnz):
                    cw = pair + mi * n_features + ind[jj]
                    v = c * cw.w - eta * (delta * x[jj] + cw.s * inv_n)
                    cw.w = <floating>(soft_threshold(v, tau) if tau > 0.0 else v)
                    cw.s += delta * x[jj]
            elif floating is double:
                saga_step_f64(w, s, x, n_features, c, eta, delta, inv_n, tau)
            else:
                saga_step_f32(w, s, x, n_features, c, eta, delta, inv_n, tau)
            if o.fit_intercept:
                b[mi] -= eta * (delta + sb[mi] * inv_n)
                sb[mi] += delta
    if paired:
        # Every coordinate current at the end of the epoch (also after a stop).
        for mi in range(n_models):
            m = models[mi]
            for j in range(n_features):
                cw = pair + mi * n_features + j
                coef[m * n_features + j] = <floating>saga_catch_up(
                    cw.w, cw.s, last[j], r if bad >= 0 else n_order, o)
                grad_sum[m * n_features + j] = cw.s
    for mi in range(n_models):
        intercept[models[mi]] = b[mi]
        intercept_grad_sum[models[mi]] = sb[mi]
    return bad


def _saga(
    *, const floating[::1] values, const index_t[::1] indices,
    const index_t[::1] indptr, bint sparse, Py_ssize_t n_rows,
    const int32_t[::1] y_code, const floating[::1] sample_weight,
    floating[:, ::1] coef, double[::1] intercept, floating[:, ::1] memory,
    double[:, ::1] grad_sum, double[::1] intercept_grad_sum,
    const int32_t[::1] model_class, const int64_t[::1] models,
    const int64_t[::1] order, const double[::1] decay_pow,
    const double[::1] decay_sum, double step, double l2, double l1,
    bint fit_intercept, bint multinomial, bint fill_memory=False, seen=None,
):
    cdef Py_ssize_t n_models = coef.shape[0], n_features = coef.shape[1]
    cdef Py_ssize_t k, n_listed = models.shape[0], n_order = order.shape[0]
    cdef Py_ssize_t bad = -1
    cdef bint finite
    cdef SagaOptions o
    if n_models < 1 or n_features < 1:
        raise ValueError(f"coef has shape {(n_models, n_features)}: no models")
    n_rows = check_rows(values, indices, indptr, sparse, n_rows, n_features,
                        y_code, sample_weight)
    if (intercept.shape[0] != n_models or intercept_grad_sum.shape[0] != n_models
            or model_class.shape[0] != n_models
            or grad_sum.shape[0] != n_models or grad_sum.shape[1] != n_features
            or memory.shape[0] != n_rows or memory.shape[1] != n_listed):
        raise ValueError("the SAGA arrays do not have one row per model of "
                         f"{n_features} features (memory: one row per example "
                         f"of {n_rows}, a column per listed model)")
    if decay_pow.shape[0] <= n_order or decay_sum.shape[0] <= n_order:
        raise ValueError("the decay tables are shorter than the epoch")
    if n_listed < 1 or (multinomial and n_listed != n_models):
        raise ValueError("models must list every model (multinomial) or some")
    for k in range(n_listed):
        if models[k] < 0 or models[k] >= n_models:
            raise ValueError(f"models lists {models[k]}; there are {n_models}")
    for k in range(n_order):
        if order[k] < 0 or order[k] >= n_rows:
            raise ValueError(f"order lists row {order[k]}; there are {n_rows}")
    if n_order == 0:
        return -1
    if not (step > 0.0 and l2 >= 0.0 and l1 >= 0.0 and step * l2 < 1.0):
        raise ValueError(f"step {step}, l2 {l2}, l1 {l1}: need step * l2 < 1")
    o.step = step
    o.decay = 1.0 - step * l2
    o.l1_step = step * l1
    o.n = n_rows
    o.inv_n = 1.0 / n_rows
    o.seen = n_rows if seen is None else seen
    if o.seen < 0 or o.seen > n_rows:
        raise ValueError(f"seen is {o.seen}: it counts examples, 0 .. {n_rows}")
    o.fit_intercept = fit_intercept
    o.multinomial = multinomial
    o.decay_pow = &decay_pow[0]
    o.decay_sum = &decay_sum[0]
    o.seen_sum = NULL
    seen_sum_array = np.zeros(n_order + 1 if o.seen < n_rows else 1)
    cdef double[::1] seen_sum = seen_sum_array
    if o.seen < n_rows:
        for k in range(n_order):
            seen_sum[k + 1] = o.decay * seen_sum[k] + saga_inv_m(k, &o)
        o.seen_sum = &seen_sum[0]
    scratch = np.empty(4 * n_listed)
    cdef double[::1] sc = scratch
    last_array = np.empty(n_features if sparse else 1, dtype=np.intp)
    cdef Py_ssize_t[::1] last = last_array
    pair_array = np.empty(2 * n_listed * n_features if sparse and not fill_memory
                          else 2)
    cdef double[::1] pair = pair_array
    with nogil:
        bad = saga_run(
            &values[0], &indices[0] if sparse else NULL,
            &indptr[0] if sparse else NULL, 0 if sparse else n_features, n_features,
            &y_code[0], &sample_weight[0], 1 if sample_weight.shape[0] > 1 else 0,
            &coef[0, 0], &intercept[0], &memory[0, 0],
            &grad_sum[0, 0], &intercept_grad_sum[0], &model_class[0],
            &models[0], n_listed, &order[0], n_order, &o,
            &sc[0], &sc[n_listed], &sc[2 * n_listed], &sc[3 * n_listed], &last[0],
            <SagaCoord*>&pair[0], fill_memory)
        if bad < 0:
            finite = coef_rows_finite(&coef[0, 0], n_features, &models[0], n_listed)
            for k in range(n_listed):
                finite = finite and isfinite(intercept[models[k]])
            if not finite:
                bad = WEIGHTS_NOT_FINITE
    return bad


def saga_epoch(*, X=None, data=None, indices=None, indptr=None, **arrays):
    """One SAGA epoch (see the section's comment) over the rows ``order`` for
    the models ``models``, updating ``coef``, ``intercept``, ``memory``
    ((n_rows, len(models)): the listed models' last gradient scalars),
    ``grad_sum`` and ``intercept_grad_sum`` in place (with
    ``fill_memory=True``, only the last three: every example's gradient at
    the current weights). Dense X: ``X=``; CSR: ``data=, indices=,
    indptr=``. Returns -1 or the row where the epoch stopped."""
    if X is not None:
        if X.ndim != 2:
            raise ValueError("X must be 2-D")
        empty = np.zeros(0, dtype=np.int32)
        return _saga(values=X.reshape(-1), indices=empty, indptr=empty,
                     sparse=False, n_rows=X.shape[0], **arrays)
    return _saga(values=data, indices=indices, indptr=indptr, sparse=True,
                 n_rows=0, **arrays)
