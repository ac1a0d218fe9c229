"""Studies: several pipelines ("arms") run over the values of one setting (labelled images per
class, ...), one table and one plot of a test metric against that setting, one line per arm.
A study may train base runs first; an arm that `transfers` takes a base run's folder, as its
base_model (it starts from that final model) or as another argument (`base_as`: a text
classifier's embeddings= from a word-vector run). The lecture's transfer-learning experiment
(`cifar10_transfer`) and the word-vector initialisations of `mr_embedding_init` are studies.
A study's folder holds report.md, report.html and report.json like a run's, and every run's
own folder.

Usage:
    study = Study(name="few_labels", family="conv", setting="per_class", values=(100, 1000),
                  bases=(Arm("base", base_spec, {"classes": (0, 1, 2, 3, 4)}),),
                  arms=(Arm("from scratch", spec), Arm("fine-tuned", transfer_spec,
                                                       transfers=True)))
    result = run_study(study, seeds=(0, 1, 2))
    result.table, result.summary_table, result.run_dir
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import Any

import pandas as pd

from kdl import plots, progress
from kdl.errors import ConfigError
from kdl.folders import new_stamped_dir
from kdl.report import HTML_NAME, JSON_NAME, MARKDOWN_NAME, atomic_write, embedded_png, html_page
from kdl.spec import PipelineSpec, resolve

PLOT_NAME = "study.png"
STUDY_OPTIONS = ("seeds", "values", "base_model")  # run_study's own arguments
# A study's runs are not exported unless an arm or a base says so, and never published.
RUN_DEFAULTS = {"export": False, "publish": False}


@dataclass(frozen=True)
class Arm:
    """One line of a study: a pipeline spec with overrides. An arm that `transfers` (True: the
    study's one base run; a label: that base run) is given the base run's folder as its
    `base_as` argument: base_model (it starts from that final model) or, e.g., embeddings."""

    label: str
    spec: PipelineSpec
    overrides: Mapping[str, Any] = field(default_factory=dict)
    transfers: bool | str = False
    base_as: str = "base_model"


@dataclass(frozen=True)
class Study:
    """A named study: `arms` run at every value of `setting` (an override each arm takes),
    after the `bases` runs; `metric` is the test (or out-of-fold) metric compared."""

    name: str
    family: str
    arms: tuple[Arm, ...]
    setting: str
    values: tuple[Any, ...]
    bases: tuple[Arm, ...] = ()
    description: str = ""
    expected: str = ""
    metric: str = "accuracy"
    setting_label: str = ""
    contrast: tuple[str, str] | None = None
    average: bool = False  # each arm's mean over the values too (e.g. over the ten digits)

    def __post_init__(self) -> None:
        labels = [arm.label for arm in self.arms]
        if not self.arms or len(set(labels)) != len(labels):
            raise ConfigError(f"study {self.name!r} needs arms with distinct labels; got "
                              f"{labels}.")
        if not self.values:
            raise ConfigError(f"study {self.name!r} needs at least one value of "
                              f"{self.setting!r}.")
        base_labels = [base.label for base in self.bases]
        if len(set(base_labels)) != len(base_labels):
            raise ConfigError(f"study {self.name!r} needs base runs with distinct labels; got "
                              f"{base_labels}.")
        for arm in self.arms:
            self.base_of(arm)
        if self.contrast is not None and not set(self.contrast) <= set(labels):
            raise ConfigError(f"study {self.name!r}: contrast {self.contrast} names arms it "
                              f"does not have; its arms: {labels}.")
        self.check({})

    @property
    def data(self) -> str | None:
        """The dataset of its arms (for pipelines.list)."""
        return self.arms[0].spec.data

    @property
    def model(self) -> str:
        """Its arms' models, e.g. "cifar_resnet / transfer"."""
        return " / ".join(dict.fromkeys(_arm_model(arm) for arm in self.arms))

    def base_of(self, arm: Arm) -> str | None:
        """The label of the base run `arm` transfers from (None: it does not)."""
        if not arm.transfers:
            return None
        labels = [base.label for base in self.bases]
        if arm.transfers is True:
            if len(labels) != 1:
                raise ConfigError(f"study {self.name!r}: arm {arm.label!r} transfers=True needs "
                                  f"exactly one base run; the study has {len(labels)} "
                                  f"({labels}). Name the base: transfers=<its label>.")
            return labels[0]
        if arm.transfers not in labels:
            raise ConfigError(f"study {self.name!r}: arm {arm.label!r} transfers from "
                              f"{arm.transfers!r}, which is not one of its base runs: "
                              f"{labels or 'none'}.")
        return arm.transfers

    def runs(self, seeds: Sequence[int] = (0,)) -> int:
        """How many runs the study trains (the bases included)."""
        return len(self.arms) * len(self.values) * len(seeds) + len(self.bases)

    def check(self, overrides: Mapping[str, Any], values: Sequence[Any] | None = None,
              base_model: str | Mapping[str, str] | None = None) -> None:
        """Every run's spec resolved with `overrides` before anything trains: an unknown key
        or bad value is the ConfigError of the run it would break."""
        fixed = {k: v for k, v in overrides.items() if k != "seed"}
        given = given_bases(self, base_model)
        for base in self.bases:
            if base.label not in given:
                resolve(base.spec, {**base.overrides, **fixed})
        for arm in self.arms:
            for value in values or self.values:
                resolve(arm.spec, {**arm.overrides, **fixed, self.setting: value})

    def describe(self) -> str:
        """What the study runs, one line per part."""
        lines = [f"{self.name} ({self.family}, a study): {self.description}"]
        lines += [f"  base:        {base.label}: {base.spec.name} {_said(base.overrides)}"
                  for base in self.bases]
        lines += [f"  arm:         {arm.label}: {arm.spec.name} {_said(arm.overrides)}"
                  + (f" ({arm.base_as} = the {self.base_of(arm)!r} run)" if arm.transfers
                     else "")
                  for arm in self.arms]
        lines += [f"  over:        {self.setting} in {list(self.values)}",
                  f"  compares:    test (or out-of-fold) {self.metric}",
                  f"  expected:    {self.expected}",
                  "  overrides:   seeds, values, base_model (a trained base run to reuse, for "
                  "a study with one base), and any override every arm takes (epochs, "
                  "batch_size, verbose, ...)"]
        return "\n".join(lines)


def slug(label: str) -> str:
    """A folder name for an arm: "frozen features + new head" -> "frozen_features_new_head"."""
    return re.sub(r"[^a-z0-9]+", "_", label.lower()).strip("_") or "arm"


def _arm_model(arm: Arm) -> str:
    return str(arm.overrides.get("model", arm.spec.model))


def _said(overrides: Mapping[str, Any]) -> str:
    return "(" + ", ".join(f"{k}={v!r}" for k, v in overrides.items()) + ")" if overrides else ""


@dataclass
class StudyReport:
    """A study's figures: every run's row, the mean and spread per arm and value, the base
    runs; `part` says what the metric was scored on ("test", or "out-of-fold" for data with no
    test split)."""

    study: str
    setting: str
    metric: str
    rows: list[dict[str, Any]]
    bases: list[dict[str, Any]] = field(default_factory=list)
    description: str = ""
    plots: dict[str, str] = field(default_factory=dict)
    contrast: list[str] | None = None
    average: bool = False
    part: str = "test"

    def summary_table(self) -> pd.DataFrame:
        """Rows = arms, columns = setting values; cells "mean ± std (n seeds)"; with a
        contrast (a, b), a last row of a's mean minus b's, in points of the metric; with
        `average`, a last column of each arm's mean over the values."""
        frame = pd.DataFrame(self.rows)
        cells: dict[str, dict[Any, str]] = {}
        for (arm, value), group in frame.groupby(["arm", "value"], sort=False):
            cells.setdefault(arm, {})[value] = _mean_spread(group["test"].tolist())
        for arm, mean in self.averages().items():
            cells[arm][f"mean over {self.setting}"] = f"{mean:.4f}"
        if self.contrast:
            first, second = self.contrast
            cells[f"{first} minus {second} (points)"] = {
                value: f"{gain:+.1f}" for value, gain in self.gains().items()}
        return pd.DataFrame(cells).T.rename_axis(f"{self.part} {self.metric} by {self.setting}")

    def averages(self) -> dict[str, float]:
        """{arm: mean over the setting's values of its mean over seeds}, with `average`."""
        if not self.average:
            return {}
        means = pd.DataFrame(self.rows).groupby(["arm", "value"], sort=False)["test"].mean()
        arms = dict.fromkeys(means.index.get_level_values(0))
        return {arm: float(means[arm].mean()) for arm in arms}

    def gains(self) -> dict[Any, float]:
        """{setting value: 100 x (mean of the contrast's first arm - mean of its second)}."""
        if not self.contrast:
            return {}
        means = pd.DataFrame(self.rows).groupby(["arm", "value"], sort=False)["test"].mean()
        first, second = self.contrast
        return {value: 100 * (means[(first, value)] - means[(second, value)])
                for value in means[first].index if (second, value) in means.index}

    def curves(self) -> dict[str, tuple[list[Any], list[float], list[float]]]:
        """{arm: (values, means, standard deviations)} for the plot."""
        frame = pd.DataFrame(self.rows)
        out = {}
        for arm, group in frame.groupby("arm", sort=False):
            by_value = group.groupby("value", sort=False)["test"]
            means = by_value.mean()
            out[arm] = (list(means.index), means.tolist(), by_value.std(ddof=1).tolist())
        return out

    def summary(self) -> str:
        """The headline, the base run and the table, as text."""
        lines = [f"{self.study}: {self.part} {self.metric} by {self.setting} (mean ± std over "
                 "seeds)"]
        if self.contrast or self.average:
            lines.append(self.headline())
        lines += self.base_lines()
        return "\n".join(lines + ["", self.summary_table().to_string()])

    def base_lines(self) -> list[str]:
        """Where the transferring arms started: each base run and its own figure."""
        lines = []
        for base in self.bases:
            if base.get("test") is None or math.isnan(base["test"]):
                lines.append(f"Base run {base['label']}: given, {base['run_dir']}")
            else:
                lines.append(f"Base run {base['label']}: {base['part']} {base['metric']} "
                             f"{base['test']:.4f}, {base['run_dir']}")
        return lines

    def headline(self) -> str:
        """The contrast in one sentence, e.g. "fine-tuned minus from scratch: +21.3 points at
        100, ..."."""
        if not self.contrast:
            said = ", ".join(f"{arm} {mean:.4f}" for arm, mean in self.averages().items())
            return f"mean {self.part} {self.metric} over {self.setting}: {said}" if said else ""
        first, second = self.contrast
        said = ", ".join(f"{gain:+.1f} points at {value}" for value, gain in self.gains().items())
        return f"{first} minus {second}, {self.part} {self.metric}: {said}"

    def __repr__(self) -> str:
        return self.summary()

    def to_markdown(self) -> str:
        """report.md of the study."""
        out = [f"# {self.study}", "", self.description, ""]
        if self.contrast or self.average:
            out += [f"**{self.headline()}**", ""]
        out += [f"{self.part.capitalize()} {self.metric} by {self.setting} (mean ± standard "
                "deviation over seeds; every run's row below):", "", "```text",
                self.summary_table().to_string(), "```", ""]
        out += [line + "." for line in self.base_lines()] + ([""] if self.bases else [])
        out += ["## Runs", "", "```text", self.runs_table().to_string(index=False), "```", ""]
        out += [f"![{name}]({file})" for name, file in self.plots.items()]
        return "\n".join(out) + "\n"

    def runs_table(self) -> pd.DataFrame:
        """Every run: arm, setting value, seed, test metric, fit seconds, run folder."""
        return pd.DataFrame(self.rows).rename(columns={"value": self.setting,
                                                       "test": f"{self.part} {self.metric}"})

    def to_html(self, study_dir: Path) -> str:
        """report.html of the study, the plot embedded."""
        body = [f"<h1>{escape(self.study)}</h1>", f"<p>{escape(self.description)}</p>",
                f"<p><b>{escape(self.headline())}</b></p>" if self.headline() else "",
                f"<h2>{escape(self.part.capitalize())} {escape(self.metric)} by "
                f"{escape(self.setting)}</h2>",
                "<p>Mean ± standard deviation over seeds.</p>",
                self.summary_table().to_html()]
        body += [f"<p>{escape(line)}.</p>" for line in self.base_lines()]
        body += [embedded_png(study_dir / file, name) for name, file in self.plots.items()
                 if (study_dir / file).exists()]
        body += ["<h2>Runs</h2>", self.runs_table().to_html(index=False)]
        return html_page(f"{self.study} study", "\n".join(body))

    def write(self, study_dir: Path) -> Path:
        """report.json, report.md and report.html into `study_dir`; returns the JSON path."""
        path = study_dir / JSON_NAME
        atomic_write(path, json.dumps(self.__dict__, indent=2, default=str))
        atomic_write(study_dir / MARKDOWN_NAME, self.to_markdown())
        atomic_write(study_dir / HTML_NAME, self.to_html(study_dir))
        return path


def _mean_spread(values: list[float]) -> str:
    if len(values) == 1:
        return f"{values[0]:.4f}"
    return f"{statistics.mean(values):.4f} ± {statistics.stdev(values):.4f} ({len(values)} seeds)"


@dataclass
class StudyResult:
    """What a study returns: its report, every run (the bases first, if trained here) and its
    folder; `export_path` and `published_path` are None (a study's runs are not exported, but
    a base run whose overrides say export=True keeps its export in its run folder: a FastText
    run's export gives vectors to words it never saw)."""

    report: StudyReport
    results: list[Any] = field(repr=False)
    run_dir: Path
    export_path: None = None
    published_path: None = None

    @property
    def table(self) -> pd.DataFrame:
        """Every run's row."""
        return self.report.runs_table()

    @property
    def summary_table(self) -> pd.DataFrame:
        """Mean ± std per arm and setting value."""
        return self.report.summary_table()

    def __repr__(self) -> str:
        return f"StudyResult(run_dir={str(self.run_dir)!r})\n{self.report.summary()}"


def check_study(study: Study, overrides: Mapping[str, Any]) -> None:
    """`run_study(study, **overrides)` checked before anything trains."""
    if "resume" in overrides:
        raise ConfigError("a study cannot resume as a whole: resume one of its runs with "
                          "run(<its pipeline>, resume=<its run folder>), or run the study "
                          "again with base_model=<the base run's folder> ({label: folder} "
                          "for a study with several base runs).")
    if study.setting in overrides:
        raise ConfigError(f"{study.setting!r} is what study {study.name!r} varies; pass "
                          f"values=[{overrides[study.setting]!r}] to run it at that value only.")
    if "seed" in overrides and overrides.get("seeds") is not None:
        raise ConfigError("pass seeds=[...] or seed=..., not both.")
    study.check({k: v for k, v in overrides.items() if k not in STUDY_OPTIONS},
                overrides.get("values"), overrides.get("base_model"))


def given_bases(study: Study, base_model: str | Mapping[str, str] | None) -> dict[str, str]:
    """{base label: run folder} of the base runs given instead of trained: `base_model` a
    folder (a study with one base) or {label: folder} (any of its bases)."""
    if base_model is None:
        return {}
    labels = [base.label for base in study.bases]
    if not isinstance(base_model, Mapping):
        if len(labels) != 1:
            raise ConfigError(f"study {study.name!r} has {len(labels)} base runs ({labels}): "
                              "give base_model={label: run folder} for those to reuse.")
        return {labels[0]: str(base_model)}
    unknown = sorted(set(base_model) - set(labels))
    if unknown:
        raise ConfigError(f"base_model names {unknown}, not base runs of study "
                          f"{study.name!r}; its base runs: {labels or 'none'}.")
    return {label: str(folder) for label, folder in base_model.items()}


def run_study(study: Study, seeds: Sequence[int] | None = None,
              values: Sequence[Any] | None = None,
              base_model: str | Mapping[str, str] | None = None,
              **overrides: Any) -> StudyResult:
    """Train the base runs (but those `base_model` gives: a trained run or export, or
    {label: folder}), then every arm at every value of the setting, once per seed; write the
    study's report.

    Usage: run_study(study, seeds=(0, 1, 2), values=(100,), epochs=2)
    """
    from kdl import runner  # Keras and TensorFlow from here on

    check_study(study, {**overrides, "seeds": seeds, "values": values, "base_model": base_model})
    if "seed" in overrides:
        seeds = (overrides.pop("seed"),)
    seeds = tuple(seeds or (0,))
    values = tuple(values or study.values)
    given = given_bases(study, base_model)
    if given:
        from kdl import export

        for folder in given.values():  # a wrong folder fails before anything trains
            export.load_trained_model(folder)
    runs_root = Path(overrides.pop("runs_dir", "runs"))
    study_dir = new_stamped_dir(runs_root / "studies", study.name)
    verbose = overrides.get("verbose", "auto")
    runs_dir = str(study_dir / "runs")
    results, bases, folders = [], [], dict(given)
    for base in study.bases:
        if base.label in given:
            bases.append({"label": base.label, "test": math.nan, "run_dir": given[base.label]})
            continue
        progress.say(verbose, f"study {study.name}: base run {base.label}")
        base_spec = dataclasses.replace(base.spec, name=f"base_{slug(base.label)}")
        trained = runner.run(base_spec, **{**RUN_DEFAULTS, **base.overrides, **overrides},
                             seed=seeds[0], runs_dir=runs_dir)
        results.append(trained)
        folders[base.label] = str(trained.run_dir)
        metric = base.spec.optimizing_metric if study.metric not in trained.metrics \
            else study.metric
        bases.append({"label": base.label, "metric": metric, "test": trained.metrics.get(metric),
                      "part": _part(trained),
                      "run_dir": str(trained.run_dir.relative_to(study_dir))})
    rows, total, done = [], len(study.arms) * len(values) * len(seeds), 0
    for value in values:
        for arm in study.arms:
            for seed in seeds:
                done += 1
                progress.say(verbose, f"study {study.name} {done}/{total}: {arm.label}, "
                                      f"{study.setting}={value}, seed {seed}")
                base_label = study.base_of(arm)
                extra = {arm.base_as: folders[base_label]} if base_label else {}
                spec = dataclasses.replace(arm.spec, name=slug(arm.label))
                result = runner.run(spec, **{**RUN_DEFAULTS, **arm.overrides, **overrides, **extra},
                                    **{study.setting: value}, seed=seed, runs_dir=runs_dir)
                results.append(result)
                rows.append({"arm": arm.label, "value": value, "seed": seed,
                             "test": result.metrics.get(study.metric),
                             "fit_seconds": result.report.timings.get("fit_seconds"),
                             "run_dir": str(result.run_dir.relative_to(study_dir))})
    setting = study.setting_label or study.setting
    report = StudyReport(study.name, setting, study.metric, rows, bases, study.description,
                         contrast=list(study.contrast) if study.contrast else None,
                         average=study.average, part=_part(results[-1]))
    plot = plots.metric_against_setting(report.curves(), setting,
                                        f"{report.part} {study.metric}", study_dir / PLOT_NAME,
                                        f"{study.name}: {report.part} {study.metric} against "
                                        f"{setting}", report.averages())
    report.plots = {f"{report.part} metric against the setting": plot.name}
    report.write(study_dir)
    return StudyResult(report, results, study_dir)


def _part(result: Any) -> str:
    """What a run's metrics were scored on: "test", or "out-of-fold" (no test split)."""
    return "out-of-fold" if result.report.out_of_fold else "test"
