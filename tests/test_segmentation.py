"""The segmentation family: the lecture's bed-of-nails and max-unpooling examples, U-Net's
parameter count from the paper's layer list, joint image-and-mask augmentation, IoU and Dice
against a hand-made case and scikit-learn, the losses, the shapes generator, the ISBI 2012
loader in both layouts, the user's images and masks, and the pipelines end to end with
exports that give the same masks on images of another size."""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image
from sklearn.metrics import f1_score, jaccard_score

import pipelines
from kdl import cli, metrics
from kdl.data import draw_shapes, load, read_mask_folders
from kdl.data.user import from_user_data
from kdl.errors import ConfigError, CorruptDataError
from kdl.losses import SegmentationLoss
from kdl.models.segmentation import fcn, segnet, unet
from kdl.models.segmentation.augment import joint_augmentation
from kdl.models.segmentation.layers import (
    BedOfNailsUpsampling,
    MaxPoolingWithArgmax2D,
    MaxUnpooling2D,
)
from kdl.report import OUT_OF_FOLD
from kdl.tasks.segmentation import PER_CLASS_TITLE, balanced_weights
from tests.conftest import require_data

TINY_SHAPES = {"n_train": 48, "n_test": 16, "image_size": 32, "epochs": 1, "verbose": 0}


def as_batch(rows: list[list[float]]) -> np.ndarray:
    return np.array(rows, np.float32)[None, :, :, None]


def test_bed_of_nails_puts_each_value_in_the_top_left_corner_of_its_cell():
    upsampled = np.asarray(BedOfNailsUpsampling()(as_batch([[1, 2], [3, 4]])))[0, :, :, 0]
    np.testing.assert_array_equal(upsampled, [[1, 0, 2, 0], [0, 0, 0, 0],
                                              [3, 0, 4, 0], [0, 0, 0, 0]])


def test_max_unpooling_puts_each_maximum_back_where_the_pooling_found_it():
    x = as_batch([[1, 2, 6, 3], [3, 5, 2, 1], [1, 2, 2, 1], [7, 3, 4, 8]])
    pooled, where = MaxPoolingWithArgmax2D()(x)
    np.testing.assert_array_equal(np.asarray(pooled)[0, :, :, 0], [[5, 6], [7, 8]])
    restored = np.asarray(MaxUnpooling2D()([pooled, where]))[0, :, :, 0]
    np.testing.assert_array_equal(restored, [[0, 0, 6, 0], [0, 5, 0, 0],
                                             [0, 0, 0, 0], [7, 0, 0, 8]])
    batch = np.random.default_rng(0).random((3, 8, 6, 5)).astype(np.float32)
    pooled, where = MaxPoolingWithArgmax2D()(batch)
    restored = np.asarray(MaxUnpooling2D()([pooled, where]))
    assert restored.shape == batch.shape  # each sample's maxima stay in that sample
    np.testing.assert_array_equal(restored.reshape(3, 4, 2, 3, 2, 5).max(axis=(2, 4)), pooled)
    assert np.count_nonzero(restored) == pooled.numpy().size
    weights = tf.constant(np.random.default_rng(1).random(batch.shape), tf.float32)
    inputs = tf.constant(batch)
    with tf.GradientTape() as tape:
        tape.watch(inputs)
        pooled, where = MaxPoolingWithArgmax2D()(inputs)
        total = tf.reduce_sum(MaxUnpooling2D()([pooled, where]) * weights)
    gradient = tape.gradient(total, inputs).numpy()  # flows back to the maxima only
    np.testing.assert_allclose(gradient, np.where(restored != 0, weights.numpy(), 0.0),
                               rtol=1e-6)


