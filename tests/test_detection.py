"""The detection family: IoU, box formats, hard NMS and both soft-NMS rules against hand-
computed examples; mAP from pycocotools on hand-made cases (perfect predictions, a shifted box
at IoU 0.68, a false positive ranked first); boxes that stay on their objects under the
training augmentation; the Raccoon loader in its VOC XML and CSV layouts; the user's boxes
from VOC XML, COCO JSON and arrays; the SSD's box encoding, anchors, matching and hard-negative
mining against hand-made cases; and the YOLOv8 and SSD pipelines end to end, whose exports
reload without kdl and give the same boxes, through `kdl detect` too."""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

import pipelines
from kdl import boxes, cli, metrics
from kdl.data import draw_shapes, load
from kdl.data.detection import read_coco, read_voc
from kdl.data.user import from_user_data
from kdl.errors import ConfigError, CorruptDataError
from kdl.gradcam import grad_cam
from kdl.models.detection import cspdarknet_classifier, ssd, yolov8
from kdl.models.detection.augment import box_augmentation
from kdl.models.detection.decoder import SuppressionDecoder
from kdl.models.detection.ssd_model import decode_boxes, encode_boxes, hardest_negatives
from kdl.tasks.detection import BASELINE_TITLE, SUPPRESSION_TITLE, overlapping_images
from tests.conftest import require_data

# Two boxes overlapping at IoU 9/11 (0.818: "very good" overlap), and one far away.
OVERLAPPING = np.array([[0, 0, 10, 10], [1, 0, 11, 10], [20, 20, 30, 30]], np.float32)
SCORES = np.array([0.9, 0.8, 0.7], np.float32)
TINY = {"n_train": 40, "n_test": 12, "image_size": 64, "channels": (8, 16, 32, 64),
        "epochs": 1, "batch_size": 8, "verbose": 0}


def test_iou_matches_hand_computed_overlaps_pairwise():
    found = boxes.iou([[0, 0, 10, 10], [0, 0, 4, 4]],
                      [[5, 0, 15, 10], [0, 0, 10, 10], [50, 50, 60, 60]])
    np.testing.assert_allclose(found, [[1 / 3, 1.0, 0.0], [0.0, 0.16, 0.0]], atol=1e-6)
    assert boxes.iou(OVERLAPPING[:1], OVERLAPPING[1:2])[0, 0] == pytest.approx(9 / 11)
    np.testing.assert_allclose(np.asarray(boxes.convert(np.array([[10., 20, 30, 40]]), "xywh",
                                                         "xyxy")), [[10, 20, 40, 60]])
    with pytest.raises(ConfigError, match="box format source='xy' is not known"):
        boxes.convert(np.zeros((1, 4)), "xy", "xyxy")


def test_hard_nms_drops_an_overlapping_box_only_above_the_threshold():
    keep, kept = boxes.suppress(OVERLAPPING, SCORES, "hard", iou_threshold=0.5)
    np.testing.assert_array_equal(keep, [0, 2])
    np.testing.assert_allclose(kept, [0.9, 0.7])
    keep, _ = boxes.suppress(OVERLAPPING, SCORES, "hard", iou_threshold=0.85)
    np.testing.assert_array_equal(keep, [0, 1, 2])  # 0.818 is not above 0.85


def test_soft_nms_lowers_the_overlapping_score_by_the_lecture_rules():
    overlap = 9 / 11
    keep, kept = boxes.suppress(OVERLAPPING, SCORES, "linear", iou_threshold=0.5)
    np.testing.assert_array_equal(keep, [0, 2, 1])
    np.testing.assert_allclose(kept, [0.9, 0.7, 0.8 * (1 - overlap)], rtol=1e-5)
    keep, kept = boxes.suppress(OVERLAPPING, SCORES, "gaussian", sigma=0.5)
    np.testing.assert_array_equal(keep, [0, 2, 1])
    np.testing.assert_allclose(kept, [0.9, 0.7, 0.8 * np.exp(-overlap ** 2 / 0.5)], rtol=1e-5)
    _, kept = boxes.suppress(OVERLAPPING, SCORES, "linear", iou_threshold=0.9)
    np.testing.assert_allclose(kept, [0.9, 0.8, 0.7])  # below the threshold: untouched
    with pytest.raises(ConfigError, match="suppression method must be one of hard, linear"):
        boxes.suppress(OVERLAPPING, SCORES, "soft")
    crowded = overlapping_images(boxes_of([OVERLAPPING[:2].tolist(), OVERLAPPING[1:].tolist(),
                                           [OVERLAPPING[0].tolist(), [-1] * 4]],
                                          [[0, 1], [0, 0], [0, -1]]))
    np.testing.assert_array_equal(crowded, [True, False, False])  # 0.818; 0; one box


