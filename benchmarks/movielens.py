"""MovieLens 100K benchmarks.

Ratings (the default): movielens_mf under 5-fold random K-fold over all 100,000 ratings,
beside scikit-surprise's SVD and BaselineOnly trained on the very same folds; then the
serving latency of a batch of 1,000 raw (user, item) pairs through the reloaded export.
`--seeds 0 1 2` trains on the same folds (those of seed 0) with each training seed and adds
the mean and spread of the mean RMSE.

Top-10 (`--ranking`): for each seed, a random 90/10 split of the ratings drawn with that seed;
movielens_bpr, movielens_mf and movielens_neural trained on it with that seed; each judged
through its export's `recommend` signature, loaded with TensorFlow alone, over every film the
user did not rate in training (relevant: held-out ratings >= 4), beside the most-popular and
random rankings on the same split; mean and spread over the seeds.

Usage (from the repository root; the ratings benchmark needs `pip install scikit-surprise`):
    KDL_DATA_DIR=../shared/data python benchmarks/movielens.py [--pipeline movielens_neural]
    KDL_DATA_DIR=../shared/data python benchmarks/movielens.py --seeds 0 1 2
    KDL_DATA_DIR=../shared/data python benchmarks/movielens.py --ranking --seeds 0 1 2
Writes benchmarks/out/movielens.json (movielens_ranking.json) and prints the figures for
benchmarks/RESULTS.md.
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
from kdl import export, metrics, runner, topk, validation
from kdl.data.locate import locate
from kdl.data.ratings import MOVIELENS_100K_SOURCE, read_ratings
from kdl.spec import resolve

TARGET_RMSE, TARGET_RATIO, TARGET_FOLD_SECONDS, TARGET_SERVE_MS = 0.907, 0.97, 60.0, 20.0
RANKED_PIPELINES = ("movielens_bpr", "movielens_mf", "movielens_neural")
RANKING_MARGIN = 0.03  # "beats popularity by a clear margin": NDCG@10 this far above, every seed


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


def exported_top_k(export_path: Path, users: np.ndarray, k: int) -> np.ndarray:
    """Each user's top-k item ids from the export's `recommend`, loaded with TensorFlow only."""
    import tensorflow as tf

    recommend = tf.saved_model.load(str(export_path)).signatures["recommend"]
    rows = [recommend(user_id=tf.constant(users[i:i + 256], tf.int64),
                      k=tf.constant(k, tf.int32))["item_ids"].numpy()
            for i in range(0, len(users), 256)]
    return np.concatenate(rows)


def ranking_benchmark(seeds: list[int]) -> None:
    """Top-10 of the three pipelines' exports and of both baselines, one split per seed."""
    frame = read_ratings(locate("movielens_100k", MOVIELENS_100K_SOURCE, None))
    k, figures = metrics.RANKING_K, {name: [] for name in (*RANKED_PIPELINES, "most popular",
                                                           "random")}
    seconds: dict[str, list[float]] = {name: [] for name in RANKED_PIPELINES}
    workdir = Path(tempfile.mkdtemp(prefix="kdl-bench-ranking-"))
    for seed in seeds:
        dataset = None
        for name in RANKED_PIPELINES:
            began = time.perf_counter()
            result = pipelines.run(name, data=frame, test_size=0.1, seed=seed, verbose=0,
                                   runs_dir=str(workdir / "runs"),
                                   export=str(workdir / f"models-{seed}"), publish=False)
            seconds[name].append(time.perf_counter() - began)
            dataset = result.dataset
            relevant = topk.relevant_items(dataset.x_test, dataset.y_test)
            users = np.fromiter(relevant, dtype=np.int64)
            lists = exported_top_k(result.export_path, users, k)
            figures[name].append(metrics.ranking_metrics([relevant[int(u)] for u in users],
                                                         lists.tolist(), k))
            print(f"seed {seed} {name}: ndcg@{k} {figures[name][-1][f'ndcg@{k}']:.4f} "
                  f"({seconds[name][-1]:.0f} s)", flush=True)
        for name, row in topk.baseline_metrics(dataset.x_train, dataset.x_train,
                                               dataset.x_test, dataset.y_test).items():
            figures[name].append(row)
            print(f"seed {seed} {name}: ndcg@{k} {row[f'ndcg@{k}']:.4f}", flush=True)
    names = list(figures[RANKED_PIPELINES[0]][0])
    summary = {name: {m: {"mean": float(np.mean([r[m] for r in rows])),
                          "std": float(np.std([r[m] for r in rows])),
                          "per_seed": [r[m] for r in rows]} for m in names}
               for name, rows in figures.items()}
    print(f"\n{'ranking':>18} " + " ".join(f"{m:>17}" for m in names))
    for name, row in summary.items():
        print(f"{name:>18} " + " ".join(f"{row[m]['mean']:.4f} ± {row[m]['std']:.4f}"
                                        for m in names))
    ndcg = f"ndcg@{k}"
    margins = np.subtract(summary["movielens_bpr"][ndcg]["per_seed"],
                          summary["most popular"][ndcg]["per_seed"])
    print(f"movielens_bpr above most popular, {ndcg} per seed: "
          f"{', '.join(f'{m:+.4f}' for m in margins)} (target: above +{RANKING_MARGIN} on "
          f"every seed: {'met' if margins.min() > RANKING_MARGIN else 'MISSED'})")
    out = Path(__file__).parent / "out"
    out.mkdir(exist_ok=True)
    (out / "movielens_ranking.json").write_text(json.dumps({
        "machine": f"{platform.machine()}, {os.cpu_count()} CPU cores",
        "environment": export.environment(), "seeds": seeds, "k": k,
        "protocol": "random 90/10 split per seed; every film unrated in training ranked; "
                    "relevant: held-out ratings >= 4; models through the export's recommend",
        "summary": summary, "run_seconds": seconds}, indent=2, default=str))
    print(f"wrote {out / 'movielens_ranking.json'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pipeline", default="movielens_mf")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0],
                        help="training seeds, all on the folds of seed 0 (with --ranking: "
                             "one split and training seed each)")
    parser.add_argument("--ranking", action="store_true",
                        help="the top-10 benchmark of the ranking and rating pipelines")
    args = parser.parse_args()
    if args.ranking:
        ranking_benchmark(args.seeds)
        return

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
