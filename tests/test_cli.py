import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from kdl import cli

ROOT = Path(__file__).resolve().parents[1]


def test_list_and_describe(capsys):
    assert cli.main(["list"]) == 0
    out = capsys.readouterr().out
    assert "mnist_convnet" in out and "tabular_classifier" in out and "expected" in out
    assert cli.main(["describe", "mnist_mlp"]) == 0
    assert "mlp(" in capsys.readouterr().out


@pytest.mark.parametrize("argv, message", [
    (["describe", "mnist_convnt"], "Did you mean 'mnist_convnet'"),
    (["run", "mnist_mlp", "--set", "dropot=0.2"], "Did you mean 'dropout'"),
    (["run", "mnist_mlp", "--set", "novalue"], "--set takes KEY=VALUE"),
    (["run", "mnist_mlp", "--epochs", "0"], "positive integer"),
])
def test_user_errors_are_one_line_without_traceback(argv, message, capsys):
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("kdl: error:") and message in err
    assert "Traceback" not in err and err.count("\n") == 1


def test_run_through_the_console_script(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "kdl.cli", "run", "mnist_mlp", "--epochs", "1",
               "--subset", "500", "--quiet", "--set", "widths=[32]", "--set", "dropout=0.1",
               "--validation", "0.2", "--export", str(tmp_path / "exported")]
    done = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "test accuracy" in done.stdout and "report:" in done.stdout
    assert (tmp_path / "exported" / "1" / "saved_model.pb").exists()
    report = json.loads(next((tmp_path / "runs" / "mnist_mlp").glob("*/report.json")).read_text())
    assert report["config"]["spec"]["model_params"]["widths"] == [32]
    assert report["config"]["spec"]["model_params"]["dropout"] == 0.1
    assert report["validation"]["n_validation"] == 100
    assert "oneDNN" not in done.stderr  # TensorFlow's start-up chatter is muted


def test_value_parsing():
    assert cli._parse_value("3") == 3 and cli._parse_value("0.5") == 0.5
    assert cli._parse_value("[1,2]") == (1, 2) and cli._parse_value("true") is True
    assert cli._parse_value("adam") == "adam"


def test_grid_parsing():
    assert cli._grid(["dropout=0.1,0.3"]) == {"dropout": [0.1, 0.3]}
    assert cli._grid(["widths=[64],[128,64]"]) == {"widths": [(64,), (128, 64)]}
    assert cli._grid(["optimizer=adam,sgd"]) == {"optimizer": ["adam", "sgd"]}


def test_sweep_and_learning_curve_commands(workdir, capsys):
    assert cli.main(["sweep", "mnist_mlp", "--grid", "dropout=0.1,0.5", "--epochs", "1",
                     "--subset", "400", "--quiet", "--set", "widths=[16]"]) == 0
    out = capsys.readouterr().out
    assert "validation accuracy" in out and "sweep.md" in out and out.count("dropout=") == 2
    assert cli.main(["learning-curve", "mnist_linear", "--sizes", "200", "400", "--epochs",
                     "1", "--quiet"]) == 0
    assert "loss_vs_samples.png" in capsys.readouterr().out


HEAVY = ("tensorflow", "keras", "sklearn", "matplotlib")


@pytest.mark.parametrize("argv, status", [
    (["list"], 0),
    (["describe", "mnist_convnet"], 0),
    (["--help"], 0),
    (["run", "mnist_convnt"], 2),
    (["run", "mnist_mlp", "--set", "dropout=high"], 2),
    (["run", "mnist_mlp", "--set", "widths=[256,"], 2),
    (["run", "mnist_mlp", "--bogus"], 2),
    (["sweep", "mnist_mlp", "--grid", "dropout=0.1,1.5"], 2),
    (["learning-curve", "mnist_mlp", "--sizes", "10", "--epochs", "-1"], 2),
])
def test_quick_commands_and_errors_do_not_import_tensorflow(argv, status):
    """`kdl list`, `describe`, `--help` and every name or override error answer in well under a
    second: none of them may import TensorFlow (seconds), scikit-learn or matplotlib."""
    probe = ("import sys\nfrom kdl import cli\ntry:\n    status = cli.main(sys.argv[1:])\n"
             "except SystemExit as exit:\n    status = exit.code\n"
             f"print('STATUS', status, [m for m in {HEAVY!r} if m in sys.modules])")
    done = subprocess.run([sys.executable, "-c", probe, *argv], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert f"STATUS {status} []" in done.stdout, (done.stdout[-500:], done.stderr[-1000:])
    if status == 2 and argv[0] != "--help":
        assert "Traceback" not in done.stderr and "error:" in done.stderr.splitlines()[-1]
