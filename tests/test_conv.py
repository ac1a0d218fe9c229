"""The convolutional zoo: VGG, Inception and ResNet builders against the lecture's tables and
keras.applications, the multiply-add counter against the ResNet table, augmentation, the
CIFAR-10 loader in both layouts, image folders for image_classifier, and the zoo's
pipelines on small subsets."""

from __future__ import annotations

import pickle

import keras
import numpy as np
import pytest
from PIL import Image

import pipelines
from kdl import data as kdl_data
from kdl import models
from kdl.data.cifar import CIFAR10_CLASSES
from kdl.data.image_folders import read_class_folders
from kdl.errors import ConfigError, DataNotFoundError
from kdl.export import load_export
from kdl.gradcam import grad_cam
from kdl.models.conv import augmentation, inception_factorized, inception_naive, inception_reduced
from kdl.models.flops import multiply_adds
from tests.conftest import require_data

# The lecture's tables
VGG16_PARAMETERS, VGG19_PARAMETERS = 138_357_544, 143_667_240
RESNET50_PARAMETERS = 25_636_712
RESNET_GIGAFLOPS = {18: 1.8, 34: 3.6, 50: 3.8, 101: 7.6, 152: 11.3}
CIFAR_RESNET_MILLIONS = {20: 0.27, 32: 0.46, 44: 0.66, 56: 0.85}  # He et al., Table 6


@pytest.mark.parametrize(("builder", "table", "reference"), [
    ("vgg16", VGG16_PARAMETERS, keras.applications.VGG16),
    ("vgg19", VGG19_PARAMETERS, keras.applications.VGG19),
])
def test_vgg_parameters_equal_the_lecture_table_and_keras_applications(builder, table,
                                                                        reference):
    ours = models.get(builder)()
    assert ours.count_params() == table
    assert reference(weights=None).count_params() == table
    with_bn = models.get(builder)(batch_norm=True)
    assert with_bn.count_params() > table  # batch norm adds its scale, offset and statistics


def test_resnet50_equals_keras_applications_layer_by_layer():
    ours = models.get("resnet")(depth=50)
    theirs = keras.applications.ResNet50(weights=None)
    assert ours.count_params() == theirs.count_params() == RESNET50_PARAMETERS
    for layer in theirs.layers:  # same names: a keras.applications weights file loads by name
        if layer.weights:
            ours.get_layer(layer.name).set_weights(layer.get_weights())
    images = np.random.default_rng(0).uniform(0, 1, (2, 224, 224, 3)).astype("float32")
    np.testing.assert_allclose(ours.predict(images, verbose=0),
                               theirs.predict(images, verbose=0), atol=1e-5)


@pytest.mark.parametrize("depth", sorted(RESNET_GIGAFLOPS))
def test_resnet_multiply_adds_match_the_papers_table_within_5_percent(depth):
    counted = multiply_adds(models.get("resnet")(depth=depth)) / 1e9
    assert counted == pytest.approx(RESNET_GIGAFLOPS[depth], rel=0.05)


def test_multiply_adds_of_a_conv_and_a_dense_layer_by_hand():
    inputs = keras.Input((8, 8, 3))
    x = keras.layers.Conv2D(4, 3, padding="same")(inputs)          # 8*8*4 outputs x 3*3*3
    x = keras.layers.Conv2D(6, 1, strides=2, groups=2)(x)          # 4*4*6 outputs x 1*1*2
    outputs = keras.layers.Dense(5)(keras.layers.Flatten()(x))     # 96 inputs x 5
    assert multiply_adds(keras.Model(inputs, outputs)) == 8 * 8 * 4 * 27 + 4 * 4 * 6 * 2 + 96 * 5
    steps = keras.Input((10, 4))
    lstm = keras.Model(steps, keras.layers.Dense(3)(keras.layers.LSTM(5)(steps)))
    assert multiply_adds(lstm) == 10 * 4 * 5 * (4 + 5) + 5 * 3  # 4 gates per step
    tokens = keras.Input((None,), dtype="int32")  # any length: no count per sample
    assert multiply_adds(keras.Model(tokens, keras.layers.Dense(3)(
        keras.layers.Embedding(10, 4)(tokens)))) is None


