"""GANs: each training step moves its losses the right way, the gradient penalty equals its
hand-computed value, the conditional GAN honours its label, the measures (Fréchet distance,
two-sample test, the judge's checks) are right on sets whose answer is known, the collapse
monitor stops a collapsed run, and the pipelines run, report and export generators that
reload without kdl and sample from the CLI."""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest
import tensorflow as tf

import pipelines
from kdl import judge, metrics
from kdl.cli import main
from kdl.data import load, parabola_points
from kdl.errors import ConfigError
from kdl.models.gan import conditional_gan, dcgan, dense_generator, wgan_gp
from kdl.models.gan.model import WGANGP
from kdl.models.layers import Standardize, undo_preprocessing
from kdl.sample_monitor import SampleMonitor


@pytest.fixture
def judges_home(tmp_path, monkeypatch):
    """Judges trained in a test are cached in a temporary Keras home."""
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    judge._LOADED.clear()
    yield tmp_path / "keras_home"
    judge._LOADED.clear()


def _compiled(model, rate=1e-3):
    model.compile(generator_optimizer=keras.optimizers.Adam(rate),
                  discriminator_optimizer=keras.optimizers.Adam(rate))
    return model


def _points_gan(rate=1e-3):
    keras.utils.set_random_seed(0)
    return _compiled(dcgan((2,), noise_size=2, widths=(16,)), rate)


def test_the_discriminator_step_lowers_its_loss_and_the_generator_step_lowers_its_own():
    real = tf.constant(parabola_points(256, seed=0) + np.float32([0, 2]))  # away from G
    gan = _points_gan(1e-2)
    before = float(gan.discriminator_losses(real)["d_loss"])
    for _ in range(40):  # discriminator steps only: the generator stays as it is
        gan._step(lambda: gan.discriminator_losses(real), gan.discriminator,
                  gan.discriminator_optimizer)
    trained_d = float(gan.discriminator_losses(real)["d_loss"])
    assert trained_d < before - 0.2
    g_before = float(gan.generator_loss(256))
    for _ in range(40):  # generator steps only, against that discriminator
        gan._step(lambda: {"g_loss": gan.generator_loss(256)}, gan.generator,
                  gan.generator_optimizer)
    assert float(gan.generator_loss(256)) < g_before - 0.2
    assert float(gan.discriminator_losses(real)["d_loss"]) > trained_d  # the generator fooled it


def test_train_step_trains_both_networks_and_logs_their_losses():
    gan = _points_gan()
    generator_before = [w.copy() for w in gan.generator.get_weights()]
    discriminator_before = [w.copy() for w in gan.discriminator.get_weights()]
    logs = gan.train_step((tf.constant(parabola_points(64)), tf.zeros(64)))
    assert set(logs) == {"d_loss", "g_loss", "d_real", "d_fake"}
    for before, network in ((generator_before, gan.generator),
                            (discriminator_before, gan.discriminator)):
        assert any(not np.allclose(a, b) for a, b in zip(before, network.get_weights()))


def test_the_gradient_penalty_of_a_linear_critic_is_its_weight_norm_minus_one_squared():
    keras.utils.set_random_seed(0)
    critic = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    weights = np.array([[0.5], [1.0], [2.0]], np.float32)
    critic.set_weights([weights, np.array([0.3], np.float32)])
    wgan = WGANGP(dense_generator((3,), noise_size=2), critic, critic_steps=3,
                  penalty_weight=10.0)
    real = tf.constant(np.random.default_rng(0).normal(size=(16, 3)), tf.float32)
    fake = tf.constant(np.random.default_rng(1).normal(size=(16, 3)), tf.float32)
    expected = (np.linalg.norm(weights) - 1.0) ** 2  # the gradient of w.x + b is w everywhere
    assert float(wgan.gradient_penalty(real, fake)) == pytest.approx(expected, rel=1e-5)


def test_the_critic_steps_make_the_wasserstein_estimate_grow_and_log_the_penalty():
    keras.utils.set_random_seed(0)
    wgan = wgan_gp((2,), noise_size=2, widths=(16,), critic_steps=5)
    wgan.compile(generator_optimizer=keras.optimizers.SGD(0.0),  # the generator stays put
                 discriminator_optimizer=keras.optimizers.Adam(1e-2))
    real = tf.constant(parabola_points(256, seed=0) + np.float32([0, 2]))  # away from G
    before = float(wgan.discriminator_losses(real)["wasserstein"])
    for _ in range(12):
        logs = wgan.train_step((real, tf.zeros(256)))
    assert set(logs) == {"d_loss", "g_loss", "wasserstein", "gradient_penalty"}
    after = wgan.discriminator_losses(real)
    assert float(after["wasserstein"]) > max(before, 1.0)  # the critic tells them apart
    assert float(after["gradient_penalty"]) < 0.5  # with its gradient norm kept near 1


