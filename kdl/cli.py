"""The `kdl` command: list, describe and run pipelines from a terminal.

Usage:
    kdl list
    kdl describe mnist_convnet
    kdl run mnist_convnet --epochs 3 --subset 10000 --no-export
    kdl run mnist_mlp --set dropout=0.3 --set widths=[256,128]
    kdl run mnist_mlp --resume runs/mnist_mlp/20261202-101500   # continue an interrupted run
    kdl sweep mnist_mlp --grid dropout=0.1,0.3,0.6,0.9 --epochs 5
    kdl learning-curve mnist_mlp --sizes 100 1000 10000
    kdl report runs/mnist_mlp/20261123-101500
    kdl compare runs/mnist_mlp/20261123-101500 runs/mnist_convnet/20261123-102000
    kdl ensemble runs/mnist_mlp/20261123-101500 runs/mnist_convnet/20261123-102000 --method stack
    kdl bag mnist_mlp --n 5 --subset 2000     # 5 bootstrap models averaged, one export
    kdl boost tabular_regressor --n 5 --data friedman.csv --target y
"""

from __future__ import annotations

import argparse
import ast
import os
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from kdl.errors import KdlError
from kdl.metrics import scalar_metrics

RUN_FLAGS = (
    ("--epochs", int, "epochs to train (every phase, for phased pipelines)"),
    ("--batch-size", int, "samples per gradient step"),
    ("--learning-rate", float, "the optimizer's learning rate"),
    ("--optimizer", str, "adam, adamw, sgd, rmsprop, nadam, ... (any Keras optimizer)"),
    ("--schedule", str, "learning-rate schedule: constant or cosine"),
    ("--early-stopping", int, "patience in epochs on the validation loss"),
    ("--max-minutes", float, "stop training after this many minutes"),
    ("--weight-decay", float, "decoupled weight decay (adamw, ...)"),
    ("--seed", int, "seed of splits, initial weights and batch order (same seed, same metrics)"),
    ("--subset", int, "train on the first N training samples (a quick run)"),
    ("--validation", str, "a fraction (0.1) or a strategy such as kfold:5, group_kfold:5"),
    ("--final-model", str, "after cross-validation: refit or best_fold"),
    ("--data", str, "your own data file (CSV, TSV, Parquet, JSON; a text file for text "
                    "pipelines) or a registered dataset name"),
    ("--target", str, "the target column of --data"),
    ("--test-size", float, "the share of --data held out as the test set (default 0.2)"),
    ("--strategy", str, "tf.distribute strategy: default or mirrored"),
    ("--runs-dir", str, "where run folders go (default runs/)"),
)


def _parse_value(text: str) -> Any:
    """'3' -> 3, '0.5' -> 0.5, '[1,2]' -> [1, 2], 'true' -> True; anything else stays a string."""
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError) as err:
        if text[:1] in "[({" or text[-1:] in "])}" or text[:1] in "'\"":
            reason = err.msg if isinstance(err, SyntaxError) else str(err)
            raise KdlError(f"{text!r} is not a valid value ({reason}); write a list as "
                           "[256,128], a string as text or 'text', a number as 0.3.") from None
        return text
    return tuple(value) if isinstance(value, list) else value