@pytest.mark.parametrize("depth", sorted(CIFAR_RESNET_MILLIONS))
def test_cifar_resnets_have_the_papers_parameter_counts(depth):
    model = models.get("cifar_resnet")((32, 32, 3), 10, depth=depth)
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    assert round(trainable / 1e6, 2) == CIFAR_RESNET_MILLIONS[depth]
    convs = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
    assert len(convs) + 1 == depth  # 6n + 1 convolutions and the output layer
    assert model.output.shape == (None, 10)


def test_a_cifar_resnet_depth_not_of_the_form_6n_plus_2_is_refused():
    with pytest.raises(ValueError, match=r"6n \+ 2 layers"):
        models.get("cifar_resnet")((32, 32, 3), 10, depth=21)


def test_basic_and_bottleneck_blocks_add_their_input():
    model = models.get("resnet")((64, 64, 3), 5, depth=18)
    adds = [layer for layer in model.layers if isinstance(layer, keras.layers.Add)]
    assert len(adds) == 8  # 2 blocks x 4 stages
    deep = models.get("resnet")((64, 64, 3), 5, depth=50)
    assert deep.get_layer("conv2_block1_3_conv").filters == 256  # 4 x 64: the expansion


def test_inception_modules_concatenate_their_branches():
    inputs = keras.Input((28, 28, 192))
    naive = inception_naive(inputs, 64, 128, 32, name="naive")
    assert naive.shape == (None, 28, 28, 64 + 128 + 32 + 192)  # the pool keeps its channels
    reduced = inception_reduced(inputs, 64, 96, 128, 16, 32, 32, name="reduced")
    assert reduced.shape == (None, 28, 28, 256)  # GoogLeNet's 3a
    model = keras.Model(inputs, reduced)
    kernels = {layer.name: layer.kernel.shape for layer in model.layers
               if isinstance(layer, keras.layers.Conv2D)}
    assert kernels["reduced_5x5_reduce_conv"] == (1, 1, 192, 16)
    assert kernels["reduced_5x5_conv"] == (5, 5, 16, 32)


def test_factorized_inception_has_no_large_square_kernel():
    inputs = keras.Input((17, 17, 768))
    seven = keras.Model(inputs, inception_factorized(inputs, 192, 128, 192, 128, 192, 192, n=7))
    shapes = {tuple(layer.kernel_size) for layer in seven.layers
              if isinstance(layer, keras.layers.Conv2D)}
    assert shapes == {(1, 1), (1, 7), (7, 1)} and seven.output.shape == (None, 17, 17, 768)
    five = keras.Model(inputs, inception_factorized(inputs, 64, 48, 64, 48, 96, 64))
    shapes = {tuple(layer.kernel_size) for layer in five.layers
              if isinstance(layer, keras.layers.Conv2D)}
    assert shapes == {(1, 1), (3, 3)}  # the 5x5 is two 3x3s


def test_augmentation_changes_training_batches_only_and_digits_are_never_flipped():
    images = np.random.default_rng(0).uniform(size=(8, 32, 32, 3)).astype("float32")
    inputs = keras.Input((32, 32, 3))
    model = keras.Model(inputs, augmentation(inputs, "shift_flip"))
    np.testing.assert_array_equal(model(images, training=False), images)
    assert not np.allclose(model(images, training=True), images)
    shifted = keras.Model(inputs, augmentation(inputs, "shift"))
    assert [layer.name for layer in shifted.layers[1:]] == ["augment_shift"]
    with pytest.raises(ValueError, match="augment must be one of"):
        augmentation(inputs, "rotate")


def write_python_batches(folder, per_batch: int = 20):
    """The official CIFAR-10 python layout, with a few images per batch."""
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    batches = {}
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        images = rng.integers(0, 256, (per_batch, 32, 32, 3), dtype=np.uint8)
        labels = rng.integers(0, 10, per_batch).tolist()
        rows = images.transpose(0, 3, 1, 2).reshape(per_batch, -1)  # channels first, flat
        with open(folder / name, "wb") as handle:
            pickle.dump({b"data": rows, b"labels": labels}, handle)
        batches[name] = (images, labels)
    return batches


