"""Level-by-level (greedy layer-wise) training of a deep net, then fine-tuning of the whole (VG4).

The procedure the notes describe for nets whose gradients vanish (Bengio et al. 2007, "Greedy
layer-wise training of deep networks", supervised variant): level 1 is trained as a shallow net
of its own (input -> level 1 -> a temporary output head); then it is frozen, and level 2 is
trained the same way on level 1's outputs, and so on; the last level's head becomes the deep
net's output layer and the whole net is fine-tuned end to end.

Equal budget with end-to-end training: the run's `epochs` are the TOTAL passes over the data.
GREEDY_SHARE of them go to the greedy phase (spread over the levels, at least one each) and the
rest to fine-tuning; every epoch uses the run's own learning-rate schedule at that epoch, and the
data order, initial weights and optimizer are a stacked run's (core.training.keras_mlp), so the
only difference from the end-to-end arm (the plain stacked MLP with layerwise=False) is the
procedure. A frozen level is never part of the net being trained: its outputs are computed once
and fed in as data, so nothing can update it.

Frames: the usual ones with a `phase` column ("level k" or "fine-tune"); in the greedy phase the
epochs frame scores the net built so far (levels 1..k and head k), the layers frame names the
level's kernel dense_k and its temporary head head_k.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from core.data import Dataset
from core.results import RunResult
from core.spec import Experiment
from core.training import draws
from core.training import keras_mlp as km
from core.training.model import Shape

GREEDY_SHARE = 0.5  # half the passes build the net level by level, half fine-tune it: neither
# phase is starved, and the end-to-end arm gets the same total number of passes
HEAD_SALT = 1_000_003  # the temporary heads' initial weights: a stream apart from the net's own
FINE_TUNE = "fine-tune"


def phase_epochs(epochs: int, depth: int) -> list[int]:
    """Epochs per level (greedy phase) followed by the fine-tuning epochs; sums to `epochs`."""
    greedy = max(depth, round(epochs * GREEDY_SHARE))
    if greedy >= epochs:
        raise ValueError(
            f"level-by-level training of {depth} levels needs at least {depth + 1} epochs "
            f"(one per level, then fine-tuning); got {epochs}"
        )
    per, extra = divmod(greedy, depth)
    return [per + (1 if k < extra else 0) for k in range(depth)] + [epochs - greedy]


def head_weights(e: Experiment, shape: Shape, level: int, full_init: dict) -> list[np.ndarray]:
    """Initial kernel and bias of level `level`'s temporary head; the last level's head is the
    deep net's own output layer, so fine-tuning starts from what the greedy phase trained."""
    if level == shape.depth:
        return [full_init["kernels"][-1], full_init["biases"][-1]]
    rng = np.random.default_rng([e.seed, HEAD_SALT, level])
    kernel = draws.init_kernel(e.init, shape.width, shape.n_outputs, rng).astype(np.float32)
    return [kernel, np.zeros(shape.n_outputs, np.float32)]


def level_weights(shape: Shape, full_init: dict, level: int) -> list[np.ndarray]:
    """Level `level`'s initial kernel, bias (and fresh BN parameters), Keras order."""
    sub = dataclasses.replace(shape, depth=1)
    k, b = full_init["kernels"][level - 1], full_init["biases"][level - 1]
    return km.interleave(sub, [k, k], [b, b])[:-2]  # drop the dummy output pair


@dataclasses.dataclass
class Greedy:
    """The greedy phase's outcome: trained levels (Keras weights each), the last head, every
    level's training trace, and the level kernels as they stood after each level (for tests:
    a frozen level must not move)."""

    levels: list[list[np.ndarray]]
    head: list[np.ndarray]
    traces: list[km.Trace]
    snapshots: list[list[np.ndarray]]
    diverged_step: int = -1


