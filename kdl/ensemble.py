"""Ensembles from the lecture: simple and weighted averages, majority vote, stacking — a
meta-model trained on the out-of-fold (OOF) predictions of several pipelines' CV runs — and
the remedies for over- and underfitting as one call: bagging and boosting of any
classification or regression pipeline, each a run with its report and one SavedModel.

Usage:
    bag = bagging("mnist_mlp", n=5, subset=2000)     # runs/mnist_mlp_bag/<time>/
    boost = boosting("tabular_regressor", n=5, data=df, target="y")
    a = pipelines.run("mnist_mlp", validation="stratified_kfold:5")
    b = pipelines.run("mnist_convnet", validation="stratified_kfold:5")
    probabilities = average([predict_test(a), predict_test(b)], weights=[1, 2])
    stacked = stack([a, b])                  # LogisticRegression on the OOF probabilities
    stacked.test_metrics["accuracy"], stacked.validation_metrics["accuracy"]
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from kdl import data as kdl_data
from kdl import tasks
from kdl.boosting import Boosting, check_boostable
from kdl.errors import ConfigError
from kdl.export import KERAS_NAME, load_keras_file, verify_export
from kdl.report import Report
from kdl.runner import OOF_NAME, Fold, RunResult
from kdl.runner import run as run_spec
from kdl.spec import PipelineSpec, RunOptions, from_dict, resolve


def average(predictions: Sequence[np.ndarray],
            weights: Sequence[float] | None = None) -> np.ndarray:
    """The (weighted) mean of several models' probabilities; weights need not sum to one.

    Usage: average([p_mlp, p_cnn], weights=[1, 3])
    """
    stacked = np.stack([np.asarray(p, dtype=np.float64) for p in predictions])
    if weights is not None and (len(weights) != len(predictions) or min(weights) < 0
                                or sum(weights) <= 0):
        raise ConfigError(f"weights must be {len(predictions)} non-negative numbers with a "
                          f"positive sum; got {list(weights)}.")
    return np.average(stacked, axis=0, weights=weights)


def majority_vote(predictions: Sequence[np.ndarray]) -> np.ndarray:
    """Each model votes for its most probable class; ties go to the class with the highest mean
    probability among the tied ones. Returns class indices.

    Usage: majority_vote([p_a, p_b, p_c])
    """
    stacked = np.stack([np.asarray(p, dtype=np.float64) for p in predictions])
    n_classes = stacked.shape[2]
    votes = np.zeros(stacked.shape[1:])
    for model_probabilities in stacked:
        votes[np.arange(len(votes)), model_probabilities.argmax(axis=1)] += 1
    tie_break = stacked.mean(axis=0) / (n_classes * 10)  # < 1 vote: only decides between ties
    return (votes + tie_break * (votes == votes.max(axis=1, keepdims=True))).argmax(axis=1)


def predict_test(result: RunResult) -> np.ndarray:
    """The run's final model's probabilities on its test set (inputs as its data kind takes
    them: float32 images, raw strings, ...)."""
    x_test = kdl_data.as_model_input(result.spec.data_kind, result.dataset.x_test)
    return result.model.predict(x_test, batch_size=1024, verbose=0)


def oof_features(results: Sequence[RunResult]) -> np.ndarray:
    """Meta-features for stacking: the runs' OOF predictions side by side. Every sample must
    have been validated by exactly one model per run that did not train on it, so only K-fold
    style strategies qualify (not holdout or shuffle splits)."""
    if len(results) < 1:
        raise ConfigError("stacking needs at least one cross-validated run.")
    reference = results[0].dataset
    columns = []
    for result in results:
        name = result.spec.name
        if result.oof_predictions is None or len(result.folds) < 2:
            raise ConfigError(f"run {name!r} has no out-of-fold predictions: run it with a "
                              "K-fold strategy, e.g. validation='stratified_kfold:5'.")
        counts = np.zeros(len(result.oof_predictions), int)
        for fold in result.folds:
            counts[fold.val_idx] += 1
        if not (counts == 1).all():
            raise ConfigError(f"run {name!r} ({result.report.validation['strategy']}) does not "
                              "validate every sample exactly once; use a K-fold strategy.")
        if not np.array_equal(result.dataset.y_train, reference.y_train):
            raise ConfigError(f"run {name!r} was trained on other data than "
                              f"{results[0].spec.name!r}; stack runs of the same data "
                              "(same dataset, subset and seed).")
        columns.append(result.oof_predictions.reshape(len(result.oof_predictions), -1))
    return np.hstack(columns)


@dataclass
class Stacked:
    """A fitted stacking ensemble and its honest scores."""

    meta_model: Any
    validation_metrics: dict[str, Any]
    test_metrics: dict[str, Any]

    def predict_proba(self, base_predictions: Sequence[np.ndarray],
                      features: np.ndarray | None = None) -> np.ndarray:
        """Meta-model probabilities from the base models' predictions (and features)."""
        columns = [np.asarray(p).reshape(len(p), -1) for p in base_predictions]
        if features is not None:
            columns.append(features.reshape(len(features), -1))
        return self.meta_model.predict_proba(np.hstack(columns))