def test_the_decoder_suppresses_each_image_and_survives_saving():
    predicted = np.stack([OVERLAPPING, OVERLAPPING[[2, 0, 1]]])
    classes = np.zeros((2, 3, 2), np.float32)
    classes[0, :, 1] = SCORES
    classes[1, :, 0] = SCORES[[2, 0, 1]]
    hard = SuppressionDecoder(max_detections=4)(predicted, classes)
    np.testing.assert_array_equal(hard["num_detections"], [2, 2])
    np.testing.assert_allclose(hard["confidence"][0], [0.9, 0.7, -1, -1])
    np.testing.assert_array_equal(hard["classes"][0], [1, 1, -1, -1])
    np.testing.assert_array_equal(hard["classes"][1], [0, 0, -1, -1])
    np.testing.assert_allclose(hard["boxes"][1][:2], OVERLAPPING[[0, 2]])
    np.testing.assert_allclose(hard["boxes"][0][2], [-1, -1, -1, -1])
    soft = SuppressionDecoder(method="gaussian", max_detections=4)
    again = keras.layers.deserialize(keras.layers.serialize(soft))
    assert again.method == "gaussian" and again.max_detections == 4
    np.testing.assert_array_equal(again(predicted, classes)["num_detections"], [3, 3])


def boxes_of(rows: list[list[list[float]]], classes: list[list[int]],
             scores: list[list[float]] | None = None) -> dict[str, np.ndarray]:
    found = {"boxes": np.array(rows, np.float32), "classes": np.array(classes, np.float32)}
    if scores is not None:
        found["confidence"] = np.array(scores, np.float32)
    return found


def test_map_is_one_for_perfect_predictions_and_follows_the_iou_thresholds():
    truth = boxes_of([[[0, 0, 10, 10], [20, 20, 40, 40]], [[5, 5, 25, 25], [-1] * 4]],
                     [[0, 1], [0, -1]])
    perfect = {**truth, "confidence": np.where(truth["classes"] >= 0, 0.9, -1)}
    scores = metrics.detection_metrics(truth, perfect, ("a", "b"))
    assert scores["map_50"] == pytest.approx(1.0) and scores["map"] == pytest.approx(1.0)
    assert scores["ap50_a"] == pytest.approx(1.0) and scores["ap50_b"] == pytest.approx(1.0)
    shift = 32 / 1.68  # (100 - d) / (100 + d) = 0.68
    one = boxes_of([[[0, 0, 100, 100]]], [[0]])
    shifted = boxes_of([[[shift, 0, 100 + shift, 100]]], [[0]], [[0.8]])
    assert boxes.iou(one["boxes"][0], shifted["boxes"][0])[0, 0] == pytest.approx(0.68)
    scores = metrics.detection_metrics(one, shifted, ("a",))
    assert scores["map_50"] == pytest.approx(1.0)  # counts at 0.5 ...
    assert scores["map_75"] == pytest.approx(0.0)  # ... not at 0.75
    assert scores["map"] == pytest.approx(0.4)  # found at 0.50, 0.55, 0.60, 0.65 of ten


def test_a_false_positive_ranked_first_halves_the_average_precision():
    truth = boxes_of([[[0, 0, 10, 10]]], [[0]])
    found = boxes_of([[[50, 50, 60, 60], [0, 0, 10, 10]]], [[0, 0]], [[0.9, 0.8]])
    # Precision 1/2 at recall 1, so 0.5 at every one of COCO's recall points.
    assert metrics.detection_metrics(truth, found, ("a",))["map_50"] == pytest.approx(0.5)
    wrong_class = boxes_of([[[0, 0, 10, 10]]], [[1]], [[0.9]])
    scores = metrics.detection_metrics(truth, wrong_class, ("a", "b"))
    assert scores["map_50"] == pytest.approx(0.0) and scores["ap50_b"] is None


def tight_box(mask: np.ndarray) -> np.ndarray:
    rows, columns = np.flatnonzero(mask.any(1)), np.flatnonzero(mask.any(0))
    return np.array([columns[0], rows[0], columns[-1] + 1, rows[-1] + 1], np.float32)


