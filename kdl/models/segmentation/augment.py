"""Joint augmentation of images and their masks for segmentation training: every random
transform (crop, flips, rotation by a multiple of 90 degrees, the U-Net paper's elastic
deformation) is drawn once per sample and applied to the image and its mask alike, so a mask
never drifts from its image. Images are resampled bilinearly, masks by nearest neighbour (a
mask keeps its classes). Seeded and stateless: the same seed gives the same batch. Used in
the training input pipeline only, so it is off at inference.

Usage:
    augment = joint_augmentation(crop=256, elastic_sigma=10.0)
    images, masks = augment(images, masks, tf.constant([0, 1]))   # one batch
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

ELASTIC_GRID = 3  # the U-Net paper: displacements on a coarse 3x3 grid, smoothly interpolated


def _sample_seeds(seed: Any, count: Any, streams: int) -> Any:
    """`streams` independent stateless seeds (shape [2]) for each of `count` samples."""
    import tensorflow as tf

    return tf.random.stateless_uniform([count, streams, 2], seed=seed, minval=0,
                                       maxval=2 ** 31 - 1, dtype=tf.int64)


def _warp(image: Any, mask: Any, displacement: Any) -> tuple[Any, Any]:
    """`image` (H, W, C) sampled bilinearly and `mask` (H, W) by nearest neighbour at each
    pixel's position plus `displacement` (H, W, 2: rows, columns), clamped to the border."""
    import tensorflow as tf

    shape = tf.shape(image)
    height, width = shape[0], shape[1]
    rows, columns = tf.meshgrid(tf.range(height, dtype=tf.float32),
                                tf.range(width, dtype=tf.float32), indexing="ij")
    y = tf.clip_by_value(rows + displacement[..., 0], 0.0, tf.cast(height - 1, tf.float32))
    x = tf.clip_by_value(columns + displacement[..., 1], 0.0, tf.cast(width - 1, tf.float32))
    y0, x0 = tf.floor(y), tf.floor(x)
    wy, wx = (y - y0)[..., None], (x - x0)[..., None]
    y0, x0 = tf.cast(y0, tf.int32), tf.cast(x0, tf.int32)
    y1, x1 = tf.minimum(y0 + 1, height - 1), tf.minimum(x0 + 1, width - 1)

    def at(r, c):
        return tf.gather_nd(image, tf.stack([r, c], axis=-1))

    warped = ((1 - wy) * ((1 - wx) * at(y0, x0) + wx * at(y0, x1))
              + wy * ((1 - wx) * at(y1, x0) + wx * at(y1, x1)))
    nearest = tf.stack([tf.cast(tf.round(y), tf.int32), tf.cast(tf.round(x), tf.int32)], -1)
    return warped, tf.gather_nd(mask, nearest)


def _elastic(image: Any, mask: Any, sigma: float, seed: Any) -> tuple[Any, Any]:
    """The U-Net paper's deformation: random displacements (standard deviation `sigma`
    pixels) on a coarse grid, bicubically interpolated to every pixel."""
    import tensorflow as tf

    coarse = tf.random.stateless_normal([1, ELASTIC_GRID, ELASTIC_GRID, 2], seed=seed) * sigma
    displacement = tf.image.resize(coarse, tf.shape(image)[:2], method="bicubic")[0]
    return _warp(image, mask, displacement)


def joint_augmentation(flips: bool = True, rotations: bool = True, crop: int | None = None,
                       elastic_sigma: float = 0.0) -> Callable[[Any, Any, Any], tuple[Any, Any]]:
    """A function (images (B, H, W, C) float, masks (B, H, W), seed [2]) -> the same, jointly
    transformed per sample: a random `crop` x `crop` window (None: the whole image), random
    horizontal and vertical flips, a random rotation by 0/90/180/270 degrees (square images
    only; others are not rotated), and an elastic deformation when `elastic_sigma` > 0.

    Usage: images, masks = joint_augmentation(crop=128)(images, masks, tf.constant([3, 0]))
    """
    import tensorflow as tf

    def one(args):
        image, mask, seeds = args
        if crop:
            channels = tf.shape(image)[-1]
            stacked = tf.concat([image, tf.cast(mask[..., None], image.dtype)], axis=-1)
            stacked = tf.image.stateless_random_crop(stacked, [crop, crop, channels + 1],
                                                     seed=seeds[0])
            image, mask = stacked[..., :-1], tf.cast(tf.round(stacked[..., -1]), mask.dtype)
        if flips:
            for stream, axis in ((1, 1), (2, 0)):  # left-right, then up-down
                draw = tf.random.stateless_uniform([], seed=seeds[stream]) < 0.5
                image = tf.where(draw, tf.reverse(image, [axis]), image)
                mask = tf.where(draw, tf.reverse(mask, [axis]), mask)
        if rotations:
            shape = tf.shape(image)
            turns = tf.random.stateless_uniform([], seed=seeds[3], maxval=4, dtype=tf.int32)
            turns = tf.where(tf.equal(shape[0], shape[1]), turns, 0)
            image = tf.image.rot90(image, turns)
            mask = tf.image.rot90(mask[..., None], turns)[..., 0]
        if elastic_sigma:
            image, mask = _elastic(image, mask, elastic_sigma, seeds[4])
        return image, mask

    def augment(images: Any, masks: Any, seed: Any) -> tuple[Any, Any]:
        seeds = _sample_seeds(seed, tf.shape(images)[0], 5)
        channels = images.shape[-1]
        out_image = tf.TensorSpec([crop, crop, channels] if crop else [None, None, channels],
                                  images.dtype)
        out_mask = tf.TensorSpec([crop, crop] if crop else [None, None], masks.dtype)
        return tf.map_fn(one, (images, masks, seeds), fn_output_signature=(out_image, out_mask))

    return augment
