"""Labelled variants that differ in several knobs at once, and the protocol the runner trains.

Why not always a `Comparison`: a Comparison is a cartesian product of at most two varied knobs,
and some pages need sets that are not ("L1+L2", "dropout", "batch 512 at a scaled LR", the
fixes of an exploding run one at a time, (depth, width) pairs at one parameter budget). A
`VariantSet` names each variant and repeats it over seeds exactly as a Comparison does (it asks
Comparison for that repetition, so seed numbering and the seed limits are written once).

`RunPlan` is what both satisfy and what core.runner.run_comparison / ComparisonResult need:
members to train, variants to label, the baseline and the seed count.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from core.limits import MAX_MEMBERS, check_memory
from core.spec import KNOBS, Comparison, Experiment


@runtime_checkable
class RunPlan(Protocol):
    """A set of member runs the runner can train and a result can label (Comparison, VariantSet)."""

    @property
    def baseline(self) -> Experiment: ...

    @property
    def seeds(self) -> int: ...

    @property
    def varied(self) -> tuple[str, ...]: ...

    @property
    def n_members(self) -> int: ...

    def members(self) -> list[Experiment]: ...

    def variants(self) -> list[dict[str, Any]]: ...

    def to_dict(self) -> dict[str, Any]: ...


@dataclass(frozen=True)
class VariantSet:
    """Named variants x seeds, for variants that differ in more than one knob.

    Members are each variant's experiment repeated over seeds seed ... seed + seeds - 1, as
    Comparison.members() does (it is asked to); members with equal group keys still stack.
    """

    named: tuple[tuple[str, Experiment], ...]
    seeds: int = 1

    def __post_init__(self) -> None:
        labels = self.labels
        if not labels:
            raise ValueError("a variant set needs at least one variant")
        if len(set(labels)) != len(labels):
            raise ValueError(f"variant labels must be distinct: {', '.join(labels)}")
        self._repeat(self.named[0][1])  # Comparison checks the seed count (1..MAX_MEMBERS)
        if self.n_members > MAX_MEMBERS:
            raise ValueError(
                f"this set has {self.n_members} runs ({len(labels)} variants x {self.seeds} seeds); "
                f"the limit is {MAX_MEMBERS}: use fewer variants or fewer seeds"
            )
        keys: dict[str, str] = {}
        for label, e in self.named:
            for m in self._repeat(e):
                if m.key in keys and keys[m.key] != label:
                    raise ValueError(f"variants {keys[m.key]!r} and {label!r} are the same run")
                keys[m.key] = label
        check_memory(self.members())

    @classmethod
    def of(cls, named: Mapping[str, Experiment], seeds: int = 1) -> VariantSet:
        return cls(tuple(named.items()), seeds)

    def _repeat(self, e: Experiment) -> list[Experiment]:
        return list(_seed_repeats(e, self.seeds))

    @property
    def baseline(self) -> Experiment:
        return self.named[0][1]

    @property
    def labels(self) -> list[str]:
        return [label for label, _ in self.named]

    @property
    def n_members(self) -> int:
        return len(self.named) * self.seeds

    @functools.cached_property
    def varied(self) -> tuple[str, ...]:
        """Knobs whose value differs between variants: they become frame columns."""
        return tuple(
            k for k in KNOBS if k != "seed" and len({getattr(e.resolved(), k) for _, e in self.named}) > 1
        )

    def members(self) -> list[Experiment]:
        return [m for _, e in self.named for m in self._repeat(e)]

    def variants(self) -> list[dict[str, Any]]:
        return [{k: getattr(e, k) for k in self.varied} for _, e in self.named]

    @functools.cached_property
    def _labels_by_run(self) -> dict[Experiment | str, str]:
        """Label by experiment (as built and as stored, i.e. resolved) and by key: hashing an
        Experiment is cheap, computing its key (canonical JSON + SHA-256) is not."""
        out: dict[Experiment | str, str] = {}
        for label, e in self.named:
            for m in self._repeat(e):
                out[m] = out[m.resolved()] = out[m.key] = label
        return out

    def label_of(self, e: Experiment) -> str:
        found = self._labels_by_run.get(e)
        return found if found is not None else self._labels_by_run.get(e.key, "?")

    def to_dict(self) -> dict[str, Any]:
        return {"variants": {label: e.to_dict() for label, e in self.named}, "seeds": self.seeds}


@functools.lru_cache(maxsize=1024)
def _seed_repeats(e: Experiment, seeds: int) -> tuple[Experiment, ...]:
    """e over seeds, via a one-variant Comparison: the same numbering and limits as everywhere.
    Cached because building a Comparison validates its members and estimates their memory."""
    return tuple(Comparison.of(e, seeds=seeds).members())
