"""The autoencoder family: builders and their encoder/decoder sub-models, the VAE's loss terms,
noise in training only, the reconstruction metrics and the PCA baseline against
scikit-learn, and the pipelines on real MNIST with exports that give the same codes."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf
from sklearn.decomposition import PCA

import pipelines
from kdl import export, metrics
from kdl.errors import ConfigError
from kdl.models.autoencoder import (
    conv_autoencoder,
    dense_autoencoder,
    lstm_autoencoder,
    variational_autoencoder,
)
from kdl.tasks.autoencoder import PCA_TITLE
from tests.conftest import require_data

SMALL = {"subset": 1000, "epochs": 1, "verbose": 0, "map_points": 100}


def test_builders_expose_encoder_and_decoder_and_give_the_input_shape_back():
    images = np.random.default_rng(0).random((4, 28, 28, 1)).astype("float32")
    for model in (dense_autoencoder((28, 28, 1), code_size=3, widths=(16,)),
                  conv_autoencoder((28, 28, 1), code_size=5, filters=(4, 8)),
                  conv_autoencoder((28, 28, 1), code_size=5, filters=(4, 8, 8),
                                   upsampling="nearest")):
        assert model(images).shape == images.shape  # 28 -> 4 (three halvings) -> 32 -> crop
        assert model.encoder(images).shape == (4, model.code_size)
        assert model.decoder(np.zeros((2, model.code_size), "float32")).shape == (2, 28, 28, 1)
    windows = np.zeros((3, 12, 5), "float32")
    sequence = lstm_autoencoder((12, 5), code_size=4, units=8)
    assert sequence(windows).shape == (3, 12, 5)
    assert [layer.name for layer in sequence.decoder.layers][1] == "repeat"
    with pytest.raises(ConfigError, match="takes images"):
        conv_autoencoder((784,))
    with pytest.raises(ConfigError, match="code_size must be a positive integer"):
        dense_autoencoder((784,), code_size=0)
    with pytest.raises(ConfigError, match="upsampling must be"):
        conv_autoencoder((28, 28, 1), upsampling="bilinear")
    with pytest.raises(ConfigError, match="noise must be >= 0"):
        dense_autoencoder((784,), noise=-1.0)


def test_vae_loss_is_reconstruction_plus_beta_times_the_closed_form_kl():
    mean = np.array([[0.5, -1.0], [0.0, 0.0]], "float32")
    log_var = np.array([[0.2, -0.3], [0.0, 0.0]], "float32")
    expected = -0.5 * np.sum(1 + log_var - mean ** 2 - np.exp(log_var), axis=1)
    vae = variational_autoencoder((6,), code_size=2, widths=(8,), beta=2.5)
    np.testing.assert_allclose(vae.kl_divergence(mean, log_var), expected, rtol=1e-6)
    assert expected[1] == 0.0  # the prior itself costs nothing
    x = np.random.default_rng(1).random((5, 6)).astype("float32")
    losses = {k: float(v) for k, v in vae.losses_of(x, training=True).items()}
    assert losses["loss"] == pytest.approx(losses["reconstruction_loss"]
                                           + 2.5 * losses["kl_loss"], rel=1e-5)
    encoded_mean, _ = vae.encoder(x)
    np.testing.assert_allclose(vae.encode(x), encoded_mean, rtol=1e-6)  # the mean at inference
    np.testing.assert_allclose(vae(x), vae.decode(encoded_mean), rtol=1e-5)
    with pytest.raises(ConfigError, match="beta must be a number >= 0"):
        variational_autoencoder((6,), beta=-1)


def test_the_noise_of_a_denoising_autoencoder_is_on_in_training_only():
    model = dense_autoencoder((200,), code_size=4, widths=(8,), noise=0.5)
    x = np.full((64, 200), 0.5, "float32")
    noisy = np.asarray(model.corrupt(model.target(x), training=True))
    assert np.std(noisy - x) == pytest.approx(0.5, rel=0.05)
    np.testing.assert_array_equal(model.corrupt(model.target(x), training=False), x)
    np.testing.assert_array_equal(model(x), model(x))  # inference is deterministic
    np.testing.assert_allclose(model(x), model.decode(model.encode(x)), rtol=1e-6)


def test_reconstruction_metrics_are_the_mean_errors_per_value():
    rng = np.random.default_rng(2)
    target, rebuilt = rng.random((7, 4, 4, 1)), rng.random((7, 4, 4, 1))
    scores = metrics.reconstruction_metrics(target, rebuilt)
    assert scores["reconstruction_mse"] == pytest.approx(np.mean((target - rebuilt) ** 2))
    assert scores["reconstruction_mae"] == pytest.approx(np.mean(np.abs(target - rebuilt)))


def test_mnist_ae_2d_reports_pca_maps_and_exports_the_same_codes(workdir):
    result = pipelines.run("mnist_ae_2d", validation="none", **SMALL)  # fit on all 1,000
    assert set(result.report.plots) >= {"reconstructions", "interpolation", "latent_maps"}
    for name in result.report.plots.values():
        assert (result.run_dir / name).stat().st_size > 5_000
    dataset, model = result.dataset, result.model
    fit = dataset.x_train.reshape(len(dataset.x_train), -1) / 255.0
    test = dataset.x_test.reshape(len(dataset.x_test), -1) / 255.0
    pca = PCA(2, random_state=0).fit(fit)
    table = result.report.extras[PCA_TITLE]
    expected = np.mean((pca.inverse_transform(pca.transform(test)) - test) ** 2)
    assert table["PCA, 2 components"]["reconstruction_mse"] == pytest.approx(expected, rel=0.02)
    assert result.metrics["reconstruction_mse"] == pytest.approx(
        np.mean((model.predict(dataset.x_test, verbose=0).reshape(len(test), -1) - test) ** 2),
        rel=1e-4)
    images = dataset.x_test[:16]
    served = tf.saved_model.load(str(result.export_path))
    codes = np.asarray(model.encode(images))
    np.testing.assert_allclose(served.encode(images), codes, atol=1e-5)
    np.testing.assert_allclose(served.decode(codes), model.decode(codes), atol=1e-5)
    reloaded = export.load_trained_model(result.run_dir)
    np.testing.assert_allclose(reloaded.encoder(images / 255.0), codes, atol=1e-5)


def test_vae_and_denoising_pipelines_log_their_terms_and_draw_the_prior(workdir):
    require_data("fashion_mnist.npz")
    vae = pipelines.run("fashion_mnist_vae", export=False, **SMALL)
    assert {"loss", "reconstruction_loss", "kl_loss", "val_kl_loss"} <= set(vae.history)
    assert (vae.run_dir / "prior_lattice.png").stat().st_size > 10_000
    denoising = pipelines.run("mnist_denoising_ae", export=False, filters=(8, 8), **SMALL)
    assert denoising.model.noise == pytest.approx(0.4)
    assert "prior_lattice" not in denoising.report.plots
    with pytest.raises(ConfigError, match="'mlp' needs num_outputs, which task "
                                          "'reconstruction' does not give"):
        pipelines.run("mnist_ae_2d", model="mlp", **SMALL)
    with pytest.raises(ConfigError, match="trains an autoencoder"):
        pipelines.run("mnist_ae_2d", model="cifar_resnet", depth=8, **SMALL)
    assert isinstance(keras.saving.get_registered_object("kdl>VariationalAutoencoder"), type)


def test_your_own_images_and_tables_get_an_autoencoder_and_a_pca_row(workdir):
    rng = np.random.default_rng(3)
    images = (rng.random((120, 8, 8, 1)) * 255).astype("uint8")
    labels = rng.integers(0, 2, 120)
    pictures = pipelines.run("autoencoder", data=(images, labels), code_size=3, widths=(16,),
                             epochs=2, verbose=0, export=False)
    assert "PCA, 3 components" in pictures.report.extras[PCA_TITLE]
    assert "reconstructions" in pictures.report.plots
    table = rng.normal(size=(150, 6)) @ rng.normal(size=(6, 6))
    rows = pipelines.run("tabular_autoencoder", data=(table, rng.integers(0, 3, 150)),
                         epochs=3, verbose=0, export=False)
    assert rows.model.decoder.get_layer("output").activation.__name__ == "linear"
    assert "reconstructions" not in rows.report.plots  # not images
    assert rows.metrics["reconstruction_mse"] > 0