def test_cifar10_reads_the_official_python_batches(tmp_path, no_data_sources):
    batches = write_python_batches(tmp_path / "cifar-10-batches-py")
    dataset = kdl_data.load("cifar10", path=tmp_path)
    assert dataset.x_train.shape == (100, 32, 32, 3) and dataset.x_test.shape == (20, 32, 32, 3)
    np.testing.assert_array_equal(dataset.x_train[:20], batches["data_batch_1"][0])
    assert dataset.y_test.tolist() == batches["test_batch"][1]
    assert dataset.class_names == CIFAR10_CLASSES


def test_cifar10_missing_names_every_place_searched(no_data_sources):
    with pytest.raises(DataNotFoundError, match=r"KDL_DATA_DIR|Keras cache"):
        kdl_data.load("cifar10")


def test_real_cifar10_png_copy_is_decoded_once_and_in_mixed_class_order(no_data_sources,
                                                                           monkeypatch):
    require_data("cifar10/train")
    from tests.conftest import DATA_DIR

    monkeypatch.setenv("KDL_DATA_DIR", str(DATA_DIR))
    dataset = kdl_data.load("cifar10")
    assert dataset.x_train.shape == (50_000, 32, 32, 3) and dataset.x_test.shape[0] == 10_000
    assert np.bincount(dataset.y_train).tolist() == [5000] * 10
    np.testing.assert_allclose((dataset.x_train / 255.0).mean(axis=(0, 1, 2)),
                               [0.4914, 0.4822, 0.4465], atol=5e-4)  # the README's figures
    assert len(set(dataset.y_train[:100])) == 10  # subset=N takes every class
    cached = list((no_data_sources / "keras_home" / "datasets").glob("kdl-cifar10-*.npz"))
    assert len(cached) == 1
    again = kdl_data.load("cifar10")
    np.testing.assert_array_equal(again.x_test, dataset.x_test)


def write_image_folder(root, classes=("cat", "dog"), per_class=12, size=(20, 24)):
    rng = np.random.default_rng(1)
    for index, name in enumerate(classes):
        (root / name).mkdir(parents=True)
        for i in range(per_class):
            pixels = rng.integers(0, 60, (*size, 3)) + 150 * index  # classes differ in colour
            Image.fromarray(pixels.astype(np.uint8)).save(root / name / f"{i:03d}.png")


def test_class_folders_read_in_path_order_with_folder_names_as_classes(tmp_path):
    write_image_folder(tmp_path / "photos")
    x, y, names = read_class_folders(tmp_path / "photos")
    assert names == ("cat", "dog") and x.shape == (24, 20, 24, 3) and x.dtype == np.uint8
    assert y.tolist() == [0] * 12 + [1] * 12
    first = np.asarray(Image.open(tmp_path / "photos" / "cat" / "000.png"))
    np.testing.assert_array_equal(x[0], first)  # decoded exactly, not resized
    with pytest.raises(ConfigError, match="no class subfolders"):
        read_class_folders(tmp_path / "photos" / "cat")


def test_image_classifier_trains_on_a_folder_of_class_folders(tmp_path, workdir):
    write_image_folder(tmp_path / "photos" / "train", per_class=30)
    write_image_folder(tmp_path / "photos" / "test", per_class=10)
    result = pipelines.run("image_classifier", data="photos",  # a folder name, no slash
                           filters=(8,), batch_norm=False, epochs=5, batch_size=8, verbose=0,
                           export=False)
    assert result.dataset.class_names == ("cat", "dog")
    assert result.report.data["n_test"] == 20
    assert result.metrics["accuracy"] >= 0.9  # the colours tell the classes apart


