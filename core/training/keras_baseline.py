"""The plain-Keras baseline the bench measures the stacked trainer against (`python -m core bench`).

It lives in core.training because it imports Keras: the rest of core stays TensorFlow-free.
Default compile settings and validation every epoch, like ours, so the ratio compares like with like.
"""

from __future__ import annotations

import time

from core.data import load_for, make_split
from core.spec import Experiment
from core.training.device import tf  # noqa: F401  (imported first: quiets TensorFlow before Keras loads)


def keras_fit_seconds(e: Experiment) -> float:
    """Seconds of one plain `Model.fit` of `e` (cold: its tracing included), the bench's baseline."""
    import keras  # after core.training.device (module top), which quiets TensorFlow first

    ds = load_for(e)
    split = make_split(ds, e.n_samples, e.val_fraction, e.effective_split_seed)

    def part(idx):
        return ((ds.x[idx] - split.mean) / split.std).astype("float32"), ds.y[idx]

    (x, y), (xv, yv) = part(split.train_idx), part(split.val_idx)
    keras.utils.set_random_seed(e.seed)
    layers = [keras.Input((ds.n_features,))]
    layers += [keras.layers.Dense(e.width, activation=e.activation) for _ in range(e.depth)]
    model = keras.Sequential([*layers, keras.layers.Dense(ds.n_classes)])
    model.compile(
        optimizer=keras.optimizers.SGD(e.learning_rate, momentum=e.momentum),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    start = time.perf_counter()
    model.fit(x, y, batch_size=e.batch_size, epochs=e.epochs, validation_data=(xv, yv), verbose=0)
    return time.perf_counter() - start
