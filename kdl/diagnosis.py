"""Over- or underfitting, said in numbers: the lecture's comparison of training error,
validation error and the error a person or the best known model makes, read from the learning
curves every run already records, with the remedies that apply as the overrides that try them.

The curve read is the optimizing metric where Keras logs it for training and validation
(error = 1 - accuracy for a rate that is better higher; RMSE as the square root of an MSE
loss), else the loss. Per trained unit
(fold, bootstrap member, boosting stage) the errors are taken at the epoch the unit kept (early
stopping's best, else the last).

Thresholds (a "rate" is an error in [0, 1] such as 1 - accuracy; for a loss or RMSE the
relative forms apply):
- overfitting: validation error above training error by more than OVERFIT_POINTS (rates) and
  by more than OVERFIT_SHARE of the validation error; or a validation curve that rose past its
  best with no early stopping to restore the best weights;
- underfitting: training error above the spec's reference error by more than UNDERFIT_POINTS
  (rates) and by more than UNDERFIT_SHARE of the training error; or a validation curve still
  falling when training ran all its epochs;
- trend over the last TREND_WINDOW of the epochs (at least 2): falling or rising by more than
  TREND_POINTS (rates) or TREND_SHARE of the best value (losses), else flat.

Usage:
    found = diagnose(report.folds, spec, subset=500)
    found["verdict"], found["reasons"], found["remedies"]
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from kdl import models, tasks
from kdl.metrics import greater_is_better

OVERFIT_POINTS = 0.02
OVERFIT_SHARE = 0.25
UNDERFIT_POINTS = 0.02
UNDERFIT_SHARE = 0.25
TREND_WINDOW = 0.2
TREND_POINTS = 0.003
TREND_SHARE = 0.03
THRESHOLDS = {"overfit_points": OVERFIT_POINTS, "overfit_share": OVERFIT_SHARE,
              "underfit_points": UNDERFIT_POINTS, "underfit_share": UNDERFIT_SHARE,
              "trend_window": TREND_WINDOW, "trend_points": TREND_POINTS,
              "trend_share": TREND_SHARE}
OVERFITTING, UNDERFITTING, BOTH, NEITHER = ("overfitting", "underfitting",
                                            "overfitting and underfitting", "neither")
NOT_JUDGED = "not judged"


def curve_of(history: Mapping[str, Sequence[float]], metric: str) -> tuple[str, bool]:
    """The logged curve to read for `metric`: (key, is a rate whose error is 1 - value), the
    metric itself where training and validation both log it, else the loss."""
    if metric in history and f"val_{metric}" in history:
        values = np.asarray(history[metric], dtype=float)
        rate = greater_is_better(metric) and bool(np.all((values >= 0) & (values <= 1)))
        return metric, rate
    return "loss", False


def errors(values: Sequence[float], rate: bool) -> np.ndarray:
    """Error values of a logged curve: 1 - value for a rate, the value itself otherwise."""
    array = np.asarray(values, dtype=float)
    return 1.0 - array if rate else array


def trend(validation_errors: Sequence[float], rate: bool) -> str:
    """"falling", "rising" (past its best) or "flat" over the last TREND_WINDOW of the epochs;
    "too short" under 3 epochs.

    Usage: trend([0.30, 0.20, 0.12, 0.08], rate=True)  # "falling"
    """
    e = np.asarray(validation_errors, dtype=float)
    if len(e) < 3 or not np.all(np.isfinite(e)):
        return "too short"
    window = min(max(2, math.ceil(TREND_WINDOW * len(e))), len(e) - 1)
    tolerance = TREND_POINTS if rate else TREND_SHARE * max(abs(float(e.min())), 1e-12)
    if e[-1 - window] - e[-1] > tolerance:
        return "falling"
    if e[-1] - e.min() > tolerance and int(e.argmin()) < len(e) - 1:
        return "rising"
    return "flat"


def kept_index(unit: Mapping[str, Any]) -> int | None:
    """The history index of the epoch a unit kept: early stopping's best in its last phase,
    else the last epoch run (None for a unit with no epochs)."""
    phases = list(unit.get("phase_epochs") or [])
    total = sum(phases) or len(next(iter((unit.get("history") or {"": []}).values()), []))
    if not total:
        return None
    kept = (unit.get("kept_epochs") or [None])[-1]
    if kept is None or not phases:
        return total - 1
    return sum(phases[:-1]) + int(kept) - 1


def judge_unit(unit: Mapping[str, Any], key: str, rate: bool,
               reference_error: float | None) -> dict[str, Any] | None:
    """One unit's errors at its kept epoch, gap, trend and verdict; None without curves."""
    history = unit.get("history") or {}
    index = kept_index(unit)
    if index is None or key not in history:
        return None
    train = errors(history[key], rate)
    has_validation = f"val_{key}" in history and len(history[f"val_{key}"]) == len(train)
    valid = errors(history[f"val_{key}"], rate) if has_validation else None
    row: dict[str, Any] = {"epoch": index + 1, "train_error": float(train[index]),
                           "validation_error": None, "gap": None, "trend": "no validation"}
    overfit = underfit = False
    reasons = []
    restored = (unit.get("kept_epochs") or [None])[-1] is not None
    ran_all = not any("early stopping" in str(s) or "limit" in str(s)
                      for s in unit.get("stops") or [])
    if valid is not None:
        gap = float(valid[index] - train[index])
        row.update(validation_error=float(valid[index]), gap=gap, trend=trend(valid, rate))
        said = gap_reason(float(train[index]), float(valid[index]), rate)
        if said:
            overfit = True
            reasons.append(said)
        if row["trend"] == "rising" and not restored:
            overfit = True
            best = int(np.argmin(valid))
            reasons.append(f"the validation curve rose from its best {_num(valid[best], rate)} "
                           f"at epoch {best + 1} to {_num(valid[-1], rate)} at epoch "
                           f"{len(valid)}, and no early stopping restored the best weights")
        if row["trend"] == "falling" and ran_all:
            underfit = True
            reasons.append(f"the validation curve was still falling at the last epoch "
                           f"({len(valid)}): training stopped before it levelled off")
    said = reference_reason(float(train[index]), reference_error, rate)
    if said:
        underfit = True
        reasons.insert(0, said)
    row["verdict"] = BOTH if overfit and underfit else (
        OVERFITTING if overfit else UNDERFITTING if underfit else NEITHER)
    row["reasons"] = reasons
    return row


