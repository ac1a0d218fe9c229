"""Dense-family pipelines: softmax regression and MLPs on MNIST, and an MLP on your own table.

Usage:
    pipelines.run("mnist_mlp", epochs=5)
    pipelines.run("tabular_classifier", data=df, target="species")
    pipelines.run("tabular_regressor", data=df, target="price")
"""

from kdl.spec import PipelineSpec, Training
from pipelines.registry import register

register(
    PipelineSpec(
        name="mnist_linear",
        family="dense",
        description="Softmax regression on MNIST pixels (the lecture's linear baseline).",
        data="mnist",
        model="linear",
        training=Training(epochs=20, batch_size=128, optimizer="adam", learning_rate=2e-3,
                          schedule="cosine"),
        expected="test accuracy >= 92.5% (course: 92.4%)",
        reference=(0.924, "the course's softmax regression, test accuracy"),
    ),
    PipelineSpec(
        name="mnist_mlp",
        family="dense",
        description="MLP with batch norm and dropout on MNIST pixels.",
        data="mnist",
        model="mlp",
        model_params={"widths": (1024, 1024), "dropout": 0.3, "batch_norm": True,
                      "input_dropout": 0.1},
        training=Training(epochs=20, batch_size=128, optimizer="adam", learning_rate=2e-3,
                          schedule="cosine", warmup_epochs=1),
        expected="test accuracy >= 98.3% (course: 98.2%)",
        reference=(0.982, "the course's MLP, test accuracy"),
    ),
    PipelineSpec(
        name="tabular_classifier",
        family="dense",
        description="MLP classifier for your own table: data=DataFrame, target=<label column> "
                    "(or data=(x, y)); features standardized on the training part.",
        data=None,
        data_kind="tabular",
        model="mlp",
        model_params={"widths": (128, 64), "dropout": 0.2, "batch_norm": True},
        training=Training(epochs=50, batch_size=64, optimizer="adam", learning_rate=1e-3,
                          early_stopping=8),
        validation=0.2,
        expected="depends on your data",
    ),
    PipelineSpec(
        name="tabular_regressor",
        family="dense",
        description="MLP regressor for your own table: data=DataFrame, target=<numeric column> "
                    "(or data=(x, y)); features standardized on the training part.",
        data=None,
        data_kind="tabular",
        task="regression",
        model="mlp",
        model_params={"widths": (64, 32), "dropout": 0.1},
        training=Training(epochs=300, batch_size=32, optimizer="adam", learning_rate=3e-3,
                          early_stopping=25),
        validation=0.2,
        optimizing_metric="rmse",
        expected="depends on your data",
    ),
)
