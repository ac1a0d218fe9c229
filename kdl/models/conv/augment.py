"""Training-only image augmentation as Keras preprocessing layers placed at the start of a
model: random shifts of up to `shift` pixels with zero fill (the "random crop with padding"
of the CIFAR recipes, without changing the image size) and, for images that have no
handedness, horizontal flips. Both are the identity at inference, so exports serve the
images as they come.

Usage:
    x = augmentation(inputs, "shift_flip", shift=4)   # CIFAR-10
    x = augmentation(inputs, "shift")                 # digits: never flipped
"""

from __future__ import annotations

import typing
from typing import Literal

from kdl.lazy import lazy

layers = lazy("keras.layers")

Augment = Literal["none", "shift", "flip", "shift_flip"]
AUGMENTS = typing.get_args(Augment)


def augmentation(x, augment: str = "none", shift: int = 4):
    """`x` shifted and/or flipped at random in training (see the module docstring)."""
    if augment not in AUGMENTS:
        raise ValueError(f"augment must be one of {', '.join(AUGMENTS)}; got {augment!r}.")
    if augment in ("shift", "shift_flip") and shift:
        height, width = x.shape[1], x.shape[2]
        x = layers.RandomTranslation(shift / height, shift / width, fill_mode="constant",
                                     interpolation="nearest", name="augment_shift")(x)
    if augment in ("flip", "shift_flip"):
        x = layers.RandomFlip("horizontal", name="augment_flip")(x)
    return x