def _validation_value(text: str) -> Any:
    value = _parse_value(text)
    return value if isinstance(value, (int, float)) else text


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kdl", description="Run kdl's named deep-learning "
                                     "pipelines: train, validate, report, export.")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="list every pipeline")
    describe = commands.add_parser("describe", help="show what a pipeline does")
    describe.add_argument("name")
    run = _run_options(commands.add_parser("run", help="run a pipeline"))
    run.add_argument("--resume", metavar="RUN_DIR",
                     help="continue an interrupted run from its last finished epoch")
    sweep = _run_options(commands.add_parser("sweep", help="run a pipeline per setting"))
    sweep.add_argument("--grid", action="append", default=[], metavar="KEY=V1,V2,...",
                       help="a swept parameter and its values, e.g. --grid dropout=0.1,0.3")
    sweep.add_argument("--search", choices=("grid", "random"), default="grid")
    sweep.add_argument("--n-iter", type=int, default=10, help="settings tried by random search")
    bag = _run_options(commands.add_parser(
        "bag", help="bagging: n models on bootstrap resamples, averaged (one report, one "
                    "export)"))
    bag.add_argument("--n", type=int, default=5, help="how many bootstrap models (default 5)")
    boost = _run_options(commands.add_parser(
        "boost", help="boosting: n stages, each on what the stages before got wrong (one "
                      "report, one export)"))
    boost.add_argument("--n", type=int, default=5, help="how many stages (default 5)")
    boost.add_argument("--shrinkage", type=float,
                       help="each later stage's rate (default 0.5 regression, 1 classification)")
    curve = _run_options(commands.add_parser("learning-curve",
                                             help="train on growing subsets; loss vs samples"))
    curve.add_argument("--sizes", type=int, nargs="+", required=True)
    publish = commands.add_parser("publish", help="publish a run's export as the next serving "
                                                  "version")
    publish.add_argument("run_dir")
    publish.add_argument("--to", metavar="DIR", help="serving folder (default: the run's, "
                                                     "saved_models/<pipeline>)")
    report = commands.add_parser("report", help="re-render a run's report.md and report.html")
    report.add_argument("run_dir")
    combine = commands.add_parser("ensemble", help="ensemble exported runs: stack, average, vote")
    combine.add_argument("run_dirs", nargs="+")
    combine.add_argument("--method", choices=("stack", "average", "vote"), default="stack")
    combine.add_argument("--weights", type=float, nargs="+", help="weights for --method average")
    combine.add_argument("--with-features", action="store_true",
                         help="stacking: give the meta-model the original features too")
    generate = commands.add_parser("generate", help="generate text from a language-model export")
    generate.add_argument("source", help="an export folder (saved_models/NAME/VERSION) or a run "
                                         "folder whose report names its export")
    generate.add_argument("--prompt", default="ROMEO:")
    generate.add_argument("--length", type=int, default=300)
    generate.add_argument("--temperature", type=float, default=0.8)
    generate.add_argument("--top-k", type=int, default=20)
    generate.add_argument("--no-repeat", type=int, default=24,
                          help="repetition guard: no run of this many characters twice (0: off)")
    generate.add_argument("--seed", type=int, default=0)
    detect = commands.add_parser("detect", help="detect objects in images with a detector's "
                                                 "export")
    detect.add_argument("source", help="an export folder (saved_models/NAME/VERSION) or a run "
                                       "folder whose report names its export")
    detect.add_argument("images", nargs="+", help="image files")
    detect.add_argument("--out", help="where to draw the boxes (a .png file for one image, a "
                                      "folder for several)")
    detect.add_argument("--min-score", type=float, default=0.5,
                        help="show detections scoring at least this (default 0.5)")
    sample = commands.add_parser("sample", help="draw samples from a GAN's export as a grid")
    sample.add_argument("source", help="an export folder (saved_models/NAME/VERSION) or a run "
                                       "folder whose report names its export")
    sample.add_argument("--n", type=int, default=64, help="how many samples (default 64)")
    sample.add_argument("--label", type=int, help="the class a conditional GAN draws (default: "
                                                  "every class in turn)")
    sample.add_argument("--seed", type=int, default=0)
    sample.add_argument("--out", default="samples.png", help="the grid's .png file")
    compare = commands.add_parser("compare", help="compare runs side by side")
    compare.add_argument("run_dirs", nargs="+")
    compare.add_argument("--out", help="folder for compare.png (default: a new "
                                        "runs/compare/<timestamp>)")
    return parser


