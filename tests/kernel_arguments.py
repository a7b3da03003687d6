"""The options dict the kernel's EpochRunner reads (as _classifier._prepare
builds it), for the tests that call the kernel directly."""

from sgdclf import _kernel


def kernel_options(**changes):
    """A valid options dict: L2, the "optimal" schedule, the objective
    tracked, one-vs-rest; ``changes`` replace entries."""
    options = dict(
        penalty=_kernel.PENALTIES["l2"],
        alpha=1e-2,
        l1_ratio=0.15,
        schedule=_kernel.SCHEDULES["optimal"],
        eta0=0.1,
        power_t=0.5,
        optimal_init=100.0,
        fit_intercept=True,
        average_start=0.0,
        track_objective=True,
        multinomial=False,
    )
    options.update(changes)
    return options