def test_unet_has_the_papers_parameter_count_and_takes_any_size_its_strides_divide():
    def conv(kernel, inputs, outputs):
        return kernel * kernel * inputs * outputs + outputs

    widths = (64, 128, 256, 512, 1024)
    expected = sum(conv(3, a, b) + conv(3, b, b) for a, b in zip((1, *widths[:-1]), widths))
    expected += sum(conv(2, 2 * w, w) + conv(3, 2 * w, w) + conv(3, w, w) for w in widths[:-1])
    expected += conv(1, 64, 2)  # 23 convolutional layers, two classes per pixel
    paper = unet((572, 572, 1), 2, depth=4, filters=64, batch_norm=False)
    assert paper.count_params() == expected == 31_030_658
    small = unet((64, 64, 3), 4, depth=3, filters=4)
    norms = [layer for layer in small.layers if isinstance(layer, keras.layers.BatchNormalization)]
    assert len(norms) == 14 and {layer.momentum for layer in norms} == {0.9}  # 7 blocks x 2
    for size in ((64, 64), (40, 72)):
        assert small(np.zeros((2, *size, 3), np.float32)).shape == (2, *size, 4)


@pytest.mark.parametrize("upsampling", ["nearest", "bed_of_nails", "max_unpooling",
                                        "transposed"])
def test_fcn_upsamplings_and_segnet_give_class_probabilities_per_pixel(upsampling):
    images = np.random.default_rng(1).random((2, 32, 24, 3)).astype(np.float32)
    model = fcn((32, 32, 3), 3, filters=(4, 8), upsampling=upsampling)
    probabilities = np.asarray(model(images))
    assert probabilities.shape == (2, 32, 24, 3)
    np.testing.assert_allclose(probabilities.sum(-1), 1.0, atol=1e-5)
    if upsampling == "max_unpooling":
        assert np.asarray(segnet((32, 32, 3), 3, filters=(4, 8))(images)).shape == (2, 32, 24, 3)


