"""When a run's export becomes the version TensorFlow Serving serves. Every exported run keeps
its SavedModel in its own folder (`run_dir/export`); a new version under the serving folder
appears only when the rule says so, or on an explicit publish:

- `publish="auto"` (the default): the run meets every satisficing threshold of its pipeline,
  and its test value of the optimizing metric is not worse than the live version's (the
  highest version, which TF Serving serves). The first version of a pipeline is published
  when its thresholds are met.
- `publish=True`: always; `publish=False`: never.
- `kdl publish RUN_DIR` (or `publish_run(run_dir)`): that run's export, whatever its figures.

Usage:
    decision = decide(report, "saved_models/mnist_convnet", "auto")
    if decision.publish: export.publish_version(run_dir / "export", base)
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kdl import export
from kdl.errors import ConfigError
from kdl.metrics import greater_is_better

CHOICES = ("auto", True, False)


@dataclass(frozen=True)
class Decision:
    """Whether to publish, and why, in words a report can show."""

    publish: bool
    reason: str


def check_choice(value: Any) -> None:
    """A ConfigError for a publish setting other than "auto", True or False."""
    if not (value == "auto" or value is True or value is False):
        raise ConfigError(f"publish must be 'auto', True or False; got {value!r}.")


def live_card(base: str | Path) -> dict[str, Any] | None:
    """The model card of the highest version under `base` (the one TF Serving serves)."""
    found = export.versions(base)
    if not found:
        return None
    card = Path(base) / str(found[-1]) / export.CARD_NAME
    try:
        return {**json.loads(card.read_text()), "version": found[-1]}
    except (OSError, ValueError):
        return {"version": found[-1]}


def decide(report: Any, base: str | Path, setting: Any = "auto") -> Decision:
    """Apply the publishing rule to a finished run's report (module docstring)."""
    if setting is False:
        return Decision(False, "publish=False")
    if setting is True:
        return Decision(True, "publish=True")
    failed = [c for c in report.satisficing if not c["passed"]]
    if failed:
        words = ", ".join(f"{c['metric']} {c['comparison']} {c['threshold']:g} (got "
                          f"{'n/a' if c['value'] is None else format(c['value'], '.4g')})"
                          for c in failed)
        return Decision(False, f"not published: fails {words}")
    live = live_card(base)
    if live is None:
        return Decision(True, "the first version of this pipeline")
    metric, value = report.optimizing_metric, report.optimizing_value
    theirs = (live.get("test_metrics") or {}).get(metric)
    version = live["version"]
    if value is None or theirs is None:
        return Decision(False, f"not published: version {version} has no test {metric} to "
                               "compare with; publish it explicitly (kdl publish RUN_DIR)")
    higher = greater_is_better(metric)
    if (value < theirs) if higher else (value > theirs):
        return Decision(False, f"not published: test {metric} {value:.4f} is worse than the "
                               f"live version {version}'s {float(theirs):.4f}")
    return Decision(True, f"test {metric} {value:.4f} is not worse than the live version "
                          f"{version}'s {float(theirs):.4f}")