def test_boxes_stay_on_their_objects_under_flips_and_zoomed_crops():
    drawn = draw_shapes(16, image_size=64, seed=3, max_shapes=1)
    stacked = np.concatenate([drawn.images, (drawn.masks > 0)[..., None] * 255.0], axis=-1)
    augment = box_augmentation(flips=True, zoom=0.5)
    images, targets = augment(stacked, drawn.box_targets(), tf.constant([4, 2], tf.int64))
    images, targets = np.asarray(images), {k: np.asarray(v) for k, v in targets.items()}
    assert images.shape == stacked.shape
    checked = 0
    for image, box, label in zip(images, targets["boxes"][:, 0], targets["classes"][:, 0]):
        visible = image[..., 3] > 127
        if label < 0:  # dropped: the crop left most of the shape outside
            np.testing.assert_array_equal(box, [-1, -1, -1, -1])
            continue
        seen = tight_box(visible)
        if np.all((box > 0) & (box < 64)):  # whole in the crop: the shape's own tight box
            np.testing.assert_allclose(box, seen, atol=1.5)
            checked += 1
        else:  # cut by the crop's edge: clipped, so what is visible lies inside it
            assert np.all(seen[:2] >= box[:2] - 1.5) and np.all(seen[2:] <= box[2:] + 1.5)
    assert checked >= 8
    again, _ = augment(stacked, drawn.box_targets(), tf.constant([4, 2], tf.int64))
    np.testing.assert_array_equal(np.asarray(again), images)  # the seed decides
    flipped = np.flip(drawn.images, axis=2)  # a flip alone is exact
    images, targets = box_augmentation(flips=True)(flipped, drawn.box_targets(),
                                                   tf.constant([0, 0], tf.int64))
    assert np.count_nonzero(np.asarray(targets["classes"]) >= 0) == 16
    with pytest.raises(ConfigError, match="zoom must be"):
        box_augmentation(zoom=1.5)


def test_raccoon_loads_the_datasets_own_split_with_scaled_boxes():
    require_data("raccoon")
    dataset = load("raccoon", image_size=128)
    assert dataset.x_train.shape == (160, 128, 128, 3) and dataset.x_test.shape[0] == 40
    assert np.count_nonzero(dataset.y_train["classes"] >= 0) == 173
    assert np.count_nonzero(dataset.y_test["classes"] >= 0) == 44
    assert dataset.class_names == ("raccoon",)
    assert dataset.y_train["boxes"].shape[1] == dataset.y_test["boxes"].shape[1]
    # raccoon-1.jpg (650x417, box 81,88,522,408 in its XML) is the 23rd training image
    np.testing.assert_allclose(dataset.y_train["boxes"][22, 0],
                               np.array([81, 88, 522, 408]) * np.tile([128 / 650, 128 / 417], 2),
                               rtol=1e-5)


def write_raccoon_like(root, with_xml: bool) -> None:
    (root / "images").mkdir(parents=True)
    (root / "data").mkdir()
    rows = {"train": [("r-1.jpg", 200, 100, 20, 10, 120, 90), ("r-2.jpg", 100, 100, 0, 0, 50, 50),
                      ("r-2.jpg", 100, 100, 50, 50, 100, 100)],
            "test": [("r-3.jpg", 80, 160, 8, 16, 72, 144)]}
    for part, found in rows.items():
        lines = ["filename,width,height,class,xmin,ymin,xmax,ymax"]
        lines += [f"{n},{w},{h},raccoon,{a},{b},{c},{d}" for n, w, h, a, b, c, d in found]
        (root / "data" / f"{part}_labels.csv").write_text("\n".join(lines) + "\n")
        for name, width, height, *_ in found:
            Image.new("RGB", (width, height), (90, 60, 30)).save(root / "images" / name)
    if with_xml:
        (root / "annotations").mkdir()
        (root / "annotations" / "r-1.xml").write_text(
            "<annotation><filename>r-1.jpg</filename><object><name>raccoon</name><bndbox>"
            "<xmin>40</xmin><ymin>10</ymin><xmax>120</xmax><ymax>90</ymax></bndbox></object>"
            "</annotation>")


