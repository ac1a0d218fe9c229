"""The shared report of a run: configuration, data, validation, learning history, test metrics,
timings and environment — written as report.json (versioned schema) and report.md, with PNG plots.

Usage:
    report = Report.load("runs/mnist_convnet/20261123-101500")
    print(report.summary())
"""

from __future__ import annotations

import base64
import json
import operator
from dataclasses import asdict, dataclass, field
from html import escape
from pathlib import Path
from typing import Any

from kdl.metrics import greater_is_better, scalar_metrics

# Schema 2 added `folds` (per-fold sizes, metrics, history), `aggregate` (mean, std, values of
# each validation metric across folds) and `satisficing` (metric, comparison, threshold, value,
# passed); schema 3 added `diagnosis` (over- or underfitting, kdl.diagnosis); older files
# still load.
SCHEMA_VERSION = 3
# The comparisons a satisficing threshold may use (specs are validated against these keys).
COMPARISONS = {"<=": operator.le, "<": operator.lt, ">=": operator.ge, ">": operator.gt}
JSON_NAME = "report.json"
MARKDOWN_NAME = "report.md"
HTML_NAME = "report.html"
# The extras section a task fills with warnings ({name: text}): shown under the headline of
# report.md and report.html and in the printed summary, not among the other sections.
WARNINGS = "Warnings"
OUT_OF_FOLD = "out_of_fold"  # validation["evaluated_on"] of a run on data without a test split
MULTIPLY_ADDS_LABEL = "multiply-adds per sample (FLOPs as in the ResNet table)"


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
    extras: dict[str, dict[str, Any]] = field(default_factory=dict)
    export_path: str | None = None
    publication: dict[str, Any] = field(default_factory=dict)
    diagnosis: dict[str, Any] = field(default_factory=dict)
    schema_version: int = SCHEMA_VERSION

    @property
    def optimizing_value(self) -> float | None:
        """The test value of the pipeline's one optimizing metric."""
        value = self.test_metrics.get(self.optimizing_metric)
        return None if value is None else float(value)

    @property
    def out_of_fold(self) -> bool:
        """Whether the figures are out-of-fold predictions over every training sample (a
        dataset without a test split) rather than test predictions."""
        return self.validation.get("evaluated_on") == OUT_OF_FOLD

    def summary(self) -> str:
        """A short plain-text table: optimizing metric first, then the other test metrics."""
        scores = scalar_metrics(self.test_metrics)
        part = "out-of-fold" if self.out_of_fold else "test"
        lines = [f"{self.pipeline}: {self.data.get('name', '')} "
                 f"(train {self.data.get('n_train')}, test {self.data.get('n_test')}), "
                 f"validation {self.validation.get('strategy')}"]
        ordered = [self.optimizing_metric] + [k for k in scores if k != self.optimizing_metric]
        for name in ordered:
            if name in scores:
                mark = "  <- optimizing" if name == self.optimizing_metric else ""
                lines.append(f"  {part} {name:<18} {scores[name]:.4f}{mark}")
        lines += [f"  warning: {text}" for text in self.warnings()]
        for check in self.satisficing:
            verdict = "pass" if check["passed"] else "FAIL"
            lines.append(f"  {check['metric']} {check['comparison']} {check['threshold']:g}: "
                         f"{verdict} ({check['value']:.4g})")
        if self.validation.get("final_model_training"):
            lines.append(f"  training         {self.validation['final_model_training']}")
        if self.diagnosis:
            lines.append(f"  diagnosis        {diagnosis_line(self.diagnosis)}")
            lines += [f"    try: {r['cli']}" for r in self.diagnosis.get("remedies", [])[:3]]
        if self._validated_units() > 1 and self.aggregate:
            lines.append(f"  validation over {len(self.folds)} folds (mean ± std):")
            for name, values in self.aggregate.items():
                lines.append(f"    {name:<18} {values['mean']:.4f} ± {values['std']:.4f}")
        elif self.optimizing_metric in self.aggregate:
            value = self.aggregate[self.optimizing_metric]["mean"]
            lines.append(f"  validation {self.optimizing_metric:<12} {value:.4f}")
        if "fit_seconds" in self.timings:
            lines.append(f"  fit time         {self.timings['fit_seconds']:.1f} s")
        if self.export_path:
            lines.append(f"  export           {self.export_path}")
        if self.publication:
            lines.append(f"  serving version  {self._served()}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        """The report page's body, for a notebook cell (plots included once it is written)."""
        return f"<div>{self._html_body(getattr(self, '_run_dir', None))}</div>"

    def configuration(self) -> list[list[str]]:
        """(setting, value) rows: model and its parameters, data parameters, training, seed."""
        spec = self.config.get("spec") or {}
        rows = []
        if spec:
            params = ", ".join(f"{k}={_setting(v)}"
                               for k, v in (spec.get("model_params") or {}).items())
            rows.append(["model", f"{spec.get('model')}({params})"])
            if spec.get("data_params"):
                rows.append(["data parameters", ", ".join(
                    f"{k}={_setting(v)}" for k, v in spec["data_params"].items())])
            if spec.get("preprocessing"):
                rows.append(["input preprocessing", str(spec["preprocessing"])])
            for key, value in (spec.get("training") or {}).items():
                if key == "phases" and value:
                    rows.append(["phases", "; ".join(
                        f"{p['epochs']} epochs at learning rate {p['learning_rate'] or 'base'}, "
                        f"trainable {p['trainable']}" for p in value)])
                elif key == "max_minutes" and value:
                    rows.append([key, f"{value:g} (a wall-clock limit: the same seed may stop at "
                                      "a different epoch on another run or machine, and then "
                                      "give other metrics)"])
                elif value not in ((), [], {}):
                    rows.append([key, str(value)])
        for key in ("seed", "subset", "strategy", "parameters", "multiply_adds"):
            if self.config.get(key) is not None:
                value = self.config[key]
                if key == "strategy" and str(value).startswith("_Default"):
                    value = "default (one device)"
                counted = key in ("parameters", "multiply_adds")
                rows.append([MULTIPLY_ADDS_LABEL if key == "multiply_adds" else key,
                             f"{value:,}" if counted else str(value)])
        return rows

    def _diagnosis_said(self) -> tuple[str, str]:
        """The diagnosis's verdict and its reasons as one sentence each."""
        reasons = "; ".join(self.diagnosis.get("reasons") or [])
        return str(self.diagnosis.get("verdict")), (reasons[:1].upper() + reasons[1:] + "."
                                                     if reasons else "")

    def _judged(self) -> str:
        """What the diagnosis judged, when not simply the model: " (the mean of its 5 member
        models)", " (the combined model)"."""
        judged = self.diagnosis.get("judged")
        return f" ({judged})" if judged and judged != "the model" else ""

    def _validated_units(self) -> int:
        """How many trained units have validation metrics of their own (boosting's stages
        share one: the combined model's, after the last stage)."""
        return sum(1 for fold in self.folds if fold.get("metrics"))

    def training_ends(self) -> list[list[str]]:
        """Per trained unit: epochs run, the epoch early stopping kept, how training ended."""
        rows = []
        for fold in self.folds:
            kept = [k for k in fold.get("kept_epochs") or [] if k is not None]
            rows.append([f"fold {fold['fold'] + 1}" if len(self.folds) > 1 else "training",
                         str(sum(fold.get("phase_epochs") or []) or ""),
                         ", ".join(map(str, kept)) or "-",
                         "; ".join(fold.get("stops") or [])])
        final = self.validation.get("final_model", "")
        if str(final).startswith("refit"):
            rows.append(["refit", "", "-", self.validation.get("final_model_training", "")])
        return rows

    def _headline(self) -> str:
        direction = "higher" if greater_is_better(self.optimizing_metric) else "lower"
        if self.out_of_fold:
            return (f"Optimizing metric: {self.optimizing_metric} = "
                    f"{_fmt(self.optimizing_value)} out of fold ({direction} is better): every "
                    "sample predicted by the fold model that did not train on it; the data has "
                    "no test split.")
        return (f"Optimizing metric: {self.optimizing_metric} = "
                f"{_fmt(self.optimizing_value)} on the test set ({direction} is better).")

    def sections(self) -> list[tuple[str, list[str], list[list[str]]]]:
        """The report as (heading, column names, rows) tables; markdown and HTML render these."""
        out: list[tuple[str, list[str], list[list[str]]]] = []
        if self.satisficing:
            out.append(("Satisficing thresholds", ["metric", "threshold", "value", "verdict"], [
                [c["metric"], f"{c['comparison']} {c['threshold']:g}", _fmt(c["value"]),
                 "pass" if c["passed"] else "FAIL"] for c in self.satisficing]))
        out.append(("Out-of-fold metrics" if self.out_of_fold else "Test metrics",
                    ["metric", "value"],
                    [[k, f"{v:.4f}"] for k, v in scalar_metrics(self.test_metrics).items()]))
        if self.diagnosis.get("units"):
            out.append(self.diagnosis_table())
        if self.diagnosis.get("remedies"):
            out.append(("Remedies to try", ["remedy", "command line", "Python"],
                        [[r["remedy"], r["cli"], r["python"]]
                         for r in self.diagnosis["remedies"]]))
        if self.config.get("spec") or self.config.get("seed") is not None:
            out.append(("Configuration", ["setting", "value"], self.configuration()))
        if any(f.get("phase_epochs") for f in self.folds):
            out.append(("Training", ["unit", "epochs run", "epoch kept (early stopping)",
                                     "how it ended"], self.training_ends()))
        if self.aggregate and self._validated_units() > 1:
            names = list(self.aggregate)
            rows = [[str(f["fold"] + 1), str(f["n_fit"]), str(f["n_validation"])]
                    + [_fmt(f["metrics"].get(n)) for n in names] for f in self.folds]
            rows.append(["mean ± std", "", ""] + [
                f"{self.aggregate[n]['mean']:.4f} ± {self.aggregate[n]['std']:.4f}"
                for n in names])
            out.append(("Validation per fold", ["fold", "n_fit", "n_validation", *names], rows))
        elif self.aggregate:
            fold = next((f for f in self.folds if f.get("metrics")), {})
            out.append((f"Validation ({fold.get('n_validation', '?')} held-out samples, one "
                        "split)", ["metric", "value"],
                        [[n, _fmt(v["mean"])] for n, v in self.aggregate.items()]))
        for title, rows in self.extras.items():
            if rows and all(isinstance(r, dict) for r in rows.values()):
                columns = list(dict.fromkeys(k for r in rows.values() for k in r))
                out.append((title, ["", *columns], [
                    [name, *[_fmt(r.get(c)) if isinstance(r.get(c), (int, float)) or
                             r.get(c) is None else str(r.get(c)) for c in columns]]
                    for name, r in rows.items()]))
        out.append(("Validation", ["field", "value"],
                    [[k, str(v)] for k, v in self.validation.items()]))
        out.append(("Data", ["field", "value"],
                    [[k, str(v)] for k, v in self.data.items() if k != "class_names"]))
        if self.history:
            out.append(("Learning history (last epoch of the final model)", ["metric", "value"],
                        [[k, f"{v[-1]:.4f}"] for k, v in self.history.items() if v]))
        out.append(("Timings", ["step", "seconds"], [[k, str(v)] for k, v in
                                                     self.timings.items()
                                                     if not isinstance(v, list)]))
        out.append(("Environment", ["software", "version"],
                    [[k, str(v)] for k, v in self.environment.items()]))
        return out

    def diagnosis_table(self) -> tuple[str, list[str], list[list[str]]]:
        """The diagnosis as a section: its verdict in the heading, one row per trained unit
        (training and validation error at the kept epoch, their gap, the curve's trend)."""
        found = self.diagnosis
        said = ("{:.2%}" if found.get("rate") else "{:.4g}").format

        def cell(value: Any) -> str:
            return "-" if value is None else said(value)

        heading = (f"Diagnosis per trained unit (error = {found['error']}; reference: "
                   f"{found.get('reference')})")
        rows = [[unit, str(row["epoch"]), cell(row["train_error"]),
                 cell(row["validation_error"]), cell(row["gap"]), row["trend"], row["verdict"]]
                for unit, row in found["units"].items()]
        return heading, ["unit", "epoch kept", "training error", "validation error", "gap",
                         "validation trend", "verdict"], rows

    def _texts(self) -> list[tuple[str, dict[str, str]]]:
        """The extra sections made of texts (e.g. generated samples), warnings apart."""
        return [(title, rows) for title, rows in self.extras.items()
                if title != WARNINGS and rows and all(isinstance(r, str) for r in rows.values())]

    def warnings(self) -> list[str]:
        """What a task warns of (the extras section WARNINGS), shown under the headline."""
        return [str(text) for text in self.extras.get(WARNINGS, {}).values()]

    def _served(self) -> str:
        path, reason = self.publication.get("path"), self.publication.get("reason", "")
        return f"{path} ({reason})" if path else reason

    def to_markdown(self) -> str:
        """report.md: the tables, then the plots."""
        out = [f"# {self.pipeline}", "", f"**{self._headline()}**", ""]
        out += [line for text in self.warnings() for line in (f"> **Warning:** {text}", "")]
        if self.diagnosis:
            verdict, reasons = self._diagnosis_said()
            out += [f"**Diagnosis{self._judged()}: {verdict}.** {reasons}", ""]
        for heading, columns, rows in self.sections():
            out += [f"## {heading}", "", "| " + " | ".join(columns) + " |",
                    "|" + "---|" * len(columns)]
            out += ["| " + " | ".join(row) + " |" for row in rows] + [""]
        for title, texts in self._texts():
            out += [f"## {title}", ""]
            for name, text in texts.items():
                out += [f"**{name}**", "", "```text", text, "```", ""]
        out += ["## Plots", ""] + [f"![{name}]({file})" for name, file in self.plots.items()]
        if self.export_path:
            out += ["", f"Exported to `{self.export_path}`."]
        if self.publication:
            out += ["", f"Serving version: {self._served()}."]
        return "\n".join(out) + "\n"

    def to_html(self, run_dir: str | Path) -> str:
        """report.html: one self-contained page, the plots embedded as base64 PNG."""
        return html_page(f"{self.pipeline} report", self._html_body(run_dir))

    def _html_body(self, run_dir: str | Path | None) -> str:
        """The page's content: tables, texts, the plots found in `run_dir`, where files went."""
        body = [f"<h1>{escape(self.pipeline)}</h1>", f"<p><b>{escape(self._headline())}</b></p>"]
        body += [f"<p style='background:#fff3cd;padding:6px 10px'><b>Warning:</b> "
                 f"{escape(text)}</p>" for text in self.warnings()]
        if self.diagnosis:
            verdict, reasons = self._diagnosis_said()
            body.append(f"<p style='background:#e8f0fe;padding:6px 10px'><b>Diagnosis"
                        f"{escape(self._judged())}: {escape(verdict)}.</b> "
                        f"{escape(reasons)}</p>")
        for heading, columns, rows in self.sections():
            head = "".join(f"<th>{escape(c)}</th>" for c in columns)
            cells = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>"
                            for row in rows)
            body.append(f"<h2>{escape(heading)}</h2><table><tr>{head}</tr>{cells}</table>")
        for title, texts in self._texts():
            body.append(f"<h2>{escape(title)}</h2>")
            body += [f"<h3>{escape(name)}</h3><pre>{escape(text)}</pre>"
                     for name, text in texts.items()]
        body.append("<h2>Plots</h2>")
        for name, file in self.plots.items():
            path = Path(run_dir or ".") / file
            if run_dir is not None and path.exists():
                body.append(embedded_png(path, name))
        if self.export_path:
            body.append(f"<p>Exported to <code>{escape(self.export_path)}</code>.</p>")
        if self.publication:
            body.append(f"<p>Serving version: {escape(self._served())}.</p>")
        return "\n".join(body)

    def write(self, run_dir: str | Path) -> Path:
        """Write report.json, report.md and report.html into `run_dir`; returns the JSON path."""
        run_dir = Path(run_dir)
        run_dir.mkdir(parents=True, exist_ok=True)
        self._run_dir = run_dir  # where the plots are, for the notebook view; not in the JSON
        path = run_dir / JSON_NAME
        atomic_write(path, json.dumps(asdict(self), indent=2, default=str))
        atomic_write(run_dir / MARKDOWN_NAME, self.to_markdown())
        atomic_write(run_dir / HTML_NAME, self.to_html(run_dir))
        return path

    @classmethod
    def load(cls, run_dir: str | Path) -> Report:
        """Read a run's report.json back."""
        payload = json.loads((Path(run_dir) / JSON_NAME).read_text())
        report = cls(**payload)
        report._run_dir = Path(run_dir)
        return report


