"""Segmentation pipelines: a class per pixel. On the generated shapes (circles, squares,
triangles): U-Net, an FCN with a choice of upsampling, SegNet. On the ISBI 2012 membranes
(30 slices, 5-fold cross-validation, as small data needs): U-Net and FCN, trained on random
crops with flips, 90-degree turns and the U-Net paper's elastic deformation. `segmenter` runs
a U-Net on your own images and masks.

Usage:
    pipelines.run("shapes_unet")
    pipelines.sweep("shapes_fcn", upsampling=["nearest", "bed_of_nails", "transposed"])
    pipelines.run("membrane_unet")
    pipelines.run("segmenter", data=(images, masks))          # or data="folder/" with image/, mask/
"""

from kdl.spec import PipelineSpec, Training
from pipelines.registry import register

SHAPES_EPOCHS = 20
MEMBRANE_EPOCHS = 80


def shapes_spec(name: str, model: str, model_params: dict, description: str,
                expected: str) -> PipelineSpec:
    """A pipeline on the generated shapes: 2,000 training images (10% validate), 1,000 test."""
    return PipelineSpec(
        name=name, family="segmentation", description=description, data="shapes",
        data_kind="masked_images", task="segmentation", model=model, model_params=model_params,
        preprocessing="rescale", validation=0.1, optimizing_metric="mean_iou",
        training=Training(epochs=SHAPES_EPOCHS, batch_size=32, optimizer="adam",
                          learning_rate=2e-3, schedule="cosine"),
        expected=expected)


def membrane_spec(name: str, model: str, model_params: dict, description: str,
                  expected: str) -> PipelineSpec:
    """A pipeline on the 30 ISBI 2012 slices: 5-fold cross-validation (each fold validates
    6 slices), then a refit on all 30 for the export; trained on 192x192 crops (the same
    figures as 256x256 ones at 56% of the time)."""
    return PipelineSpec(
        name=name, family="segmentation", description=description, data="isbi2012_membrane",
        data_kind="masked_images", task="segmentation", model=model, model_params=model_params,
        task_params={"crop": 192, "elastic_sigma": 10.0}, preprocessing="rescale",
        validation="kfold:5", optimizing_metric="mean_iou",
        training=Training(epochs=MEMBRANE_EPOCHS, batch_size=4, optimizer="adam",
                          learning_rate=2e-3, schedule="cosine"),
        expected=expected)


register(
    shapes_spec(
        "shapes_unet", "unet", {"depth": 3, "filters": 16},
        "U-Net on generated shapes: three levels down (16, 32, 64 filters) and up, each level "
        "joined to its mirror by a skip connection; 4 classes per pixel.",
        "mean IoU >= 0.90 on 1,000 held-out images (target), above every FCN's and SegNet's"),
    shapes_spec(
        "shapes_fcn", "fcn", {"filters": (32, 64, 128), "upsampling": "transposed"},
        "Fully convolutional network on generated shapes, without skips: three conv blocks "
        "and poolings down, three upsamplings back (upsampling=nearest, bed_of_nails, "
        "max_unpooling or transposed).",
        "below U-Net: the coarse bottleneck loses the shapes' edges"),
    shapes_spec(
        "shapes_segnet", "segnet", {"filters": (32, 64, 128)},
        "SegNet on generated shapes: VGG blocks down with max pooling that keeps its indices, "
        "a mirrored decoder that max-unpools with them.",
        "between the FCNs and U-Net"),
    membrane_spec(
        "membrane_unet", "unet", {"depth": 4, "filters": 16},
        "U-Net on the ISBI 2012 electron-microscopy slices: four levels (16 to 128 filters, "
        "256 at the bottom), trained on 192x192 crops with flips, 90-degree turns and elastic "
        "deformation; 5-fold cross-validation over the 30 slices.",
        "pixel error <= 0.08 over the folds (target; the U-Net paper: 0.0611 on the hidden "
        "test set)"),
    membrane_spec(
        "membrane_fcn", "fcn", {"filters": (32, 64, 128, 256), "upsampling": "transposed"},
        "FCN (no skips) on the ISBI 2012 slices, the same folds, crops and augmentation as "
        "membrane_unet.",
        "a higher pixel error than U-Net's: thin membranes need the skips"),
    PipelineSpec(
        name="segmenter", family="segmentation",
        description="U-Net (depth 4, 16 filters) on your own images and masks: "
                    "data=(images, masks) arrays, or a folder with image/ and mask/ subfolders "
                    "of same-named files (or train/ and test/ holding both). Height and width "
                    "must be multiples of 16; masks hold a class per pixel (0/255 masks become "
                    "classes 0 and 1).",
        data=None, data_kind="masked_images", task="segmentation", model="unet",
        model_params={"depth": 4, "filters": 16}, preprocessing="rescale", validation=0.1,
        optimizing_metric="mean_iou",
        training=Training(epochs=30, batch_size=8, optimizer="adam", learning_rate=1e-3,
                          schedule="cosine"),
        expected="depends on your data; compare with shapes_fcn's FCN on it"),
)
