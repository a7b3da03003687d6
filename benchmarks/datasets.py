"""Built-in benchmark data: generated dense/sparse sets and scikit-learn's bundled sets."""

import numpy as np
import scipy.sparse as sp
from sklearn.datasets import load_breast_cancer, load_digits, make_classification
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler


def _standardised_split(X, y, seed=0):
    X_tr, X_te, y_tr, y_te = train_test_split(
        X, y, test_size=0.2, stratify=y, random_state=seed
    )
    scaler = StandardScaler().fit(X_tr)
    return scaler.transform(X_tr), scaler.transform(X_te), y_tr, y_te


def dense(n_samples, n_features, n_classes=2, dtype=np.float64, seed=0):
    X, y = make_classification(
        n_samples=n_samples,
        n_features=n_features,
        n_informative=n_features // 2,
        n_classes=n_classes,
        n_clusters_per_class=1,
        flip_y=0.02,
        random_state=seed,
    )
    X_tr, X_te, y_tr, y_te = _standardised_split(X, y, seed)
    return X_tr.astype(dtype), X_te.astype(dtype), y_tr, y_te


def sparse(n_samples, n_features, nnz_per_row, seed=0):
    """CSR rows with nnz_per_row random features, labels from a sparse linear model."""
    rng = np.random.default_rng(seed)
    indices = rng.integers(0, n_features, size=(n_samples, nnz_per_row))
    indices.sort(axis=1)
    data = rng.standard_normal((n_samples, nnz_per_row))
    indptr = np.arange(0, n_samples * nnz_per_row + 1, nnz_per_row)
    X = sp.csr_matrix(
        (data.ravel(), indices.ravel(), indptr), shape=(n_samples, n_features)
    )
    X.sum_duplicates()
    w = rng.standard_normal(n_features) * (rng.random(n_features) < 0.2)
    margin = X @ w
    y = (margin + 0.5 * rng.standard_normal(n_samples) > 0).astype(int)
    n_test = n_samples // 5
    return X[n_test:], X[:n_test], y[n_test:], y[:n_test]


def bundled(name):
    loader = {"digits": load_digits, "breast_cancer": load_breast_cancer}[name]
    X, y = loader(return_X_y=True)
    return _standardised_split(X, y)


def badly_scaled(n_samples, n_features, seed=0):
    """Dense features whose scales span 0.01 to 1000, not standardised."""
    X, y = make_classification(
        n_samples, n_features, n_informative=n_features * 2 // 5, random_state=seed
    )
    scales = np.logspace(-2, 3, n_features)
    X = X * scales[np.random.default_rng(seed).permutation(n_features)]
    X_tr, X_te, y_tr, y_te = train_test_split(
        X, y, test_size=0.2, stratify=y, random_state=seed
    )
    return X_tr, X_te, y_tr, y_te


def sparse_multiclass(n_samples, n_features, nnz_per_row, n_classes, seed=0):
    """CSR rows as in ``sparse``, labels the argmax of n_classes sparse linear scores."""
    X_tr, X_te, _, _ = sparse(n_samples, n_features, nnz_per_row, seed)
    rng = np.random.default_rng(seed + 1)
    W = rng.standard_normal((n_features, n_classes)) * (
        rng.random((n_features, n_classes)) < 0.2
    )

    def labels(X):
        scores = X @ W
        return np.argmax(scores + rng.gumbel(size=scores.shape), axis=1)

    return X_tr, X_te, labels(X_tr), labels(X_te)
