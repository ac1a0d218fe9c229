"""Recurrent builders: stacked LSTM / GRU / simple RNN layers, forecasters with one-step,
direct multi-step and encoder-decoder heads, and a character-level language model.

Usage:
    model = forecaster((96, 7), 7, horizon=96, target_columns=list(range(7)),
                       target_mean=[0.0] * 7, target_std=[1.0] * 7, cell="gru", units=(64,))
    model = char_language_model((100,), 65, units=(512,))     # next-character softmax
"""

from __future__ import annotations

import typing
from collections.abc import Sequence
from typing import Literal

from kdl.lazy import lazy
from kdl.models.params import NonNegativeInt, Rate, Size, Sizes

keras = lazy("keras")
layers = lazy("keras.layers")

Cell = Literal["lstm", "gru", "rnn"]
Head = Literal["direct", "one_step", "seq2seq"]
CELLS = {"lstm": "LSTM", "gru": "GRU", "rnn": "SimpleRNN"}  # Keras layer names
HEADS = typing.get_args(Head)


def _cell(cell: str):
    if cell not in CELLS:
        raise ValueError(f"cell must be one of {', '.join(CELLS)}; got {cell!r}.")
    return getattr(layers, CELLS[cell])


def recurrent_stack(x, cell: str = "lstm", units: Sequence[int] = (64,), dropout: float = 0.0,
                    recurrent_dropout: float = 0.0, bidirectional: bool = False,
                    return_sequences: bool = False, return_state: bool = False,
                    name: str = "recurrent"):
    """Stacked recurrent layers; every layer but the last returns sequences. With
    `return_state` the last layer also returns its final state(s) (unidirectional only).

    Usage: h = recurrent_stack(x, "gru", (64, 32), dropout=0.1)
    """
    layer_class = _cell(cell)
    state = None
    for index, size in enumerate(units, start=1):
        last = index == len(units)
        layer = layer_class(size, dropout=dropout, recurrent_dropout=recurrent_dropout,
                            return_sequences=return_sequences or not last,
                            return_state=return_state and last, name=f"{name}{index}")
        if bidirectional:
            if return_state:
                raise ValueError("return_state is not supported with bidirectional layers.")
            layer = layers.Bidirectional(layer, name=f"{name}{index}_bidirectional")
        x = layer(x)
        if return_state and last:
            x, *state = x
    return (x, state) if return_state else x


