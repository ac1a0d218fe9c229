"""Text generation from a character language model: temperature, top-k, and a repetition
guard against the endless loops greedy or cold sampling falls into. Seeded, so a seed gives
the same text every time.

Usage:
    vocabulary = Vocabulary(dataset.class_names)
    text = generate(model, vocabulary, "ROMEO:", 300, temperature=0.8, top_k=20, seed=0)
    text = generate(load_export(path).next_character, vocabulary, "ROMEO:", 300)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from kdl.errors import ConfigError


class Vocabulary:
    """Characters <-> ids; id 0 stands for a character the model never saw."""

    def __init__(self, characters: Sequence[str]):
        self.characters = list(characters)
        self.index = {c: i for i, c in enumerate(self.characters)}

    def encode(self, text: str) -> np.ndarray:
        """Ids of `text` (unknown characters -> 0)."""
        return np.array([self.index.get(c, 0) for c in text], dtype=np.int32)

    def decode(self, ids: Sequence[int]) -> str:
        """The characters of `ids`."""
        return "".join(self.characters[int(i)] for i in ids)

    def __len__(self) -> int:
        return len(self.characters)


def _next_probabilities(model: Any) -> Callable[[np.ndarray], np.ndarray]:
    """A function context ids (T,) -> probabilities (V,) for a Keras model, or for any function
    from ids (1, T) to probabilities (1, V) such as an export's `next_character`."""
    import tensorflow as tf

    if hasattr(model, "predict"):
        forward = tf.function(lambda x: model(x, training=False)[:, -1, :],
                              input_signature=[tf.TensorSpec([1, None], tf.int32)])
    else:
        forward = model
    return lambda ids: np.asarray(forward(tf.constant(ids[None], tf.int32)))[0]


def choose(probabilities: np.ndarray, rng: np.random.Generator, temperature: float = 1.0,
           top_k: int | None = None, banned: set[int] = frozenset()) -> int:
    """Sample one id: probabilities sharpened (temperature < 1) or flattened (> 1), cut to the
    `top_k` most likely, `banned` ids removed unless nothing else is left; temperature 0 is
    greedy."""
    p = np.asarray(probabilities, dtype=np.float64).copy()
    if banned and len(banned) < len(p):
        allowed = p.copy()
        allowed[list(banned)] = 0.0
        if allowed.sum() > 0:
            p = allowed
    if temperature <= 0:
        return int(np.argmax(p))
    logits = np.log(np.clip(p, 1e-30, None)) / temperature
    if top_k:
        cut = np.sort(logits)[-min(top_k, len(logits))]
        logits = np.where(logits >= cut, logits, -np.inf)
    weights = np.exp(logits - logits.max())
    weights[p == 0] = 0.0
    return int(rng.choice(len(weights), p=weights / weights.sum()))


def generate(model: Any, vocabulary: Vocabulary, prompt: str, length: int,
             temperature: float = 0.8, top_k: int | None = 20, seed: int = 0,
             no_repeat: int | None = 24, context: int = 200) -> str:
    """`prompt` followed by `length` generated characters.

    no_repeat: the repetition guard — a character that would complete a run of `no_repeat`
    characters already present in the text is not chosen (None turns the guard off).
    context: how many trailing characters the model sees at each step.
    """
    if length < 0 or (no_repeat is not None and no_repeat < 2):
        raise ConfigError("length must be >= 0 and no_repeat >= 2 (or None).")
    if not prompt:
        raise ConfigError("generation needs a prompt of at least one character.")
    step = _next_probabilities(model)
    rng = np.random.default_rng(seed)
    ids = list(vocabulary.encode(prompt))
    seen: set[tuple[int, ...]] = set()
    if no_repeat:
        seen = {tuple(ids[i:i + no_repeat]) for i in range(len(ids) - no_repeat + 1)}
    for _ in range(length):
        probabilities = step(np.array(ids[-context:], dtype=np.int32))
        banned: set[int] = set()
        if no_repeat and len(ids) >= no_repeat - 1:
            stem = tuple(ids[len(ids) - no_repeat + 1:])
            banned = {c for c in range(len(probabilities)) if stem + (c,) in seen}
        ids.append(choose(probabilities, rng, temperature, top_k, banned))
        if no_repeat and len(ids) >= no_repeat:
            seen.add(tuple(ids[-no_repeat:]))
    return vocabulary.decode(ids)


def generate_from_export(source: str | Path, prompt: str, length: int = 300,
                         temperature: float = 0.8, top_k: int | None = 20, seed: int = 0,
                         no_repeat: int | None = 24) -> str:
    """Generate with an exported language model: its `next_character` signature and the
    vocabulary in its model card.

    Usage: generate_from_export("saved_models/shakespeare_char_lstm/1", "ROMEO:", 300)
    """
    from kdl.export import export_folder, load_export, model_card

    folder = export_folder(source)
    card = model_card(folder)
    if "vocabulary" not in card:
        raise ConfigError(f"{folder} is not a language-model export (its model card has no "
                          "vocabulary).")
    served = load_export(folder)
    return generate(served.next_character, Vocabulary(card["vocabulary"]), prompt, length,
                    temperature, top_k, seed, no_repeat)
