"""Autoencoders as keras.Model subclasses that own their training step: the input goes through
the fitted preprocessing (the reconstruction target), optionally gets Gaussian noise in
training only (a denoising autoencoder), then `encoder` to a code and `decoder` back. Labels
passed to `fit` are ignored. The VAE adds the reparameterisation and a beta-weighted KL term.

Usage:
    ae = Autoencoder(encoder, decoder, preprocessing=keras.layers.Rescaling(1 / 255))
    ae.compile(optimizer="adam"); ae.fit(images, epochs=5)
    ae.encode(images), ae(images)          # codes, reconstructions (preprocessed units)
    vae = VariationalAutoencoder(encoder, decoder, beta=1.0)   # encoder -> (mean, log_var)
"""

from __future__ import annotations

from typing import Any

import keras
import tensorflow as tf
from keras import ops

RECONSTRUCTION_LOSSES = ("mse", "binary_crossentropy")


def _deserialized(value: Any) -> Any:
    return keras.saving.deserialize_keras_object(value) if isinstance(value, dict) else value


@keras.saving.register_keras_serializable(package="kdl")
class Autoencoder(keras.Model):
    """`decoder(encoder(preprocessing(x) [+ noise in training]))` trained to give back
    `preprocessing(x)`; logs `loss` (the reconstruction loss, per input value)."""

    def __init__(self, encoder: keras.Model | dict, decoder: keras.Model | dict,
                 preprocessing: keras.layers.Layer | dict | None = None, noise: float = 0.0,
                 reconstruction_loss: str = "mse", seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        if reconstruction_loss not in RECONSTRUCTION_LOSSES:
            raise ValueError(f"reconstruction_loss must be one of "
                             f"{', '.join(RECONSTRUCTION_LOSSES)}; got {reconstruction_loss!r}.")
        self.encoder = _deserialized(encoder)
        self.decoder = _deserialized(decoder)
        self.preprocessing = (keras.layers.Identity(name="no_preprocessing")
                              if preprocessing is None else _deserialized(preprocessing))
        self.noise = float(noise)
        self.reconstruction_loss = reconstruction_loss
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.loss_tracker = keras.metrics.Mean(name="loss")

    def target(self, x):
        """What the model reconstructs: the preprocessed input, as float32."""
        return ops.cast(self.preprocessing(ops.cast(x, "float32")), "float32")

    def corrupt(self, target, training: bool):
        """Gaussian noise of standard deviation `noise` in training; the input as it is at
        inference."""
        if not training or not self.noise:
            return target
        return target + self.noise * keras.random.normal(ops.shape(target),
                                                         seed=self.seed_generator)

    def encode(self, x, training: bool = False):
        """The code of each input."""
        return self.encoder(self.target(x), training=training)

    def decode(self, codes, training: bool = False):
        """The reconstruction (in preprocessed units) of each code."""
        return self.decoder(codes, training=training)

    def call(self, x, training: bool = False):
        return self.decode(self.encode(x, training), training)

    def per_value_loss(self, target, reconstruction):
        """The reconstruction loss of every input value (MSE or binary cross-entropy)."""
        if self.reconstruction_loss == "mse":
            return ops.square(target - reconstruction)
        clipped = ops.clip(reconstruction, 1e-7, 1 - 1e-7)
        return -(target * ops.log(clipped) + (1 - target) * ops.log(1 - clipped))

    def losses_of(self, x, training: bool) -> dict[str, Any]:
        """{"loss": ...} for one batch: the mean per-value reconstruction loss."""
        target = self.target(x)
        codes = self.encoder(self.corrupt(target, training), training=training)
        reconstruction = self.decoder(codes, training=training)
        return {"loss": ops.mean(self.per_value_loss(target, reconstruction))
                + sum(self.losses)}

    def train_step(self, data):
        x = data[0] if isinstance(data, tuple) else data
        with tf.GradientTape() as tape:
            losses = self.losses_of(x, training=True)
        variables = self.trainable_variables
        self.optimizer.apply_gradients(zip(tape.gradient(losses["loss"], variables), variables))
        return self._track(losses)

    def test_step(self, data):
        x = data[0] if isinstance(data, tuple) else data
        return self._track(self.losses_of(x, training=False))

    def _track(self, losses: dict[str, Any]) -> dict[str, Any]:
        for tracker in self.metrics:
            tracker.update_state(losses[tracker.name])
        return {tracker.name: tracker.result() for tracker in self.metrics}

    @property
    def metrics(self):
        return [self.loss_tracker]

    @property
    def code_size(self) -> int:
        """The length of one code."""
        return int(self.decoder.inputs[0].shape[-1])

    def get_config(self) -> dict:
        return {**super().get_config(),
                "encoder": keras.saving.serialize_keras_object(self.encoder),
                "decoder": keras.saving.serialize_keras_object(self.decoder),
                "preprocessing": keras.saving.serialize_keras_object(self.preprocessing),
                "noise": self.noise, "reconstruction_loss": self.reconstruction_loss,
                "seed": self.seed}


@keras.saving.register_keras_serializable(package="kdl")
class VariationalAutoencoder(Autoencoder):
    """A VAE (Kingma and Welling, 2014): the encoder gives the mean and log-variance of a
    Gaussian code; training decodes a sample (z = mean + exp(log_var / 2) * eps) and
    minimises reconstruction (summed over an input's values) + beta * KL(q(z|x) || N(0, I)),
    averaged over the batch. Logs loss, reconstruction_loss and kl_loss. At inference the
    code is the mean."""

    def __init__(self, encoder: keras.Model | dict, decoder: keras.Model | dict,
                 beta: float = 1.0, **kwargs):
        kwargs.setdefault("reconstruction_loss", "binary_crossentropy")
        super().__init__(encoder, decoder, **kwargs)
        self.beta = float(beta)
        self.reconstruction_tracker = keras.metrics.Mean(name="reconstruction_loss")
        self.kl_tracker = keras.metrics.Mean(name="kl_loss")

    def encode(self, x, training: bool = False):
        """The mean of each input's code distribution."""
        return self.encoder(self.target(x), training=training)[0]

    def sample(self, mean, log_var):
        """A draw from N(mean, exp(log_var)) by the reparameterisation trick."""
        epsilon = keras.random.normal(ops.shape(mean), seed=self.seed_generator)
        return mean + ops.exp(0.5 * log_var) * epsilon

    @staticmethod
    def kl_divergence(mean, log_var):
        """KL(N(mean, exp(log_var)) || N(0, I)) of each code, summed over its dimensions."""
        return -0.5 * ops.sum(1 + log_var - ops.square(mean) - ops.exp(log_var), axis=-1)

    def losses_of(self, x, training: bool) -> dict[str, Any]:
        """Reconstruction (summed per input), KL and their beta-weighted total, batch means."""
        target = self.target(x)
        mean, log_var = self.encoder(self.corrupt(target, training), training=training)
        reconstruction = self.decoder(self.sample(mean, log_var), training=training)
        per_input = ops.reshape(self.per_value_loss(target, reconstruction),
                                (ops.shape(target)[0], -1))
        reconstruction_loss = ops.mean(ops.sum(per_input, axis=1))
        kl_loss = ops.mean(self.kl_divergence(mean, log_var))
        return {"loss": reconstruction_loss + self.beta * kl_loss + sum(self.losses),
                "reconstruction_loss": reconstruction_loss, "kl_loss": kl_loss}

    @property
    def metrics(self):
        return [self.loss_tracker, self.reconstruction_tracker, self.kl_tracker]

    def get_config(self) -> dict:
        return {**super().get_config(), "beta": self.beta}
