"""Recommender pipelines: matrix factorisation and its neural variant trained on MovieLens
100K's ratings, BPR matrix factorisation trained to rank the films each user rated, and the
same for your own (user, item, rating) table. Serving takes raw ids; the export's
`recommend` signature returns a user's top-k unseen items. For recommending, take the ranking
model: the rating models lose to recommending the most popular films at top-10 (see each
report's top-10 table).

Usage:
    pipelines.run("movielens_mf")                                  # 10% of ratings held out
    pipelines.run("movielens_mf", validation="kfold:5")            # the standard comparison
    pipelines.run("movielens_mf", validation="group_kfold:5")      # cold-start users
    pipelines.run("ratings_recommender", data=df)                  # columns user, item, rating
    pipelines.run("movielens_bpr")                                 # trained to rank: top-10
    pipelines.run("implicit_recommender", data=df)                 # ranking, your own table
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

MOVIELENS_BPR = PipelineSpec(
    name="movielens_bpr",
    family="recommender",
    description="BPR matrix factorisation on MovieLens 100K, trained to rank: each film a "
                "user rated 4 or 5 scored above 4 films drawn at random (implicit feedback, "
                "sampled negatives); judged by top-10 over every unrated film.",
    data="movielens_100k",
    data_kind="ratings",
    task="implicit_ranking",
    model="bpr",
    model_params={"embedding_dim": 128, "l2": 3e-3, "bias_l2": 3e-3, "negatives": 4,
                  "positive_rating": 4.0},
    preprocessing="none",
    training=Training(epochs=20, batch_size=256, optimizer="adam", learning_rate=1e-3),
    validation="holdout:0.1",
    optimizing_metric="ndcg@10",
    expected="test NDCG@10 well above the most-popular ranking's (about 0.13 on MovieLens "
             "100K); see benchmarks/RESULTS.md",
)

register(
    MOVIELENS_MF,
    MOVIELENS_BPR,
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
    dataclasses.replace(
        MOVIELENS_BPR, name="implicit_recommender", data=None, expected="",
        description="BPR matrix factorisation trained to rank for your own table: data="
                    "DataFrame with integer user and item id columns and a rating column; "
                    "set positive_rating=None when every listed pair is a positive (clicks, "
                    "purchases)."),
)
