"""MovieLens 100K benchmark: movielens_mf under 5-fold random K-fold over all 100,000 ratings,
beside scikit-surprise's SVD and BaselineOnly trained on the very same folds; then the
serving latency of a batch of 1,000 raw (user, item) pairs through the reloaded export.
`--seeds 0 1 2` trains on the same folds (those of seed 0) with each training seed and adds
the mean and spread of the mean RMSE.

Usage (from the repository root; needs `pip install scikit-surprise`):
    KDL_DATA_DIR=../shared/data python benchmarks/movielens.py [--pipeline movielens_neural]
    KDL_DATA_DIR=../shared/data python benchmarks/movielens.py --seeds 0 1 2
Writes benchmarks/out/movielens.json and prints the figures for benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.model_selection import KFold

import pipelines
from kdl import data as kdl_data
from kdl import export, runner, validation
from kdl.spec import resolve

TARGET_RMSE, TARGET_RATIO, TARGET_FOLD_SECONDS, TARGET_SERVE_MS = 0.907, 0.97, 60.0, 20.0


def surprise_rmse(frame: pd.DataFrame, folds: list, algorithm: str) -> list[float]:
    """RMSE of a scikit-surprise algorithm trained and tested on each of `folds`."""
    import surprise

    reader = surprise.Reader(rating_scale=(1, 5))
    data = surprise.Dataset.load_from_df(frame[["user", "item", "rating"]], reader)
    rows = [tuple(r) for r in frame[["user", "item", "rating"]].itertuples(index=False)]
    scores = []
    for fit_idx, val_idx in folds:
        trainset = data.construct_trainset([(*rows[i], None) for i in fit_idx])
        testset = data.construct_testset([(*rows[i], None) for i in val_idx])
        model = (surprise.SVD(random_state=0) if algorithm == "SVD"
                 else surprise.BaselineOnly(verbose=False))
        model.fit(trainset)
        scores.append(surprise.accuracy.rmse(model.test(testset), verbose=False))
    return scores


def serving_ms(export_path: Path, pairs: np.ndarray, calls: int = 100) -> float:
    """Median milliseconds for one call of the reloaded export's `serve` on `pairs`."""
    import tensorflow as tf

    served = export.load_export(export_path)
    times = export.call_times_ms(lambda batch: np.asarray(served.serve(batch)),
                                 tf.constant(pairs), calls)
    return float(np.median(times))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pipeline", default="movielens_mf")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0],
                        help="training seeds, all on the folds of seed 0")
    args = parser.parse_args()

    dataset = kdl_data.load("movielens_100k", test_size=0)  # every rating, folds over them all
    spec, options = resolve(pipelines.get(args.pipeline),
                            {"validation": f"kfold:{args.folds}", "final_model": "best_fold",
                             "verbose": 0, "seed": 0})
    folds = list(validation.parse(spec.validation, seed=0).split(dataset.x_train,
                                                                  dataset.y_train))
    began = time.perf_counter()
    cv = runner.cross_validate(spec, options, dataset)
    kdl_wall = time.perf_counter() - began
    kdl_rmse = [fold.metrics["rmse"] for fold in cv.folds]
    seed_means = {0: float(np.mean(kdl_rmse))}
    for seed in (s for s in args.seeds if s != 0):
        same_folds = KFold(args.folds, shuffle=True, random_state=0)  # = kfold:N at seed 0
        seeded_spec, seeded = resolve(pipelines.get(args.pipeline), {
            "validation": same_folds, "final_model": "best_fold", "verbose": 0, "seed": seed})
        other = runner.cross_validate(seeded_spec, seeded, dataset)
        seed_means[seed] = float(np.mean([fold.metrics["rmse"] for fold in other.folds]))
        print(f"seed {seed}: mean RMSE {seed_means[seed]:.5f}")
    fold_seconds = [sum(fold.epoch_seconds) for fold in cv.folds]
    assert all(np.array_equal(f.val_idx, v) for f, (_, v) in zip(cv.folds, folds))

    frame = pd.DataFrame({"user": dataset.x_train[:, 0], "item": dataset.x_train[:, 1],
                          "rating": dataset.y_train})
    began = time.perf_counter()
    svd = surprise_rmse(frame, folds, "SVD")
    svd_seconds = time.perf_counter() - began
    baseline = surprise_rmse(frame, folds, "BaselineOnly")

    exported = export.export_model(cv.model, Path(tempfile.mkdtemp(prefix="kdl-bench-ml-")),
                                   {"pipeline": spec.name}, sample=dataset.x_train[:32])
    pairs = dataset.x_train[np.random.default_rng(0).choice(len(dataset.x_train), 1000)]
    serve_ms = serving_ms(exported, pairs)

    mean_kdl, mean_svd = float(np.mean(kdl_rmse)), float(np.mean(svd))
    print(f"{'fold':>4} {spec.name:>14} {'Surprise SVD':>13} {'BaselineOnly':>13} {'fit s':>7}")
    for i, row in enumerate(zip(kdl_rmse, svd, baseline, fold_seconds), start=1):
        print(f"{i:>4} {row[0]:>14.4f} {row[1]:>13.4f} {row[2]:>13.4f} {row[3]:>7.1f}")
    print(f"mean {mean_kdl:>14.4f} {mean_svd:>13.4f} {np.mean(baseline):>13.4f}")
    if len(seed_means) > 1:
        values = list(seed_means.values())
        print(f"mean RMSE over seeds {sorted(seed_means)}: {np.mean(values):.5f} ± "
              f"{np.std(values):.5f}")
    print(f"RMSE {mean_kdl:.4f} (target <= {TARGET_RMSE}); ratio to SVD {mean_kdl / mean_svd:.3f} "
          f"(target <= {TARGET_RATIO}); slowest fold {max(fold_seconds):.1f} s (target < "
          f"{TARGET_FOLD_SECONDS:.0f}); serve 1,000 pairs {serve_ms:.2f} ms (target <= "
          f"{TARGET_SERVE_MS:.0f})")
    figures = {
        "machine": f"{platform.machine()}, {os.cpu_count()} CPU cores",
        "environment": export.environment(), "pipeline": spec.name,
        "model_params": dict(spec.model_params), "training": vars(spec.training),
        "kdl_rmse": kdl_rmse, "kdl_mae": [fold.metrics["mae"] for fold in cv.folds],
        "kdl_ndcg@10": [fold.metrics["ndcg@10"] for fold in cv.folds],
        "kdl_mean_rmse": mean_kdl, "kdl_mean_rmse_by_seed": seed_means, "svd_rmse": svd,
        "svd_mean_rmse": mean_svd,
        "svd_seconds_all_folds": round(svd_seconds, 1),
        "baseline_only_rmse": baseline, "ratio_to_svd": mean_kdl / mean_svd,
        "fold_fit_seconds": [round(s, 1) for s in fold_seconds],
        "kdl_wall_seconds": round(kdl_wall, 1), "serve_1000_pairs_ms": serve_ms,
    }
    out = Path(__file__).parent / "out"
    out.mkdir(exist_ok=True)
    (out / "movielens.json").write_text(json.dumps(figures, indent=2, default=str))
    print(f"wrote {out / 'movielens.json'}")


if __name__ == "__main__":
    main()
