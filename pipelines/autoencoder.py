"""Autoencoder pipelines: a convolutional autoencoder, an autoencoder squeezed to a 2-D code
(compared with PCA and t-SNE), a VAE with its decoder over the prior, and a denoising
autoencoder, on MNIST and on Fashion-MNIST. Every report puts the test reconstruction error
beside PCA's with as many components as the code.

Usage:
    pipelines.run("mnist_ae_2d")
    pipelines.run("fashion_mnist_vae", beta=0.5)
    pipelines.run("autoencoder", data=(images, labels))            # your images, 0-255
    pipelines.run("tabular_autoencoder", data=frame, target="kind")  # your table
"""

from kdl.spec import PipelineSpec, Training
from pipelines.registry import register


def adam_cosine(epochs: int, learning_rate: float = 1e-3) -> Training:
    """The family's training: Adam, batch 128, a cosine schedule over `epochs`."""
    return Training(epochs=epochs, batch_size=128, optimizer="adam", learning_rate=learning_rate,
                    schedule="cosine")


def autoencoder_specs(data: str, title: str) -> list[PipelineSpec]:
    """The family's four pipelines on one image dataset (`data`, named `title` in texts)."""
    prefix = data
    common = {"family": "autoencoder", "data": data, "task": "reconstruction",
              "preprocessing": "rescale", "optimizing_metric": "reconstruction_mse",
              "validation": 0.1}
    return [
        PipelineSpec(
            name=f"{prefix}_autoencoder",
            description=f"Convolutional autoencoder for {title}: two strided convolutions "
                        "down to a 32-number code, transposed convolutions back up.",
            model="conv_autoencoder",
            model_params={"code_size": 32, "filters": (32, 64)},
            training=adam_cosine(12, 2e-3),
            expected="test reconstruction MSE below PCA-32's",
            **common),
        PipelineSpec(
            name=f"{prefix}_ae_2d",
            description=f"Dense autoencoder for {title} squeezed to a 2-D code "
                        "(784-512-256-128-2), its code map beside PCA and t-SNE maps of the "
                        "same test images.",
            model="dense_autoencoder",
            model_params={"code_size": 2, "widths": (512, 256, 128)},
            training=adam_cosine(30),
            expected="test reconstruction MSE below PCA-2's (target)",
            **common),
        PipelineSpec(
            name=f"{prefix}_vae",
            description=f"Variational autoencoder for {title}: a dense encoder (512-256) to a "
                        "2-D Gaussian code, binary cross-entropy reconstruction plus KL "
                        "(beta 1); its decoder drawn over the prior.",
            model="vae",
            model_params={"code_size": 2, "widths": (512, 256), "beta": 1.0},
            training=adam_cosine(30),
            expected="a smooth map of the classes over the prior",
            **common),
        PipelineSpec(
            name=f"{prefix}_denoising_ae",
            description=f"Denoising convolutional autoencoder for {title}: Gaussian noise "
                        "(standard deviation 0.4 on pixels scaled to 0-1) on the input in "
                        "training only, the clean image as the target.",
            model="conv_autoencoder",
            model_params={"code_size": 32, "filters": (32, 64), "noise": 0.4},
            training=adam_cosine(12, 2e-3),
            expected="clean reconstructions of noisy digits",
            **common),
    ]


register(*autoencoder_specs("mnist", "MNIST digits"),
         *autoencoder_specs("fashion_mnist", "Fashion-MNIST clothing"))
register(
    PipelineSpec(
        name="autoencoder",
        family="autoencoder",
        description="Dense autoencoder for your own images: data=(images, labels) with pixel "
                    "values 0-255 (labels only colour the maps and balance the splits); "
                    "code_size, widths or model='conv_autoencoder' as overrides.",
        data=None,
        data_kind="image",
        task="reconstruction",
        model="dense_autoencoder",
        model_params={"code_size": 16, "widths": (256, 64)},
        preprocessing="rescale",
        optimizing_metric="reconstruction_mse",
        training=Training(epochs=30, batch_size=64, optimizer="adam", learning_rate=1e-3,
                          early_stopping=5),
        validation=0.15,
        expected="depends on your data; compare with the PCA row of the report",
    ),
    PipelineSpec(
        name="tabular_autoencoder",
        family="autoencoder",
        description="Dense autoencoder for your own table: data=(x, y) or a DataFrame with "
                    "target=...; columns standardized on the training part, a linear output.",
        data=None,
        data_kind="tabular",
        task="reconstruction",
        model="dense_autoencoder",
        model_params={"code_size": 4, "widths": (64, 32), "decoder_activation": None},
        preprocessing="standardize",
        optimizing_metric="reconstruction_mse",
        training=Training(epochs=100, batch_size=64, optimizer="adam", learning_rate=1e-3,
                          early_stopping=10),
        validation=0.15,
        expected="depends on your data; compare with the PCA row of the report",
    ),
)
