"""Datasets: one registry, resolved offline first.

Usage:
    import kdl.data
    ds = kdl.data.load("mnist")
"""

from kdl.data.anomaly import (
                              anomaly_dataset,
                              load_mnist_held_out_digit,
                              load_mnist_one_class,
                              load_mnist_vs_fashion_mnist,
)
from kdl.data.cifar import load_cifar10
from kdl.data.dataset import Dataset
from kdl.data.detection import load_raccoon
from kdl.data.kinds import KINDS, DataKind, as_model_input, kind_parameters
from kdl.data.locate import ENV_VAR, FileSource, keras_cache_dir, locate
from kdl.data.points import load_parabola, parabola_points
from kdl.data.ratings import load_movielens_100k, ratings_dataset
from kdl.data.registry import DatasetInfo, info, load, names, parameters, register
from kdl.data.segmentation import load_isbi2012_membrane, read_mask_folders
from kdl.data.series import load_etth1
from kdl.data.shapes import draw_shapes, load_shapes
from kdl.data.text import load_movie_review_polarity, load_tinyshakespeare, sentences_dataset
from kdl.data.user import from_user_data
from kdl.data.vision import load_fashion_mnist, load_mnist
from kdl.data.word_contexts import load_word_corpus

register(DatasetInfo("mnist", load_mnist, "classification",
                     "MNIST handwritten digits, 60k/10k 28x28 greyscale (bundled with kdl)"))
register(DatasetInfo("fashion_mnist", load_fashion_mnist, "classification",
                     "Fashion-MNIST clothing, 60k/10k 28x28 greyscale, 10 classes"))
register(DatasetInfo("mnist_one_class", load_mnist_one_class, "anomaly",
                     "MNIST anomalies, one-class protocol: one digit's training images are "
                     "normal, the other nine digits of the test set anomalous (digit=0-9)"))
register(DatasetInfo("mnist_held_out_digit", load_mnist_held_out_digit, "anomaly",
                     "MNIST anomalies: nine digits normal, the digit held out of training "
                     "is the anomaly (digit=0-9)"))
register(DatasetInfo("mnist_vs_fashion_mnist", load_mnist_vs_fashion_mnist, "anomaly",
                     "MNIST normal, Fashion-MNIST test images anomalous (20k test images)"))
register(DatasetInfo("cifar10", load_cifar10, "classification",
                     "CIFAR-10 tiny images, 50k/10k 32x32 RGB, 10 classes (airplane ... truck)"))
register(DatasetInfo("movielens_100k", load_movielens_100k, "rating",
                     "MovieLens 100K: 100,000 ratings 1-5, 943 users x 1,682 movies"))
register(DatasetInfo("etth1", load_etth1, "forecast",
                     "ETTh1 electricity transformer temperature, hourly, 7 variables, "
                     "standard 12/4/4-month split, (lookback, horizon) windows"))
register(DatasetInfo("tinyshakespeare", load_tinyshakespeare, "language_model",
                     "Tiny Shakespeare, 1.1M characters; last 10% held out"))
register(DatasetInfo("movie_review_polarity", load_movie_review_polarity, "text_classification",
                     "Pang and Lee's MR sentence polarity: 5,331 + 5,331 review snippets, no "
                     "test split (10-fold cross-validation)"))
register(DatasetInfo("shapes", load_shapes, "segmentation",
                     "generated circles, squares and triangles with per-pixel class masks, or "
                     "boxes with targets='boxes' (n_train, n_test, image_size, max_shapes, "
                     "seed)"))
register(DatasetInfo("raccoon", load_raccoon, "detection",
                     "Raccoon photographs with Pascal VOC boxes: 160 train / 40 test images, "
                     "one class, resized square (image_size)"))
register(DatasetInfo("isbi2012_membrane", load_isbi2012_membrane, "segmentation",
                     "ISBI 2012 EM membranes: 30 512x512 slices with membrane masks, no test "
                     "split (cross-validate)"))
register(DatasetInfo("parabola", load_parabola, "generation",
                     "generated 2-D points along y = x^2 with Gaussian noise, the GAN's toy "
                     "distribution (n_train, n_test, noise, seed)"))
register(DatasetInfo("word_corpus", load_word_corpus, "word_vectors",
                     "MR sentences + Tiny Shakespeare lines as (word, context) examples for "
                     "word vectors (method=skipgram, cbow, glove or subword)"))

__all__ = ["ENV_VAR", "KINDS", "DataKind", "Dataset", "DatasetInfo", "FileSource",
           "anomaly_dataset", "as_model_input", "draw_shapes", "from_user_data", "info",
           "keras_cache_dir", "kind_parameters", "load", "locate", "names", "parabola_points",
           "parameters",
           "ratings_dataset", "read_mask_folders", "register", "sentences_dataset"]