def with_root_of_loss(unit: Mapping[str, Any]) -> dict[str, Any]:
    """A unit whose history also has "rmse" and "val_rmse": the square roots of its mean
    squared error loss curves."""
    history = dict(unit.get("history") or {})
    for name in ("loss", "val_loss"):
        if name in history:
            history[name.replace("loss", "rmse")] = list(np.sqrt(np.maximum(
                np.asarray(history[name], dtype=float), 0.0)))
    return {**unit, "history": history}


def gap_reason(train: float, valid: float, rate: bool) -> str | None:
    """Why validation error `valid` is too far above training error `train` (overfitting),
    or None when it is not."""
    gap, needed = valid - train, max(OVERFIT_POINTS if rate else 0.0, OVERFIT_SHARE * valid)
    if gap <= needed:
        return None
    return (f"validation error {_num(valid, rate)} is {_num(gap, rate)} above training error "
            f"{_num(train, rate)} (more than {_num(needed, rate)})")


def reference_reason(train: float, reference: float | None, rate: bool) -> str | None:
    """Why training error `train` is too far above the `reference` error (underfitting), or
    None when it is not (or there is no reference)."""
    if reference is None:
        return None
    excess = train - reference
    needed = max(UNDERFIT_POINTS if rate else 0.0, UNDERFIT_SHARE * train)
    if excess <= needed:
        return None
    return (f"training error {_num(train, rate)} is {_num(excess, rate)} above the reference "
            f"error {_num(reference, rate)} (more than {_num(needed, rate)})")


def reference_error(spec: Any, key: str, rate: bool) -> tuple[float | None, str]:
    """The spec's reference (value of its optimizing metric, source) as an error on the curve
    read, and where it comes from; None when the spec names none or it is not on that curve."""
    reference = getattr(spec, "reference", None)
    if not reference:
        return None, "none named by the pipeline"
    value, source = reference
    if key != spec.optimizing_metric:
        return None, (f"{spec.optimizing_metric} {value:g} ({source}), not comparable with the "
                      f"{key} curve read here")
    return (1.0 - float(value) if rate else float(value)), f"{value:g} {key} ({source})"


