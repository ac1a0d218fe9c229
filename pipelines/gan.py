"""GAN pipelines: the 2-D toy (points along a parabola, the discriminator's decision map), a
DCGAN, a WGAN with gradient penalty and a conditional GAN on MNIST and on Fashion-MNIST, and
`image_gan` for your own images. Each report measures the samples with a judge classifier of
the data's own (Fréchet distance beside its floor and ceiling, mode coverage, confidence; a
cGAN's accuracy on the classes asked for), or, for points, with a two-sample test.

Usage:
    pipelines.run("toy2d_gan")
    pipelines.run("mnist_dcgan")
    pipelines.compare(["mnist_dcgan", "mnist_wgan_gp"])
    pipelines.run("mnist_cgan", epochs=5)
    pipelines.run("mnist_autoencoder"); pipelines.run("mnist_latent_gan")
    pipelines.run("toy2d_gan", data=my_points)          # your own 2-D points (N, 2)
    pipelines.run("image_gan", data=(images, labels))   # your images, 0-255
"""

from kdl.spec import PipelineSpec, Training
from pipelines.registry import register

# Radford et al.'s DCGAN settings: Adam at 2e-4 with beta_1 = 0.5, for both networks.
DCGAN_ADAM = {"generator": {"beta_1": 0.5}, "discriminator": {"beta_1": 0.5}}
# Gulrajani et al.'s WGAN-GP settings: Adam with beta_1 = 0.5 (they also used 0), beta_2 = 0.9.
WGAN_ADAM = {"generator": {"beta_1": 0.5, "beta_2": 0.9},
             "discriminator": {"beta_1": 0.5, "beta_2": 0.9}}
IMAGE_EPOCHS = {"gan": 12, "wgan_gp": 10, "conditional_gan": 10}
# The WGAN-GP's critic takes 5 steps, each with a second backward pass for the penalty, per
# generator step: at half the DCGAN's widths it fits the same 20 minutes.
IMAGE_FILTERS = {"gan": (64, 128), "wgan_gp": (32, 64), "conditional_gan": (64, 128)}
# The DCGAN samples from a moving average of its generator's weights (decay 0.999): its last
# epochs' samples without it were malformed often enough to miss the confidence target.
SAMPLE_AVERAGE = 0.999


def image_gan_spec(data: str, model: str, title: str, description: str,
                   expected: str) -> PipelineSpec:
    """An image GAN on `data` (MNIST or Fashion-MNIST): DCGAN networks (IMAGE_FILTERS,
    100-number noise), batch 128, no validation split (the samples are measured)."""
    short = {"gan": "dcgan", "wgan_gp": "wgan_gp", "conditional_gan": "cgan"}[model]
    adam = WGAN_ADAM if model == "wgan_gp" else DCGAN_ADAM
    return PipelineSpec(
        name=f"{data}_{short}", family="gan", description=f"{description} on {title}.",
        data=data, data_kind="image", task="generation", model=model,
        model_params={"noise_size": 100, "filters": IMAGE_FILTERS[model],
                      **({"average": SAMPLE_AVERAGE} if model == "gan" else {})},
        preprocessing="rescale",
        optimizing_metric="label_accuracy" if model == "conditional_gan" else "frechet_distance",
        training=Training(epochs=IMAGE_EPOCHS[model], batch_size=128, optimizer="adam",
                          learning_rate=2e-4, optimizers=adam),
        validation="none", expected=expected)


DESCRIPTIONS = {
    "gan": ("DCGAN: a generator of transposed convolutions against a convolutional "
            "discriminator, binary cross-entropy; samples from the generator's weights "
            "averaged over the last steps", "every class 5-15% of the samples, mean "
            "confidence >= 0.9 (targets)"),
    "wgan_gp": ("WGAN-GP: DCGAN networks at half the widths (32-64 filters), a critic without "
                "batch norm, 5 critic steps per generator step, gradient penalty weight 10",
                "every class 5-15% of the samples, mean confidence >= 0.9 (targets)"),
    "conditional_gan": ("Conditional GAN: the one-hot class beside the noise and as extra "
                        "channels of the discriminator's input; it draws the class asked for",
                        "the judge reads >= 98% of the samples as the class asked for "
                        "(target)"),
}
for _model, (_description, _expected) in DESCRIPTIONS.items():
    register(image_gan_spec("mnist", _model, "MNIST digits", _description, _expected),
             image_gan_spec("fashion_mnist", _model, "Fashion-MNIST clothing", _description,
                            "every class near 10% of the samples; the Fréchet distance near "
                            "its floor"))

register(
    PipelineSpec(
        name="mnist_latent_gan",
        family="gan",
        description="A GAN in an autoencoder's code space: dense networks (256-256) learn the "
                    "32-number codes mnist_autoencoder gives the MNIST images, its decoder "
                    "draws their samples; the report puts straight lines between generated "
                    "codes beside lines between encoded test images. base_model: by default "
                    "the latest mnist_autoencoder export (run it first), or any autoencoder "
                    "run folder.",
        data="mnist",
        data_kind="image",
        task="generation",
        model="latent_gan",
        model_params={"widths": (256, 256)},
        preprocessing="none",
        base_model="saved_models/mnist_autoencoder",
        optimizing_metric="frechet_distance",
        training=Training(epochs=20, batch_size=128, optimizer="adam", learning_rate=2e-4,
                          optimizers=DCGAN_ADAM),
        validation="none",
        expected="samples as clear as the autoencoder's reconstructions",
    ),
    PipelineSpec(
        name="toy2d_gan",
        family="gan",
        description="The 2-D toy: a GAN of two dense networks (128-128) learns points along "
                    "a parabola (or your own 2-D points, data=points), the discriminator kept "
                    "smooth by the R1 penalty, the learning rate decayed to 0; the report draws "
                    "the discriminator's decision over the plane with its gradient at the "
                    "generated points, and a two-sample test scores the samples.",
        data="parabola",
        data_kind="tabular",
        task="generation",
        model="gan",
        model_params={"noise_size": 8, "widths": (128, 128), "r1_weight": 1.0},
        preprocessing="standardize",
        optimizing_metric="two_sample_accuracy",
        training=Training(epochs=800, batch_size=256, optimizer="adam", learning_rate=2e-4,
                          schedule="cosine", optimizers=DCGAN_ADAM),
        validation="none",
        expected="two-sample-test accuracy <= 0.60 (target; 0.5 is indistinguishable)",
    ),
    PipelineSpec(
        name="image_gan",
        family="gan",
        description="A DCGAN for your own images: data=(images, labels) with pixel values "
                    "0-255 (the labels train the judge that measures the samples) or images "
                    "alone; sides a multiple of 4. model='wgan_gp' or 'conditional_gan' as "
                    "overrides.",
        data=None,
        data_kind="image",
        task="generation",
        model="gan",
        model_params={"noise_size": 100, "filters": (64, 128)},
        preprocessing="rescale",
        optimizing_metric="frechet_distance",
        training=Training(epochs=20, batch_size=64, optimizer="adam", learning_rate=2e-4,
                          optimizers=DCGAN_ADAM),
        validation="none",
        expected="depends on your data; compare the Fréchet distance with its floor",
    ),
)
