"""One model from several trained ones: the weighted sum of their outputs, for averaged fold
models, bagging (equal weights summing to one) and boosting (stage weights). The members keep
their own preprocessing inside, so the combined model takes the same raw inputs and exports
as one SavedModel.

Usage:
    bag = weighted_sum([m1, m2, m3], [1 / 3] * 3, name="mnist_mlp_bag")
    bag.predict(x)   # the members' mean prediction
"""

from __future__ import annotations

from collections.abc import Sequence

from kdl.errors import ConfigError
from kdl.lazy import lazy

keras = lazy("keras")


def weighted_sum(members: Sequence[keras.Model], weights: Sequence[float],
                 name: str = "combined") -> keras.Model:
    """Σ weights[m] · members[m](inputs) as one functional model; members are renamed
    member_1, member_2, ... so that their layers stay apart.

    Usage: weighted_sum(models, [0.5, 0.5], name="bag")
    """
    if not members or len(members) != len(weights):
        raise ConfigError(f"a combined model needs one weight per member; got {len(members)} "
                          f"members and {len(weights)} weights.")
    inputs = keras.tree.map_structure(
        lambda t: keras.Input(batch_shape=t.shape, dtype=t.dtype,
                              name=getattr(t, "name", None) and t.name.split(":")[0]),
        members[0].input)
    outputs = []
    for index, (member, weight) in enumerate(zip(members, weights), start=1):
        member.name = f"member_{index}"
        output = member(inputs)
        outputs.append(keras.layers.Rescaling(float(weight), name=f"weight_{index}")(output))
    combined = outputs[0] if len(outputs) == 1 else keras.layers.Add(name="weighted_sum")(outputs)
    return keras.Model(inputs, combined, name=name)