def diagnose(units: Sequence[Mapping[str, Any]], spec: Any, subset: int | None = None,
             n_train: int | None = None, labels: Sequence[str] | None = None,
             combined: Mapping[str, Any] | None = None,
             command: tuple[str, str] | None = None) -> dict[str, Any]:
    """The diagnosis of a run from its trained units (the report's `folds`): per-unit rows, a
    verdict with its reasons in numbers, and the remedies that apply (see the module
    docstring for the thresholds). `combined` ({"curve", "train_error", "validation_error"})
    judges a model combined from units that each fit a different target (boosting's stages)
    by its own errors instead of the units' mean, where it is on the curve read. `command`:
    how the remedies run this again when that is not `kdl run NAME` (see `remedies`).

    Usage: diagnose(result.report.folds, result.spec, subset=500)["verdict"]
    """
    root = (spec.optimizing_metric == "rmse"
            and getattr(tasks.of(spec), "loss_name", None) == "mse")
    if root:  # RMSE is not logged per epoch, but the square root of the MSE loss is it
        units = [with_root_of_loss(u) for u in units]
    first = next((u.get("history") or {} for u in units if u.get("history")), {})
    key, rate = curve_of(first, spec.optimizing_metric)
    ref, ref_said = reference_error(spec, key, rate)
    labels = list(labels or ([f"fold {i + 1}" for i in range(len(units))]
                             if len(units) > 1 else ["training"]))
    rows = {}
    for label, unit in zip(labels, units):
        judged = judge_unit(unit, key, rate, ref)
        if judged is not None:
            rows[label] = judged
    said_error = f"1 - {key}" if rate else (f"{key} (the square root of the mse loss)"
                                             if root and key == "rmse" else key)
    found: dict[str, Any] = {"curve": key, "error": said_error,
                             "rate": rate, "reference": ref_said, "reference_error": ref,
                             "units": rows, "thresholds": THRESHOLDS}
    judged_rows = [r for r in rows.values()]
    validated = [r for r in judged_rows if r["gap"] is not None]
    unjudged = getattr(tasks.of(spec), "not_diagnosed", None)
    if unjudged:
        found.update(verdict=NOT_JUDGED, reasons=[unjudged], remedies=[])
        return found
    if not judged_rows or (not validated and ref is None):
        found.update(verdict=NOT_JUDGED, reasons=[
            "no validation curve and no reference error: run with validation (e.g. 0.1) to "
            "compare training and validation error"], remedies=[])
        return found
    verdicts = [r["verdict"] for r in judged_rows]
    whole = combined if combined and combined.get("curve") == key else None
    if whole:
        train = found["train_error"] = float(whole["train_error"])
        valid = whole.get("validation_error")
        validated = validated if valid is not None else []
        if valid is not None:
            found["validation_error"], found["gap"] = float(valid), float(valid) - train
        verdicts = []  # the units fit other targets: only the combined model is judged
        prefix = "the combined model: "
    else:
        train = found["train_error"] = float(np.mean([r["train_error"] for r in judged_rows]))
        if validated:
            valid = found["validation_error"] = float(np.mean([r["validation_error"]
                                                               for r in validated]))
            found["gap"] = float(np.mean([r["gap"] for r in validated]))
        prefix = f"mean over {len(judged_rows)} units: " if len(judged_rows) > 1 else ""
    on_means = [gap_reason(train, valid, rate) or "" if validated else "",
                reference_reason(train, ref, rate) or ""]
    overfit = bool(on_means[0]) or (
        sum(v in (OVERFITTING, BOTH) for v in verdicts) * 2 > len(verdicts) > 0)
    underfit = bool(on_means[-1]) or (
        sum(v in (UNDERFITTING, BOTH) for v in verdicts) * 2 > len(verdicts) > 0)
    found["verdict"] = BOTH if overfit and underfit else (
        OVERFITTING if overfit else UNDERFITTING if underfit else NEITHER)
    said = ([] if whole else [r for r in judged_rows if r["verdict"] == found["verdict"]]
            or judged_rows)
    unit = next(iter(rows)).split()[0]  # "fold", "member", "stage" or "training"
    found["judged"] = "the combined model" if whole else (
        f"the mean of its {len(judged_rows)} {unit} models" if len(judged_rows) > 1
        else "the model")
    overall = [prefix + reason for reason in on_means if reason and found["verdict"] != NEITHER]
    kinds = tuple(reason.split(" error")[0] for reason in on_means if reason)  # said above
    found["reasons"] = list(dict.fromkeys(overall + [
        reason for reason in (said[0]["reasons"] if said else [])
        if not (len(judged_rows) > 1 and reason.startswith(kinds))]))
    if found["verdict"] == NEITHER:
        gap = found.get("gap")
        found["reasons"].append(
            (prefix if whole else "") + f"training error {_num(found['train_error'], rate)}"
            + (f", validation error {_num(found['validation_error'], rate)} (gap "
               f"{_num(gap, rate)})" if gap is not None else "")
            + (f", reference error {_num(ref, rate)}" if ref is not None else
               "; no reference error to judge underfitting against"))
    if len(verdicts) > 1:
        found["reasons"].append(f"{sum(v == found['verdict'] for v in verdicts)} of "
                                f"{len(verdicts)} units say {found['verdict']}")
    falling = any(r["trend"] == "falling" for r in judged_rows)
    found["remedies"] = remedies(spec, overfit, underfit, falling, subset, n_train, command)
    return found


