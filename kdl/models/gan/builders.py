"""GAN builders: generators and discriminators (critics) as functional models, dense for
points and codes, DCGAN-style convolutional for images (Radford et al., 2016: strided
convolutions, batch norm in the generator, LeakyReLU in the discriminator, tanh output),
and the three GAN models made of them. A conditional network takes the one-hot class as a
second input: the generator beside its noise, the discriminator as extra image channels (or
beside a vector). Images come out in [0, 1] (the "rescale" preprocessing's units): the tanh
output is mapped there inside the generator.

Usage:
    g = dcgan_generator((28, 28, 1), noise_size=100)
    d = dcgan_discriminator((28, 28, 1))
    gan = dcgan((28, 28, 1), preprocessing=keras.layers.Rescaling(1 / 255))
    critic_gan = wgan_gp((28, 28, 1), critic_steps=5, penalty_weight=10)
    cgan = conditional_gan((28, 28, 1), num_classes=10)
    toy = dcgan((2,), noise_size=2, widths=(64, 64))          # dense nets for 2-D points
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from kdl.errors import ConfigError
from kdl.lazy import lazy
from kdl.models.params import NonNegative, Rate, Size, Sizes

keras = lazy("keras")
layers = lazy("keras.layers")


def _is_image(shape: Sequence[int]) -> bool:
    return len(shape) == 3


def _inputs(shape: Sequence[int], condition_size: int, name: str):
    main = keras.Input(tuple(shape), name=name)
    return main, (keras.Input((condition_size,), name="label") if condition_size else None)


def dense_generator(output_shape: Sequence[int], noise_size: int = 2,
                    widths: Sizes = (64, 64), condition_size: int = 0) -> keras.Model:
    """Noise (and a one-hot class) -> dense ReLU layers of `widths` -> a linear sample.

    Usage: dense_generator((2,), noise_size=2, widths=(64, 64))
    """
    noise, condition = _inputs((noise_size,), condition_size, "noise")
    x = noise if condition is None else layers.Concatenate(name="with_label")([noise, condition])
    for index, units in enumerate(widths, start=1):
        x = layers.Dense(units, activation="relu", name=f"generator_dense{index}")(x)
    x = layers.Dense(math.prod(output_shape), name="sample")(x)
    x = layers.Reshape(tuple(output_shape), name="shaped")(x)
    return keras.Model(noise if condition is None else [noise, condition], x, name="generator")


def dense_discriminator(input_shape: Sequence[int], widths: Sizes = (64, 64),
                        condition_size: int = 0) -> keras.Model:
    """A sample (and a one-hot class) -> dense LeakyReLU layers of `widths` -> one logit.

    Usage: dense_discriminator((2,), widths=(64, 64))
    """
    samples, condition = _inputs(input_shape, condition_size, "samples")
    x = layers.Flatten(name="flatten")(samples) if len(input_shape) > 1 else samples
    if condition is not None:
        x = layers.Concatenate(name="with_label")([x, condition])
    for index, units in enumerate(widths, start=1):
        x = layers.Dense(units, name=f"discriminator_dense{index}")(x)
        x = layers.LeakyReLU(0.2, name=f"discriminator_act{index}")(x)
    logit = layers.Dense(1, name="logit")(x)
    return keras.Model(samples if condition is None else [samples, condition], logit,
                       name="discriminator")


def _start_size(image_shape: Sequence[int], filters: Sizes) -> tuple[int, int]:
    factor = 2 ** len(filters)
    height, width = int(image_shape[0]), int(image_shape[1])
    if height % factor or width % factor:
        raise ConfigError(f"a DCGAN generator with {len(filters)} upsamplings makes images whose "
                          f"sides are multiples of {factor}; {height}x{width} is not (give "
                          "fewer filters, or resize the images).")
    return height // factor, width // factor


def dcgan_generator(image_shape: Sequence[int], noise_size: int = 100,
                    filters: Sizes = (128, 64), condition_size: int = 0) -> keras.Model:
    """Noise (and a one-hot class) -> a dense layer to a small map of filters[0] channels ->
    one stride-2 transposed convolution per later filter count, then one to the image's
    channels (tanh, mapped to [0, 1]); batch norm and ReLU between.

    Usage: dcgan_generator((28, 28, 1), noise_size=100, filters=(128, 64))
    """
    if not _is_image(image_shape):
        raise ConfigError(f"a DCGAN generator makes images (height, width, channels); got "
                          f"shape {tuple(image_shape)}.")
    noise, condition = _inputs((noise_size,), condition_size, "noise")
    x = noise if condition is None else layers.Concatenate(name="with_label")([noise, condition])
    height, width = _start_size(image_shape, filters)
    x = layers.Dense(height * width * filters[0], use_bias=False, name="project")(x)
    x = layers.BatchNormalization(name="project_bn")(x)
    x = layers.ReLU(name="project_relu")(x)
    x = layers.Reshape((height, width, filters[0]), name="map")(x)
    for index, count in enumerate(filters[1:], start=1):
        x = layers.Conv2DTranspose(count, 4, strides=2, padding="same", use_bias=False,
                                   name=f"up{index}")(x)
        x = layers.BatchNormalization(name=f"up{index}_bn")(x)
        x = layers.ReLU(name=f"up{index}_relu")(x)
    x = layers.Conv2DTranspose(int(image_shape[-1]), 4, strides=2, padding="same",
                               activation="tanh", name="image")(x)
    x = layers.Rescaling(0.5, offset=0.5, name="to_unit_range")(x)
    return keras.Model(noise if condition is None else [noise, condition], x, name="generator")


def dcgan_discriminator(image_shape: Sequence[int], filters: Sizes = (64, 128),
                        condition_size: int = 0, batch_norm: bool = True,
                        dropout: float = 0.3) -> keras.Model:
    """An image in [0, 1] (and a one-hot class, tiled as extra channels) -> stride-2
    convolutions of `filters` with LeakyReLU (batch norm after all but the first, unless off:
    a WGAN-GP critic's penalty is per sample) -> dropout -> one logit.

    Usage: dcgan_discriminator((28, 28, 1), filters=(64, 128))
    """
    if not _is_image(image_shape):
        raise ConfigError(f"a DCGAN discriminator takes images (height, width, channels); got "
                          f"shape {tuple(image_shape)}.")
    images, condition = _inputs(image_shape, condition_size, "images")
    x = layers.Rescaling(2.0, offset=-1.0, name="to_symmetric_range")(images)
    if condition is not None:
        tiled = layers.Reshape((1, 1, condition_size), name="label_map")(condition)
        tiled = layers.UpSampling2D((int(image_shape[0]), int(image_shape[1])),
                                    name="label_channels")(tiled)
        x = layers.Concatenate(name="with_label")([x, tiled])
    for index, count in enumerate(filters, start=1):
        x = layers.Conv2D(count, 4, strides=2, padding="same", name=f"down{index}")(x)
        if batch_norm and index > 1:
            x = layers.BatchNormalization(name=f"down{index}_bn")(x)
        x = layers.LeakyReLU(0.2, name=f"down{index}_act")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dropout(dropout, name="dropout")(x)
    logit = layers.Dense(1, name="logit")(x)
    return keras.Model(images if condition is None else [images, condition], logit,
                       name="discriminator")


def _networks(input_shape: Sequence[int], noise_size: int | None, widths: Sizes,
              filters: Sizes, condition_size: int, critic: bool) -> tuple:
    """A generator and a discriminator for samples of `input_shape`: DCGAN-style for images
    (`filters` are the discriminator's; the generator mirrors them), dense otherwise."""
    if _is_image(input_shape):
        size = noise_size or 100
        generator = dcgan_generator(input_shape, size, tuple(reversed(filters)), condition_size)
        discriminator = dcgan_discriminator(input_shape, filters, condition_size,
                                            batch_norm=not critic)
        return generator, discriminator
    generator = dense_generator(input_shape, noise_size or int(math.prod(input_shape)), widths,
                                condition_size)
    return generator, dense_discriminator(input_shape, widths, condition_size)


def dcgan(input_shape: Sequence[int], num_classes: int = 0, noise_size: Size | None = None,
          widths: Sizes = (64, 64), filters: Sizes = (64, 128), label_smoothing: Rate = 0.0,
          r1_weight: NonNegative = 0.0, average: Rate = 0.0, preprocessing=None,
          name: str = "gan"):
    """A GAN: DCGAN networks for images, dense networks (`widths`) for points and codes;
    `r1_weight` penalises the discriminator's gradient at real samples, `average` samples
    from a moving average of the generator's weights (see GAN).
    (`num_classes` is the task's, for the conditional GAN; it is not used here.)

    Usage: dcgan((28, 28, 1), noise_size=100, filters=(64, 128))
    """
    from kdl.models.gan.model import GAN

    generator, discriminator = _networks(input_shape, noise_size, widths, filters, 0, False)
    return GAN(generator, discriminator, preprocessing=preprocessing,
               label_smoothing=float(label_smoothing), r1_weight=float(r1_weight),
               average=float(average), name=name)


def wgan_gp(input_shape: Sequence[int], num_classes: int = 0, noise_size: Size | None = None,
            widths: Sizes = (64, 64), filters: Sizes = (64, 128), critic_steps: Size = 5,
            penalty_weight: NonNegative = 10.0, average: Rate = 0.0, preprocessing=None,
            name: str = "wgan_gp"):
    """A WGAN-GP: the same networks, the critic without batch norm (the penalty is per
    sample), `critic_steps` critic updates per generator update, penalty weight 10.

    Usage: wgan_gp((28, 28, 1), critic_steps=5, penalty_weight=10.0)
    """
    from kdl.models.gan.model import WGANGP

    generator, critic = _networks(input_shape, noise_size, widths, filters, 0, True)
    return WGANGP(generator, critic, critic_steps=critic_steps,
                  penalty_weight=float(penalty_weight), average=float(average),
                  preprocessing=preprocessing, name=name)


def conditional_gan(input_shape: Sequence[int], num_classes: int = 0,
                    noise_size: Size | None = None, widths: Sizes = (64, 64),
                    filters: Sizes = (64, 128), label_smoothing: Rate = 0.0,
                    average: Rate = 0.0, preprocessing=None, name: str = "cgan"):
    """A conditional GAN: the one-hot class beside the generator's noise and as extra channels
    of the discriminator's image; `num_classes` comes from the data's labels.

    Usage: conditional_gan((28, 28, 1), num_classes=10)
    """
    from kdl.models.gan.model import ConditionalGAN

    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 2:
        raise ConfigError(f"a conditional GAN needs data with at least 2 classes; got "
                          f"num_classes={num_classes!r}.")
    generator, discriminator = _networks(input_shape, noise_size, widths, filters, num_classes,
                                         False)
    return ConditionalGAN(generator, discriminator, num_classes=num_classes,
                          preprocessing=preprocessing, label_smoothing=float(label_smoothing),
                          average=float(average), name=name)


def latent_gan(input_shape: Sequence[int], num_classes: int = 0, base_model=None,
               noise_size: Size | None = None, widths: Sizes = (256, 256),
               r1_weight: NonNegative = 0.0, name: str = "latent_gan"):
    """A GAN in the code space of a trained autoencoder (`base_model`: a run or export of an
    autoencoder pipeline, e.g. mnist_autoencoder): dense networks of `widths` learn its codes,
    its decoder turns their samples into images.

    Usage: latent_gan((28, 28, 1), base_model=load_trained_model("saved_models/mnist_autoencoder"))
    """
    from kdl.models.gan.model import LatentGAN

    if base_model is None or not hasattr(base_model, "encode") or not hasattr(
            base_model, "decode"):
        raise ConfigError("a latent GAN learns a trained autoencoder's codes: give base_model= "
                          "the run folder or export of an autoencoder pipeline (e.g. "
                          "mnist_autoencoder); got "
                          f"{'nothing' if base_model is None else type(base_model).__name__}.")
    code_size = int(base_model.code_size)
    generator = dense_generator((code_size,), noise_size or code_size, widths)
    discriminator = dense_discriminator((code_size,), widths)
    return LatentGAN(generator, discriminator, base_model, r1_weight=float(r1_weight),
                     name=name)
