"""Segmentation: FCN, SegNet and U-Net builders; the lecture's upsampling layers (Keras
classes, in kdl.models.segmentation.layers); the joint image-and-mask augmentation their
training uses (kdl.models.segmentation.augment).

Usage:
    from kdl.models.segmentation import unet, fcn, segnet
    from kdl.models.segmentation.layers import MaxUnpooling2D
"""

from kdl.models.segmentation.builders import (
    UPSAMPLING_KINDS,
    fcn,
    pixel_head,
    segmentation_block,
    segnet,
    unet,
    upsample,
)

__all__ = ["UPSAMPLING_KINDS", "fcn", "pixel_head", "segmentation_block", "segnet", "unet",
           "upsample"]
