"""Detection pipelines: boxes and classes. YOLOv8 (KerasCV) and an SSD-style single-shot
detector, from scratch or from kdl's CIFAR-10 backbone, on the generated shapes and on the
Raccoon photographs (its own 160 / 40 split); `detector` runs YOLOv8 (or model="ssd") on your
own images with Pascal VOC XML or COCO JSON boxes. Each report gives mAP@0.5 and COCO mAP,
the same model under hard NMS and soft-NMS, and a mean-box baseline.

Usage:
    pipelines.run("shapes_yolov8")
    pipelines.run("shapes_ssd")
    pipelines.run("raccoon_yolov8", epochs=5)
    pipelines.run("detector", data="my_photos/")          # images + VOC XML or COCO JSON
"""

from kdl.spec import PipelineSpec, Training
from pipelines.registry import register

# The detectors' backbone widths: the CIFAR-10 classifier below trains the same backbone.
BACKBONE = (16, 32, 64, 128)

SHAPES_SIZE = 128
CIFAR_BACKBONE = "saved_models/cifar10_cspdarknet"  # where cifar10_cspdarknet publishes



def shapes_spec(name: str, description: str, model: str = "yolov8") -> PipelineSpec:
    """A detector on 2,000 generated 128x128 shapes, scored on 1,000 others."""
    return PipelineSpec(
        name=name, family="detection", description=description, data="shapes",
        data_params={"targets": "boxes", "image_size": SHAPES_SIZE}, data_kind="boxed_images",
        task="detection", model=model, model_params={"channels": BACKBONE},
        preprocessing="none", validation=0.1, optimizing_metric="map_50",
        training=Training(epochs=30, batch_size=16, optimizer="adam", learning_rate=2e-3,
                          schedule="cosine"),
        expected="mAP@0.5 >= 0.90 on 1,000 held-out images (target)")


def raccoon_spec(name: str, description: str, model: str = "yolov8",
                 base_model: str | None = None) -> PipelineSpec:
    """A detector on the Raccoon photographs at 256x256, the dataset's own 40 test images."""
    return PipelineSpec(
        name=name, family="detection", description=description, data="raccoon",
        data_params={"image_size": 256}, data_kind="boxed_images", task="detection",
        task_params={"zoom": 0.6}, model=model, model_params={"channels": BACKBONE},
        base_model=base_model, preprocessing="none", validation=0.1, optimizing_metric="map_50",
        training=Training(epochs=150, batch_size=8, optimizer="adam", learning_rate=1e-3,
                          schedule="cosine"),
        expected="mAP@0.5 >= 0.5 (target) and above the one-mean-box baseline")

register(
    shapes_spec(
        "shapes_yolov8",
        "YOLOv8 (KerasCV, from scratch: CSPDarkNet stages of 16-128 channels, about 1M "
        "parameters) on generated 128x128 shapes: circles, squares and triangles, overlapping "
        "at times; flips in training."),
    raccoon_spec(
        "raccoon_yolov8",
        "YOLOv8 (KerasCV, from scratch, no pretrained weights) on the Raccoon photographs "
        "resized to 256x256: 160 training images (10% validate), the dataset's 40 test "
        "images; flips and random zoomed crops in training."),
    raccoon_spec(
        "raccoon_yolov8_pretrained",
        "raccoon_yolov8 with its backbone starting from kdl's CIFAR-10 training "
        "(cifar10_cspdarknet's export; base_model= another run or export): no weights from "
        "outside kdl.",
        base_model=CIFAR_BACKBONE),
    shapes_spec(
        "shapes_ssd",
        "An SSD-style single-shot detector on generated 128x128 shapes: the same CSPDarkNet "
        "backbone, class and box heads on four maps (strides 8-64), 9 anchors per position (3 "
        "scales x aspect ratios 1:2, 1:1, 2:1), focal loss and smooth L1; flips in training.",
        model="ssd"),
    raccoon_spec(
        "raccoon_ssd",
        "The SSD-style detector (from scratch, no pretrained weights) on the Raccoon "
        "photographs resized to 256x256: 160 training images (10% validate), the dataset's 40 "
        "test images; flips and random zoomed crops in training.", model="ssd"),
    raccoon_spec(
        "raccoon_ssd_pretrained",
        "raccoon_ssd with its backbone starting from kdl's CIFAR-10 training "
        "(cifar10_cspdarknet's export).", model="ssd", base_model=CIFAR_BACKBONE),
    PipelineSpec(
        name="cifar10_cspdarknet", family="detection",
        description="The detectors' YOLOv8 (CSPDarkNet) backbone trained as a CIFAR-10 "
                    "classifier (global average pooling + softmax; shifts and flips), so a "
                    "detector can start from kdl-trained features: raccoon_yolov8_pretrained "
                    "takes its export.",
        data="cifar10", task="classification", model="cspdarknet_classifier",
        model_params={"channels": BACKBONE}, preprocessing="none", validation=0.1,
        training=Training(epochs=15, batch_size=128, optimizer="adam", learning_rate=2e-3,
                          schedule="cosine", weight_decay=5e-4),
        expected="a CIFAR-10 test accuracy in the 70s-80s %: features, not a record"),
    PipelineSpec(
        name="detector", family="detection",
        description="YOLOv8 on your own images with boxes: a folder of images with Pascal VOC "
                    "XML files (or an annotations/ subfolder) or a COCO JSON file, or "
                    "(images, {'boxes', 'classes'}) arrays; train/ and test/ subfolders are "
                    "used as the split. Images are resized to image_size (default 256).",
        data=None, data_kind="boxed_images", task="detection", task_params={"zoom": 0.6},
        model="yolov8", model_params={"channels": (32, 64, 128, 256)}, preprocessing="none",
        validation=0.1, optimizing_metric="map_50",
        training=Training(epochs=60, batch_size=8, optimizer="adam", learning_rate=1e-3,
                          schedule="cosine"),
        expected="depends on your data; compare with the mean-box baseline in the report"),
)
