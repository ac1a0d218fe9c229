"""Resume: a run killed mid-training continues from its last finished epoch, in its own folder,
and ends with the metrics an uninterrupted run with the same seed reaches."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import keras
import pytest

import pipelines
from kdl import cli
from kdl.errors import ConfigError

TINY = {"epochs": 4, "subset": 600, "widths": (64,), "dropout": 0.3, "export": False}
REPOSITORY = Path(__file__).resolve().parents[1]


class InterruptAfter(keras.callbacks.Callback):
    """Ctrl-C after `epochs` epochs in all (counted across folds and phases)."""

    def __init__(self, epochs: int) -> None:
        super().__init__()
        self.epochs, self.seen = epochs, 0

    def on_epoch_end(self, epoch, logs=None):
        self.seen += 1
        if self.seen == self.epochs:
            raise KeyboardInterrupt


def _only_run(workdir: Path, pipeline: str) -> Path:
    (run_dir,) = (workdir / "runs" / pipeline).iterdir()
    return run_dir


def test_a_run_killed_after_epoch_2_of_4_resumes_to_the_same_metrics(workdir):
    script = textwrap.dedent(f"""
        import sys, time, keras
        sys.path.insert(0, {str(REPOSITORY)!r})
        import pipelines

        class Hang(keras.callbacks.Callback):
            def on_epoch_end(self, epoch, logs=None):
                if epoch == 1:  # epoch 2's checkpoint is written: say so, then wait to be killed
                    open("epoch2.done", "w").close()
                    time.sleep(600)

        pipelines.run("mnist_mlp", verbose=0, callbacks=(Hang(),), **{TINY!r})
    """)
    process = subprocess.Popen([sys.executable, "-c", script], cwd=workdir,
                               env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 300
        while not (workdir / "epoch2.done").exists():
            assert process.poll() is None and time.time() < deadline, "the run never got there"
            time.sleep(0.2)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    run_dir = _only_run(workdir, "mnist_mlp")
    assert not (run_dir / "report.json").exists()
    assert json.loads((run_dir / "run.json").read_text())["status"] == "running"

    assert cli.main(["run", "mnist_mlp", "--resume", str(run_dir), "--quiet"]) == 0
    resumed = json.loads((run_dir / "report.json").read_text())
    whole = pipelines.run("mnist_mlp", verbose=0, runs_dir="whole", **TINY)
    assert resumed["test_metrics"]["log_loss"] == whole.metrics["log_loss"]
    assert resumed["folds"][0]["history"] == whole.report.folds[0]["history"]
    assert len(resumed["folds"][0]["history"]["loss"]) == 4
    assert not (run_dir / "checkpoints").exists()  # a finished run keeps its model, not these
    assert json.loads((run_dir / "run.json").read_text())["status"] == "complete"


def test_kfold_and_refit_resume_mid_fold_without_training_finished_folds_again(workdir):
    common = {**TINY, "validation": "kfold:2", "verbose": 0}
    whole = pipelines.run("mnist_mlp", runs_dir="whole", **common)
    with pytest.raises(KeyboardInterrupt) as interrupted:
        pipelines.run("mnist_mlp", callbacks=(InterruptAfter(5),), **common)  # fold 2, epoch 1
    run_dir = _only_run(workdir, "mnist_mlp")
    assert f"--resume {run_dir}" in interrupted.value.__notes__[0]
    assert (run_dir / "checkpoints" / "fold-1" / "done.npz").exists()
    counter = InterruptAfter(10_000)
    resumed = pipelines.run("mnist_mlp", resume=str(run_dir), callbacks=(counter,), verbose=0)
    assert counter.seen == 3 + 4  # fold 2's last 3 epochs and the refit's 4: fold 1 is done
    assert resumed.metrics["log_loss"] == whole.metrics["log_loss"]
    assert resumed.report.aggregate == whole.report.aggregate
    assert (resumed.oof_predictions == whole.oof_predictions).all()


def test_resume_refuses_another_pipeline_other_settings_and_finished_runs(workdir):
    with pytest.raises(KeyboardInterrupt):
        pipelines.run("mnist_mlp", callbacks=(InterruptAfter(1),), verbose=0, **TINY)
    run_dir = str(_only_run(workdir, "mnist_mlp"))
    with pytest.raises(ConfigError, match="is a run of 'mnist_mlp', not 'mnist_linear'"):
        pipelines.run("mnist_linear", resume=run_dir)
    with pytest.raises(ConfigError, match="keeps the settings it began with; epochs=5"):
        pipelines.run("mnist_mlp", resume=run_dir, epochs=5)
    with pytest.raises(ConfigError, match="not a kdl run folder"):
        pipelines.run("mnist_mlp", resume=str(workdir))
    pipelines.run("mnist_mlp", resume=run_dir, verbose=0)
    with pytest.raises(ConfigError, match="finished already"):
        pipelines.run("mnist_mlp", resume=run_dir)


def test_the_cli_says_in_one_line_how_to_resume(workdir, capsys, monkeypatch):
    from kdl import runner

    def interrupted(*args, **kwargs):
        error = KeyboardInterrupt()
        error.add_note("kdl: the run can continue: kdl run mnist_mlp --resume runs/x")
        raise error

    monkeypatch.setattr(runner, "run", interrupted)
    assert cli.main(["run", "mnist_mlp", "--quiet"]) == 130
    assert capsys.readouterr().err.strip() == ("kdl: the run can continue: kdl run mnist_mlp "
                                               "--resume runs/x")
