"""Watch the epochs of a fit one by one (the kernel runs several per call).

``spy_epochs(monkeypatch)`` makes every EpochRunner of the fits that follow
train one epoch per kernel call, as the epoch loop would if it came back
after every epoch, and returns the list to which each epoch appends
(order as the epoch visited it, n_threads).
"""

from sgdclf import _training


class _EpochByEpoch:
    def __init__(self, runner, log):
        self.runner = runner
        self.log = log

    def train(self, models, order, *, first_epoch, n_epochs, **arguments):
        for k in range(n_epochs):
            ran, bad_row, fired = self.runner.train(
                models, order, first_epoch=first_epoch + k, n_epochs=1, **arguments
            )
            self.log.append((order.copy(), arguments.get("n_threads", 1)))
            if bad_row != -1 or fired:
                return k + 1, bad_row, fired
        return n_epochs, -1, []


def spy_epochs(monkeypatch):
    log = []
    original = _training._runner

    def spy(data, state, options):
        return _EpochByEpoch(original(data, state, options), log)

    monkeypatch.setattr(_training, "_runner", spy)
    return log
