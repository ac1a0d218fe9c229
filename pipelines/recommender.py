"""Recommender pipelines: matrix factorisation and its neural variant on MovieLens 100K, and
the same for your own (user, item, rating) table. Serving takes raw ids; the export's
`recommend` signature returns a user's top-k unseen items.

Usage:
    pipelines.run("movielens_mf")                                  # 10% of ratings held out
    pipelines.run("movielens_mf", validation="kfold:5")            # the standard comparison
    pipelines.run("movielens_mf", validation="group_kfold:5")      # cold-start users
    pipelines.run("ratings_recommender", data=df)                  # columns user, item, rating
"""

import dataclasses

from kdl.spec import PipelineSpec, Training
from pipelines.registry import register

MOVIELENS_MF = PipelineSpec(
    name="movielens_mf",
    family="recommender",
    description="Matrix factorisation with user and item biases on MovieLens 100K "
                "(dot product of learned embeddings + biases + global mean).",
    data="movielens_100k",
    data_kind="ratings",
    task="rating",
    model="matrix_factorization",
    model_params={"embedding_dim": 128, "l2": 0.09, "bias_l2": 0.0, "output_range": "clip"},
    preprocessing="none",
    training=Training(epochs=10, batch_size=256, optimizer="adam", learning_rate=3e-3,
                      schedule="cosine"),
    validation="holdout:0.1",
    optimizing_metric="rmse",
    expected="5-fold RMSE <= 0.907 (Surprise SVD: 0.935)",
)

register(
    MOVIELENS_MF,
    PipelineSpec(
        name="movielens_neural",
        family="recommender",
        description="Neural recommender on MovieLens 100K: concatenated user and item "
                    "embeddings -> MLP, plus biases and the global mean.",
        data="movielens_100k",
        data_kind="ratings",
        task="rating",
        model="neural_recommender",
        model_params={"embedding_dim": 32, "widths": (64, 32), "dropout": 0.3, "l2": 0.02},
        preprocessing="none",
        training=Training(epochs=8, batch_size=256, optimizer="adam", learning_rate=2e-3,
                          schedule="cosine"),
        validation="holdout:0.1",
        optimizing_metric="rmse",
        expected="test RMSE about 0.93 (movielens_mf: 0.90 on the same split)",
    ),
    dataclasses.replace(
        MOVIELENS_MF, name="ratings_recommender", data=None, expected="",
        description="Matrix factorisation for your own ratings: data=DataFrame with integer "
                    "user and item id columns (user/userId/user_id, item/itemId/movieId/item_id) "
                    "and a rating column (target=..., default 'rating')."),
)
