"""Autoencoder builders, block -> stack -> model like the rest of kdl: dense (any widths down
to the code, e.g. 784 -> 256 -> 2; deep when the widths are many), convolutional (strided
Conv2D down, Conv2DTranspose or UpSampling2D up), an LSTM sequence autoencoder (encoder LSTM
-> code -> RepeatVector -> decoder LSTM) and a VAE (dense or convolutional). `noise` makes
any of them denoising (Gaussian noise on the input in training only). Each returns an
Autoencoder (kdl.models.autoencoder.model) with `encoder` and `decoder` sub-models.

Usage:
    ae = dense_autoencoder((28, 28, 1), code_size=2, widths=(512, 128))
    ae = conv_autoencoder((28, 28, 1), filters=(32, 64), code_size=16, noise=0.3)
    vae = variational_autoencoder((28, 28, 1), code_size=2, beta=1.0)
    ae.encoder, ae.decoder
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

from kdl.errors import ConfigError
from kdl.lazy import lazy
from kdl.models.params import Sizes

keras = lazy("keras")
layers = lazy("keras.layers")

Upsampling = Literal["transpose", "nearest"]


def _dense_stack(x, widths: Sequence[int], activation: str, name: str):
    for index, units in enumerate(widths, start=1):
        x = layers.Dense(units, activation=activation, name=f"{name}{index}")(x)
    return x


def dense_encoder(input_shape: Sequence[int], code_size: int, widths: Sizes,
                  activation: str = "relu", variational: bool = False) -> keras.Model:
    """Flatten, dense layers of `widths`, a linear code (the mean and log-variance for a VAE)."""
    inputs = keras.Input(tuple(input_shape), name="inputs")
    x = layers.Flatten(name="flatten")(inputs) if len(input_shape) > 1 else inputs
    x = _dense_stack(x, widths, activation, "encoder_dense")
    return _code(inputs, x, code_size, variational)


def _code(inputs, x, code_size: int, variational: bool) -> keras.Model:
    if variational:
        mean = layers.Dense(code_size, name="code_mean")(x)
        log_var = layers.Dense(code_size, name="code_log_var")(x)
        return keras.Model(inputs, [mean, log_var], name="encoder")
    return keras.Model(inputs, layers.Dense(code_size, name="code")(x), name="encoder")


def dense_decoder(output_shape: Sequence[int], code_size: int, widths: Sizes,
                  activation: str = "relu", output_activation: str | None = "sigmoid"
                  ) -> keras.Model:
    """Dense layers of `widths` (the encoder's, reversed), then every input value, reshaped."""
    codes = keras.Input((code_size,), name="codes")
    x = _dense_stack(codes, widths, activation, "decoder_dense")
    x = layers.Dense(math.prod(output_shape), activation=output_activation, name="output")(x)
    return keras.Model(codes, layers.Reshape(tuple(output_shape), name="reshape")(x),
                       name="decoder")


def _autoencoder(encoder, decoder, preprocessing, noise: float, reconstruction_loss: str,
                 name: str, beta: float | None = None):
    from kdl.models.autoencoder.model import Autoencoder, VariationalAutoencoder

    if noise < 0:
        raise ConfigError(f"noise must be >= 0 (the standard deviation of the Gaussian noise "
                          f"added in training); got {noise!r}.")
    if beta is not None:
        return VariationalAutoencoder(encoder, decoder, beta=beta, preprocessing=preprocessing,
                                      noise=noise, reconstruction_loss=reconstruction_loss,
                                      name=name)
    return Autoencoder(encoder, decoder, preprocessing=preprocessing, noise=noise,
                       reconstruction_loss=reconstruction_loss, name=name)


def dense_autoencoder(input_shape: Sequence[int], code_size: int = 32,
                      widths: Sizes = (256, 128), activation: str = "relu",
                      decoder_activation: str | None = "sigmoid", noise: float = 0.0,
                      reconstruction_loss: str = "mse", preprocessing=None,
                      name: str = "dense_autoencoder"):
    """A dense autoencoder: input -> widths -> code -> reversed widths -> input. Use
    decoder_activation=None (a linear output) for standardized, not [0, 1], inputs.

    Usage: dense_autoencoder((28, 28, 1), code_size=2, widths=(512, 128))
    """
    _check_code(code_size)
    encoder = dense_encoder(input_shape, code_size, widths, activation)
    decoder = dense_decoder(input_shape, code_size, tuple(reversed(widths)), activation,
                            decoder_activation)
    return _autoencoder(encoder, decoder, preprocessing, noise, reconstruction_loss, name)


def _check_code(code_size: int) -> None:
    if isinstance(code_size, bool) or not isinstance(code_size, int) or code_size < 1:
        raise ConfigError(f"code_size must be a positive integer; got {code_size!r}.")


def conv_encoder(input_shape: Sequence[int], code_size: int, filters: Sizes,
                 variational: bool = False) -> keras.Model:
    """Strided 3x3 convolutions (each halves the map), then a linear code of `code_size`."""
    inputs = keras.Input(tuple(input_shape), name="inputs")
    x = inputs
    for index, count in enumerate(filters, start=1):
        x = layers.Conv2D(count, 3, strides=2, padding="same", activation="relu",
                          name=f"encoder_conv{index}")(x)
    x = layers.Flatten(name="flatten")(x)
    return _code(inputs, x, code_size, variational)


def conv_decoder(output_shape: Sequence[int], code_size: int, filters: Sizes,
                 upsampling: str = "transpose", output_activation: str | None = "sigmoid"
                 ) -> keras.Model:
    """A dense layer to the encoder's last map, then per filter count (reversed) a doubling
    of the map (a strided Conv2DTranspose, or nearest-neighbour UpSampling2D and a Conv2D),
    a 3x3 convolution to the input's channels, and a crop back to the input's size."""
    if upsampling not in ("transpose", "nearest"):
        raise ConfigError(f"upsampling must be 'transpose' or 'nearest'; got {upsampling!r}.")
    height, width, channels = output_shape
    scale = 2 ** len(filters)
    start = (math.ceil(height / scale), math.ceil(width / scale), filters[-1])
    codes = keras.Input((code_size,), name="codes")
    x = layers.Dense(math.prod(start), activation="relu", name="decoder_dense")(codes)
    x = layers.Reshape(start, name="decoder_reshape")(x)
    for index, count in enumerate(reversed(filters), start=1):
        if upsampling == "transpose":
            x = layers.Conv2DTranspose(count, 3, strides=2, padding="same", activation="relu",
                                       name=f"decoder_deconv{index}")(x)
        else:
            x = layers.UpSampling2D(2, name=f"decoder_upsample{index}")(x)
            x = layers.Conv2D(count, 3, padding="same", activation="relu",
                              name=f"decoder_conv{index}")(x)
    x = layers.Conv2D(channels, 3, padding="same", activation=output_activation,
                      name="output")(x)
    extra_h, extra_w = start[0] * scale - height, start[1] * scale - width
    if extra_h or extra_w:
        x = layers.Cropping2D(((extra_h // 2, extra_h - extra_h // 2),
                               (extra_w // 2, extra_w - extra_w // 2)), name="crop")(x)
    return keras.Model(codes, x, name="decoder")


def conv_autoencoder(input_shape: Sequence[int], code_size: int = 16,
                     filters: Sizes = (32, 64), upsampling: Upsampling = "transpose",
                     decoder_activation: str | None = "sigmoid", noise: float = 0.0,
                     reconstruction_loss: str = "mse", preprocessing=None,
                     name: str = "conv_autoencoder"):
    """A convolutional autoencoder for images (H, W, C).

    Usage: conv_autoencoder((28, 28, 1), code_size=16, filters=(32, 64), noise=0.3)
    """
    _check_code(code_size)
    _check_image(input_shape)
    encoder = conv_encoder(input_shape, code_size, filters)
    decoder = conv_decoder(input_shape, code_size, filters, upsampling, decoder_activation)
    return _autoencoder(encoder, decoder, preprocessing, noise, reconstruction_loss, name)


def _check_image(input_shape: Sequence[int]) -> None:
    if len(input_shape) != 3:
        raise ConfigError(f"a convolutional autoencoder takes images (H, W, C); the data has "
                          f"samples of shape {tuple(input_shape)}. Use dense_autoencoder.")


def lstm_autoencoder(input_shape: Sequence[int], code_size: int = 16, units: int = 64,
                     noise: float = 0.0, preprocessing=None, name: str = "lstm_autoencoder"):
    """A sequence autoencoder for windows (T, F): an LSTM reads the window into a code, a
    RepeatVector feeds it to a decoder LSTM at each of the T steps, a dense layer per step
    gives the F features back (linear: for standardized series).

    Usage: lstm_autoencoder((48, 7), code_size=16, units=64)
    """
    _check_code(code_size)
    if len(input_shape) != 2:
        raise ConfigError(f"an LSTM autoencoder takes windows (T, F); the data has samples of "
                          f"shape {tuple(input_shape)}.")
    steps, features = input_shape
    inputs = keras.Input(tuple(input_shape), name="inputs")
    x = layers.LSTM(units, name="encoder_lstm")(inputs)
    encoder = keras.Model(inputs, layers.Dense(code_size, name="code")(x), name="encoder")
    codes = keras.Input((code_size,), name="codes")
    x = layers.RepeatVector(steps, name="repeat")(codes)
    x = layers.LSTM(units, return_sequences=True, name="decoder_lstm")(x)
    outputs = layers.TimeDistributed(layers.Dense(features), name="output")(x)
    decoder = keras.Model(codes, outputs, name="decoder")
    return _autoencoder(encoder, decoder, preprocessing, noise, "mse", name)


def variational_autoencoder(input_shape: Sequence[int], code_size: int = 2,
                            widths: Sizes = (512, 256), filters: Sizes = (),
                            beta: float = 1.0, noise: float = 0.0,
                            reconstruction_loss: str = "binary_crossentropy",
                            preprocessing=None, name: str = "vae"):
    """A VAE: a dense encoder (or a convolutional one when `filters` are given) to a Gaussian
    code of `code_size`, the mirror decoder with sigmoid outputs for inputs in [0, 1].

    Usage: variational_autoencoder((28, 28, 1), code_size=2, beta=1.0)
    """
    _check_code(code_size)
    if not (isinstance(beta, (int, float)) and beta >= 0):
        raise ConfigError(f"beta must be a number >= 0 (the KL term's weight); got {beta!r}.")
    if filters:
        _check_image(input_shape)
        encoder = conv_encoder(input_shape, code_size, filters, variational=True)
        decoder = conv_decoder(input_shape, code_size, filters, "transpose", "sigmoid")
    else:
        encoder = dense_encoder(input_shape, code_size, widths, variational=True)
        decoder = dense_decoder(input_shape, code_size, tuple(reversed(widths)))
    return _autoencoder(encoder, decoder, preprocessing, noise, reconstruction_loss, name,
                        beta=float(beta))
