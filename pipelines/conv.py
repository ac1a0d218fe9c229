"""Conv-family pipelines: the lecture MNIST convnet, kdl's tuned convnet, Fashion-MNIST, transfer
learning from a trained convnet, and an image classifier for your own images.

Usage:
    pipelines.run("mnist_convnet")
    pipelines.run("fashion_mnist_transfer", base_model="runs/mnist_convnet/20261202-101500")
    pipelines.run("image_classifier", data=(images, labels))
"""

from kdl.spec import Phase, PipelineSpec, Training
from pipelines.registry import register

register(
    PipelineSpec(
        name="mnist_lecture_convnet",
        family="conv",
        description="The lecture's MNIST convnet exactly as in its summary table "
                    "(19,082 parameters).",
        data="mnist",
        model="lecture_mnist_convnet",
        training=Training(epochs=12, batch_size=128, optimizer="adam", learning_rate=1e-3),
        expected="test accuracy about 98.5-99% (course: 98.5%)",
    ),
    PipelineSpec(
        name="mnist_convnet",
        family="conv",
        description="kdl's MNIST convnet: two conv-pool-BN-ReLU blocks and a dense-BN head, "
                    "cosine learning rate; tuned for accuracy per second of CPU.",
        data="mnist",
        model="convnet",
        model_params={"filters": (24, 48), "first_kernel_size": 5, "padding": "valid",
                      "pool_before_norm": True, "head_units": (128,), "head_dropout": 0.3},
        training=Training(epochs=5, batch_size=128, optimizer="adam", learning_rate=3e-3,
                          schedule="cosine", warmup_epochs=0.4),
        satisficing={"latency_ms": ("<=", 2.0)},
        expected="test accuracy >= 99.3% (course: 98.5%)",
    ),
    PipelineSpec(
        name="fashion_mnist_convnet",
        family="conv",
        description="Convnet for Fashion-MNIST: two double-conv blocks with batch norm.",
        data="fashion_mnist",
        model="convnet",
        model_params={"filters": (32, 64), "convs_per_block": 2, "dropout": 0.1,
                      "head_dropout": 0.3},
        training=Training(epochs=15, batch_size=128, optimizer="adam", learning_rate=2e-3,
                          schedule="cosine", warmup_epochs=1),
        expected="test accuracy about 93%",
    ),
    PipelineSpec(
        name="fashion_mnist_transfer",
        family="conv",
        description="Transfer learning: a trained MNIST convnet's convolutional features "
                    "(cut at its flatten layer; base_model: by default the latest mnist_convnet "
                    "export, so run mnist_convnet first) under a new head for Fashion-MNIST; "
                    "the head alone first, then every layer at a third of the rate.",
        data="fashion_mnist",
        model="transfer",
        base_model="saved_models/mnist_convnet",
        model_params={"cut_layer": "flatten", "head_units": (128,), "dropout": 0.3},
        training=Training(batch_size=128, optimizer="adam", learning_rate=3e-3,
                          schedule="cosine",
                          phases=(Phase(2, 3e-3, trainable="above:features"),
                                  Phase(4, 1e-3, trainable="all"))),
        expected="with 1,000 labels 77.7% (the same net from scratch 71.6%); all labels 90.4% "
                 "(from scratch 91.6%)",
    ),
    PipelineSpec(
        name="image_classifier",
        family="conv",
        description="Convnet for your own images: data=(images, labels) with images (N, H, W) "
                    "or (N, H, W, C); pixels standardized on the training part.",
        data=None,
        data_kind="image",
        model="convnet",
        model_params={"filters": (32, 64, 128), "convs_per_block": 2, "head": "gap",
                      "head_dropout": 0.3},
        training=Training(epochs=30, batch_size=64, optimizer="adam", learning_rate=1e-3,
                          early_stopping=5),
        validation=0.15,
        expected="depends on your data",
    ),
)
