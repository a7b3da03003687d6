"""DaskSGDLogisticClassifier on a LocalCluster: 1 vs 2 worker processes.

Dense 400k x 100 float64 (8 row blocks of 50k, persisted on the workers
before timing), 5 rounds (tol=None). Reports rows/s per round for 1 and 2
workers, and the held-out log-loss after 1, 2, 3 and 5 rounds against the
single-machine SGDLogisticClassifier after as many epochs.
"""

import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import log_loss

from sgdclf import SGDLogisticClassifier

from . import datasets

ROUNDS = (1, 2, 3, 5)


def measure(full):
    import dask.array as da
    import distributed

    from sgdclf.dask import DaskSGDLogisticClassifier

    # The arrays go to the workers through the graph once, then persist.
    warnings.filterwarnings("ignore", message=".*Large object of size.*")
    n = 500_000 * (2 if full else 1)
    X_tr, X_te, y_tr, y_te = datasets.dense(n, 100)
    block = X_tr.shape[0] // 8
    params = dict(random_state=0, tol=None, average=block)
    out = dict(n_train=int(X_tr.shape[0]), blocks=8, rounds={}, speed={})
    for n_workers in (1, 2):
        with (
            distributed.LocalCluster(
                n_workers=n_workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
            ) as cluster,
            distributed.Client(cluster) as client,
        ):
            Xd = client.persist(da.from_array(X_tr, chunks=(block, X_tr.shape[1])))
            yd = client.persist(da.from_array(y_tr, chunks=block))
            distributed.wait([Xd, yd])
            DaskSGDLogisticClassifier(max_iter=1, **params).fit(Xd, yd)  # warm up
            times = []
            for _ in range(3):
                start = time.perf_counter()
                DaskSGDLogisticClassifier(max_iter=5, **params).fit(Xd, yd)
                times.append(time.perf_counter() - start)
            seconds = float(np.median(times))
            out["speed"][n_workers] = dict(
                seconds_5_rounds=seconds, rows_per_s=5 * X_tr.shape[0] / seconds
            )
            if n_workers == 2:
                for k in ROUNDS:
                    model = DaskSGDLogisticClassifier(max_iter=k, **params).fit(Xd, yd)
                    out["rounds"][k] = dict(
                        dask=float(log_loss(y_te, model.predict_proba(X_te)))
                    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for k in ROUNDS:
            local = SGDLogisticClassifier(max_iter=k, **params).fit(X_tr, y_tr)
            out["rounds"][k]["local"] = float(log_loss(y_te, local.predict_proba(X_te)))
        start = time.perf_counter()
        SGDLogisticClassifier(max_iter=5, **params).fit(X_tr, y_tr)
        out["local_rows_per_s"] = 5 * X_tr.shape[0] / (time.perf_counter() - start)
    out["speedup"] = (
        out["speed"][1]["seconds_5_rounds"] / out["speed"][2]["seconds_5_rounds"]
    )
    return out


def table(r):
    s1, s2 = r["speed"][1], r["speed"][2]
    lines = [
        f"Dense {r['n_train'] // 1000}k x 100 float64 in {r['blocks']} row blocks, "
        "persisted on the workers; 5 rounds, median of 3 fits; averaging from one "
        "block's rows on.",
        "",
        "| | rows/s | 5 rounds |",
        "|---|---|---|",
        f"| 1 worker process | {s1['rows_per_s']:,.0f} | {s1['seconds_5_rounds']:.2f} s |",
        f"| 2 worker processes | {s2['rows_per_s']:,.0f} | {s2['seconds_5_rounds']:.2f} s "
        f"({r['speedup']:.2f}x) |",
        f"| SGDLogisticClassifier in memory, same 5 epochs | "
        f"{r['local_rows_per_s']:,.0f} | |",
        "",
        "| rounds / epochs | held-out log-loss, Dask (2 workers) | in memory |",
        "|---|---|---|",
    ]
    for k, v in r["rounds"].items():
        lines.append(f"| {k} | {v['dask']:.4f} | {v['local']:.4f} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(table(measure(False)))
