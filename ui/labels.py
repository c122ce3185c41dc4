"""One short label scheme for variants, everywhere in the app: "lr 0.01 · mom 0.9" instead of
"learning_rate=0.01, momentum=0.9".

Why: core labels a variant by its knobs in full ("batch_norm=before, learning_rate=0.3"), which
is unambiguous but too long for a legend or a dot-plot row, so charts cut it ("batch_norm=bef…")
and twelve rows read the same. The abbreviations are defined once here; `legend_key` writes out
the ones a page uses, so every short name can be looked up in full under the chart.

The relabelling happens once, where ui.run hands a result to a page (`shorten`): every frame,
summary and variant order of that result carries the short labels, so colours, tables and
core's per-result measurements all agree on one name per variant. The same results cache their
frames by run keys, so a revisit does not rebuild them.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from core.results import ComparisonResult, LabelledResult, RunResult

# Knob -> short name shown in labels (knobs not listed keep their own name).
ABBREVIATIONS = {
    "learning_rate": "lr",
    "momentum": "mom",
    "batch_size": "batch",
    "batch_norm": "BN",
    "weight_decay": "wd",
    "n_samples": "n",
    "val_fraction": "val",
    "activation": "act",
    "optimizer": "opt",
    "lr_schedule": "sched",
    "dropout": "drop",
    "residual": "res",
    "l1": "L1",
    "l2": "L2",
    "dataset": "data",
    "label_noise": "noise",
    "split_seed": "split",
}
FULL_NAMES = {short: knob for knob, short in ABBREVIATIONS.items()}
SEPARATOR = " · "
_PAIR = re.compile(r"\b([a-z][a-z0-9_]*)=([^,·()\s]+)")


def _pair(match: re.Match[str]) -> str:
    knob, value = match.group(1), match.group(2).strip()
    return f"{ABBREVIATIONS.get(knob, knob)} {value}"


def short(label: str) -> str:
    """The short form of a variant label: each `knob=value` becomes `abbr value`, pairs are joined
    by " · ". Labels without knob=value pairs ("baseline", "L1+L2") are returned unchanged."""
    text = _PAIR.sub(_pair, str(label))
    return re.sub(r"\s*,\s*", SEPARATOR, text) if text != label else text


def full(label: str) -> str:
    """The long form of a short label, for tooltips: "lr 0.01 · mom 0.9" ->
    "learning_rate=0.01, momentum=0.9". Parts that are not "abbr value" stay as they are."""
    parts = str(label).split(SEPARATOR)
    out = []
    for part in parts:
        word, _, value = part.partition(" ")
        out.append(f"{FULL_NAMES[word]}={value}" if word in FULL_NAMES and value else part)
    return ", ".join(out) if len(parts) > 1 or out != parts else str(label)


def legend_key(labels: Iterable[str]) -> str:
    """ "lr = learning_rate · mom = momentum" for the abbreviations that appear in `labels`, or ""."""
    used = []
    for label in labels:
        for word in re.findall(r"[A-Za-z][A-Za-z0-9_]*", str(label)):
            if word in FULL_NAMES and word not in used:
                used.append(word)
    return SEPARATOR.join(f"{word} = {FULL_NAMES[word]}" for word in used)


# Frames of a result, kept by the run keys they come from: a stored run never changes, so a
# revisit (or another visitor) gets the frames without rebuilding them. Bounded, oldest out.
MAX_CACHED_FRAMES = 96
_FRAMES: OrderedDict[tuple, pd.DataFrame] = OrderedDict()
_LOCK = threading.Lock()


def _cached(key: tuple, build: Callable[[], pd.DataFrame]) -> pd.DataFrame:
    """A copy of the frame cached under `key`, built once (callers may modify what they get)."""
    with _LOCK:
        hit = _FRAMES.get(key)
        if hit is not None:
            _FRAMES.move_to_end(key)
            return hit.copy()
    frame = build()
    with _LOCK:
        _FRAMES[key] = frame
        while len(_FRAMES) > MAX_CACHED_FRAMES:
            _FRAMES.popitem(last=False)
    return frame.copy()


class _Short:
    """Mixin: a result's identity columns and variant order in the short scheme, and its frames
    cached by run keys (ui.run hands pages only such results)."""

    def _cache_key(self, name: str) -> tuple:
        runs = tuple(run.key for run in self.runs)  # type: ignore[attr-defined]
        return (type(self).__name__, runs, tuple(self.variant_order()), name)

    def frame(self, name: str) -> pd.DataFrame:
        return _cached(self._cache_key(f"frame:{name}"), lambda: super(_Short, self).frame(name))  # type: ignore[misc]

    def summary(self) -> pd.DataFrame:
        return _cached(self._cache_key("summary"), lambda: super(_Short, self).summary())  # type: ignore[misc]

    def _identity(self, run: RunResult) -> dict[str, Any]:
        identity = super()._identity(run)  # type: ignore[misc]
        return {**identity, "variant": short(identity["variant"])}

    def variant_order(self) -> list[str]:
        return [short(v) for v in super().variant_order()]  # type: ignore[misc]


@dataclass
class ShortResult(_Short, ComparisonResult):
    """A comparison's result with short variant labels."""


@dataclass
class ShortLabelledResult(_Short, LabelledResult):
    """A variant set's result (its own labels) with those labels in the short scheme."""


def shorten(result: ComparisonResult | None) -> ComparisonResult | None:
    """The same runs, labelled in the short scheme (idempotent; None stays None)."""
    if result is None or isinstance(result, _Short):
        return result
    kind = ShortLabelledResult if isinstance(result, LabelledResult) else ShortResult
    return kind(result.comparison, result.runs, result.replayed)  # type: ignore[arg-type]
