"""The over/underfitting diagnosis: its thresholds on hand-made learning curves, the remedies
it offers as exact overrides, and its verdicts on real runs built to overfit (a large MLP on
500 MNIST images) and to underfit (softmax regression under heavy weight decay)."""

from __future__ import annotations

import json

import pytest

import pipelines
from kdl import diagnosis
from kdl.diagnosis import NEITHER, OVERFITTING, UNDERFITTING, diagnose, trend
from kdl.errors import ConfigError
from kdl.report import Report
from kdl.spec import resolve, valid_overrides


def unit(train_accuracy, val_accuracy, kept=None, stops=("ran all",)):
    epochs = len(train_accuracy)
    return {"history": {"accuracy": list(train_accuracy), "val_accuracy": list(val_accuracy),
                        "loss": [1.0] * epochs, "val_loss": [1.0] * epochs},
            "phase_epochs": [epochs], "kept_epochs": [kept], "stops": list(stops)}


def test_trend_of_rates_and_losses():
    assert trend([0.30, 0.20, 0.12, 0.08], rate=True) == "falling"
    assert trend([0.10, 0.08, 0.081, 0.0805, 0.0802], rate=True) == "flat"
    assert trend([0.10, 0.08, 0.09, 0.10, 0.11], rate=True) == "rising"
    assert trend([0.1, 0.09], rate=True) == "too short"
    # losses are judged relative to their best value: 3% of 100 is 3
    assert trend([120.0, 110.0, 106.0, 102.0, 101.0], rate=False) == "falling"
    assert trend([120.0, 110.0, 101.0, 100.5, 100.0], rate=False) == "flat"


def test_overfitting_gap_threshold_both_sides():
    mlp = pipelines.get("mnist_mlp")
    flat = [0.90, 0.95, 0.99, 1.00, 1.00, 1.00]
    just_under = diagnose([unit(flat, [0.97, 0.981, 0.981, 0.981, 0.981, 0.981])], mlp)
    assert just_under["verdict"] == NEITHER  # gap 1.9 points < 2
    over = diagnose([unit(flat, [0.97, 0.975, 0.975, 0.975, 0.975, 0.975])], mlp)
    assert over["verdict"] == OVERFITTING  # gap 2.5 points, above 25% of the 2.5% error
    assert "2.50% above training error 0.00%" in over["reasons"][0]
    assert over["units"]["training"]["gap"] == pytest.approx(0.025)


def test_several_units_are_judged_on_their_mean_errors():
    mlp = pipelines.get("mnist_mlp")
    flat = [0.90, 0.95, 0.99, 1.00, 1.00, 1.00]
    wide = unit(flat, [0.90, 0.90, 0.90, 0.90, 0.90, 0.90])  # gap 10 points
    close = unit(flat, [0.99, 0.99, 0.99, 0.99, 0.99, 0.99])  # gap 1 point
    found = diagnose([wide, close], mlp, labels=["member 1", "member 2"])
    assert [row["verdict"] for row in found["units"].values()] == [OVERFITTING, NEITHER]
    assert found["gap"] == pytest.approx(0.055) and found["verdict"] == OVERFITTING
    assert found["reasons"][0].startswith("mean over 2 units: validation error 5.50% is 5.50%")
    assert found["reasons"][-1] == "1 of 2 units say overfitting"


def test_a_combined_model_is_judged_by_its_own_errors():
    mlp = pipelines.get("mnist_mlp")
    flat = [0.90, 0.95, 0.99, 1.00, 1.00, 1.00]
    stages = [unit(flat, [0.90] * 6), unit(flat, [0.90] * 6)]  # each stage alone overfits
    found = diagnose(stages, mlp, labels=["stage 1", "stage 2"],
                     combined={"curve": "accuracy", "train_error": 0.01,
                               "validation_error": 0.015})
    assert found["judged"] == "the combined model" and found["verdict"] == NEITHER
    assert found["gap"] == pytest.approx(0.005)
    assert found["units"]["stage 1"]["verdict"] == OVERFITTING
    other_curve = diagnose(stages, mlp, combined={"curve": "loss", "train_error": 0.0,
                                                  "validation_error": 0.0})
    assert other_curve["judged"] == "the mean of its 2 fold models"
    assert other_curve["verdict"] == OVERFITTING