def mask_in_image(size: int = 48, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Shapes whose first image channel is 60 x the mask: a drift shows as a mismatch."""
    drawn = draw_shapes(6, size, seed=seed)
    images = drawn.images.astype(np.float32)
    images[..., 0] = 60.0 * drawn.masks
    return images, drawn.masks


@pytest.mark.parametrize("settings", [{"crop": 24}, {}, {"flips": False, "crop": 32}])
def test_flips_turns_and_crops_move_the_mask_exactly_with_its_image(settings):
    images, masks = mask_in_image()
    augment = joint_augmentation(**settings)
    out_images, out_masks = (t.numpy() for t in augment(images, masks, tf.constant([4, 2])))
    size = settings.get("crop", 48)
    assert out_images.shape == (6, size, size, 3) and out_masks.shape == (6, size, size)
    np.testing.assert_array_equal(out_images[..., 0], 60.0 * out_masks)
    if "crop" not in settings:  # something moved: not every image is left as it was
        assert not np.array_equal(out_masks, masks)
    again = augment(images, masks, tf.constant([4, 2]))[1].numpy()
    np.testing.assert_array_equal(again, out_masks)  # seeded
    other = augment(images, masks, tf.constant([5, 2]))[1].numpy()
    assert not np.array_equal(other, out_masks)


def test_elastic_deformation_bends_image_and_mask_alike_and_keeps_mask_classes():
    images, masks = mask_in_image(64)
    out_images, out_masks = (t.numpy() for t in joint_augmentation(
        flips=False, rotations=False, elastic_sigma=5.0)(images, masks, tf.constant([1, 1])))
    assert set(np.unique(out_masks)) <= set(np.unique(masks))
    assert np.mean(out_masks != masks) > 0.005  # it did deform
    agree = out_images[..., 0] == 60.0 * out_masks  # bilinear image vs nearest mask: equal
    assert agree.mean() > 0.95  # away from edges, and within one class step at them
    assert np.all(np.abs(out_images[..., 0] - 60.0 * out_masks) <= 60.0 * 3)


def test_iou_and_dice_on_a_hand_made_mask_and_against_scikit_learn():
    truth = np.array([[0, 0, 1], [0, 1, 1]])
    guess = np.array([[0, 1, 1], [0, 0, 1]])
    scores = metrics.segmentation_metrics(truth, guess, ("background", "object"))
    # background: 2 right of 3 true, 1 wrong -> IoU 2/4; object: 2 of 3, 1 wrong -> 2/4
    assert scores["iou_background"] == scores["iou_object"] == pytest.approx(0.5)
    assert scores["dice_object"] == pytest.approx(2 * 2 / (3 + 3))
    assert scores["pixel_accuracy"] == pytest.approx(4 / 6)
    assert scores["pixel_error"] == pytest.approx(2 / 6)
    assert scores["foreground_iou"] == pytest.approx(0.5)
    rng = np.random.default_rng(0)
    truth = rng.integers(0, 4, (5, 16, 16))
    guess = np.where(rng.random(truth.shape) < 0.6, truth, rng.integers(0, 4, truth.shape))
    names = ("background", "circle", "square", "triangle")
    scores = metrics.segmentation_metrics(truth, guess, names)
    per_class = jaccard_score(truth.ravel(), guess.ravel(), average=None)
    np.testing.assert_allclose([scores[f"iou_{n}"] for n in names], per_class)
    assert scores["mean_iou"] == pytest.approx(jaccard_score(truth.ravel(), guess.ravel(),
                                                             average="macro"))
    assert scores["foreground_iou"] == pytest.approx(per_class[1:].mean())
    np.testing.assert_allclose([scores[f"dice_{n}"] for n in names],
                               f1_score(truth.ravel(), guess.ravel(), average=None))


def test_segmentation_losses_crossentropy_dice_and_class_weights():
    rng = np.random.default_rng(2)
    masks = rng.integers(0, 3, (2, 8, 8))
    logits = rng.normal(size=(2, 8, 8, 3)).astype(np.float32)
    probabilities = np.asarray(keras.ops.softmax(logits))
    expected = keras.losses.SparseCategoricalCrossentropy()(masks, probabilities)
    assert float(SegmentationLoss()(masks, probabilities)) == pytest.approx(float(expected),
                                                                            rel=1e-5)
    perfect = np.eye(3, dtype=np.float32)[masks]
    assert float(SegmentationLoss(crossentropy=0.0, dice=1.0)(masks, perfect)) == pytest.approx(
        0.0, abs=1e-6)
    assert float(SegmentationLoss(crossentropy=0.0, dice=1.0)(masks, 1.0 - perfect)) > 0.9
    doubled = SegmentationLoss(class_weights=[2.0, 2.0, 2.0])(masks, probabilities)
    assert float(doubled) == pytest.approx(2 * float(expected), rel=1e-5)
    weights = balanced_weights(np.array([0] * 78 + [1] * 22), 2)
    np.testing.assert_allclose(weights, [100 / (2 * 78), 100 / (2 * 22)])


def test_shapes_are_the_same_for_a_seed_and_their_boxes_hold_their_pixels():
    first, again = draw_shapes(20, 32, seed=3), draw_shapes(20, 32, seed=3)
    np.testing.assert_array_equal(first.images, again.images)
    np.testing.assert_array_equal(first.masks, again.masks)
    assert not np.array_equal(first.masks, draw_shapes(20, 32, seed=4).masks)
    assert set(np.unique(first.masks)) == {0, 1, 2, 3}
    for masks, boxes, labels in zip(first.masks, first.boxes, first.labels):
        for (x0, y0, x1, y1), label in zip(boxes, labels):
            if label < 0:
                continue
            rows, columns = np.nonzero(masks == label)
            assert len(rows) > 0  # a shape may be partly hidden but is never empty
            inside = (rows >= y0) & (rows < y1) & (columns >= x0) & (columns < x1)
            assert inside.any()
    dataset = load("shapes", n_train=10, n_test=5, image_size=32)
    assert dataset.x_train.shape == (10, 32, 32, 3) and dataset.y_test.shape == (5, 32, 32)
    assert not any(np.array_equal(a, b) for a in dataset.x_train for b in dataset.x_test)


def test_isbi_membranes_read_the_same_from_pngs_and_from_the_official_tiff_stacks(tmp_path):
    folder = require_data("isbi2012_membrane")
    dataset = load("isbi2012_membrane")
    assert dataset.x_train.shape == (30, 512, 512, 1) and len(dataset.x_test) == 0
    assert dataset.class_names == ("cell", "membrane")
    assert dataset.y_train.mean() == pytest.approx(0.22, abs=0.005)  # README: 78.0% are 255
    first = np.asarray(Image.open(folder / "label" / "0.png"))
    np.testing.assert_array_equal(dataset.y_train[0], first == 0)
    pages = [Image.fromarray(s[..., 0]) for s in dataset.x_train]
    pages[0].save(tmp_path / "train-volume.tif", save_all=True, append_images=pages[1:])
    labels = [Image.fromarray((255 * (1 - m)).astype(np.uint8)) for m in dataset.y_train]
    labels[0].save(tmp_path / "train-labels.tif", save_all=True, append_images=labels[1:])
    stacked = load("isbi2012_membrane", path=tmp_path)
    np.testing.assert_array_equal(stacked.x_train, dataset.x_train)
    np.testing.assert_array_equal(stacked.y_train, dataset.y_train)
    (tmp_path / "train-labels.tif").unlink()
    with pytest.raises(CorruptDataError, match="train-labels.tif"):
        load("isbi2012_membrane", path=tmp_path)


def write_pairs(root, count: int = 6, size: int = 32, mask_folder: str = "mask"):
    drawn = draw_shapes(count, size, seed=7)
    (root / "image").mkdir(parents=True)
    (root / mask_folder).mkdir()
    for index, (image, mask) in enumerate(zip(drawn.images, drawn.masks)):
        Image.fromarray(image).save(root / "image" / f"{index}.png")
        Image.fromarray(np.where(mask > 0, 255, 0).astype(np.uint8)).save(
            root / mask_folder / f"{index}.png")
    return drawn


def test_your_images_and_masks_from_arrays_and_from_two_folders(tmp_path):
    drawn = write_pairs(tmp_path / "data")
    images, masks = read_mask_folders(tmp_path / "data" / "image", tmp_path / "data" / "mask")
    np.testing.assert_array_equal(images, drawn.images)
    from_folder = from_user_data(str(tmp_path / "data"), kind="masked_images", test_size=0.5)
    assert from_folder.class_names == ("0", "255")  # 0/255 masks become classes 0 and 1
    assert set(np.unique(from_folder.y_train)) == {0, 1}
    assert len(from_folder.x_train) == len(from_folder.x_test) == 3
    arrays = from_user_data((drawn.images, drawn.masks), kind="masked_images", test_size=0.5)
    assert arrays.class_names == ("0", "1", "2", "3")
    (tmp_path / "data" / "mask" / "5.png").rename(tmp_path / "data" / "mask" / "five.png")
    with pytest.raises(CorruptDataError, match="5, five"):
        from_user_data(str(tmp_path / "data"), kind="masked_images")
    with pytest.raises(ConfigError, match=r"masks must have shape \(N, H, W\)"):
        from_user_data((drawn.images, drawn.masks[:, :16]), kind="masked_images")
    colours = np.array([[0, 0, 0], [255, 0, 0], [0, 128, 0], [0, 0, 255]], np.uint8)
    for part in ("colour", "palette"):
        (tmp_path / part / "image").mkdir(parents=True)
        (tmp_path / part / "mask").mkdir()
        for index in range(4):
            Image.fromarray(drawn.images[index]).save(tmp_path / part / "image" / f"{index}.png")
            if part == "colour":
                picture = Image.fromarray(colours[drawn.masks[index]])
            else:
                picture = Image.fromarray(drawn.masks[index].astype(np.uint8), mode="P")
                picture.putpalette(colours.ravel().tolist())
            picture.save(tmp_path / part / "mask" / f"{index}.png")
        _, read = read_mask_folders(tmp_path / part / "image", tmp_path / part / "mask")
        dataset = from_user_data(str(tmp_path / part), kind="masked_images", test_size=0.25)
        if part == "palette":  # a palette PNG's indices are the classes
            np.testing.assert_array_equal(read, drawn.masks[:4])
            assert dataset.class_names == ("0", "1", "2", "3")
        else:  # each colour a class, in sorted order of 0xRRGGBB, named by its colour
            packed = (colours[drawn.masks[:4]].astype(int) << [16, 8, 0]).sum(-1)
            np.testing.assert_array_equal(read, (1 << 24) | packed)
            assert dataset.class_names == ("#000000", "#0000ff", "#008000", "#ff0000")


def test_shapes_unet_reports_segmentation_and_its_export_serves_another_size(workdir):
    result = pipelines.run("shapes_unet", **TINY_SHAPES)
    scores = result.metrics
    for name in ("mean_iou", "foreground_iou", "pixel_accuracy", "pixel_error", "mean_dice",
                 "iou_triangle", "dice_background"):
        assert 0.0 <= scores[name] <= 1.0
    dataset, model = result.dataset, result.model
    probabilities = model.predict(dataset.x_test, verbose=0)
    expected = metrics.segmentation_metrics(dataset.y_test, probabilities.argmax(-1),
                                            dataset.class_names)
    assert scores["mean_iou"] == pytest.approx(expected["mean_iou"])
    assert set(result.report.extras[PER_CLASS_TITLE]) == set(dataset.class_names)
    assert {"mean_iou", "val_mean_iou", "accuracy"} <= set(result.history)
    assert (result.run_dir / "segmentation_examples.png").stat().st_size > 20_000
    served = tf.saved_model.load(str(result.export_path))
    bigger = draw_shapes(3, 48, seed=9).images.astype(np.float32)  # trained on 32x32
    np.testing.assert_allclose(served.serve(bigger), model.predict(bigger, verbose=0),
                               atol=1e-5)
    assert np.asarray(served.serve(bigger)).shape == (3, 48, 48, 4)


def test_fcn_upsampling_is_an_override_and_bad_settings_fail_before_training(workdir):
    result = pipelines.run("shapes_fcn", upsampling="bed_of_nails", filters=(4, 8),
                           export=False, **TINY_SHAPES)
    assert result.report.config["spec"]["model_params"]["upsampling"] == "bed_of_nails"
    assert any(layer.__class__.__name__ == "BedOfNailsUpsampling"
               for layer in result.model.layers[-1].layers)
    with pytest.raises(ConfigError, match="upsampling"):
        pipelines.run("shapes_fcn", upsampling="bilinear", **TINY_SHAPES)
    with pytest.raises(ConfigError, match="crop=64 is larger than the 32x32 images"):
        pipelines.run("shapes_unet", crop=64, **TINY_SHAPES)
    with pytest.raises(ConfigError, match="pixel_loss must be one of"):
        pipelines.run("shapes_unet", pixel_loss="focal", **TINY_SHAPES)
    assert not (workdir / "runs" / "shapes_unet").exists()  # refused before a run folder


def test_membrane_cross_validation_scores_out_of_fold_from_the_cli(workdir):
    require_data("isbi2012_membrane")
    code = cli.main(["run", "membrane_fcn", "--subset", "10", "--epochs", "1", "--set",
                     "validation=kfold:2", "--set", "filters=(4, 8)", "--set", "crop=64",
                     "--set", "pixel_loss=crossentropy+dice", "--set", "class_weights=balanced",
                     "--no-export"])
    assert code == 0
    report = next(workdir.glob("runs/membrane_fcn/*/report.json"))
    saved = json.loads(report.read_text())
    assert saved["validation"]["evaluated_on"] == OUT_OF_FOLD
    assert len(saved["folds"]) == 2
    assert {"pixel_error", "iou_membrane"} <= set(saved["aggregate"])


def test_segmenter_trains_on_a_folder_of_your_images_and_masks(workdir):
    write_pairs(workdir / "mine", count=24, size=32, mask_folder="label")
    result = pipelines.run("segmenter", data=str(workdir / "mine"), depth=2, filters=4,
                           epochs=1, export=False, verbose=0, test_size=0.25, validation=0.3)
    assert result.dataset.class_names == ("0", "255")
    assert len(result.dataset.x_test) == 6
    assert "iou_255" in result.metrics
