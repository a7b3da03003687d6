"""The inner loop of sgdclf: one epoch of per-example logistic-regression SGD.

Everything that is not the inner loop (validation, labels, weights, schedules,
stopping rules, attributes) lives in Python; see ``_training.py``.

One call runs one epoch over the rows listed in ``order`` for a set of binary
models that share the data (one model for a binary problem, one per class for
one-vs-rest). Each example is read once and updates every model, with the GIL
released. For one model and one example (x, y), with y in {0, 1}:

    p      = w . x + b                      (margin)
    g      = sigmoid(p) - y                 (d loss / d p for the log loss)
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
"""

from cython cimport floating
from libc.math cimport exp, fabs, isfinite, log1p, pow
from libc.stdint cimport int32_t, int64_t
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

PENALTIES = {None: PENALTY_NONE, "l1": PENALTY_L1, "l2": PENALTY_L2,
             "elasticnet": PENALTY_ELASTICNET}
SCHEDULES = {"constant": SCHEDULE_CONSTANT, "optimal": SCHEDULE_OPTIMAL,
             "invscaling": SCHEDULE_INVSCALING, "adaptive": SCHEDULE_ADAPTIVE}

# Below this the lazy weight scale is folded into the weights.
cdef double WSCALE_MIN = 1e-9


cdef struct Options:
    # Options shared by all models; built from a dict of the same names.
    int penalty
    double alpha
    double l1_ratio
    int schedule
    double eta0
    double power_t
    double optimal_init     # t offset of the "optimal" schedule
    bint fit_intercept
    double average_start    # averaging starts when t >= this; 0 = off
    bint track_objective    # accumulate loss and objective per example


cdef struct ModelState:
    # Per-model scalars, a row of the structured array MODEL_STATE_DTYPE.
    double intercept
    double average_intercept
    double t                # number of updates so far, starting at 1
    double eta              # step for the constant and adaptive schedules
    double l1_u             # cumulative L1 penalty per unit weight
    double loss_sum         # out: sum of losses over this epoch
    double objective_sum    # out: sum of loss + penalty over this epoch