@pytest.mark.parametrize("with_xml", [False, True])
def test_the_raccoon_loader_reads_the_csv_and_the_voc_layouts(tmp_path, with_xml):
    write_raccoon_like(tmp_path / "raccoon", with_xml)
    dataset = load("raccoon", path=tmp_path / "raccoon", image_size=64)
    first = 40 if with_xml else 20  # the XML's box wins over the CSV's
    np.testing.assert_allclose(dataset.y_train["boxes"][0, 0], [first * 64 / 200, 10 * 64 / 100,
                                                                120 * 64 / 200, 90 * 64 / 100])
    np.testing.assert_array_equal(dataset.y_train["classes"], [[0, -1], [0, 0]])
    np.testing.assert_allclose(dataset.y_test["boxes"][0, 0], [6.4, 6.4, 57.6, 57.6])
    (tmp_path / "raccoon" / "data" / "test_labels.csv").unlink()
    with pytest.raises(CorruptDataError, match="test_labels.csv"):
        load("raccoon", path=tmp_path / "raccoon")


def test_your_boxes_come_from_voc_xml_coco_json_or_arrays(tmp_path):
    voc = tmp_path / "voc"
    voc.mkdir()
    for index in range(5):
        Image.new("RGB", (100, 50), (index * 40, 0, 0)).save(voc / f"p{index}.png")
        name = "cat" if index % 2 else "dog"
        (voc / f"p{index}.xml").write_text(
            f"<annotation><filename>p{index}.png</filename><object><name>{name}</name>"
            "<bndbox><xmin>10</xmin><ymin>5</ymin><xmax>60</xmax><ymax>45</ymax></bndbox>"
            "</object></annotation>")
    dataset = from_user_data(str(voc), kind="boxed_images", test_size=0.4, image_size=32)
    assert dataset.class_names == ("cat", "dog") and dataset.x_train.shape == (3, 32, 32, 3)
    assert len(dataset.x_test) == 2
    np.testing.assert_allclose(dataset.y_train["boxes"][0, 0], [3.2, 3.2, 19.2, 28.8])
    assert read_voc(voc / "p1.xml").names == ("cat",)
    coco = tmp_path / "coco"
    coco.mkdir()
    Image.new("RGB", (40, 40)).save(coco / "a.png")
    Image.new("RGB", (40, 40)).save(coco / "b.png")
    (coco / "annotations.json").write_text(json.dumps({
        "images": [{"id": 7, "file_name": "a.png"}, {"id": 8, "file_name": "b.png"}],
        "categories": [{"id": 3, "name": "ball"}],
        "annotations": [{"image_id": 7, "category_id": 3, "bbox": [4, 8, 10, 20]}]}))
    found = read_coco(coco / "annotations.json")
    assert found[0].boxes == ((4.0, 8.0, 14.0, 28.0),) and found[1].boxes == ()
    arrays = (np.zeros((6, 32, 32, 3), np.uint8),
              {"boxes": np.tile([[[1, 2, 10, 12]]], (6, 1, 1)), "classes": np.zeros((6, 1))})
    dataset = from_user_data(arrays, kind="boxed_images", test_size=0.5)
    assert dataset.class_names == ("class_0",) and len(dataset.x_test) == 3
    with pytest.raises(ConfigError, match="holds no boxes"):
        from_user_data(str(_empty(tmp_path)), kind="boxed_images")
    with pytest.raises(ConfigError, match="boxed images must be"):
        from_user_data((np.zeros((4, 8, 8, 3)), np.zeros(4)), kind="boxed_images")


def _empty(tmp_path):
    folder = tmp_path / "empty"
    folder.mkdir()
    Image.new("RGB", (8, 8)).save(folder / "x.png")
    return folder


