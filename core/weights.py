"""A run's initial and final weights: what the loss landscape and the exact export read.

Why stored at all: the summary and frames say how a run went, not where it ended. The landscape
(core.landscape) evaluates the loss around and between weight sets, and the exact export
(core.export) hands Keras the very initial weights the explorer trained from.

Layout of `RunWeights.initial` / `.final` (the Keras order of `model.get_weights()` for the same
MLP, trainable arrays only): for each hidden layer `dense_i` its kernel [fan_in, fan_out] and bias
[fan_out], then (with batch norm) its gamma and beta [width]; last the output kernel and bias.
`array_names` names each entry ("dense_1/kernel", "dense_1/gamma", "output/bias", ...).
`extra` holds the final batch-norm moving statistics ("dense_1/moving_mean", ".../moving_var");
the initial ones are zeros and ones by construction (`moving("initial")`).

Precision: initial weights are always float32, bit-exact (an exact export must start from the
very same numbers). Final weights are float32 while the encoded run fits WEIGHTS_CAP_BYTES, else
float16 (landscape pictures do not need more); a run whose initial weights alone do not fit is
not stored (`encode` returns None) and callers say so. TensorFlow-free: replay and the server
read this module.
"""

from __future__ import annotations

import io
import logging
import sqlite3
from dataclasses import dataclass, field
from typing import Any

import numpy as np

log = logging.getLogger("core.weights")

# Per run, encoded. 8 MiB holds ~1M parameters at float32 twice (an MNIST MLP of width 512 and
# depth 2 is 0.67M), so every network the explorer's presets train keeps full precision, while a
# MAX_WIDTH x MAX_DEPTH giant (33M parameters) cannot fill the disk: it is not stored.
WEIGHTS_CAP_BYTES = 8 * 2**20
FLOAT16_MAX = 65504.0  # largest finite float16: a final weight beyond it cannot be cast down
WEIGHT_KINDS = ("kernel", "bias", "gamma", "beta")
MOVING_KINDS = ("moving_mean", "moving_var")


@dataclass(frozen=True, eq=False)
class RunWeights:
    """One run's weights (see the module docstring for the order of the arrays)."""

    layer_names: list[str]  # dense_1 ... dense_D, output
    initial: list[np.ndarray]  # float32, bit-exact
    final: list[np.ndarray]  # float32, or float16 above WEIGHTS_CAP_BYTES
    extra: dict[str, np.ndarray] = field(default_factory=dict)  # final BN moving statistics

    @property
    def batch_norm(self) -> bool:
        """Whether the hidden layers carry gamma and beta (2 arrays per layer without BN)."""
        return len(self.initial) > 2 * len(self.layer_names)

    @property
    def array_names(self) -> list[str]:
        """'layer/kind' for each entry of initial and final, in their order."""
        kinds = WEIGHT_KINDS if self.batch_norm else WEIGHT_KINDS[:2]
        names = [f"{layer}/{kind}" for layer in self.layer_names[:-1] for kind in kinds]
        return [*names, f"{self.layer_names[-1]}/kernel", f"{self.layer_names[-1]}/bias"]

    def arrays(self, which: str = "final") -> dict[str, np.ndarray]:
        """{'dense_1/kernel': array, ...} of the initial or final weights."""
        if which not in ("initial", "final"):
            raise ValueError(f"which must be 'initial' or 'final', got {which!r}")
        return dict(zip(self.array_names, getattr(self, which), strict=True))

    def of_kind(self, kind: str, which: str = "final") -> list[np.ndarray]:
        """Every layer's array of one kind ('kernel', 'bias', 'gamma', 'beta'), in layer order."""
        return [a for name, a in self.arrays(which).items() if name.endswith(f"/{kind}")]

    def moving(self, which: str = "final") -> dict[str, np.ndarray]:
        """BN moving statistics: the stored final ones, or the zeros/ones every run starts from."""
        if which == "final":
            return dict(self.extra)
        out = {}
        for name, a in self.extra.items():
            out[name] = np.zeros_like(a) if name.endswith("moving_mean") else np.ones_like(a)
        return out

    def keras_order(self, which: str = "initial") -> list[np.ndarray]:
        """What `model.set_weights` takes for the Keras MLP of this shape (Dense, BN per hidden
        layer): kernel, bias, [gamma, beta, moving_mean, moving_var] per layer, then the output."""
        arrays, moving = self.arrays(which), self.moving(which)
        out: list[np.ndarray] = []
        for layer in self.layer_names:
            out += [arrays[f"{layer}/kernel"], arrays[f"{layer}/bias"]]
            if f"{layer}/gamma" in arrays:
                out += [arrays[f"{layer}/gamma"], arrays[f"{layer}/beta"]]
                out += [moving[f"{layer}/{kind}"] for kind in MOVING_KINDS]
        return out

    @property
    def n_params(self) -> int:
        return int(sum(a.size for a in self.initial))


