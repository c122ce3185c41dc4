"""core.training.stacking: the stack size of a group, rounded to buckets within a padding budget."""

from __future__ import annotations

from core.training.stacking import PAD_BUDGET_MACS, stack_size


def test_stack_size_rounds_cheap_stacks_more_and_never_below_the_padding():
    cheap, dear = 1e6, PAD_BUDGET_MACS
    assert [stack_size(n, 1, cheap) for n in (1, 2, 4, 5, 7, 8, 14, 15, 16)] == [
        2,
        4,
        6,
        6,
        8,
        12,
        16,
        16,
        24,
    ]
    assert [stack_size(n, 1, dear) for n in (1, 2, 4, 5, 8)] == [2, 4, 6, 6, 10]  # at most one extra
    assert [stack_size(n, 1, 2 * dear) for n in (1, 2, 5, 8)] == [2, 3, 6, 9]  # none
    assert stack_size(3, 5, cheap) == 8  # tiny shapes need more padding: it is kept
