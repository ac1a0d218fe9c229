"""Detection: YOLOv8 through KerasCV, an SSD-style single-shot detector on KerasCV's anchor,
matching and loss pieces (its Keras model in kdl.models.detection.ssd_model), the prediction
decoder with hard NMS or soft-NMS (a Keras class, in kdl.models.detection.decoder), and the
joint image-and-box augmentation of training batches (kdl.models.detection.augment).

Usage:
    from kdl.models.detection import ssd, yolov8
    from kdl.models.detection.decoder import SuppressionDecoder
"""

from kdl.models.detection.ssd import ssd
from kdl.models.detection.yolov8 import cspdarknet_classifier, yolov8, yolov8_backbone

__all__ = ["cspdarknet_classifier", "ssd", "yolov8", "yolov8_backbone"]
