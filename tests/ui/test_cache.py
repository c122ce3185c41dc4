"""ui.cache: a result computed from equal frames is computed once; different content recomputes."""

from __future__ import annotations

import pandas as pd

from ui.cache import memoized

calls: list[int] = []


def mean_loss(df: pd.DataFrame, column: str = "loss") -> pd.DataFrame:
    calls.append(1)
    return df.groupby("variant", as_index=False)[column].mean()


def test_equal_content_hits_and_new_content_recomputes() -> None:
    cached = memoized(mean_loss)
    calls.clear()
    df = pd.DataFrame({"variant": ["a", "a", "b"], "loss": [1.0, 3.0, 5.0]})
    first = cached(df)
    again = cached(df.copy())  # another frame, same content
    assert len(calls) == 1 and first.equals(again)
    again.loc[0, "loss"] = 99.0
    assert cached(df).loc[0, "loss"] == 2.0  # the caller's change does not reach the cache
    cached(df.assign(loss=[1.0, 3.0, 6.0]))
    cached(df, column="loss")
    assert len(calls) == 3  # new values, and a keyword argument, are new keys


def test_frames_that_cannot_be_hashed_are_computed_every_time() -> None:
    seen: list[int] = []

    def count(df: pd.DataFrame) -> int:
        seen.append(1)
        return len(df)

    cached = memoized(count)
    lists = pd.DataFrame({"cells": [[1, 2], [3]]})  # list cells: no content hash
    assert cached(lists) == 2 and cached(lists) == 2
    assert len(seen) == 2