def remedies(spec: Any, overfit: bool, underfit: bool, falling: bool = False,
             subset: int | None = None, n_train: int | None = None,
             command: tuple[str, str] | None = None) -> list[dict[str, str]]:
    """The lecture's remedies that apply to this pipeline, each with the CLI flags and the
    Python call that try it: for overfitting more data, augmentation, dropout, weight decay,
    a smaller model, early stopping, bagging; for underfitting a bigger model, less
    regularization, more epochs, another architecture, boosting.

    `command` is how this run is run again, for a run that is not `kdl run NAME` (a bag: ("kdl
    bag mnist_mlp --n 5", "kdl.ensemble.bagging('mnist_mlp', n=5")); such a run is already an
    ensemble, so bagging and boosting are not offered again.

    Usage: remedies(spec, overfit=True, underfit=False)[0]["cli"]
    """
    name = spec.name
    cli, python = command or (f"kdl run {name}", f"pipelines.run({name!r}")
    params = {**models.parameters(spec.model), **dict(spec.model_params)}
    training = spec.training
    combines = getattr(tasks.of(spec), "combines", None) is not None and command is None
    found: list[dict[str, str]] = []

    def add(remedy: str, **overrides: Any) -> None:
        flags = " ".join(f"--set {k}={_cli(v)}" for k, v in overrides.items())
        call = ", ".join(f"{k}={v!r}" for k, v in overrides.items())
        found.append({"remedy": remedy, "cli": f"{cli} {flags}",
                      "python": f"{python}, {call})"})

    if overfit:
        if subset:
            add("more data", subset=subset * 4)
        elif n_train and command is None:
            sizes = [n_train // d for d in (8, 4, 2, 1)]
            found.append({"remedy": "more data (does it help? the learning curve says)",
                          "cli": f"kdl learning-curve {name} --sizes {' '.join(map(str, sizes))}",
                          "python": f"pipelines.learning_curve({name!r}, sizes={sizes})"})
        if "augment" in params and params["augment"] in ("none", None):
            add("augmentation", augment="shift" if spec.data in ("mnist", "fashion_mnist")
                else "shift_flip")
        if "dropout" in params and float(params["dropout"] or 0) < 0.7:
            add("more dropout", dropout=round(min(float(params["dropout"] or 0) + 0.2, 0.7), 2))
        add("weight decay (decoupled)", optimizer="adamw",
            weight_decay=training.weight_decay * 10 if training.weight_decay else 1e-4)
        smaller = _resized(params, 0.5)
        if smaller:
            add("a smaller model", **smaller)
        if not training.early_stopping and spec.validation not in (None, 0, "none"):
            add("early stopping", early_stopping=5)
        if combines:
            found.append({"remedy": "bagging", "cli": f"kdl bag {name} --n 5",
                          "python": f"kdl.ensemble.bagging({name!r}, n=5)"})
    if underfit:
        bigger = _resized(params, 2.0)
        if bigger:
            add("a bigger model", **bigger)
        if float(params.get("dropout") or 0) > 0:
            add("less dropout", dropout=round(max(float(params["dropout"]) - 0.2, 0.0), 2))
        if training.weight_decay:
            add("less weight decay", weight_decay=training.weight_decay / 10)
        if falling:
            add("more epochs", epochs=sum(p.epochs for p in training.plan()) * 2)
        found.append({"remedy": "another architecture",
                      "cli": f"{cli} --set model=<builder>  (kdl describe and kdl list show "
                             "the builders and pipelines on this data)",
                      "python": f"{python}, model=...)"})
        if combines:
            found.append({"remedy": "boosting", "cli": f"kdl boost {name} --n 5",
                          "python": f"kdl.ensemble.boosting({name!r}, n=5)"})
    return found


def _resized(params: Mapping[str, Any], factor: float) -> dict[str, Any]:
    """The model's size parameter scaled by `factor`: widths (units per layer) or width (a
    multiplier); nothing for a builder with neither."""
    if isinstance(params.get("widths"), (tuple, list)) and params["widths"]:
        return {"widths": tuple(max(int(w * factor), 1) for w in params["widths"])}
    if isinstance(params.get("width"), (int, float)) and not isinstance(params["width"], bool):
        return {"width": params["width"] * factor}
    return {}


def _cli(value: Any) -> str:
    if isinstance(value, tuple):
        return "[" + ",".join(map(str, value)) + "]"
    return str(value)


def _num(value: float, rate: bool) -> str:
    """A rate in percentage points, a loss as a number."""
    return f"{100 * float(value):.2f}%" if rate else f"{float(value):.4g}"