def _run_options(command: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The pipeline name and override flags shared by run, sweep and learning-curve."""
    command.add_argument("name")
    for flag, kind, description in RUN_FLAGS:
        command.add_argument(flag, type=kind, help=description)
    export = command.add_mutually_exclusive_group()
    export.add_argument("--no-export", action="store_true", help="write no SavedModel at all")
    export.add_argument("--export", metavar="DIR",
                        help="serving folder to publish to (default saved_models/<pipeline>)")
    publish = command.add_mutually_exclusive_group()
    publish.add_argument("--publish", action="store_true",
                         help="publish this run as the next serving version whatever its "
                              "figures (default: only when it meets its thresholds and is "
                              "not worse than the live version)")
    publish.add_argument("--no-publish", action="store_true",
                         help="keep the export in the run folder only")
    command.add_argument("--quiet", action="store_true", help="no progress bars")
    command.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                         help="any other override, e.g. --set dropout=0.3 (repeatable)")
    return command


def _grid(items: list[str]) -> dict[str, list[Any]]:
    """--grid dropout=0.1,0.3 -> {"dropout": [0.1, 0.3]}; --grid widths=[64],[128,64] works too."""
    grid = {}
    for item in items:
        key, sep, text = item.partition("=")
        if not sep or not key or not text:
            raise KdlError(f"--grid takes KEY=V1,V2,...; got {item!r}.")
        try:
            values = ast.literal_eval(f"[{text}]")
        except (ValueError, SyntaxError):
            values = [_parse_value(part.strip()) for part in text.split(",")]
        grid[key.strip().replace("-", "_")] = [tuple(v) if isinstance(v, list) else v
                                               for v in values]
    return grid


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    overrides: dict[str, Any] = {}
    for flag, _, _ in RUN_FLAGS:
        key = flag[2:].replace("-", "_")
        value = getattr(args, key)
        if value is not None:
            overrides[key] = _validation_value(value) if key == "validation" else value
    if args.no_export:
        overrides["export"] = False
    elif args.export:
        overrides["export"] = args.export
    if args.publish or args.no_publish:
        overrides["publish"] = bool(args.publish)
    overrides["verbose"] = 0 if args.quiet else "auto"
    if getattr(args, "resume", None):
        overrides["resume"] = args.resume
    for item in args.set:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise KdlError(f"--set takes KEY=VALUE; got {item!r}.")
        try:
            overrides[key.strip().replace("-", "_")] = _parse_value(value.strip())
        except KdlError as err:
            raise KdlError(f"--set {item}: {err}") from None
    return overrides


def _import_tensorflow_quietly() -> None:
    """Import TensorFlow and look for GPUs with stderr muted: its C++ start-up lines, and on a
    machine without a GPU its "failed call to cuInit: CUDA error", are noise in a terminal."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        import tensorflow

        tensorflow.config.list_physical_devices("GPU")
    finally:
        os.dup2(saved, 2)
        os.close(devnull)
        os.close(saved)


NEEDS_TENSORFLOW = ("run", "sweep", "learning-curve", "ensemble", "generate", "detect", "sample",
                    "publish", "bag", "boost")
ENSEMBLE_COMMANDS = ("bag", "boost")


def _check_before_tensorflow(args: argparse.Namespace, pipelines: Any) -> dict[str, Any]:
    """The pipeline name and every override checked in well under a second, before TensorFlow
    (seconds to import) is loaded; returns the overrides."""
    if args.command not in ("run", "sweep", "learning-curve", *ENSEMBLE_COMMANDS):
        return {}
    from kdl.spec import resolve
    from kdl.study import Study, check_study

    overrides = _overrides(args)
    entry = pipelines.get(args.name)
    if args.command == "run" and isinstance(entry, Study):
        check_study(entry, overrides)
        return overrides
    spec = pipelines.get_spec(args.name, args.command)
    resolve(spec, overrides)
    if args.command in ENSEMBLE_COMMANDS:
        _check_ensemble(args, spec, overrides)
    grid = _grid(args.grid) if args.command == "sweep" else {}
    for key, values in grid.items():
        for value in values:
            resolve(spec, {**overrides, key: value})
    return overrides


def _check_ensemble(args: argparse.Namespace, spec: Any, overrides: dict[str, Any]) -> None:
    """`kdl bag` / `kdl boost`: the member count, the task and the validation checked before
    TensorFlow loads."""
    from kdl import tasks
    from kdl.spec import combining_tasks, resolve

    if args.n < 2 and args.command == "bag":
        raise KdlError(f"bagging needs --n 2 or more; got {args.n}.")
    if args.n < 1:
        raise KdlError(f"boosting needs --n 1 or more; got {args.n}.")
    if tasks.of(spec).combines is None:
        raise KdlError(f"{args.name} is a {spec.task} pipeline, whose models' outputs kdl cannot "
                       f"combine yet; bagging and boosting take pipelines of the tasks "
                       f"{', '.join(combining_tasks())}.")
    if args.command == "bag" and "validation" in overrides:
        raise KdlError("bagging validates out of bag, so --validation does not apply.")
    if args.command == "boost":
        from kdl.boosting import check_boostable

        check_boostable(resolve(spec, overrides)[0])


def _detect(args: argparse.Namespace) -> None:
    """`kdl detect`: print each image's boxes, and draw them where --out says."""
    from kdl.detect import detect_files, draw_detections

    found = detect_files(args.source, args.images, args.min_score)
    for result in found:
        print(f"{result['image']}: {len(result['boxes'])} detected")
        for box, name, score in zip(result["boxes"], result["classes"], result["scores"]):
            print(f"  {name:<12} {score:.3f}  [{', '.join(f'{v:g}' for v in box)}]")
    if args.out is None:
        return
    out = Path(args.out)
    if len(found) == 1 and out.suffix:
        print(f"drawn: {draw_detections(found[0]['image'], found[0], out)}")
        return
    out.mkdir(parents=True, exist_ok=True)
    for result in found:
        drawn = out / f"{Path(result['image']).stem}_boxes.png"
        print(f"drawn: {draw_detections(result['image'], result, drawn)}")


def _print_run(result: Any) -> None:
    """A finished run's summary and where its files went."""
    print(result.report.summary())
    print(f"report: {result.run_dir / 'report.html'}")
    print(f"report: {result.run_dir / 'report.md'}")
    if result.export_path is not None:
        print(f"export: {result.export_path}")
    if result.published_path is not None:
        print(f"serving version: {result.published_path}")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `kdl` console script; returns the exit status."""
    args = _parser().parse_args(argv)
    try:
        import pipelines
        from kdl import compare

        _check_before_tensorflow(args, pipelines)
        if args.command in NEEDS_TENSORFLOW:
            _import_tensorflow_quietly()
        if args.command == "list":
            print(pipelines.list().to_string())
        elif args.command == "describe":
            print(pipelines.describe(args.name))
        elif args.command == "publish":
            from kdl import runner

            print(f"published: {runner.publish_run(args.run_dir, args.to)}")
        elif args.command == "report":
            loaded = compare.load_reports([args.run_dir])
            report = next(iter(loaded.values()))
            report.write(args.run_dir)
            print(report.summary())
            print(f"report: {Path(args.run_dir) / 'report.html'}")
        elif args.command == "ensemble":
            from kdl import ensemble

            scores = ensemble.combine(args.run_dirs, args.method, args.weights,
                                      args.with_features)
            for part, values in scores.items():
                print(f"{args.method} ensemble, {part}:")
                for name, value in scalar_metrics(values).items():
                    print(f"  {name:<18} {value:.4f}")
        elif args.command == "generate":
            from kdl.generate import generate_from_export

            print(generate_from_export(args.source, args.prompt, args.length, args.temperature,
                                       args.top_k or None, args.seed, args.no_repeat or None))
        elif args.command == "detect":
            _detect(args)
        elif args.command == "sample":
            from kdl.sample import sample_grid

            print(f"drawn: {sample_grid(args.source, args.out, args.n, args.label, args.seed)}")
        elif args.command == "compare":
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", compare.ComparisonWarning)
                table, plot = compare.compare(args.run_dirs, args.out)
            for warning in caught:
                print(f"kdl: warning: {warning.message}", file=sys.stderr)
            print(table.to_string(float_format=lambda v: f"{v:.4f}"))
            print(f"plot: {plot}")
        elif args.command == "sweep":
            swept = pipelines.sweep(args.name, search=args.search, n_iter=args.n_iter,
                                    **_overrides(args), **_grid(args.grid))
            print(swept.table.drop(columns=["run_dir"]).to_string(index=False))
            print(f"sweep: {swept.sweep_dir / 'sweep.md'}")
        elif args.command == "learning-curve":
            curve = pipelines.learning_curve(args.name, sizes=args.sizes, **_overrides(args))
            print(curve.table.drop(columns=["run_dir"]).to_string(index=False))
            print(f"plot: {curve.sweep_dir / 'loss_vs_samples.png'}")
        elif args.command in ENSEMBLE_COMMANDS:
            from kdl import ensemble

            result = (ensemble.bagging(args.name, args.n, **_overrides(args))
                      if args.command == "bag" else
                      ensemble.boosting(args.name, args.n, args.shrinkage, **_overrides(args)))
            _print_run(result)
        else:
            from kdl import runner
            from kdl.study import Study, run_study

            entry = pipelines.get(args.name)
            _print_run(run_study(entry, **_overrides(args)) if isinstance(entry, Study)
                       else runner.run(entry, **_overrides(args)))
    except KdlError as err:
        print(f"kdl: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as err:
        notes = [note for note in getattr(err, "__notes__", []) if note.startswith("kdl:")]
        print(notes[0] if notes else "kdl: interrupted.", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
