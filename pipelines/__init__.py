"""Named pipelines: data -> split -> build -> fit -> evaluate -> report -> export, in one call.

Usage:
    import pipelines
    pipelines.list()                                   # a table of every pipeline
    print(pipelines.describe("mnist_convnet"))
    result = pipelines.run("mnist_convnet", epochs=2, subset=5000)
    result.report.summary(), result.export_path
    pipelines.sweep("mnist_mlp", dropout=[0.1, 0.3, 0.6, 0.9])   # one comparison report
    pipelines.learning_curve("mnist_mlp", sizes=[100, 1000, 10000])
    pipelines.run("cifar10_transfer", seeds=[0, 1, 2])   # a study: several runs, one report
    pipelines.bagging("mnist_mlp", n=5, subset=2000)      # 5 bootstrap models, averaged
    pipelines.boosting("tabular_regressor", n=5, data=df, target="y")
"""

from __future__ import annotations

import builtins
import dataclasses
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from kdl import models
from kdl.spec import PipelineSpec, as_dict, valid_overrides
from kdl.study import Study, StudyResult
from pipelines import (  # noqa: F401 (families register specs)
    autoencoder,
    conv,
    dense,
    detection,
    gan,
    recommender,
    recurrent,
    segmentation,
    text,
)
from pipelines.registry import get, get_spec, names, register

if TYPE_CHECKING:
    from kdl import runner
    from kdl import sweep as kdl_sweep


def __getattr__(name: str) -> Any:
    """`pipelines.RunResult`, without importing Keras for `list` and `describe`."""
    if name == "RunResult":
        from kdl.runner import RunResult

        return RunResult
    raise AttributeError(f"module 'pipelines' has no attribute {name!r}")


class Description(str):
    """Text that shows as itself in a notebook or REPL, not as a quoted string."""

    def __repr__(self) -> str:
        return str(self)


def run(pipeline: str | PipelineSpec | Study, **overrides: Any
        ) -> runner.RunResult | StudyResult:
    """Run a named pipeline (or a PipelineSpec) with overrides; returns a RunResult. A study
    (e.g. cifar10_transfer) runs all its runs and returns a StudyResult; it also takes seeds,
    values (of its setting) and base_model (a trained base run to reuse).

    Overrides: epochs, batch_size, learning_rate, optimizer, schedule, seed, validation, subset,
    data, target, export (True/False/a folder), verbose, strategy, callbacks (extra Keras
    callbacks), the task's parameters (label_smoothing) and the builder's parameters.
    Usage: run("mnist_mlp", epochs=3, dropout=0.3, subset=10000)
    """
    from kdl import runner  # Keras and TensorFlow are imported from here on
    from kdl.study import run_study

    spec = get(pipeline) if isinstance(pipeline, str) else pipeline
    result = (run_study(spec, **overrides) if isinstance(spec, Study)
              else runner.run(spec, **overrides))
    if overrides.get("verbose", "auto") not in (0, "0", False):
        print(result.report.summary())
    return result


def sweep(pipeline: str | PipelineSpec, search: str = "grid", n_iter: int = 10,
          **overrides: Any) -> kdl_sweep.SweepResult:
    """Run a pipeline once per setting: list values are the axes, other values fixed overrides.
    Writes one comparison (table, overlaid learning curves) under runs/sweeps/<pipeline>/.

    Usage: sweep("mnist_mlp", dropout=[0.1, 0.3, 0.6, 0.9], epochs=5)
           sweep("mnist_mlp", search="random", n_iter=4, learning_rate=[1e-4, 1e-3, 1e-2],
                 dropout=[0.1, 0.3, 0.5])
    """
    spec = get_spec(pipeline, "sweep") if isinstance(pipeline, str) else pipeline
    from kdl import sweep as kdl_sweep

    grid = {k: v for k, v in overrides.items() if isinstance(v, builtins.list)}
    fixed = {k: v for k, v in overrides.items() if k not in grid}
    fixed.setdefault("verbose", 0)
    return kdl_sweep.sweep(spec, grid, search=search, n_iter=n_iter, **fixed)


