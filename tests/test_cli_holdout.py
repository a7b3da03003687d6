"""``sgdclf train --holdout``: each pass is judged by the held-out log-loss of
the model at the end of that pass, and the model kept is the best by it."""

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn.datasets import dump_svmlight_file, load_breast_cancer

import sgdclf
from sgdclf import SGDLogisticClassifier
from sgdclf._cli import main
from sgdclf._training import held_out_mask


def run(*args):
    return main([str(a) for a in args])


def held_out_loss(model, X, y):
    """What the command reports: mean -log p(true class), p clipped at 1e-15."""
    proba = model.predict_proba(X)
    code = np.searchsorted(model.classes_, y)
    return float(-np.log(np.clip(proba[np.arange(len(y)), code], 1e-15, 1)).mean())


def reference_passes(X, y, fraction, chunk_rows, passes, params):
    """The model after each pass of partial_fit over the command's chunks,
    without the held-out rows: (model, held-out loss) per pass."""
    held = held_out_mask(np.arange(len(y)), fraction)
    model = SGDLogisticClassifier(**params)
    out = []
    for _ in range(passes):
        for start in range(0, len(y), chunk_rows):
            train = np.flatnonzero(~held[start : start + chunk_rows]) + start
            if len(train):
                model.partial_fit(X[train], y[train], classes=np.unique(y))
        out.append((model.coef_.copy(), held_out_loss(model, X[held], y[held])))
    return out, held


def reported_losses(out):
    return [
        float(line.split()[4])
        for line in out.splitlines()
        if line.startswith("pass ") and "holdout log-loss" in line
    ]


@pytest.fixture(scope="module")
def cancer(tmp_path_factory):
    """Breast cancer as svmlight, standardised: a file of 569 rows, smaller
    than one chunk (the issue's case)."""
    X, y = load_breast_cancer(return_X_y=True)
    X = (X - X.mean(0)) / X.std(0)
    path = tmp_path_factory.mktemp("data") / "cancer.svm"
    dump_svmlight_file(X, y, str(path), zero_based=False)
    return path, X, y


@pytest.mark.parametrize("chunk_rows", [10_000, 100])
def test_each_pass_reports_the_loss_of_its_final_model(
    cancer, tmp_path, capsys, chunk_rows
):
    path, X, y = cancer
    params = dict(alpha=1e-3, learning_rate="constant", eta0=1e-3, random_state=0)
    assert (
        run(
            "train",
            path,
            "--model",
            tmp_path / "m.skops",
            "--passes",
            4,
            "--holdout",
            0.2,
            "--chunk-rows",
            chunk_rows,
            *[f"--param={k}={v}" for k, v in params.items()],
        )
        == 0
    )
    losses = reported_losses(capsys.readouterr().out)
    expected, held = reference_passes(X, y, 0.2, chunk_rows, 4, params)
    # A small constant step: every pass improves, none stops the training
    # (the pass-1 loss is not log 2, the untrained model's).
    assert len(losses) == 4
    assert abs(losses[0] - np.log(2)) > 0.05
    assert_allclose(losses, [loss for _, loss in expected], rtol=1e-5)
    assert np.all(np.diff(losses) < 0)
    kept = sgdclf.load(tmp_path / "m.skops")
    assert_allclose(kept.coef_, expected[-1][0], rtol=1e-12)


def test_the_kept_model_is_the_best_pass(cancer, tmp_path, capsys):
    # A large constant step on raw (unscaled) features: the held-out loss
    # jumps around, and training stops at the first pass that is no better.
    path, X, y = cancer
    X, _ = load_breast_cancer(return_X_y=True)
    raw = tmp_path / "raw.svm"
    dump_svmlight_file(X, y, str(raw), zero_based=False)
    params = dict(learning_rate="constant", eta0=0.5, random_state=0)
    assert (
        run(
            "train",
            raw,
            "--model",
            tmp_path / "m.skops",
            "--passes",
            8,
            "--holdout",
            0.1,
            *[f"--param={k}={v}" for k, v in params.items()],
        )
        == 0
    )
    out = capsys.readouterr().out
    losses = reported_losses(out)
    expected, held = reference_passes(X, y, 0.1, 10_000, len(losses), params)
    assert_allclose(losses, [loss for _, loss in expected], rtol=1e-5)
    # Stopped at the first pass no better than the best before it (or ran all 8).
    best = int(np.argmin(losses))
    if len(losses) < 8:
        assert losses[-1] >= min(losses[:-1])
        assert "stopped improving" in out
    kept = sgdclf.load(tmp_path / "m.skops")
    assert_allclose(kept.coef_, expected[best][0], rtol=1e-12)
    assert held_out_loss(kept, X[held], y[held]) == pytest.approx(min(losses))