MODEL_STATE_DTYPE = np.dtype([
    ("intercept", np.float64),
    ("average_intercept", np.float64),
    ("t", np.float64),
    ("eta", np.float64),
    ("l1_u", np.float64),
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


# ---------------------------------------------------------------- logistic pieces

cdef inline double sigmoid(double p) noexcept nogil:
    """1 / (1 + exp(-p)), without overflow for any p."""
    cdef double e
    if p >= 0:
        return 1.0 / (1.0 + exp(-p))
    e = exp(p)
    return e / (1.0 + e)


cdef inline double log_loss(double p, double y) noexcept nogil:
    """log(1 + exp(p)) - y * p: the logistic loss of margin p for y in {0, 1}."""
    if p > 0:
        return p * (1.0 - y) + log1p(exp(-p))
    return log1p(exp(p)) - y * p


def py_sigmoid(double p):
    """Python wrapper of the kernel's sigmoid, for tests."""
    return sigmoid(p)


def py_log_loss(double p, double y):
    """Python wrapper of the kernel's logistic loss, for tests."""
    return log_loss(p, y)


def py_log_loss_gradient(double p, double y):
    """d log_loss / d p = sigmoid(p) - y, as the kernel computes it."""
    return sigmoid(p) - y


# ---------------------------------------------------------------- row algebra
# A row is (x, ind, nnz): ind == NULL means a dense contiguous row of length nnz.

cdef inline double row_dot(const floating* w, const floating* x, const index_t* ind,
                           Py_ssize_t nnz) noexcept nogil:
    cdef Py_ssize_t j
    cdef double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0
    if ind == NULL:
        j = 0
        while j + 4 <= nnz:
            s0 += w[j] * x[j]
            s1 += w[j + 1] * x[j + 1]
            s2 += w[j + 2] * x[j + 2]
            s3 += w[j + 3] * x[j + 3]
            j += 4
        while j < nnz:
            s0 += w[j] * x[j]
            j += 1
        return (s0 + s1) + (s2 + s3)
    for j in range(nnz):
        s0 += w[ind[j]] * x[j]
    return s0


cdef inline double row_sq_norm(const floating* x, Py_ssize_t nnz) noexcept nogil:
    cdef Py_ssize_t j
    cdef double s = 0.0
    for j in range(nnz):
        s += <double>x[j] * x[j]
    return s


cdef inline void row_axpy(floating* w, double a, const floating* x,
                          const index_t* ind, Py_ssize_t nnz) noexcept nogil:
    """w += a * x."""
    cdef Py_ssize_t j
    cdef floating af = <floating>a
    if ind == NULL:
        for j in range(nnz):
            w[j] += af * x[j]
    else:
        for j in range(nnz):
            w[ind[j]] += af * x[j]


cdef inline void row_axpy_tracked(floating* w, double a, const floating* x,
                                  const index_t* ind, Py_ssize_t nnz,
                                  Lazy* lz) noexcept nogil:
    """w += a * x, keeping the raw squared and absolute norms of w current."""
    cdef Py_ssize_t j, k
    cdef double old, new
    cdef floating af = <floating>a
    for j in range(nnz):
        k = j if ind == NULL else ind[j]
        old = w[k]
        w[k] += af * x[j]
        new = w[k]
        lz.sq_norm += new * new - old * old
        lz.abs_norm += fabs(new) - fabs(old)


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
    when their feature next appears.
    """
    cdef Py_ssize_t j, k
    cdef double s = lz.wscale
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
        v[k] = <floating>(w_new / s)
        q[k] += <floating>(s * (v[k] - z))
        if averaging:
            A[k] -= <floating>(lz.avg_alpha * (v[k] - z))
        if track:
            lz.sq_norm += <double>v[k] * v[k] - z * z
            lz.abs_norm += fabs(v[k]) - fabs(z)


cdef void fold(floating* v, floating* A, Py_ssize_t n_features, Lazy* lz,
               bint averaging) noexcept nogil:
    """Write the lazy representation back into plain arrays (wscale = 1)."""
    cdef Py_ssize_t j
    cdef double s = lz.wscale
    if averaging:
        for j in range(n_features):
            A[j] = <floating>((A[j] + lz.avg_alpha * v[j]) / lz.avg_beta)
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


# ---------------------------------------------------------------- one update

cdef inline double step_size(const Options* opt, ModelState* st) noexcept nogil:
    if opt.schedule == SCHEDULE_OPTIMAL:
        return 1.0 / (opt.alpha * (opt.optimal_init + st.t - 1.0))
    if opt.schedule == SCHEDULE_INVSCALING:
        return opt.eta0 / pow(st.t, opt.power_t)
    return st.eta


cdef inline void update_model(
    const floating* x, const index_t* ind, Py_ssize_t nnz, double xx,
    double y, double sample_weight,
    floating* v, floating* A, floating* q, Py_ssize_t n_features,
    ModelState* st, Lazy* lz, const Options* opt,
) noexcept nogil:
    """One SGD step of one binary model on one example (see the module doc)."""
    cdef double vx = row_dot(v, x, ind, nnz)
    cdef double p = lz.wscale * vx + st.intercept
    cdef double eta = step_size(opt, st)
    cdef bint has_l1 = opt.penalty == PENALTY_L1 or opt.penalty == PENALTY_ELASTICNET
    cdef bint has_l2 = opt.penalty == PENALTY_L2 or opt.penalty == PENALTY_ELASTICNET
    cdef bint averaging = opt.average_start > 0 and st.t >= opt.average_start
    cdef double l1_ratio = opt.l1_ratio if opt.penalty == PENALTY_ELASTICNET else (
        1.0 if opt.penalty == PENALTY_L1 else 0.0)
    cdef double loss, decay, update, delta, mu, s
    cdef Py_ssize_t k

    if opt.track_objective:
        loss = log_loss(p, y)
        st.loss_sum += loss
        s = lz.wscale
        st.objective_sum += loss + opt.alpha * (
            (1.0 - l1_ratio) * 0.5 * s * s * lz.penalty_sq_norm
            + l1_ratio * s * lz.penalty_abs_norm)

    update = -eta * (sigmoid(p) - y) * sample_weight

    if has_l2:
        decay = 1.0 - (1.0 - l1_ratio) * eta * opt.alpha
        if decay < 0.0:
            decay = 0.0
        lz.wscale *= decay
        if lz.wscale < WSCALE_MIN:
            s = lz.wscale
            fold(v, A, n_features, lz, opt.average_start > 0)
            vx *= s     # v was rescaled by s

    if update != 0.0:
        delta = update / lz.wscale
        if opt.track_objective and has_l1:
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

    if has_l1:
        st.l1_u += l1_ratio * eta * opt.alpha
        truncate_l1(v, q, A, lz, st.l1_u, x, ind, nnz,
                    averaging and lz.avg_alpha != 0.0, opt.track_objective)

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


# ---------------------------------------------------------------- the epoch

cdef void run_epoch(
    const floating* data, const index_t* indices, const index_t* indptr,
    Py_ssize_t row_stride,
    const int64_t* order, Py_ssize_t n_order,
    const int32_t* y_code, const floating* sample_weight,
    floating* coef, floating* average_coef, floating* l1_q, Py_ssize_t n_features,
    const int64_t* models, Py_ssize_t n_models, const int32_t* model_class,
    ModelState* state, Lazy* lazy, const Options* opt,
) noexcept nogil:
    cdef Py_ssize_t r, i, mi, m
    cdef const floating* x
    cdef const index_t* ind
    cdef Py_ssize_t nnz
    cdef double xx = 0.0
    cdef bint averaging = opt.average_start > 0
    cdef bint l1 = opt.penalty == PENALTY_L1 or opt.penalty == PENALTY_ELASTICNET
    cdef bint need_xx = opt.track_objective and not l1

    for mi in range(n_models):
        m = models[mi]
        start_lazy(coef + m * n_features, n_features, &lazy[mi])
        state[m].loss_sum = 0.0
        state[m].objective_sum = 0.0

    for r in range(n_order):
        i = order[r]
        if indices == NULL:
            x = data + i * row_stride
            ind = NULL
            nnz = row_stride
        else:
            x = data + indptr[i]
            ind = indices + indptr[i]
            nnz = indptr[i + 1] - indptr[i]
        if need_xx:
            xx = row_sq_norm(x, nnz)
        for mi in range(n_models):
            m = models[mi]
            update_model(
                x, ind, nnz, xx,
                1.0 if y_code[i] == model_class[m] else 0.0,
                sample_weight[i],
                coef + m * n_features,
                average_coef + m * n_features if averaging else NULL,
                l1_q + m * n_features if l1 else NULL,
                n_features, &state[m], &lazy[mi], opt,
            )

    for mi in range(n_models):
        m = models[mi]
        fold(coef + m * n_features,
             average_coef + m * n_features if averaging else NULL,
             n_features, &lazy[mi], averaging)


cdef Lazy* alloc_lazy(Py_ssize_t n_models) except NULL:
    cdef Lazy* lazy = <Lazy*>malloc(max(n_models, 1) * sizeof(Lazy))
    if lazy == NULL:
        raise MemoryError()
    return lazy


def epoch_dense(
    *,
    const floating[:, ::1] X,
    const int64_t[::1] order,
    const int32_t[::1] y_code,
    const floating[::1] sample_weight,
    floating[:, ::1] coef,
    floating[:, ::1] average_coef,
    floating[:, ::1] l1_q,
    const int64_t[::1] models,
    const int32_t[::1] model_class,
    ModelState[::1] state,
    Options options,
):
    """One epoch over the rows ``order`` of a C-contiguous dense X.

    ``coef``, ``average_coef``, ``l1_q`` have one row per model (the latter two
    may have zero rows when averaging / L1 is off); ``models`` lists the rows to
    train; ``model_class[m]`` is the label code that is positive for model m.
    """
    cdef Lazy* lazy = alloc_lazy(models.shape[0])
    cdef Py_ssize_t n_features = coef.shape[1]
    try:
        with nogil:
            run_epoch(
                &X[0, 0] if X.shape[0] > 0 else NULL, <const int32_t*>NULL,
                <const int32_t*>NULL, X.shape[1],
                &order[0], order.shape[0], &y_code[0], &sample_weight[0],
                &coef[0, 0],
                &average_coef[0, 0] if average_coef.shape[0] > 0 else NULL,
                &l1_q[0, 0] if l1_q.shape[0] > 0 else NULL,
                n_features, &models[0], models.shape[0], &model_class[0],
                &state[0], lazy, &options,
            )
    finally:
        free(lazy)


def epoch_csr(
    *,
    const floating[::1] data,
    const index_t[::1] indices,
    const index_t[::1] indptr,
    const int64_t[::1] order,
    const int32_t[::1] y_code,
    const floating[::1] sample_weight,
    floating[:, ::1] coef,
    floating[:, ::1] average_coef,
    floating[:, ::1] l1_q,
    const int64_t[::1] models,
    const int32_t[::1] model_class,
    ModelState[::1] state,
    Options options,
):
    """One epoch over the rows ``order`` of a CSR matrix (data, indices, indptr).

    Same contract as :func:`epoch_dense`; a row costs O(its non-zeros).
    """
    cdef Lazy* lazy = alloc_lazy(models.shape[0])
    cdef Py_ssize_t n_features = coef.shape[1]
    try:
        with nogil:
            run_epoch(
                &data[0] if data.shape[0] > 0 else NULL,
                &indices[0] if indices.shape[0] > 0 else NULL,
                &indptr[0], 0,
                &order[0], order.shape[0], &y_code[0], &sample_weight[0],
                &coef[0, 0],
                &average_coef[0, 0] if average_coef.shape[0] > 0 else NULL,
                &l1_q[0, 0] if l1_q.shape[0] > 0 else NULL,
                n_features, &models[0], models.shape[0], &model_class[0],
                &state[0], lazy, &options,
            )
    finally:
        free(lazy)


cdef bint rows_finite(const floating[:, ::1] coef, const int64_t[::1] models) noexcept nogil:
    cdef Py_ssize_t mi, j
    for mi in range(models.shape[0]):
        for j in range(coef.shape[1]):
            if not isfinite(coef[models[mi], j]):
                return False
    return True


def all_finite(const floating[:, ::1] coef, const int64_t[::1] models):
    """True when every weight of the listed model rows is finite."""
    cdef bint ok
    with nogil:
        ok = rows_finite(coef, models)
    return ok