def test_the_conditional_gan_draws_what_its_label_asks_and_needs_labels():
    keras.utils.set_random_seed(0)
    cgan = _compiled(conditional_gan((8, 8, 1), num_classes=3, noise_size=4, filters=(8, 16)))
    noise = np.random.default_rng(0).normal(size=(3, 4)).astype("float32")
    same_noise = np.asarray(cgan([noise, np.array([0, 1, 2])]))
    assert not np.allclose(same_noise[0], same_noise[1])  # the label changes the image
    assert np.allclose(np.asarray(cgan([noise, np.array([0, 1, 2])])), same_noise)
    # the discriminator is told the class: the same image scores differently per label
    image = tf.constant(same_noise[:1].repeat(3, 0) / 255.0)
    scores = np.asarray(cgan.score(image, np.array([0, 1, 2])))
    assert np.ptp(scores) > 0
    with pytest.raises(ValueError, match="class labels"):
        cgan.train_step(tf.zeros((4, 8, 8, 1)))
    with pytest.raises(ValueError, match="labels must be"):
        cgan.generate(4, labels=[0, 1, 2, 3])


def test_generators_give_samples_in_the_data_units_and_reload_the_same(tmp_path):
    keras.utils.set_random_seed(0)
    gan = dcgan((8, 8, 1), noise_size=4, filters=(8, 16),
                preprocessing=keras.layers.Rescaling(1 / 255))
    images = gan.generate(5, seed=3)
    assert images.shape == (5, 8, 8, 1) and 0 <= images.min() and images.max() <= 255
    assert np.allclose(gan.generate(5, seed=3), images)
    gan.save(tmp_path / "gan.keras")
    assert np.allclose(keras.models.load_model(tmp_path / "gan.keras").generate(5, seed=3),
                       images, atol=1e-4)
    standardize = Standardize(mean=[1.0, 10.0], std=[2.0, 0.5])
    points = np.array([[3.0, 11.0], [-1.0, 9.5]], np.float32)
    assert np.allclose(undo_preprocessing(standardize, standardize(points)), points)
    with pytest.raises(ConfigError, match="multiples of 4"):
        dcgan((30, 30, 1), filters=(8, 16))


def test_samples_come_from_a_moving_average_of_the_generator_when_asked(tmp_path):
    keras.utils.set_random_seed(0)
    gan = _compiled(dcgan((2,), noise_size=2, widths=(8,), average=0.9), 1e-2)
    start = [w.copy() for w in gan.generator.get_weights()]
    real = tf.constant(parabola_points(64))
    for _ in range(40):
        gan.train_step((real, tf.zeros(64)))
    trained, kept = gan.generator.get_weights(), gan.averaged_generator.get_weights()
    assert not all(np.allclose(a, b) for a, b in zip(trained, kept))  # an average, no copy
    gap = sum(np.abs(a - b).sum() for a, b in zip(kept, trained))
    assert gap < sum(np.abs(a - b).sum() for a, b in zip(start, trained))  # of late weights
    noise = np.random.default_rng(0).standard_normal((5, 2)).astype("float32")
    assert np.allclose(np.asarray(gan(noise)), np.asarray(gan.averaged_generator(noise)))
    gan.save(tmp_path / "averaged.keras")
    assert np.allclose(np.asarray(keras.models.load_model(tmp_path / "averaged.keras")(noise)),
                       np.asarray(gan(noise)), atol=1e-5)


def test_frechet_distance_of_gaussians_with_diagonal_covariances_matches_the_formula():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(20_000, 3)) * [1.0, 2.0, 0.5]
    b = rng.normal(size=(20_000, 3)) * [2.0, 1.0, 0.5] + [1.0, 0.0, 2.0]
    # |mu_a - mu_b|^2 + sum (sigma_a - sigma_b)^2 for diagonal covariances
    expected = (1 + 0 + 4) + (1.0 + 1.0 + 0.0)
    assert metrics.frechet_distance(a, b) == pytest.approx(expected, rel=0.03)
    assert metrics.frechet_distance(a, a) == pytest.approx(0.0, abs=1e-6)