def stack(results: Sequence[RunResult], meta_model: Any = None, with_features: bool = False,
          seed: int = 0) -> Stacked:
    """Train `meta_model` (default: standardize, then LogisticRegression) on the runs' OOF
    predictions (plus the original features when `with_features`), estimate it by its own
    5-fold CV on those meta-features, refit on all of them, and score it on the test set, where
    the meta-features are the runs' final models' test predictions. Data without a test split
    (MR) has only the cross-validated figures: `test_metrics` stays empty.

    Usage: stack([mlp_run, convnet_run], with_features=False).test_metrics["accuracy"]
    """
    features_train = oof_features(results)
    dataset = results[0].dataset
    task = tasks.of(results[0].spec)
    if with_features:
        features_train = np.hstack([features_train, _flat(dataset.x_train)])
    model = clone(meta_model) if meta_model is not None else make_pipeline(
        StandardScaler(), LogisticRegression(max_iter=2000))
    folds = StratifiedKFold(5, shuffle=True, random_state=seed)
    validation_proba = cross_val_predict(model, features_train, dataset.y_train, cv=folds,
                                         method="predict_proba")
    model.fit(features_train, dataset.y_train)
    stacked = Stacked(model, task.evaluate(dataset.y_train, validation_proba), {})
    if len(dataset.y_test) == 0:
        return stacked
    test_proba = stacked.predict_proba([predict_test(r) for r in results],
                                       _flat(dataset.x_test) if with_features else None)
    stacked.test_metrics = task.evaluate(dataset.y_test, test_proba)
    return stacked