# -- encoding ------------------------------------------------------------------------------------
def _npz(weights: RunWeights, final_dtype: type) -> bytes:
    arrays: dict[str, np.ndarray] = {"layer_names": np.array(weights.layer_names)}
    for i, a in enumerate(weights.initial):
        arrays[f"initial_{i}"] = np.asarray(a, np.float32)
    for i, a in enumerate(weights.final):
        arrays[f"final_{i}"] = np.asarray(a, final_dtype)
    for name, a in weights.extra.items():
        arrays[f"extra:{name}"] = np.asarray(a, np.float32)
    buf = io.BytesIO()
    np.savez(buf, **arrays)  # uncompressed: trained float weights barely compress, and it is fast
    return buf.getvalue()


def encode(weights: RunWeights, cap: int = WEIGHTS_CAP_BYTES) -> bytes | None:
    """The npz blob the store keeps: float32 final weights if they fit `cap`, else float16 (if
    every final weight fits float16's range), else None (too large to keep)."""
    blob = _npz(weights, np.float32)
    if len(blob) <= cap:
        return blob
    peak = max((float(np.nanmax(np.abs(a))) for a in weights.final if a.size), default=0.0)
    if peak < FLOAT16_MAX:
        blob = _npz(weights, np.float16)
        if len(blob) <= cap:
            return blob
    log.info("weights of %d parameters exceed the %d-byte cap: not stored", weights.n_params, cap)
    return None


def weights_blob(result: Any) -> bytes | None:
    """A RunResult's weights as the store keeps them (`encode`), or None: none held (a replay,
    another model family) or too large for the cap."""
    held = getattr(result, "weights", None)
    return encode(held) if isinstance(held, RunWeights) else None


def decode(blob: bytes) -> RunWeights:
    with np.load(io.BytesIO(blob), allow_pickle=False) as z:
        names = [str(n) for n in z["layer_names"]]
        count = sum(1 for k in z.files if k.startswith("initial_"))
        extra = {k.split(":", 1)[1]: z[k] for k in z.files if k.startswith("extra:")}
        return RunWeights(
            names,
            [z[f"initial_{i}"] for i in range(count)],
            [z[f"final_{i}"] for i in range(count)],
            extra,
        )


# -- a stored run's weights, read when needed ---------------------------------------------------------
@dataclass(frozen=True)
class StoredWeights:
    """Where a replayed run's weights are: the store file and the run key. Replays carry this
    small, picklable reference instead of the arrays, so drawing a stored comparison reads no
    weight blob; `load()` reads it when a landscape or a claim asks."""

    path: str
    key: str

    def load(self) -> RunWeights | None:
        from core.store_sql import connect_readonly  # the store imports this module

        try:
            conn = connect_readonly(_as_path(self.path))
        except sqlite3.Error:
            return None
        try:
            row = conn.execute("SELECT data FROM weights WHERE key = ?", (self.key,)).fetchone()
        except sqlite3.OperationalError:  # a store from before the weights table
            return None
        finally:
            conn.close()
        return decode(row[0]) if row else None


def _as_path(path: str) -> Any:
    from pathlib import Path

    return Path(path)


def weights_of(run: Any) -> RunWeights | None:
    """A RunResult's weights: held (a fresh run), read from the store (a replayed one), or None
    (trained before weights were stored, or too large to keep)."""
    held = getattr(run, "weights", None)
    if isinstance(held, StoredWeights):
        return held.load()
    return held
