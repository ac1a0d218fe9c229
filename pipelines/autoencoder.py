"""Autoencoder pipelines: a convolutional autoencoder, an autoencoder squeezed to a 2-D code
(compared with PCA and t-SNE), a VAE with its decoder over the prior, and a denoising
autoencoder, on MNIST and on Fashion-MNIST. Every report puts the test reconstruction error
beside PCA's with as many components as the code.

Usage:
    pipelines.run("mnist_ae_2d")
    pipelines.run("fashion_mnist_vae", beta=0.5)
    pipelines.run("mnist_anomaly")                      # the one-class protocol, digits 0-9
    pipelines.run("mnist_one_class", digit=3)
    pipelines.run("autoencoder", data=(images, labels))            # your images, 0-255
    pipelines.run("tabular_autoencoder", data=frame, target="kind")  # your table
"""

from kdl.spec import PipelineSpec, Training
from kdl.study import Arm, Study
from pipelines.registry import get, register

# Anomaly detection: a convolutional autoencoder trained on normal images only. The held-out
# digit arm trains on nine times the images, so it gets a ninth of the epochs: the same number
# of gradient steps as the one-class arm.
ANOMALY_EPOCHS = 30
ANOMALY_MODEL = {"code_size": 16, "filters": (32, 64)}
SEMI_SUPERVISED_EPOCHS = 12


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


def anomaly_spec(name: str, data: str, description: str, epochs: int, expected: str,
                 **data_params: int) -> PipelineSpec:
    """An anomaly-detection pipeline: the family's conv autoencoder trained on the normal
    images of `data`, test images scored by reconstruction error."""
    return PipelineSpec(
        name=name, family="autoencoder", description=description, data=data,
        data_params=data_params, task="anomaly", model="conv_autoencoder",
        model_params=ANOMALY_MODEL, preprocessing="rescale", optimizing_metric="roc_auc",
        training=adam_cosine(epochs, 2e-3), validation=0.1, expected=expected)


register(
    anomaly_spec("mnist_one_class", "mnist_one_class",
                 "Anomaly detection, the one-class protocol: a convolutional autoencoder "
                 "(16-number code) trained on one digit's images (digit=0-9), the whole test "
                 "set scored by reconstruction error, the nine other digits anomalous.",
                 ANOMALY_EPOCHS, "ROC AUC about 0.99 for digit 0, lower for 2, 3, 5 and 8",
                 digit=0),
    anomaly_spec("mnist_held_out_digit", "mnist_held_out_digit",
                 "Anomaly detection of a digit never seen: a convolutional autoencoder trained "
                 "on nine digits (digit= names the one held out), the test set scored by "
                 "reconstruction error, the held-out digit anomalous.",
                 max(ANOMALY_EPOCHS // 9, 1),
                 "harder than one class: a digit like the others (4 or 9) scores as normal",
                 digit=0),
    anomaly_spec("mnist_fashion_anomaly", "mnist_vs_fashion_mnist",
                 "Anomaly detection across datasets: a convolutional autoencoder trained on "
                 "MNIST, the 10,000 MNIST and 10,000 Fashion-MNIST test images scored by "
                 "reconstruction error, Fashion-MNIST anomalous.",
                 max(ANOMALY_EPOCHS // 9, 1), "ROC AUC >= 0.95 (target)"),
)
register(
    Study(
        name="mnist_anomaly",
        family="autoencoder",
        description="Anomaly detection on MNIST by reconstruction error, per digit: (a) the "
                    "one-class protocol of the literature (train on one digit, the nine others "
                    "anomalous) and (b) the digit held out of training as the anomaly, with "
                    "the same number of gradient steps; test ROC AUC for every digit and its "
                    "mean.",
        arms=(Arm("one digit normal", get("mnist_one_class")),
              Arm("one digit held out", get("mnist_held_out_digit"))),
        setting="digit",
        values=tuple(range(10)),
        metric="roc_auc",
        setting_label="digit",
        average=True,
        expected="one-class mean ROC AUC >= 0.95 (Deep SVDD, Ruff et al. 2018: 0.948)",
    ),
)


def semisupervised_spec(data: str, title: str) -> PipelineSpec:
    """Semi-supervised learning on `data`: the autoencoder trained on every training image
    without labels, then heads learning from a few class-balanced labels."""
    return PipelineSpec(
        name=f"{data}_semisupervised", family="autoencoder",
        description=f"Semi-supervised {title}: a convolutional autoencoder (32-number code) "
                    "trained on all training images without labels, then heads learning from "
                    "100 labelled images (5 class-balanced draws, each tested on the whole test "
                    "set): a linear SVM and an MLP on the frozen codes, the encoder fine-tuned, "
                    "label spreading over every training code, and (the headline) three rounds "
                    "of self-training from label spreading's confident labels, images shifted "
                    "and turned. labels=[50, 100, 1000] for more counts.",
        data=data, task="semi_supervised", model="conv_autoencoder",
        model_params={"code_size": 32, "filters": (32, 64)}, preprocessing="rescale",
        optimizing_metric="accuracy", training=adam_cosine(SEMI_SUPERVISED_EPOCHS, 2e-3),
        validation="none",
        expected="MNIST, 100 labels: >= 95% (target) beside the linear SVM baseline")


register(semisupervised_spec("mnist", "MNIST digits"),
         semisupervised_spec("fashion_mnist", "Fashion-MNIST clothing"))
register(
    PipelineSpec(
        name="sequence_anomaly",
        family="autoencoder",
        description="Anomaly detection in your own time series: data=df (time-ordered rows), "
                    "target=<column of 0/1 anomaly flags>, time_column=..., lookback=48 rows "
                    "per window. An LSTM autoencoder learns the normal windows of the first 60% "
                    "of rows, the next 20% set the threshold, the last 20% are scored.",
        data=None, data_kind="series", task="anomaly", model="lstm_autoencoder",
        model_params={"code_size": 16, "units": 64}, data_params={"lookback": 48},
        preprocessing="standardize", optimizing_metric="roc_auc",
        training=Training(epochs=30, batch_size=64, optimizer="adam", learning_rate=1e-3,
                          schedule="cosine", early_stopping=5),
        validation="predefined",
        expected="depends on your data; compare with the PCA row of the report",
    ),
)