def forecaster(input_shape: Sequence[int], num_outputs: int, output_activation: str | None = None,
               *, horizon: int, target_columns: Sequence[int], target_mean: Sequence[float],
               target_std: Sequence[float], cell: Cell = "lstm", units: Sizes = (64,),
               dropout: Rate = 0.0, recurrent_dropout: Rate = 0.0, bidirectional: bool = False,
               conv_filters: NonNegativeInt = 0, conv_kernel: Size = 3, head: Head = "direct",
               last_value_norm: bool = True, linear_skip: bool = True, segment: Size = 1,
               channel_independent: bool = False, name: str = "forecaster") -> keras.Model:
    """Window (lookback, features), standardized, -> forecast (horizon, targets) in the
    targets' original units.

    head: "direct" (the whole horizon from the last state), "one_step" (horizon 1) or
    "seq2seq" (an encoder's state seeds a decoder unrolled over the horizon).
    last_value_norm: subtract each window's last value and add it back to the forecast
    (NLinear / RevIN), so the network models change, not level.
    linear_skip: add a linear map from each target's window to its horizon (LSTNet's
    autoregressive "highway"), so the recurrent part learns what a linear model cannot.
    conv_filters: a causal Conv1D front-end with that many filters (0: none).
    segment: rows fed to the recurrent layer per step (SegRNN): 24 turns a 96-step window into
    4 steps of 24 rows, far faster and easier to train than 96 single rows.
    channel_independent: one recurrent network, shared, reads each variable's window alone
    and forecasts that variable (the direct head only).
    Usage: forecaster((96, 7), 7, horizon=96, target_columns=range(7), target_mean=m,
                      target_std=s, cell="gru")
    """
    if head not in HEADS:
        raise ValueError(f"head must be one of {', '.join(HEADS)}; got {head!r}.")
    if head == "one_step" and horizon != 1:
        raise ValueError(f"the one_step head forecasts one step; horizon is {horizon}.")
    columns = [int(c) for c in target_columns]
    targets = len(columns)
    inputs = keras.Input(tuple(input_shape), name="window")
    x = inputs
    level = None
    if last_value_norm:
        level = inputs[:, -1:, :]
        x = layers.Subtract(name="minus_last_value")([inputs, level])
    centered = x
    if conv_filters:
        x = layers.Conv1D(conv_filters, conv_kernel, padding="causal", activation="relu",
                          name="conv_front")(x)
    lookback, features = int(input_shape[0]), int(input_shape[1])
    if lookback % segment:
        raise ValueError(f"segment {segment} must divide the lookback {lookback}.")
    steps = lookback // segment
    if channel_independent:
        if head != "direct" or conv_filters or bidirectional:
            raise ValueError("channel_independent supports the direct head only, without a "
                             "conv front-end or bidirectional layers.")
        by_variable = layers.Permute((2, 1), name="variables_first")(x)
        pieces = layers.Reshape((features, steps, segment), name="segments")(by_variable)
        reader_input = keras.Input((steps, segment), name="one_variable")
        reader = keras.Model(reader_input, recurrent_stack(
            reader_input, cell, units, dropout, recurrent_dropout), name="variable_reader")
        encoded = layers.TimeDistributed(reader, name="per_variable")(pieces)
        forecast = layers.Dense(horizon, name="direct_head")(encoded)
        if linear_skip:
            forecast = layers.Add(name="plus_linear")(
                [forecast, layers.Dense(horizon, name="linear_skip")(by_variable)])
        forecast = keras.ops.take(layers.Permute((2, 1), name="steps_first")(forecast),
                                  columns, axis=-1)
        linear_skip = False
    elif head == "seq2seq":
        encoded, state = recurrent_stack(x, cell, units, dropout, recurrent_dropout,
                                         return_state=True, name="encoder")
        repeated = layers.RepeatVector(horizon, name="repeat_over_horizon")(encoded)
        decoded = _cell(cell)(units[-1], return_sequences=True, dropout=dropout,
                              name="decoder")(repeated, initial_state=state)
        forecast = layers.TimeDistributed(layers.Dense(targets), name="per_step")(decoded)
    else:
        if segment > 1:
            x = layers.Reshape((steps, segment * x.shape[-1]), name="segments")(x)
        encoded = recurrent_stack(x, cell, units, dropout, recurrent_dropout, bidirectional)
        flat = layers.Dense(horizon * targets, name="direct_head")(encoded)
        forecast = layers.Reshape((horizon, targets), name="to_horizon")(flat)
    if linear_skip:
        own = keras.ops.take(centered, columns, axis=-1)
        own_first = layers.Permute((2, 1), name="targets_first")(own)
        linear = layers.Dense(horizon, name="linear_skip")(own_first)
        forecast = layers.Add(name="plus_linear")(
            [forecast, layers.Permute((2, 1), name="steps_first")(linear)])
    if level is not None:
        forecast = layers.Add(name="plus_last_value")(
            [forecast, keras.ops.take(level, columns, axis=-1)])
    scale = [float(s) if s > 0 else 1.0 for s in target_std]
    outputs = layers.Rescaling(scale, offset=[float(m) for m in target_mean],
                               name="to_original_units")(forecast)
    return keras.Model(inputs, outputs, name=name)


def char_language_model(input_shape: Sequence[int], num_outputs: int,
                        output_activation: str | None = "softmax", *, embedding_dim: Size = 64,
                        cell: Cell = "lstm", units: Sizes = (512,),
                        dropout: Rate = 0.0, name: str = "char_language_model") -> keras.Model:
    """Characters (encoded ids) -> embedding -> stacked LSTM/GRU -> next-character softmax at
    every position. Takes contexts of any length.

    Usage: char_language_model((100,), 65, units=(512,)).count_params()
    """
    inputs = keras.Input((None,), dtype="int32", name="context")
    x = layers.Embedding(num_outputs, embedding_dim, name="char_embedding")(inputs)
    x = recurrent_stack(x, cell, units, dropout, return_sequences=True, name=cell)
    outputs = layers.Dense(num_outputs, activation=output_activation, name="next_char")(x)
    return keras.Model(inputs, outputs, name=name)
