"""Page timings, printed (a benchmark, not a test): each page's default comparison cold on a fresh
store, then replayed in a new session. Run: python tests/bench_pages.py [page ...]

One process for all pages, so TensorFlow's import (3-5 s) is paid by the first cold page only.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ["WHATIF_STORE"] = str(Path(tempfile.mkdtemp()) / "runs.sqlite")
os.environ.pop("WHATIF_QUICK", None)

from streamlit.testing.v1 import AppTest  # noqa: E402

PAGES = sys.argv[1:] or [
    "home", "learning_rate", "optimizers", "weight_decay", "regularization", "batch_size", "batch_norm",
    "vanishing", "exploding", "wide_deep", "claims", "history",
]  # fmt: skip


def timed(page: str) -> tuple[float, bool]:
    start = time.perf_counter()
    at = AppTest.from_file(str(ROOT / "pages" / f"{page}.py"), default_timeout=600).run()
    return time.perf_counter() - start, not at.exception


print(f"{'page':16} {'cold s':>8} {'replay s':>9}  ok")
for page in PAGES:
    cold, ok1 = timed(page)
    replay, ok2 = timed(page)
    print(f"{page:16} {cold:8.1f} {replay:9.2f}  {ok1 and ok2}", flush=True)