def test_errors_are_read_at_the_epoch_early_stopping_kept():
    mlp = pipelines.get("mnist_mlp")
    train = [0.90, 0.95, 0.97, 1.00, 1.00, 1.00]
    val = [0.90, 0.94, 0.96, 0.93, 0.92, 0.91]
    restored = unit(train, val, kept=3, stops=("stopped at epoch 6 of 20 by early stopping",))
    found = diagnose([restored], mlp)
    row = found["units"]["training"]
    assert row["epoch"] == 3 and row["train_error"] == pytest.approx(0.03)
    assert row["validation_error"] == pytest.approx(0.04)
    assert row["trend"] == "rising" and found["verdict"] == NEITHER  # the best was restored
    unrestored = diagnose([unit(train, val)], mlp)
    assert unrestored["verdict"] == OVERFITTING
    assert any("rose from its best 4.00% at epoch 3" in r for r in unrestored["reasons"])


def test_underfitting_against_the_reference_and_a_still_falling_curve():
    linear = pipelines.get("mnist_linear")  # reference 92.4%: error 7.6%
    flat_high = diagnose([unit([0.80, 0.85, 0.86, 0.86, 0.86],
                               [0.80, 0.84, 0.85, 0.85, 0.85])], linear)
    assert flat_high["verdict"] == UNDERFITTING
    assert flat_high["reasons"][0].startswith("training error 14.00% is 6.40% above the "
                                              "reference error 7.60%")
    near = diagnose([unit([0.88, 0.90, 0.915, 0.915, 0.915],
                          [0.88, 0.90, 0.91, 0.91, 0.91])], linear)
    assert near["verdict"] == NEITHER  # 1.1 points above the reference: under 2
    falling = diagnose([unit([0.5, 0.7, 0.8, 0.9, 0.95], [0.5, 0.7, 0.8, 0.9, 0.95])],
                       pipelines.get("mnist_mlp"))
    assert falling["verdict"] == UNDERFITTING
    assert any("still falling at the last epoch (5)" in r for r in falling["reasons"])
    assert any(r["cli"] == "kdl run mnist_mlp --set epochs=40" for r in falling["remedies"])


def test_regression_rmse_is_the_root_of_the_mse_loss_and_a_reference_can_be_given():
    regressor, _ = resolve(pipelines.get("tabular_regressor"),
                           {"reference": (1.0, "the noise level of make_friedman1")})
    units = [{"history": {"loss": [25.0, 9.0, 4.0, 4.0, 4.0], "mae": [1.0] * 5,
                          "val_loss": [25.0, 9.0, 4.41, 4.41, 4.41], "val_mae": [1.0] * 5},
              "phase_epochs": [5], "kept_epochs": [None], "stops": ["ran all 5 epochs"]}]
    found = diagnose(units, regressor)
    assert found["curve"] == "rmse" and found["error"].startswith("rmse (the square root")
    row = found["units"]["training"]
    assert (row["train_error"], row["validation_error"]) == pytest.approx((2.0, 2.1))
    assert found["verdict"] == UNDERFITTING
    assert found["reasons"][0] == ("training error 2 is 1 above the reference error 1 (more "
                                   "than 0.5)")
    with pytest.raises(ConfigError, match="reference must be"):
        resolve(pipelines.get("tabular_regressor"), {"reference": 1.0})