def learning_curve(pipeline: str | PipelineSpec, sizes: Sequence[int] = (100, 1000, 10000),
                   **overrides: Any) -> kdl_sweep.SweepResult:
    """Train on growing subsets and plot training and validation loss against the number of
    samples: the lecture's "is adding data a good next step?".

    Usage: learning_curve("mnist_mlp", sizes=[100, 1000, 10000], epochs=5)
    """
    spec = get_spec(pipeline, "learning_curve") if isinstance(pipeline, str) else pipeline
    from kdl import sweep as kdl_sweep

    overrides.setdefault("verbose", 0)
    return kdl_sweep.learning_curve(spec, sizes, **overrides)


def bagging(pipeline: str | PipelineSpec, n: int = 5, **overrides: Any) -> runner.RunResult:
    """n models of the pipeline on bootstrap resamples of its training part, averaged, with
    the out-of-bag validation estimate; one report and one SavedModel (kdl.ensemble.bagging).

    Usage: bagging("mnist_mlp", n=5, subset=2000)
    """
    from kdl import ensemble

    result = ensemble.bagging(pipeline, n, **overrides)
    if overrides.get("verbose", "auto") not in (0, "0", False):
        print(result.report.summary())
    return result


def boosting(pipeline: str | PipelineSpec, n: int = 5, shrinkage: float | None = None,
             **overrides: Any) -> runner.RunResult:
    """n stages of the pipeline's model, each on what the stages before got wrong (residuals
    for regression, SAMME re-weighting for classification), combined into one model; one
    report and one SavedModel (kdl.ensemble.boosting).

    Usage: boosting("tabular_regressor", n=5, data=df, target="y")
    """
    from kdl import ensemble

    result = ensemble.boosting(pipeline, n, shrinkage, **overrides)
    if overrides.get("verbose", "auto") not in (0, "0", False):
        print(result.report.summary())
    return result


def list() -> pd.DataFrame:  # noqa: A001  (the public name the README promises)
    """A table of every pipeline: family, data, model, epochs and expected result."""
    rows = []
    for name in names():
        entry = get(name)
        if isinstance(entry, Study):
            rows.append({"pipeline": name, "family": entry.family, "data": entry.data,
                         "model": f"study: {entry.model}", "epochs": None,
                         "expected": entry.expected})
            continue
        rows.append({"pipeline": name, "family": entry.family,
                     "data": entry.data or f"yours ({entry.data_kind})", "model": entry.model,
                     "epochs": sum(p.epochs for p in entry.training.plan()),
                     "expected": entry.expected})
    return pd.DataFrame(rows).astype({"epochs": "Int64"}).set_index("pipeline")


def describe(pipeline: str | PipelineSpec) -> Description:
    """Everything a pipeline will do: data, model and its parameters, training, validation.

    Usage: print(describe("mnist_convnet"))
    """
    spec = get(pipeline) if isinstance(pipeline, str) else pipeline
    if isinstance(spec, Study):
        return Description(spec.describe())
    params = {**models.parameters(spec.model), **dict(spec.model_params)}
    lines = [f"{spec.name} ({spec.family}): {spec.description}",
             f"  data:        {spec.data or 'your data, passed as data=...'} ({spec.data_kind})",
             f"  task:        {spec.task}, optimizing {spec.optimizing_metric}",
             f"  model:       {spec.model}(" + ", ".join(f"{k}={v!r}" for k, v in params.items())
             + ")",
             f"  input:       {spec.preprocessing} (fitted on the training part, exported)",
             "  training:    " + ", ".join(f"{k}={v}" for k, v in
                                            dataclasses.asdict(spec.training).items()),
             f"  validation:  {spec.validation}",
             f"  expected:    {spec.expected}",
             *([f"  reference:   {spec.optimizing_metric} {spec.reference[0]:g} "
                f"({spec.reference[1]}), to judge underfitting against"]
               if spec.reference else []),
             "  overrides:   " + ", ".join(valid_overrides(spec))]
    return Description("\n".join(lines))


__all__ = ["Description", "PipelineSpec", "RunResult", "Study", "StudyResult", "as_dict",
           "bagging", "boosting", "describe", "get",
           "learning_curve", "list", "names", "register", "run", "sweep"]
