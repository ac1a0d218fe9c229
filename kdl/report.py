"""The shared report of a run: configuration, data, validation, learning history, test metrics,
timings and environment — written as report.json (versioned schema) and report.md, with PNG plots.

Usage:
    report = Report.load("runs/mnist_convnet/20261123-101500")
    print(report.summary())
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from kdl.metrics import greater_is_better, scalar_metrics

# Schema 2 added `folds` (per-fold sizes, metrics, history), `aggregate` (mean, std, values of
# each validation metric across folds) and `satisficing` (metric, comparison, threshold, value,
# passed); version-1 files still load.
SCHEMA_VERSION = 2
JSON_NAME = "report.json"
MARKDOWN_NAME = "report.md"


@dataclass
class Report:
    """Everything a run measured. `plots` maps a plot's name to its file in the run directory."""

    pipeline: str
    config: dict[str, Any]
    data: dict[str, Any]
    validation: dict[str, Any]
    history: dict[str, list[float]]
    test_metrics: dict[str, Any]
    optimizing_metric: str
    satisficing: list[dict[str, Any]] = field(default_factory=list)
    folds: list[dict[str, Any]] = field(default_factory=list)
    aggregate: dict[str, dict[str, Any]] = field(default_factory=dict)
    timings: dict[str, Any] = field(default_factory=dict)
    environment: dict[str, str] = field(default_factory=dict)
    plots: dict[str, str] = field(default_factory=dict)
    export_path: str | None = None
    schema_version: int = SCHEMA_VERSION

    @property
    def optimizing_value(self) -> float | None:
        """The test value of the pipeline's one optimizing metric."""
        value = self.test_metrics.get(self.optimizing_metric)
        return None if value is None else float(value)

    def summary(self) -> str:
        """A short plain-text table: optimizing metric first, then the other test metrics."""
        scores = scalar_metrics(self.test_metrics)
        lines = [f"{self.pipeline}: {self.data.get('name', '')} "
                 f"(train {self.data.get('n_train')}, test {self.data.get('n_test')}), "
                 f"validation {self.validation.get('strategy')}"]
        ordered = [self.optimizing_metric] + [k for k in scores if k != self.optimizing_metric]
        for name in ordered:
            if name in scores:
                mark = "  <- optimizing" if name == self.optimizing_metric else ""
                lines.append(f"  test {name:<16} {scores[name]:.4f}{mark}")
        for check in self.satisficing:
            verdict = "pass" if check["passed"] else "FAIL"
            lines.append(f"  {check['metric']} {check['comparison']} {check['threshold']:g}: "
                         f"{verdict} ({check['value']:.4g})")
        if self.aggregate:
            lines.append(f"  validation over {len(self.folds)} folds (mean ± std):")
            for name, values in self.aggregate.items():
                lines.append(f"    {name:<16} {values['mean']:.4f} ± {values['std']:.4f}")
        if "fit_seconds" in self.timings:
            lines.append(f"  fit time         {self.timings['fit_seconds']:.1f} s")
        if self.export_path:
            lines.append(f"  export           {self.export_path}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.summary()

    def to_markdown(self) -> str:
        """report.md: a readable page with the tables and the plots."""
        scores = scalar_metrics(self.test_metrics)
        out = [f"# {self.pipeline}", "",
               f"Optimizing metric: **{self.optimizing_metric} = "
               f"{_fmt(self.optimizing_value)}** on the test set "
               f"({'higher' if greater_is_better(self.optimizing_metric) else 'lower'}"
               " is better).", ""]
        if self.satisficing:
            out += ["Satisficing thresholds:", "", "| metric | threshold | value | verdict |",
                    "|---|---|---|---|"]
            out += [f"| {c['metric']} | {c['comparison']} {c['threshold']:g} | {c['value']:.4g} | "
                    f"{'pass' if c['passed'] else '**fail**'} |" for c in self.satisficing]
            out += [""]
        out += ["## Test metrics", "", "| metric | value |", "|---|---|"]
        out += [f"| {k} | {v:.4f} |" for k, v in scores.items()]
        out += ["", "## Data", "", "| field | value |", "|---|---|"]
        out += [f"| {k} | {v} |" for k, v in self.data.items() if k != "class_names"]
        out += ["", "## Validation", "", "| field | value |", "|---|---|"]
        out += [f"| {k} | {v} |" for k, v in self.validation.items()]
        if self.aggregate:
            names = list(self.aggregate)
            out += ["", "### Per fold (validation)", "",
                    "| fold | n_fit | n_validation | " + " | ".join(names) + " |",
                    "|---" * (3 + len(names)) + "|"]
            for fold in self.folds:
                cells = [f"{fold['metrics'][n]:.4f}" if fold["metrics"].get(n) is not None
                         else "n/a" for n in names]
                out.append(f"| {fold['fold'] + 1} | {fold['n_fit']} | {fold['n_validation']} | "
                           + " | ".join(cells) + " |")
            out.append("| mean ± std | | | " + " | ".join(
                f"{self.aggregate[n]['mean']:.4f} ± {self.aggregate[n]['std']:.4f}"
                for n in names) + " |")
        if self.history:
            out += ["", "## Learning history (last epoch)", "", "| metric | value |", "|---|---|"]
            out += [f"| {k} | {v[-1]:.4f} |" for k, v in self.history.items() if v]
        out += ["", "## Timings", "", "| step | seconds |", "|---|---|"]
        out += [f"| {k} | {v} |" for k, v in self.timings.items() if not isinstance(v, list)]
        out += ["", "## Plots", ""] + [f"![{name}]({file})" for name, file in self.plots.items()]
        if self.export_path:
            out += ["", f"Exported to `{self.export_path}`."]
        out += ["", "## Environment", ""] + [f"- {k} {v}" for k, v in self.environment.items()]
        return "\n".join(out) + "\n"

    def write(self, run_dir: str | Path) -> Path:
        """Write report.json and report.md into `run_dir`; returns the JSON path."""
        run_dir = Path(run_dir)
        run_dir.mkdir(parents=True, exist_ok=True)
        path = run_dir / JSON_NAME
        _atomic_write(path, json.dumps(asdict(self), indent=2, default=str))
        _atomic_write(run_dir / MARKDOWN_NAME, self.to_markdown())
        return path

    @classmethod
    def load(cls, run_dir: str | Path) -> Report:
        """Read a run's report.json back."""
        payload = json.loads((Path(run_dir) / JSON_NAME).read_text())
        return cls(**payload)


def check_thresholds(rules: dict[str, tuple[str, float]],
                     figures: dict[str, Any]) -> list[dict[str, Any]]:
    """Pass or fail each satisficing threshold against the run's figures.

    Usage: check_thresholds({"latency_ms": ("<=", 5)}, {"latency_ms": 1.2})
    """
    compare = {"<=": float.__le__, "<": float.__lt__, ">=": float.__ge__, ">": float.__gt__}
    results = []
    for metric, (comparison, threshold) in rules.items():
        value = figures.get(metric)
        passed = value is not None and compare[comparison](float(value), float(threshold))
        results.append({"metric": metric, "comparison": comparison, "threshold": threshold,
                        "value": None if value is None else float(value), "passed": passed})
    return results


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4f}"


def _atomic_write(path: Path, text: str) -> None:
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(text)
    temporary.replace(path)