@pytest.mark.parametrize(("pipeline", "small"), [
    ("cifar10_resnet", {"depth": 8, "width": 0.25}),
    ("cifar10_vgg", {"width": 0.0625, "head_units": (16,)}),
    ("cifar10_inception", {"width": 0.125}),
])
def test_the_zoos_pipelines_run_on_real_cifar10_and_report_their_cost(pipeline, small,
                                                                        workdir):
    require_data("cifar10/train")
    result = pipelines.run(pipeline, subset=600, epochs=1, batch_size=64, verbose=0,
                           export=False, **small)
    assert result.report.data["n_train"] == 600
    assert result.report.config["multiply_adds"] == multiply_adds(result.model) > 0
    markdown = (result.run_dir / "report.md").read_text()
    assert "multiply-adds per sample" in markdown


def test_fashion_mnist_resnet_exports_and_reloads_to_the_same_predictions(workdir):
    require_data("fashion_mnist.npz")
    result = pipelines.run("fashion_mnist_resnet", subset=600, epochs=1, depth=8, width=0.25,
                           verbose=0)
    images = result.dataset.x_test[:16].astype("float32")
    served = load_export(result.export_path)
    np.testing.assert_allclose(np.asarray(served.serve(images)),
                               result.model.predict(images, verbose=0), atol=1e-5)
    assert "augment_flip" not in [layer.name for layer in result.model.layers[-1].layers]


def test_grad_cam_finds_the_part_of_the_image_the_class_depends_on():
    inputs = keras.Input((8, 8, 1))
    features = keras.layers.Conv2D(1, 1, use_bias=False, activation="relu",
                                   kernel_initializer="ones", name="features")(inputs)
    pooled = keras.layers.GlobalAveragePooling2D()(features)
    outputs = keras.layers.Dense(2, activation="softmax", kernel_initializer=keras.initializers
                                 .Constant([[1.0, -1.0]]))(pooled)
    model = keras.Model(inputs, outputs)
    image = np.zeros((1, 8, 8, 1), np.float32)
    image[0, :4, :4] = 5.0  # bright top-left quadrant: class 0's evidence
    heat = grad_cam(model, image, classes=np.array([0]))[0]
    assert heat[:3, :3].min() > 0.8 and heat[5:, 5:].max() < 0.05
    mlp = models.get("mlp")((8, 8, 1), 2, widths=(4,))
    with pytest.raises(ConfigError, match="no layer with a spatial"):
        grad_cam(mlp, image)
    wrapped = keras.Model(inputs, mlp(keras.layers.Rescaling(0.5)(inputs)))  # as kdl nests it
    with pytest.raises(ConfigError, match="no Grad-CAM"):
        grad_cam(wrapped, image)


def test_image_reports_show_grad_cam_and_dense_ones_do_not(workdir):
    require_data("fashion_mnist.npz")
    conv = pipelines.run("fashion_mnist_resnet", subset=400, epochs=1, depth=8, width=0.25,
                         verbose=0, export=False)
    assert conv.report.plots["grad_cam"] == "grad_cam.png"
    assert (conv.run_dir / "grad_cam.png").stat().st_size > 10_000
    dense = pipelines.run("mnist_mlp", subset=400, epochs=1, widths=(16,), verbose=0,
                          export=False)
    assert "grad_cam" not in dense.report.plots


def test_classes_and_per_class_make_a_few_label_task(tmp_path, no_data_sources):
    write_python_batches(tmp_path / "cifar-10-batches-py", per_batch=60)
    full = kdl_data.load("cifar10", path=tmp_path)
    few = kdl_data.load("cifar10", path=tmp_path, classes=[7, 2], per_class=3)
    assert few.class_names == ("horse", "bird")
    assert np.bincount(few.y_train).tolist() == [3, 3]
    assert few.y_test.tolist() == [{7: 0, 2: 1}[y] for y in full.y_test if y in (7, 2)]
    horses = np.flatnonzero(full.y_train == 7)[:3]  # the first three, in order
    np.testing.assert_array_equal(few.x_train[few.y_train == 0], full.x_train[horses])
    with pytest.raises(ConfigError, match="classes must be distinct class indices"):
        kdl_data.load("cifar10", path=tmp_path, classes=[3, 3])
    with pytest.raises(ConfigError, match=r"per_class=1000 is more than"):
        kdl_data.load("cifar10", path=tmp_path, per_class=1000)