@pytest.mark.parametrize("name", ["shapes_yolov8", "shapes_ssd"])
def test_shapes_detectors_report_map_and_their_exports_give_the_same_boxes(workdir, capsys,
                                                                          name):
    result = pipelines.run(name, **TINY)
    scores = result.metrics
    for name in ("map_50", "map", "map_75", "ap50_circle", "ap50_triangle"):
        assert 0.0 <= scores[name] <= 1.0
    dataset, model = result.dataset, result.model
    found = model.predict(dataset.x_test.astype(np.float32), verbose=0)
    expected = metrics.detection_metrics(dataset.y_test, found, dataset.class_names)
    assert scores["map_50"] == pytest.approx(expected["map_50"])
    assert len(result.report.extras[SUPPRESSION_TITLE]) == 3
    assert set(result.report.extras[BASELINE_TITLE]) == {
        "model", "one box per image at the mean training box"}
    for plot in ("detections.png", "detection_precision_recall.png"):
        assert (result.run_dir / plot).stat().st_size > 10_000
    served = tf.saved_model.load(str(result.export_path))  # no kdl needed to load it
    images = dataset.x_test[:4].astype(np.float32)
    reloaded = served.serve(images)
    direct = model.predict(images, verbose=0)
    for key in ("boxes", "confidence", "classes", "num_detections"):
        np.testing.assert_allclose(np.asarray(reloaded[key]), direct[key], atol=1e-4)
    photo = workdir / "photo.png"
    Image.fromarray(dataset.x_test[0]).resize((256, 256)).save(photo)
    code = cli.main(["detect", str(result.export_path), str(photo), "--min-score", "0",
                     "--out", str(workdir / "boxes.png")])
    printed = capsys.readouterr().out
    assert code == 0 and "photo.png:" in printed and (workdir / "boxes.png").exists()
    with Image.open(photo) as opened:  # what `kdl detect` feeds the export: the file resized
        fed = np.asarray(opened.convert("RGB").resize((64, 64), Image.BILINEAR), np.float32)
    seen = served.serve(fed[None])
    count = int(np.asarray(seen["num_detections"])[0])
    assert f"{count} detected" in printed
    first_box = printed.splitlines()[1].split("[")[1].rstrip("]").split(", ")
    best = np.clip(np.asarray(seen["boxes"])[0, 0] * 4, 0, 256)  # scaled to the file, clipped
    np.testing.assert_allclose([float(v) for v in first_box], best, atol=0.06)
    assert cli.main(["detect", str(result.export_path), str(workdir / "nothing.png")]) == 2


def test_bad_detection_settings_fail_before_training(workdir):
    with pytest.raises(ConfigError, match="divisible by 32"):
        pipelines.run("shapes_yolov8", **{**TINY, "image_size": 48})
    with pytest.raises(ConfigError, match="suppression method must be one of"):
        pipelines.run("shapes_yolov8", suppression="soft", **TINY)
    with pytest.raises(ConfigError, match="zoom must be"):
        pipelines.run("shapes_yolov8", zoom=0, **TINY)
    with pytest.raises(ConfigError, match="targets='boxes'"):
        pipelines.run("shapes_yolov8", targets="masks", **TINY)
    with pytest.raises(ConfigError, match="runs on your data"):
        pipelines.run("detector", epochs=1)
    with pytest.raises(ConfigError, match="box_loss must be one of ciou, iou, smooth_l1"):
        pipelines.run("shapes_ssd", box_loss="l2", **TINY)
    with pytest.raises(ConfigError, match="the SSD's classification_loss is one of focal"):
        pipelines.run("shapes_ssd", classification_loss="binary_crossentropy", **TINY)
    with pytest.raises(ConfigError, match="YOLOV8Detector takes"):
        pipelines.run("shapes_yolov8", box_loss="smooth_l1", **TINY)
    with pytest.raises(ConfigError, match="divisible by 128"):
        pipelines.run("shapes_ssd", extra_levels=2, **TINY)


def test_ssd_box_encoding_is_the_lecture_offsets_and_decodes_back():
    anchors = np.array([[0, 0, 10, 10], [10, 20, 30, 30]], np.float32)
    true = np.array([[1, 1, 11, 11], [10, 20, 50, 30]], np.float32)
    offsets = np.asarray(encode_boxes(anchors, true))
    # centre shifted by a tenth of the anchor's side, over the variance 0.1; same size: log 1
    np.testing.assert_allclose(offsets[0], [1.0, 1.0, 0.0, 0.0], atol=1e-6)
    # twice as wide, centred 10 px right of a 20 px wide anchor: 0.5 / 0.1, log 2 / 0.2
    np.testing.assert_allclose(offsets[1], [5.0, 0.0, np.log(2) / 0.2, 0.0], atol=1e-5)
    np.testing.assert_allclose(np.asarray(decode_boxes(anchors, offsets)), true, atol=1e-4)