def greedy_phase(e: Experiment, data: km.MemberData, shape: Shape, tick) -> Greedy:
    """Train levels 1..depth one at a time on the frozen outputs of the levels below."""
    full_init = draws.init_member(e, shape)
    plan = phase_epochs(e.epochs, shape.depth)
    out = Greedy([], [], [], [])
    features, start = data.x, 0
    for level in range(1, shape.depth + 1):
        sub = dataclasses.replace(shape, n_features=features.shape[1], depth=1)
        fitter = km.fitter_for(sub, e, data.regression)
        fitter.load([*level_weights(shape, full_init, level), *head_weights(e, shape, level, full_init)], e)
        span = range(start, start + plan[level - 1])
        trace = km.fit(fitter, data, features, e.seed, span, on_epoch=lambda ep, _: tick(ep + 1))
        start = span.stop
        out.traces.append(trace)
        trained = fitter.weights()
        out.levels.append(trained[:-2])
        out.head = trained[-2:]
        out.snapshots.append([np.array(w[0]) for w in out.levels])
        if trace.diverged_step >= 0:
            out.diverged_step = trace.diverged_step
            break
        features = frozen_features(fitter, sub, features)
    return out


def frozen_features(fitter: km.Fitter, sub: Shape, x: np.ndarray) -> np.ndarray:
    """The trained level's outputs for every pool row: the next level's (fixed) inputs."""
    return km.layer_activations(fitter.model, sub, x)[0].astype(np.float32)


def train_member(e: Experiment, ds: Dataset, tick) -> RunResult:
    clock = km.timer()
    data = km.MemberData.of(e, ds)
    shape = km.shape_of(e, data)
    greedy = greedy_phase(e, data, shape, tick)
    names = [*km.hidden_names(shape.depth), "output"]
    parts = [
        (f"level {k}", t, [f"dense_{k}", "output" if k == shape.depth else f"head_{k}"])
        for k, t in enumerate(greedy.traces, start=1)
    ]
    diverged, kernels = greedy.diverged_step, [w[0] for w in greedy.levels]
    if diverged < 0:
        fitter = km.fitter_for(shape, e, data.regression)
        fitter.load([w for level in greedy.levels for w in level] + greedy.head, e)
        start = sum(phase_epochs(e.epochs, shape.depth)[:-1])
        trace = km.fit(
            fitter, data, data.x, e.seed, range(start, e.epochs), on_epoch=lambda ep, _: tick(ep + 1)
        )
        parts.append((FINE_TUNE, trace, names))
        diverged, kernels = trace.diverged_step, fitter.kernels()
    seconds = clock()
    frames = phase_frames(data, parts, seconds)
    frames.update(km.weight_frames(kernels, names[: len(kernels)], int(frames["epochs"]["epoch"].max())))
    plan = phase_epochs(e.epochs, shape.depth)
    return km.run_result(
        e,
        data,
        frames,
        diverged,
        shape.n_params,
        seconds,
        names,
        greedy_epochs=sum(plan[:-1]),
        fine_tune_epochs=plan[-1],
    )


def phase_frames(data: km.MemberData, parts: list[tuple[str, km.Trace, list[str]]], seconds: float) -> dict:
    """epochs, steps and layers frames over all phases, in training order, with a phase column."""
    epochs, steps, layers = [], [], []
    epoch0 = 0
    total = sum(len(t.outputs) for _, t, _ in parts) or 1
    for phase, trace, names in parts:
        for i, (tr, va) in enumerate(trace.outputs):
            ep = epoch0 + i + 1
            row = km.epoch_row(data, tr, va, ep, data.lr[ep * data.steps - 1], seconds * ep / total)
            epochs.append({**row, "phase": phase})
        if trace.losses:
            s, layer = km.step_frames(
                np.concatenate(trace.losses),
                np.concatenate(trace.grads),
                data,
                names,
                step0=epoch0 * data.steps,
                phase=phase,
            )
            steps.append(s)
            layers.append(layer)
        epoch0 += len(trace.losses)
    return {
        "epochs": pd.DataFrame(epochs),
        "steps": pd.concat(steps, ignore_index=True),
        "layers": pd.concat(layers, ignore_index=True),
    }


def train_group(
    members: list[Experiment], ds: Dataset, progress: km.Progress | None = None, lr_table=None
) -> list[RunResult]:
    """Train each member level by level, then fine-tune it (compiled models shared per shape)."""
    return km.for_each_member(members, lambda e, tick: train_member(e, ds, tick), progress)
