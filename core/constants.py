"""Numbers that TensorFlow-free modules must share with core.training, without importing it.

core.training imports TensorFlow (seconds); the memory estimate, the Keras export and the sandbox
only need a few of its numbers. They live here once, so nobody copies them to dodge the import.
"""

from __future__ import annotations

EVAL_CHUNK = 1024  # examples per member per evaluation call (bounds the evaluation's activations)