def _flat(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    return x.reshape(len(x), -1)


METHODS = ("stack", "average", "vote")


def load_run(run_dir: str | Path) -> RunResult:
    """Rebuild a finished run from its folder: the exported model (`model.keras`), the dataset
    (registered datasets only), and, after cross-validation, its OOF predictions and folds.

    Usage: ensemble.stack([load_run(a), load_run(b)])
    """

    run_dir = Path(run_dir)
    report = Report.load(run_dir)
    spec_fields = dict(report.config["spec"])
    if not report.export_path or not (Path(report.export_path) / KERAS_NAME).exists():
        raise ConfigError(f"{run_dir}: the run was not exported, so its model is gone; run it "
                          "again with export on (the default).")
    name = report.data.get("name")
    if name not in kdl_data.names():
        raise ConfigError(f"{run_dir}: ran on {name!r}, which kdl cannot reload; ensembles of "
                          "your own data work from Python with the RunResult objects.")
    dataset = kdl_data.load(name, subset=report.config.get("subset"))
    verify_export(report.export_path)  # the SavedModel TF Serving loads, and model.keras
    model = load_keras_file(Path(report.export_path) / KERAS_NAME)
    oof, folds = None, []
    if (run_dir / OOF_NAME).exists():
        saved = np.load(run_dir / OOF_NAME)
        oof = saved["predictions"]
        everything = np.arange(len(oof))
        for index in range(int(saved["fold"].max()) + 1):
            val_idx = np.flatnonzero(saved["fold"] == index)
            # every other sample: exact for K-fold-style strategies, the only ones stack accepts
            folds.append(Fold(index, np.setdiff1d(everything, val_idx), val_idx, {}, [], {}))
    spec = from_dict(spec_fields)
    return RunResult(model, report.history, report, run_dir, Path(report.export_path), spec,
                     RunOptions(subset=report.config.get("subset")), oof, folds, dataset)



def combine(run_dirs: Sequence[str | Path], method: str = "stack",
            weights: Sequence[float] | None = None, with_features: bool = False) -> dict[str, Any]:
    """Ensemble finished runs (by folder) and return the ensemble's test metrics (and, for
    stacking, its cross-validated metrics on the OOF meta-features).

    Usage: combine(["runs/mnist_mlp/a", "runs/mnist_convnet/b"], method="average")
    """
    if method not in METHODS:
        raise ConfigError(f"unknown ensemble method {method!r}; valid: {', '.join(METHODS)}.")
    if len(run_dirs) < 2:
        raise ConfigError("an ensemble needs at least two run folders.")
    results = [load_run(d) for d in run_dirs]
    if method == "stack":
        stacked = stack(results, with_features=with_features)
        return {"validation": stacked.validation_metrics, "test": stacked.test_metrics}
    reference = results[0].dataset
    for result in results[1:]:
        if not np.array_equal(result.dataset.y_test, reference.y_test):
            raise ConfigError("these runs have different test sets; ensemble runs of one dataset.")
    task = tasks.of(results[0].spec)
    predictions = [predict_test(r) for r in results]
    if method == "average":
        return {"test": task.evaluate(reference.y_test, average(predictions, weights))}
    votes = majority_vote(predictions)
    one_hot = np.eye(predictions[0].shape[1])[votes]
    return {"test": task.evaluate(reference.y_test, one_hot)}


def _spec_of(pipeline: str | PipelineSpec) -> PipelineSpec:
    """A registered pipeline's spec by name, or the spec given."""
    if isinstance(pipeline, PipelineSpec):
        return pipeline
    import pipelines  # the registry of named pipelines

    return pipelines.get_spec(pipeline, "bagging or boosting")


def _check_members(n: Any, what: str) -> None:
    if isinstance(n, bool) or not isinstance(n, int) or n < 2:
        raise ConfigError(f"{what} needs n >= 2 models; got n={n!r}.")


def bagging(pipeline: str | PipelineSpec, n: int = 5, **overrides: Any) -> RunResult:
    """Bootstrap aggregating: n models of the pipeline, each trained on a bootstrap resample
    of the training part (n samples drawn with replacement), averaged. Each model is validated
    on the samples it never drew (out of bag); a sample's out-of-bag prediction is the mean of
    the models that never drew it, which gives the bag's validation estimate without a
    separate fold. One run (`runs/<pipeline>_bag/<time>/`) with the shared report; its export
    is one SavedModel whose `serve` averages the members.

    Usage: bagging("mnist_mlp", n=5, subset=2000).metrics["accuracy"]
    """
    spec = _spec_of(pipeline)
    _check_members(n, "bagging")
    for key in ("validation", "final_model"):
        if key in overrides:
            raise ConfigError(f"bagging validates each member on its out-of-bag samples and "
                              f"averages them, so {key}= does not apply; leave it out.")
    # the spec refuses final_model="average" for a task that cannot combine, naming those
    # that can
    bagged = dataclasses.replace(spec, name=f"{spec.name}_bag", validation=f"bootstrap:{n}",
                                 final_model="average")
    command = (f"kdl bag {spec.name} --n {n}", f"kdl.ensemble.bagging({spec.name!r}, n={n}")
    return run_spec(bagged, command=command, **overrides)


def boosting(pipeline: str | PipelineSpec, n: int = 5, shrinkage: float | None = None,
             **overrides: Any) -> RunResult:
    """Boosting: n stages of the pipeline's model, each trained on what the stages before it
    got wrong — the residuals for regression (shrinkage 0.5 by default), re-weighted samples
    in the manner of AdaBoost's SAMME for classification (see kdl.boosting) — on the training
    part of the pipeline's one validation split, validated on its held-out part after every
    stage. One run (`runs/<pipeline>_boost/<time>/`) with the shared report and a table of
    the stages; its export is one SavedModel whose `serve` gives the combined prediction.

    Usage: boosting("tabular_regressor", n=5, data=df, target="y").metrics["rmse"]
    """
    spec = _spec_of(pipeline)
    if "resume" in overrides:
        raise ConfigError("a boosted run cannot resume: its stages depend on each other; run "
                          "it again.")
    trainer = Boosting(n, shrinkage)
    check_boostable(resolve(spec, overrides)[0])  # before any data is loaded
    boosted = dataclasses.replace(spec, name=f"{spec.name}_boost")
    rate = "" if shrinkage is None else f" --shrinkage {shrinkage:g}"
    command = (f"kdl boost {spec.name} --n {n}{rate}",
               f"kdl.ensemble.boosting({spec.name!r}, n={n}"
               + ("" if shrinkage is None else f", shrinkage={shrinkage!r}"))
    return run_spec(boosted, trainer=trainer, command=command, **overrides)