def test_the_two_sample_test_is_near_chance_on_one_distribution_and_near_one_on_two():
    one = [metrics.two_sample_accuracy(parabola_points(1000, seed=seed),
                                       parabola_points(1000, seed=seed + 1), seed=seed)
           for seed in (0, 2, 4)]
    apart = metrics.two_sample_accuracy(parabola_points(1000, seed=0),
                                        parabola_points(1000, seed=1) + [0.0, 1.0])
    assert all(abs(accuracy - 0.5) < 0.05 for accuracy in one)
    assert apart > 0.97


def test_the_judges_check_flags_one_class_samples_and_passes_balanced_confident_ones():
    confident = np.eye(10)[np.arange(1000) % 10] * 0.95 + 0.005
    check = judge.sample_check(confident)
    assert check["sample_failed"] == 0.0 and check["sample_confidence"] == pytest.approx(0.955)
    assert check["sample_largest_share"] == check["sample_smallest_share"] == 0.1
    collapsed = np.eye(10)[np.where(np.arange(1000) < 950, 3, 0)]
    check = judge.sample_check(collapsed)
    assert check["sample_failed"] == 1.0 and check["sample_largest_share"] == 0.95


class _OneClassJudge:
    """A judge that sees every sample as class 0: the generator has collapsed."""

    def probabilities(self, images):
        return np.eye(10)[np.zeros(len(images), int)]


def test_the_sample_monitor_stops_a_collapsed_generator_and_saves_a_grid_per_epoch(tmp_path):
    keras.utils.set_random_seed(0)
    gan = _compiled(dcgan((8, 8, 1), noise_size=4, filters=(8, 16),
                          preprocessing=keras.layers.Rescaling(1 / 255)))
    monitor = SampleMonitor(tmp_path / "grids", _OneClassJudge(), seed=0)
    history = gan.fit(np.zeros((64, 8, 8, 1), np.float32), np.zeros(64), batch_size=32,
                      epochs=6, verbose=0, callbacks=[monitor])
    assert len(history.history["d_loss"]) == 2  # stopped after two collapsed epochs
    assert "collapsed" in gan.collapse and history.history["sample_largest_share"] == [1.0, 1.0]
    assert sorted(p.name for p in (tmp_path / "grids").iterdir()) == ["epoch-001.png",
                                                                      "epoch-002.png"]


def test_toy2d_gan_reports_the_two_sample_test_and_the_decision_map(workdir):
    result = pipelines.run("toy2d_gan", epochs=3, subset=500, n_test=300, verbose=0,
                           export=True)
    assert 0.4 <= result.metrics["two_sample_accuracy"] <= 1.0
    assert (result.run_dir / "decision_map.png").exists()
    assert set(result.history) >= {"d_loss", "g_loss", "d_real", "d_fake"}
    loaded = tf.saved_model.load(str(result.export_path))  # without kdl
    noise = np.random.default_rng(0).standard_normal((7, 8)).astype("float32")
    assert np.allclose(np.asarray(loaded.serve(noise)), np.asarray(result.model(noise)),
                       atol=1e-5)
    own = pipelines.run("toy2d_gan", data=parabola_points(400, seed=5) * 3, epochs=2,
                        verbose=0, export=False)
    assert own.report.data["n_train"] == 320  # a fifth held out as the test set


def test_mnist_cgan_is_judged_on_the_classes_asked_for_and_samples_from_the_cli(
        workdir, judges_home, capsys):
    result = pipelines.run("mnist_cgan", epochs=1, subset=1024, verbose=0, export=True,
                           filters=(8, 16), noise_size=16)
    scores = result.metrics
    assert {"label_accuracy", "frechet_distance", "mean_confidence", "smallest_class_share",
            "largest_class_share", "failed_epochs"} <= set(scores)
    assert 0 <= scores["label_accuracy"] <= 1 and scores["frechet_distance"] > 0
    extras = result.report.extras
    frechet = extras["Fréchet distance to the real test images, in the judge's feature space"]
    floor = frechet["floor: real training images"]["frechet_distance"]
    ceiling = frechet["ceiling: uniform noise images"]["frechet_distance"]
    assert floor < scores["frechet_distance"] < ceiling  # one epoch on 1,024 images: between
    assert list(judges_home.joinpath("kdl-judges").glob("mnist-*.keras"))  # cached
    judged = extras["The judge: a convnet classifier of the data's own that measures the samples"]
    assert 0.5 < judged["judge"]["real test accuracy"] <= 1.0
    assert result.report.diagnosis["verdict"] == "not judged"
    assert "game between two networks" in result.report.diagnosis["reasons"][0]
    for plot in ("samples.png", "samples_by_epoch.png", "class_shares.png"):
        assert (result.run_dir / plot).exists()
    assert (result.run_dir / "epochs" / "fold-1" / "epoch-001.png").exists()
    assert main(["sample", str(result.run_dir), "--n", "12", "--label", "3", "--out",
                 str(workdir / "threes.png")]) == 0
    assert (workdir / "threes.png").exists()
    assert main(["sample", str(result.run_dir), "--label", "12"]) == 2
    assert "label must be a class from 0 to 9" in capsys.readouterr().err
    card = json.loads((result.export_path / "model_card.json").read_text())
    assert [spec["name"] for spec in card["input"]] == ["label", "noise"]