def diagnosis_line(found: dict[str, Any]) -> str:
    """A diagnosis's verdict and first reason in one line."""
    reasons = found.get("reasons") or []
    return f"{found.get('verdict')}" + (f": {reasons[0]}" if reasons else "")


def check_thresholds(rules: dict[str, tuple[str, float]],
                     figures: dict[str, Any]) -> list[dict[str, Any]]:
    """Pass or fail each satisficing threshold against the run's figures.

    Usage: check_thresholds({"latency_ms": ("<=", 5)}, {"latency_ms": 1.2})
    """
    results = []
    for metric, (comparison, threshold) in rules.items():
        value = figures.get(metric)
        passed = value is not None and COMPARISONS[comparison](float(value), float(threshold))
        results.append({"metric": metric, "comparison": comparison, "threshold": threshold,
                        "value": None if value is None else float(value), "passed": passed})
    return results


def _setting(value: Any) -> str:
    """A parameter as written in Python, the same before and after a JSON round trip."""
    return repr(list(value)) if isinstance(value, tuple) else repr(value)


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4f}"


PAGE_STYLE = ("body{font-family:sans-serif;max-width:1100px;margin:2em auto}"
              "table{border-collapse:collapse;margin-bottom:1em}"
              "td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}"
              "img{max-width:100%}")


def html_page(title: str, body: str) -> str:
    """One self-contained HTML page in the report's style."""
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{escape(title)}</title>"
            f"<style>{PAGE_STYLE}</style></head><body>{body}</body></html>\n")


def embedded_png(path: Path, caption: str) -> str:
    """A figure with the PNG at `path` embedded as base64."""
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return (f"<figure><img alt='{escape(caption)}' src='data:image/png;base64,{data}'>"
            f"<figcaption>{escape(caption)}</figcaption></figure>")


def atomic_write(path: Path, text: str) -> None:
    """Write `text` to `path` through a temporary file, so no half-written file is seen."""
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(text)
    temporary.replace(path)
