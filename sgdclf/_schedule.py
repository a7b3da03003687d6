"""Learning-rate schedules and stopping rules (pure Python, per epoch).

The per-example step size is computed in the kernel from the options built
here; this module holds what is decided once per fit or once per epoch.

Schedules (t counts updates, starting at 1):

- ``"constant"``: eta = eta0.
- ``"optimal"``: eta = 1 / (alpha * (t0 + t - 1)), Bottou's heuristic; t0 is
  chosen so the first step equals a "typical" weight size 1 / sqrt(sqrt(alpha))
  divided by the largest gradient of the loss (at most 1 for the log loss).
- ``"invscaling"``: eta = eta0 / t ** power_t.
- ``"adaptive"``: eta = eta0, divided by 5 each time the stopping rule sees
  ``n_iter_no_change`` epochs without improvement (until eta < 1e-6).
- ``"adagrad"``: per coordinate, eta_j = eta0 / sqrt(1e-8 + G_j), G_j the sum
  of the squared gradients coordinate j has received; the kernel keeps G.

The "optimal" t0 serves the multinomial loss unchanged: the heuristic bounds
the derivative of the loss with respect to a score by 1, and the softmax
cross-entropy's, softmax(p)_k - [y = k], lies in (-1, 1) as well.
"""

import math

# The adaptive schedule divides eta by this on each plateau, down to ADAPTIVE_MIN_ETA.
ADAPTIVE_DIVISOR = 5.0
ADAPTIVE_MIN_ETA = 1e-6


def optimal_t0(alpha):
    """t offset of the "optimal" schedule, so that the first step is typw / max|g|.

    typw = alpha ** -0.25 estimates the size of a typical weight; g, the
    gradient of the logistic loss with respect to the margin, is sigmoid(p) - y
    whose absolute value is below 1, so the first step is typw itself.
    """
    typical_weight = math.sqrt(1.0 / math.sqrt(alpha))
    # |sigmoid(-typw) - 1| < 1, so the max(1, |g|) of the heuristic is 1.
    max_gradient = max(1.0, 1.0 - 1.0 / (1.0 + math.exp(typical_weight)))
    first_step = typical_weight / max_gradient
    return 1.0 / (first_step * alpha)


class StoppingRule:
    """Counts epochs without improvement of a per-epoch criterion.

    ``minimize=True`` for the training objective (improvement means lower by
    more than ``tol``), ``False`` for a validation score (higher by at least
    ``tol``). ``tol=None`` never counts an epoch as a plateau.
    """

    def __init__(self, *, tol, n_iter_no_change, minimize):
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.sign = 1.0 if minimize else -1.0
        self.best = math.inf
        self.count = 0
        self.last = None  # the value observe saw last

    def observe(self, value):
        """Record one epoch's value; True when the plateau is long enough."""
        self.last = value
        value = self.sign * value
        if self.tol is not None and value > self.best - self.tol:
            self.count += 1
        else:
            self.count = 0
        if value < self.best:
            self.best = value
        return self.count >= self.n_iter_no_change

    def restart_count(self):
        self.count = 0
