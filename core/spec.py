"""What to train: `Experiment` (every knob of one run) and `Comparison` (variants x seeds).

The knob names here are the contract of the whole product: the same strings are the CLI's
`--set/--vary` keys, the URL query keys and the DataFrame columns. An Experiment is frozen and
validated on construction so that a bad value is refused where it enters (a widget, the URL, the
shell) with a message that names the knob, instead of surfacing later as a TensorFlow error.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import itertools
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from core.constants import OPTIMIZERS, SEQUENCE_DATASETS, TOY_DATASETS
from core.limits import MAX_MEMBERS, check_memory
from core.spec_rules import (  # the allowed values live with the rules; re-exported for callers
    ACTIVATIONS,
    BATCH_NORM,
    INITS,
    INPUT_TRANSFORMS,
    LR_SCHEDULES,
    MODELS,
    SCALINGS,
    validate,
)

# Bump when a change to core alters the numbers a stored run would produce: old runs then no
# longer match any key and are retrained instead of being replayed as if current.
CODE_VERSION = "3"  # 3: group independence (a member's numbers no longer depend on its group-mates)


# MLP-body knobs a recurrent run has no use for: set to these in its canonical form (one key).
RECURRENT_NEUTRAL = {"activation": "relu", "depth": 2, "batch_norm": "none", "residual": False}


@dataclass(frozen=True)
class Experiment:
    """Every knob of one training run. Defaults: a small MLP on digits that trains in ~2 s."""

    dataset: str = "digits"  # real, bundled with scikit-learn: no download needed
    n_samples: int = 2000  # cap on examples drawn (toy data: exactly this many are generated)
    noise: float = 0.2  # label noise of the toy 2-D datasets; ignored by real data
    val_fraction: float = 0.2  # stratified hold-out used for every validation number
    width: int = 64  # units per hidden layer
    depth: int = 2  # hidden layers
    activation: str = "relu"  # the modern default; sigmoid/tanh for vanishing-gradient demos
    batch_norm: str = "none"  # none / before / after the activation
    dropout: float = 0.0  # rate after each hidden activation, training only
    residual: bool = False  # skip connections between equal-width hidden layers
    init: str = "glorot_uniform"  # Keras' Dense default
    l1: float = 0.0  # penalty l1 * sum|W| on every kernel (Keras regularizers.L1)
    l2: float = 0.0  # penalty l2 * sum W^2 on every kernel (Keras regularizers.L2)
    weight_decay: float = 0.0  # decoupled: W -= W * weight_decay * lr each step (Keras)
    optimizer: str = "momentum"  # SGD with momentum: the notes' subject
    learning_rate: float = 0.05  # safe for SGD+momentum on standardized inputs
    momentum: float = 0.9  # SGD momentum, or Adam's beta_1; unused by sgd and rmsprop
    lr_schedule: str = "constant"
    batch_size: int = 32  # the common default; batch size page varies it
    epochs: int = 20  # enough for digits to reach ~97% validation accuracy
    clipnorm: float = 0.0  # 0 = off; per-tensor norm clipping (Keras clipnorm)
    clipvalue: float = 0.0  # 0 = off; elementwise clipping (Keras clipvalue)
    seed: int = 0  # drives init, dropout masks, data order, label noise and the train/val split
    # -1 = the split follows `seed`; >= 0 fixes the train/val split, so seeds then vary only
    # initialization, dropout, data order and label noise (split noise can swamp small effects).
    split_seed: int = -1
    # Fraction (0 to 0.9) of the TRAINING labels replaced at random, drawn from the member's seed:
    # a class is replaced by a different class, a regression target by another training target.
    # Validation labels are never touched (Zhang et al. 2017: nets memorize noisy labels).
    label_noise: float = 0.0
    # Model families beyond the stacked MLP (each trains in its own module; core.training.families
    # picks it). At their defaults a run is the plain stacked MLP and its key is unchanged.
    model: str = "mlp"  # mlp, or a recurrent net over a sequence dataset: rnn (SimpleRNN), lstm
    seq_len: int = 50  # time steps of a sequence dataset (the adding problem); ignored otherwise
    layerwise: bool = False  # train level by level (each as its own shallow net), then fine-tune
    ensemble: int = 1  # average the predictions of this many independently trained nets
    probes: bool = False  # fit linear probes on every hidden layer's activations, before and after
    input_transform: str = "none"  # a heavy-tailed (lognormal) or outlier-laden copy of the inputs
    scaling: str = "standard"  # standard (z-score), robust (median/IQR), quantile (to normal), none
    lr_half_life: float = 5.0  # epochs: the exponential schedule halves the rate every this many

    def __post_init__(self) -> None:
        validate(self, _TYPES, CHOICES)

    # -- identity -------------------------------------------------------------------------
    def resolved(self) -> Experiment:
        """Canonical form: knobs that cannot affect the numbers are set to their neutral value,
        so two spellings of the same run share one key (and one stored result)."""
        changes: dict[str, Any] = {}
        if self.optimizer in ("sgd", "rmsprop"):
            changes["momentum"] = 0.0
        if self.dataset not in TOY_DATASETS:
            changes["noise"] = 0.0
        if self.depth < 2:
            changes["residual"] = False
        if self.model != "mlp":  # one recurrent layer (tanh / LSTM gates), no MLP body
            changes.update(RECURRENT_NEUTRAL)
        if self.dataset not in SEQUENCE_DATASETS:
            changes["seq_len"] = LATE_KNOB_DEFAULTS["seq_len"]
        if self.lr_schedule != "exponential":
            changes["lr_half_life"] = LATE_KNOB_DEFAULTS["lr_half_life"]
        return dataclasses.replace(self, **changes) if changes else self

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @property
    def family(self) -> str:
        """How the run trains: "stacked" (the plain MLP, stacked with its group-mates) or the
        procedure its knobs ask for ("recurrent", "layerwise", "ensemble", "probes"), each in its
        own module of core.training (core.training.families picks it)."""
        if self.model != "mlp":
            return "recurrent"
        if self.layerwise:
            return "layerwise"
        if self.ensemble > 1:
            return "ensemble"
        return "probes" if self.probes else "stacked"

    @property
    def effective_split_seed(self) -> int:
        """The seed the train/val split is drawn from."""
        return self.split_seed if self.split_seed >= 0 else self.seed

    def to_json(self) -> str:
        """Canonical JSON of the run; knobs added later are left out at their default so the
        keys of runs stored before them stay valid."""
        values = self.resolved().to_dict()
        for name, default in LATE_KNOB_DEFAULTS.items():
            if values[name] == default:
                del values[name]
        return json.dumps(values, sort_keys=True, separators=(",", ":"))

    @functools.cached_property
    def key(self) -> str:
        """Stable identity of the run: hash of the canonical JSON plus the code version."""
        payload = f"{CODE_VERSION}|{self.to_json()}".encode()
        return hashlib.sha256(payload).hexdigest()[:24]

    @property
    def group_key(self) -> tuple:
        """Members with equal group keys have the same network shape and data, so they can be
        trained together as one stacked model (see core.training.trainer)."""
        r = self.resolved()
        return tuple(getattr(r, name) for name in GROUP_KNOBS)

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> Experiment:
        """Build from untrusted strings or values (URL, CLI, JSON); unknown keys are refused."""
        unknown = sorted(set(values) - set(KNOBS))
        if unknown:
            raise ValueError(f"unknown knob(s) {', '.join(unknown)}; knobs are: {', '.join(KNOBS)}")
        return cls(**{k: parse_knob(k, v) for k, v in values.items()})


KNOBS: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(Experiment))
# Knobs that fix a network's shape and data: members equal in these stack into one model.
GROUP_KNOBS = (
    "dataset",
    "n_samples",
    "noise",
    "val_fraction",
    "width",
    "depth",
    "activation",
    "batch_norm",
    "residual",
    "optimizer",
    "batch_size",
    "epochs",
    "model",
    "seq_len",
    "layerwise",
    "ensemble",
    "probes",
    "input_transform",
    "scaling",
)
# Knobs added after runs were stored: absent from the key JSON while at these defaults.
LATE_KNOB_DEFAULTS: dict[str, Any] = {
    "split_seed": -1,
    "label_noise": 0.0,
    "model": "mlp",
    "seq_len": 50,
    "layerwise": False,
    "ensemble": 1,
    "probes": False,
    "input_transform": "none",
    "scaling": "standard",
    "lr_half_life": 5.0,
}
_TYPES: dict[str, type] = {
    f.name: {"int": int, "float": float, "bool": bool, "str": str}[f.type]
    for f in dataclasses.fields(Experiment)
}
CHOICES: dict[str, tuple[str, ...]] = {
    "activation": ACTIVATIONS,
    "batch_norm": BATCH_NORM,
    "init": INITS,
    "optimizer": OPTIMIZERS,
    "lr_schedule": LR_SCHEDULES,
    "model": MODELS,
    "input_transform": INPUT_TRANSFORMS,
    "scaling": SCALINGS,
}


def knob_type(name: str) -> type:
    if name not in _TYPES:
        raise ValueError(f"unknown knob {name!r}; knobs are: {', '.join(KNOBS)}")
    return _TYPES[name]


def parse_knob(name: str, value: Any) -> Any:
    """Turn a string (or already typed value) into the knob's type, or raise ValueError."""
    kind = knob_type(name)
    if isinstance(value, kind) and not (kind is int and isinstance(value, bool)):
        return value
    text = str(value).strip()
    try:
        if kind is bool:
            lowered = text.lower()
            if lowered in ("1", "true", "yes", "on"):
                return True
            if lowered in ("0", "false", "no", "off"):
                return False
            raise ValueError
        if kind is int:
            number = float(text)
            if not number.is_integer():
                raise ValueError
            return int(number)
        if kind is float:
            return float(text)
    except (ValueError, OverflowError):
        raise ValueError(f"{name}={text[:40]!r} is not a valid {kind.__name__}") from None
    return text


# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Comparison:
    """A baseline, up to two varied knobs with their values, and a number of seeds.

    Members are the cartesian product of the varied values, each repeated over seeds
    baseline.seed ... baseline.seed + seeds - 1. Limits are checked here so the app can refuse a
    comparison before any training starts, with a message saying what to shrink.
    """

    baseline: Experiment = field(default_factory=Experiment)
    vary: tuple[tuple[str, tuple[Any, ...]], ...] = ()
    seeds: int = 1

    def __post_init__(self) -> None:
        if len(self.vary) > 2:
            raise ValueError("vary at most two knobs at once (the charts have two axes of variants)")
        parsed = []
        for name, values in self.vary:
            knob_type(name)
            if name == "seed":
                raise ValueError("vary the seed with the seeds count, not as a knob")
            values = tuple(dict.fromkeys(parse_knob(name, v) for v in values))  # drop repeats
            if not values:
                raise ValueError(f"vary {name}: give at least one value")
            parsed.append((name, values))
        if len({name for name, _ in parsed}) != len(parsed):
            raise ValueError("each knob can be varied only once")
        object.__setattr__(self, "vary", tuple(parsed))
        if not 1 <= self.seeds <= MAX_MEMBERS:
            raise ValueError(f"seeds={self.seeds} is not allowed: seeds must be from 1 to {MAX_MEMBERS}")
        n = self.n_members
        if n > MAX_MEMBERS:
            raise ValueError(
                f"this comparison has {n} runs ({self._shape()}); the limit is {MAX_MEMBERS}: "
                "use fewer values or fewer seeds"
            )
        check_memory(self.members())  # building the members validates every one of them

    @classmethod
    def of(
        cls, baseline: Experiment, vary: Mapping[str, Iterable[Any]] | None = None, seeds: int = 1
    ) -> Comparison:
        return cls(baseline, tuple((k, tuple(v)) for k, v in (vary or {}).items()), seeds)

    @property
    def varied(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.vary)

    @property
    def n_members(self) -> int:
        return math.prod(len(v) for _, v in self.vary) * self.seeds

    def _shape(self) -> str:
        parts = [f"{len(v)} {name} values" for name, v in self.vary] + [f"{self.seeds} seeds"]
        return " x ".join(parts)

    def variants(self) -> list[dict[str, Any]]:
        """The varied knob values of each variant, in display order (empty dict: baseline only)."""
        names = self.varied
        return [dict(zip(names, combo)) for combo in itertools.product(*(v for _, v in self.vary))]

    def members(self) -> list[Experiment]:
        out = []
        for variant in self.variants():
            for s in range(self.seeds):
                out.append(dataclasses.replace(self.baseline, **variant, seed=self.baseline.seed + s))
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "baseline": self.baseline.to_dict(),
            "vary": {name: list(values) for name, values in self.vary},
            "seeds": self.seeds,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Comparison:
        if not isinstance(data, Mapping):
            raise ValueError("a comparison must be a JSON object with baseline, vary and seeds")
        baseline = Experiment.from_dict(data.get("baseline", {}))
        vary = data.get("vary", {}) or {}
        if not isinstance(vary, Mapping):
            raise ValueError("vary must map knob names to lists of values")
        seeds = parse_knob("seed", data.get("seeds", 1))
        return cls.of(baseline, {k: list(v) for k, v in vary.items()}, seeds)


def value_text(value: Any) -> str:
    """How a knob value is written in labels, links and filters: 0.1 not 0.1000000001, True not 1."""
    if isinstance(value, float):
        return "" if math.isnan(value) else f"{value:g}"
    return "" if value is None else str(value)


def variant_label(variant: Mapping[str, Any]) -> str:
    """Human label of a variant: 'learning_rate=0.1, batch_size=32' (or 'baseline')."""
    return ", ".join(f"{k}={value_text(v)}" for k, v in variant.items()) or "baseline"
