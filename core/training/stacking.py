"""How many members a stacked group holds: the real ones, padding copies of the last one, and the
rounding of that count to a bucket.

Why padding: a batched kernel treats the last elements that do not fill a SIMD register on a
scalar path, and a batched matmul of one member takes another kernel than one of several; trailing
copies of the last member (results dropped) keep every real member off those paths, so its numbers
do not depend on its group (core.training.trainer's docstring). Why buckets: every distinct stack
size traces its own graphs (~1.1 s and ~15-20 MB each), so comparisons a member or two apart should
share one; extra padding costs compute, hence the budget below.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from core.training.model import Shape

# Widest SIMD register Eigen uses on a CPU, in floats (AVX-512). Padding members must hold at least
# this many elements of every per-member tensor so the scalar tail of an op never reaches a real one.
SIMD_FLOATS = 16

# Stack sizes are rounded up to a multiple of the first of STACK_GRANULARITY whose worst case,
# (granularity - 1) padding members, costs at most PAD_BUDGET_MACS over a run. Measured on a 2-core
# CPU, a member costs ~0.13 ms per million multiply-adds plus ~0.04 ms per step (STEP_MACS of equal
# time), so the budget is ~0.15 s: a seventh of the ~1.1 s trace a new stack size costs.
STACK_GRANULARITY = (8, 4, 2, 1)
PAD_BUDGET_MACS = 1.2e9
STEP_MACS = 3e5
# Multiply-adds per weight and example: forward and backward of a training step, forward of an evaluation.
TRAIN_MACS, EVAL_MACS = 3, 1


def padding_members(batch: int, n_val: int, width: int, n_outputs: int) -> int:
    """How many padding members a group needs: at least one, and enough that together they hold
    SIMD_FLOATS elements of the smallest per-member tensor (a batch of the narrowest layer)."""
    smallest = max(1, min(batch, n_val) * min(width, n_outputs))
    return max(1, math.ceil(SIMD_FLOATS / smallest))


def stack_size(n_members: int, min_padding: int, member_macs: float) -> int:
    """The stacked K: the real members and at least min_padding padding members, rounded up to a
    multiple of a granularity, so that every count in a bucket shares the compiled graphs of one
    K. The granularity is the largest of STACK_GRANULARITY whose worst-case padding stays within
    PAD_BUDGET_MACS (member_macs: one member's cost over the run) and at most half the stack, so
    rounding adds less than half again (3 -> 4, 9 -> 12, 17 -> 24 when members are cheap)."""
    k = n_members + min_padding
    half = 1 << max(0, (k // 2).bit_length() - 1)  # the largest power of two <= k / 2
    step = next(
        g for g in STACK_GRANULARITY if (g - 1) * member_macs <= PAD_BUDGET_MACS and g <= max(2, half)
    )
    return math.ceil(k / step) * step


def member_macs(shape: Shape, epochs: int, steps: int, batch: int, n_eval: int) -> float:
    """One member's cost over a run in multiply-adds: its training steps, each step's fixed cost
    (STEP_MACS) and its per-epoch evaluation of n_eval examples (train subset and validation)."""
    weights = sum(a * b for a, b in zip(shape.sizes[:-1], shape.sizes[1:]))
    per_epoch = weights * (TRAIN_MACS * steps * batch + EVAL_MACS * n_eval) + STEP_MACS * steps
    return float(epochs * per_epoch)