def test_ssd_anchors_follow_the_predictions_and_every_true_box_gets_one():
    detector = ssd((64, 64, 3), 3, channels=(8, 16, 32, 64))
    anchors = np.asarray(detector.anchors((64, 64, 3)))
    per_position = 9
    counts = [(64 // stride) ** 2 * per_position for stride in (8, 16, 32, 64)]
    raw = detector(np.zeros((1, 64, 64, 3), np.float32))
    assert anchors.shape == (sum(counts), 4) == raw["boxes"].shape[1:]
    assert raw["classes"].shape[1:] == (sum(counts), 3)
    centres = (anchors[:, :2] + anchors[:, 2:]) / 2
    # the first map (stride 8) row by row, 9 anchors per position: position (row 1, column 2)
    first = (1 * 8 + 2) * per_position
    np.testing.assert_allclose(centres[first:first + per_position], [[20.0, 12.0]] * 9)
    sides = anchors[:per_position, 2:] - anchors[:per_position, :2]
    np.testing.assert_allclose(sides[:, 0] / sides[:, 1], [0.5, 1, 2] * 3, rtol=1e-5)
    np.testing.assert_allclose(np.sqrt(sides.prod(1))[::3], [24, 24 * 1.26, 24 * 1.59],
                               rtol=1e-5)
    images = np.zeros((1, 64, 64, 3), np.float32)
    small = [30, 30, 36, 36]  # 6 px: IoU < 0.2 with every anchor, matched all the same
    big = [0, 0, 48, 48]
    target = detector.targets(images, {"boxes": np.array([[small, big, [-1] * 4]], np.float32),
                                       "classes": np.array([[2, 1, -1]], np.float32)})
    positive = np.asarray(target["positive"])[0]
    classes = np.asarray(target["classes"])[0]
    assert set(classes[positive]) == {1, 2}
    assert (classes[~positive] == -1).all()
    matched_small = np.flatnonzero(positive & (classes == 2))
    assert len(matched_small) == 1  # only its forced best anchor
    overlaps = boxes.iou(anchors, np.array([small, big], np.float32))
    assert matched_small[0] == overlaps[:, 0].argmax()
    negative = np.asarray(target["negative"])[0]
    assert not (positive & negative).any()
    assert (overlaps.max(1)[negative] < 0.4).all()
    decoded = np.asarray(decode_boxes(anchors, np.asarray(target["offsets"])[0]))
    np.testing.assert_allclose(decoded[matched_small[0]], small, atol=1e-3)


def test_hard_negative_mining_keeps_three_negatives_per_positive():
    losses = np.array([[5.0, 1.0, 2.0, 3.0, 4.0, 0.5, 6.0]], np.float32)
    negative = np.array([[0, 1, 1, 1, 1, 1, 0]], np.float32)
    positive = np.array([[1, 0, 0, 0, 0, 0, 0]], np.float32)
    kept = np.asarray(hardest_negatives(losses, negative, positive))
    np.testing.assert_allclose(kept, [[0, 0, 2.0, 3.0, 4.0, 0, 0]])  # 6.0 is not a negative
    none = np.asarray(hardest_negatives(losses, negative, np.zeros_like(positive)))
    np.testing.assert_allclose(none, [[0, 0, 2.0, 3.0, 4.0, 0, 0]])  # at least 1 positive


def test_a_kdl_trained_backbone_starts_the_detector_with_its_weights():
    classifier = cspdarknet_classifier((32, 32, 3), 10, channels=(8, 16, 32, 64))
    classifier.layers[-1].set_weights([w + 1 for w in classifier.layers[-1].get_weights()])
    detector = yolov8((64, 64, 3), 2, channels=(8, 16, 32, 64), base_model=classifier)
    trained = next(layer for layer in classifier.layers if "backbone" in layer.name)
    for mine, theirs in zip(detector.backbone.get_weights(), trained.get_weights()):
        np.testing.assert_array_equal(mine, theirs)
    fresh = yolov8((64, 64, 3), 2, channels=(8, 16, 32, 64))
    assert not all(np.array_equal(a, b) for a, b in zip(fresh.backbone.get_weights(),
                                                        trained.get_weights()))
    with pytest.raises(ConfigError, match="base_model's backbone has channels=.8, 16, 32, 64."):
        yolov8((64, 64, 3), 2, channels=(16, 32, 64, 128), base_model=classifier)
    with pytest.raises(ConfigError, match="holds no YOLOv8 backbone"):
        yolov8((64, 64, 3), 2, base_model=keras.Sequential([keras.layers.Dense(2)]))
    single_shot = ssd((64, 64, 3), 2, channels=(8, 16, 32, 64), base_model=classifier)
    for mine, theirs in zip(single_shot.backbone.get_weights(), trained.get_weights()):
        np.testing.assert_array_equal(mine, theirs)
    images = np.random.default_rng(0).uniform(0, 255, (2, 64, 64, 3))
    heat = grad_cam(classifier, images)  # through the nested backbone to the head's scores
    assert heat.shape == (2, 64, 64) and heat.max() == pytest.approx(1.0)
    with pytest.raises(ConfigError, match="1x1 at this image size"):  # stride 32 at 32x32
        grad_cam(classifier, images[:, :32, :32])
