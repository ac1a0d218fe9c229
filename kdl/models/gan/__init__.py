"""The GAN family's builders (dense and DCGAN-style generators and discriminators, a GAN, a
WGAN-GP and a conditional GAN made of them); the Keras classes they return live in
kdl.models.gan.model.

Usage:
    from kdl.models.gan import dcgan, wgan_gp, conditional_gan
    gan = dcgan((28, 28, 1))
"""

from kdl.models.gan.builders import (
    conditional_gan,
    dcgan,
    dcgan_discriminator,
    dcgan_generator,
    dense_discriminator,
    dense_generator,
    latent_gan,
    wgan_gp,
)

__all__ = ["conditional_gan", "dcgan", "dcgan_discriminator", "dcgan_generator",
           "dense_discriminator", "dense_generator", "latent_gan", "wgan_gp"]