def test_remedies_are_exact_overrides_that_the_pipeline_accepts():
    found = diagnosis.remedies(pipelines.get("mnist_mlp"), overfit=True, underfit=False,
                               subset=500)
    clis = [r["cli"] for r in found]
    assert "kdl run mnist_mlp --set subset=2000" in clis
    assert "kdl run mnist_mlp --set dropout=0.5" in clis  # 0.3 + 0.2
    assert "kdl run mnist_mlp --set widths=[512,512]" in clis
    assert "kdl run mnist_mlp --set early_stopping=5" in clis
    assert "kdl bag mnist_mlp --n 5" in clis
    accepted = set(valid_overrides(pipelines.get("mnist_mlp")))
    for remedy in found:
        if remedy["cli"].startswith("kdl run"):  # every key one the pipeline accepts
            keys = {item.split("=", 1)[0].strip() for item in remedy["cli"].split("--set ")[1:]}
            assert keys <= accepted
    under = [r["cli"] for r in diagnosis.remedies(pipelines.get("mnist_linear"), False, True)]
    assert "kdl boost mnist_linear --n 5" in under
    assert not any("dropout" in cli for cli in under)  # softmax regression has no dropout
    autoencoder = [r["remedy"] for r in diagnosis.remedies(pipelines.get("mnist_ae_2d"),
                                                           True, True)]
    assert "bagging" not in autoencoder and "boosting" not in autoencoder


def test_remedies_of_a_bag_run_it_again_as_a_bag():
    command = ("kdl bag mnist_mlp --n 5", "kdl.ensemble.bagging('mnist_mlp', n=5")
    found = diagnosis.remedies(pipelines.get("mnist_mlp"), True, True, subset=500,
                               command=command)
    assert found and all(r["cli"].startswith("kdl bag mnist_mlp --n 5 --set ")
                         or r["remedy"] == "another architecture" for r in found)
    assert "kdl bag mnist_mlp --n 5 --set dropout=0.5" in [r["cli"] for r in found]
    assert "kdl.ensemble.bagging('mnist_mlp', n=5, dropout=0.5)" in [r["python"] for r in found]
    assert not {"bagging", "boosting"} & {r["remedy"] for r in found}


def test_a_run_built_to_overfit_is_said_to_overfit(workdir):
    result = pipelines.run("mnist_mlp", subset=500, validation=0.2, widths=(512, 512),
                           dropout=0.0, input_dropout=0.0, batch_norm=False, epochs=25,
                           schedule="constant", warmup_epochs=0, export=False, verbose=0)
    found = result.report.diagnosis
    assert found["verdict"] == OVERFITTING
    assert found["units"]["training"]["train_error"] < 0.01
    assert found["gap"] > 0.05
    assert "kdl bag mnist_mlp --n 5" in [r["cli"] for r in found["remedies"]]
    markdown = (result.run_dir / "report.md").read_text()
    assert "**Diagnosis: overfitting.** Validation error" in markdown
    assert "## Diagnosis per trained unit" in markdown and "## Remedies to try" in markdown
    assert "diagnosis        overfitting" in result.report.summary()
    loaded = Report.load(result.run_dir)
    assert loaded.diagnosis["verdict"] == OVERFITTING


def test_a_run_built_to_underfit_is_said_to_underfit(workdir):
    result = pipelines.run("mnist_linear", subset=5000, epochs=5, optimizer="adamw",
                           weight_decay=100.0, export=False, verbose=0)
    found = result.report.diagnosis
    assert found["verdict"] == UNDERFITTING
    assert "above the reference error 7.60%" in found["reasons"][0]
    clis = [r["cli"] for r in found["remedies"]]
    assert "kdl run mnist_linear --set weight_decay=10.0" in clis
    assert "kdl boost mnist_linear --n 5" in clis


def test_reports_written_before_the_diagnosis_still_load(workdir):
    result = pipelines.run("mnist_linear", subset=300, epochs=1, export=False, verbose=0)
    path = result.run_dir / "report.json"
    payload = json.loads(path.read_text())
    payload.pop("diagnosis")
    payload["schema_version"] = 2
    path.write_text(json.dumps(payload))
    old = Report.load(result.run_dir)
    assert old.diagnosis == {} and "Diagnosis" not in old.to_markdown()
