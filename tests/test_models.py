import keras
import pytest

from kdl import models
from kdl.errors import UnknownNameError


def test_lecture_convnet_matches_the_lecture_table():
    model = models.lecture_mnist_convnet()
    assert model.count_params() == 19_082
    shapes = [layer.output.shape[1:] for layer in model.layers[1:]]
    spatial = [s[0] for s in shapes[:-2]] + [shapes[-2][0]]
    assert spatial == [26, 24, 24, 12, 10, 8, 8, 4, 256]
    kinds = [type(layer).__name__ for layer in model.layers[1:]]
    assert kinds == ["Conv2D", "Conv2D", "Dropout", "MaxPooling2D", "Conv2D", "Conv2D",
                     "Dropout", "MaxPooling2D", "Flatten", "Dense"]
    assert [s[-1] for s in shapes[:8]] == [32, 32, 32, 32, 16, 16, 16, 16]


def test_linear_is_softmax_regression():
    model = models.linear((28, 28, 1), 10)
    assert model.count_params() == 784 * 10 + 10
    assert model.layers[-1].activation.__name__ == "softmax"


def test_mlp_parameter_count_and_options():
    model = models.mlp((784,), 10, widths=(256, 128), dropout=0.5, batch_norm=False)
    assert model.count_params() == (784 * 256 + 256) + (256 * 128 + 128) + (128 * 10 + 10)
    assert [layer.rate for layer in model.layers if isinstance(layer, keras.layers.Dropout)] == [
        0.5, 0.5]
    with_bn = models.mlp((784,), 10, widths=(256,), batch_norm=True, dropout=0.0)
    # batch norm replaces the dense bias and adds gamma, beta, moving mean and variance
    assert with_bn.count_params() == 784 * 256 + 4 * 256 + 256 * 10 + 10
    assert not any(isinstance(layer, keras.layers.Dropout) for layer in with_bn.layers)


def test_convnet_blocks_heads_and_shapes():
    flat = models.convnet((28, 28, 1), 10, filters=(8, 16), padding="valid", first_kernel_size=5,
                          batch_norm=False)
    # 28 -5+1-> 24 -pool-> 12 -3+1-> 10 -pool-> 5; conv weights + biases, dense on 5*5*16
    assert flat.get_layer("flatten").output.shape[1:] == (5 * 5 * 16,)
    assert flat.count_params() == (25 * 8 + 8) + (9 * 8 * 16 + 16) + (400 * 10 + 10)
    gap = models.convnet((32, 32, 3), 5, filters=(8, 16, 32), convs_per_block=2, head="gap")
    assert gap.get_layer("gap").output.shape[1:] == (32,)
    assert gap.output.shape[1:] == (5,)
    assert sum(isinstance(layer, keras.layers.BatchNormalization) for layer in gap.layers) == 6
    with pytest.raises(ValueError, match="head"):
        models.convnet((28, 28, 1), 10, head="dense")


def test_unknown_builder_lists_the_known_ones():
    with pytest.raises(UnknownNameError, match="Did you mean 'mlp'.*Valid: bag_of_words, "
                                               "bpr, cbow, char_language_model, "
                                               "cifar_resnet, conditional_gan, conv_autoencoder"):
        models.get("mpl")
    assert "dropout" in models.parameters("mlp")
    assert "input_shape" not in models.parameters("mlp")


def test_convnet_hidden_dense_head():
    model = models.convnet((28, 28, 1), 10, filters=(8,), head_units=(32,), batch_norm=True)
    dense = model.get_layer("head1_dense")
    assert dense.output.shape[1:] == (32,) and not dense.use_bias
    assert model.get_layer("head1_bn") is not None


def test_pool_before_norm_moves_only_the_pooling():
    usual = models.convnet((28, 28, 1), 10, filters=(8,), convs_per_block=2)
    early = models.convnet((28, 28, 1), 10, filters=(8,), convs_per_block=2,
                           pool_before_norm=True)
    order = [layer.name for layer in early.layers[1:6]]
    assert order == ["block1_conv1", "block1_bn1", "block1_relu1", "block1_conv2", "block1_pool"]
    assert early.get_layer("block1_bn2").output.shape[1:] == (14, 14, 8)
    assert usual.get_layer("block1_bn2").output.shape[1:] == (28, 28, 8)
    assert early.count_params() == usual.count_params()