def test_sample_refuses_an_export_that_is_not_a_generator(workdir, capsys):
    result = pipelines.run("toy2d_gan", epochs=1, subset=200, n_test=100, verbose=0,
                           export=True)
    assert main(["sample", str(result.run_dir), "--label", "0"]) == 2
    assert "not a conditional GAN" in capsys.readouterr().err
    text = pipelines.run("mnist_linear", epochs=1, subset=500, verbose=0, export=True)
    assert main(["sample", str(text.run_dir)]) == 2
    assert "not a generator's export" in capsys.readouterr().err


def test_a_gan_pipeline_refuses_a_model_that_is_not_a_gan(workdir):
    with pytest.raises(ConfigError, match="does not take num_classes.*gan, wgan_gp"):
        pipelines.run("toy2d_gan", model="dense_autoencoder", epochs=1, subset=100,
                      verbose=0, export=False)


def test_the_parabola_is_the_same_for_a_seed_and_lies_on_y_equals_x_squared():
    data = load("parabola", n_train=2000, n_test=500, noise=0.0)
    assert np.allclose(data.x_train[:, 1], data.x_train[:, 0] ** 2, atol=1e-6)
    assert np.array_equal(load("parabola").x_train, load("parabola").x_train)
    assert not np.array_equal(load("parabola").x_train[:100], load("parabola").x_test[:100])


def test_image_gan_takes_your_images_with_or_without_labels_from_the_cli(workdir, judges_home,
                                                                         capsys):
    digits = load("mnist", subset=600)
    images = digits.x_train[:, 4:24, 4:24]  # 20x20: your own size, a multiple of 4
    labelled = pipelines.run("image_gan", data=(images, digits.y_train), epochs=1, verbose=0,
                             export=False, filters=(8, 16), noise_size=8)
    assert labelled.report.data["input_shape"] == [20, 20, 1]
    assert "frechet_distance" in labelled.metrics and "mean_confidence" in labelled.metrics
    alone = pipelines.run("image_gan", data=images, epochs=1, verbose=0, export=False,
                          filters=(8, 16), noise_size=8)
    assert 0.5 <= alone.metrics["two_sample_accuracy"] <= 1.0  # no labels: no judge
    assert main(["run", "toy2d_gan", "--epochs", "1", "--subset", "200", "--no-export",
                 "--set", "n_test=100"]) == 0
    assert "two_sample_accuracy" in capsys.readouterr().out


def test_mnist_latent_gan_learns_an_autoencoders_codes_and_decodes_its_samples(
        workdir, judges_home):
    autoencoder = pipelines.run("mnist_autoencoder", epochs=1, subset=512, verbose=0,
                                export=False, filters=(8, 16), code_size=8)
    result = pipelines.run("mnist_latent_gan", base_model=str(autoencoder.run_dir), epochs=1,
                           subset=512, verbose=0, export=True, widths=(16,))
    model = result.model
    assert not model.autoencoder.trainable_variables  # frozen
    assert all(np.array_equal(a, b) for a, b in zip(model.autoencoder.get_weights(),
                                                    autoencoder.model.get_weights()))
    assert model.generator.outputs[0].shape[-1] == 8  # the autoencoder's code size
    images = model.generate(3, seed=0)
    assert images.shape == (3, 28, 28, 1) and images.max() <= 255.0 + 1e-3
    assert (result.run_dir / "interpolations.png").exists()
    assert "frechet_distance" in result.metrics
    loaded = tf.saved_model.load(str(result.export_path))
    noise = np.random.default_rng(0).standard_normal((4, 8)).astype("float32")
    assert np.allclose(np.asarray(loaded.serve(noise)), np.asarray(model(noise)), atol=1e-3)
    with pytest.raises(ConfigError, match="no trained model"):
        pipelines.run("mnist_latent_gan", epochs=1, subset=100, verbose=0, export=False)
