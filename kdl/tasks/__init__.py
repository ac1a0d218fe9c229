"""Tasks: one module per family says what differs at the edges of a run (builder arguments
from the data, assembly, compile, outputs, metrics and their directions, plots, report
sections, export signatures). The registry here is all the rest of kdl looks them up by.

Usage:
    task = get("classification")
    task = configure("classification", {"label_smoothing": 0.1})   # a spec's task_params
    register(MyTask())                       # a new family's task
    direction("log_loss")                    # False: lower is better
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from kdl.errors import ConfigError, unknown_name
from kdl.tasks.anomaly import AnomalyTask
from kdl.tasks.autoencoder import ReconstructionTask
from kdl.tasks.base import FitPart, Serving, Task, TaskBase, is_plain_graph
from kdl.tasks.detection import DetectionTask
from kdl.tasks.gan import GenerationTask
from kdl.tasks.recommender import ImplicitRankingTask, RatingTask
from kdl.tasks.recurrent import ForecastTask, LanguageModelTask
from kdl.tasks.segmentation import SegmentationTask
from kdl.tasks.semisupervised import SemiSupervisedTask
from kdl.tasks.supervised import ClassificationTask, RegressionTask
from kdl.tasks.text import TextClassificationTask
from kdl.tasks.word_vectors import WordVectorTask

TASKS: dict[str, Task] = {}


def register(task: Task) -> Task:
    """Add a task; its metric directions must agree with those of the tasks already there.

    Usage: register(MyTask(name="my_task"))
    """
    if task.name in TASKS and TASKS[task.name] != task:
        raise ConfigError(f"task {task.name!r} is already registered.")
    for metric, greater in task.metric_directions.items():
        known = direction(metric)
        if known is not None and known != greater:
            raise ConfigError(f"task {task.name!r} says {metric!r} is "
                              f"{'greater' if greater else 'lower'}-is-better; another task "
                              "says the opposite. Give the metric another name.")
    TASKS[task.name] = task
    return task


def get(name: str) -> Task:
    """The task registered as `name`."""
    if name not in TASKS:
        raise unknown_name("task", name, TASKS)
    return TASKS[name]


def parameters(name: str) -> tuple[str, ...]:
    """The settings task `name` takes from a spec's task_params (or an override)."""
    return tuple(getattr(get(name), "parameters", ()))


def configure(name: str, params: Mapping[str, Any] | None = None) -> Task:
    """Task `name` with `params` set; an unknown parameter or bad value is a ConfigError.

    Usage: configure(spec.task, spec.task_params)
    """
    task = get(name)
    params = dict(params or {})
    if not params:
        return task
    valid = parameters(name)
    for key in params:
        if key not in valid:
            raise unknown_name(f"parameter of task {name!r}", key, valid)
    return dataclasses.replace(task, **params)  # type: ignore[type-var]


def of(spec: Any) -> Task:
    """The task a pipeline spec runs: its `task` with its `task_params`.

    Usage: task = of(spec).bind(dataset)
    """
    return configure(spec.task, spec.task_params)


def data_arguments() -> set[str]:
    """Every builder argument some task fills from the data (never a pipeline parameter)."""
    return {argument for task in TASKS.values() for argument in task.data_arguments}


def direction(metric: str) -> bool | None:
    """True when greater is better for `metric` by some task's declaration, None if no task
    names it ("@k" metrics are declared by their base, e.g. "ndcg@k")."""
    base = metric.split("@")[0] + "@k" if "@" in metric else metric
    for task in TASKS.values():
        if base in task.metric_directions:
            return task.metric_directions[base]
    return None


for _task in (ClassificationTask(), RegressionTask(), RatingTask(), ImplicitRankingTask(),
              ForecastTask(), LanguageModelTask(), ReconstructionTask(), AnomalyTask(),
              SemiSupervisedTask(), TextClassificationTask(), WordVectorTask(),
              SegmentationTask(), DetectionTask(), GenerationTask()):
    register(_task)

__all__ = ["TASKS", "AnomalyTask", "ClassificationTask", "DetectionTask", "FitPart", "ForecastTask",
           "GenerationTask", "ImplicitRankingTask", "LanguageModelTask", "RatingTask",
           "ReconstructionTask", "RegressionTask", "SegmentationTask", "SemiSupervisedTask",
           "Serving", "Task", "TaskBase", "TextClassificationTask", "WordVectorTask", "configure",
           "data_arguments", "direction", "get", "is_plain_graph", "of", "parameters",
           "register"]
