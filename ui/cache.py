"""Memo by content for a page's derived frames and charts: a revisit of a stored page redraws
without recomputing them.

Why by content: every chart and derived table is a pure function of frames that come from stored
runs, and a stored run never changes. A frame is fingerprinted by its shape, columns and a hash of
its values (a few ms), a result by its run keys and labels, so equal inputs from another session
or a later visit hit the same entry. The memo is process-wide and bounded (oldest out).
"""

from __future__ import annotations

import functools
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, TypeVar

import pandas as pd

MAX_MEMO_CHARTS = 256  # a page draws up to ~15 charts; this holds many pages' worth
_MEMO: OrderedDict[tuple, Any] = OrderedDict()
_MEMO_LOCK = threading.Lock()
Builder = TypeVar("Builder", bound=Callable[..., Any])


def _fingerprint(value: Any) -> Any:
    """A hashable stand-in for a builder argument: a frame by its shape, columns and content hash
    (a few ms for a full frame); raises TypeError for what cannot be fingerprinted."""
    if isinstance(value, pd.DataFrame):
        content = int(pd.util.hash_pandas_object(value, index=False).sum()) if len(value) else 0
        return ("frame", value.shape, tuple(map(str, value.columns)), content)
    if isinstance(value, (list, tuple)):
        return tuple(_fingerprint(v) for v in value)
    if hasattr(value, "runs") and hasattr(value, "variant_order"):  # a ComparisonResult
        return (
            "result",
            type(value).__name__,
            tuple(r.key for r in value.runs),
            tuple(value.variant_order()),
        )
    if isinstance(value, dict):
        return tuple(sorted((k, _fingerprint(v)) for k, v in value.items()))
    hash(value)
    return value


def memoized(builder: Builder) -> Builder:
    """Cache a chart builder's (or a frame computation's) result by its arguments' content: stored
    runs never change, so the same frames always give the same chart. Each caller gets a shallow copy (Altair's properties,
    layer and configure all copy before they change anything). Arguments that cannot be
    fingerprinted (unhashable cells) just build afresh."""

    @functools.wraps(builder)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            key = (builder.__module__, builder.__qualname__, _fingerprint(args), _fingerprint(kwargs))
        except TypeError:
            return builder(*args, **kwargs)
        with _MEMO_LOCK:
            hit = _MEMO.get(key)
            if hit is not None:
                _MEMO.move_to_end(key)
        if hit is None:
            hit = builder(*args, **kwargs)
            with _MEMO_LOCK:
                _MEMO[key] = hit
                while len(_MEMO) > MAX_MEMO_CHARTS:
                    _MEMO.popitem(last=False)
        return hit.copy(deep=False) if hasattr(hit, "copy") else hit

    return wrapper  # type: ignore[return-value]
