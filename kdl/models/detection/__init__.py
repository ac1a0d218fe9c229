"""Detection: YOLOv8 through KerasCV, the prediction decoder with hard NMS or soft-NMS (a
Keras class, in kdl.models.detection.decoder), and the joint image-and-box augmentation of
training batches (kdl.models.detection.augment).

Usage:
    from kdl.models.detection import yolov8
    from kdl.models.detection.decoder import SuppressionDecoder
"""

from kdl.models.detection.yolov8 import cspdarknet_classifier, yolov8, yolov8_backbone

__all__ = ["cspdarknet_classifier", "yolov8", "yolov8_backbone"]
