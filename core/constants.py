"""Numbers that TensorFlow-free modules must share with core.training, without importing it.

core.training imports TensorFlow (seconds); the memory estimate, the Keras export, the sandbox and
the spec only need a few of its numbers. They live here once, so nobody copies them to dodge the
import.
"""

from __future__ import annotations

EVAL_CHUNK = 1024  # examples per member per evaluation call (bounds the evaluation's activations)

# Initializers drawn from a plain normal: the standard deviation of each (the exported Keras
# snippet writes them as keras.initializers.RandomNormal(stddev=...)).
NORMAL_STD = {"normal_small": 0.01, "normal_large": 1.0}

# The optimizers a run can use. The sandbox has no weights to decay, so it offers all but adamw.
OPTIMIZERS = ("sgd", "momentum", "nesterov", "rmsprop", "adam", "adamw")

# Keras 3 defaults, kept so an exported snippet and the sandbox mean what the trainer does.
RMSPROP_RHO = 0.9  # keras.optimizers.RMSprop(rho=0.9)
ADAM_BETA_2 = 0.999  # keras.optimizers.Adam(beta_2=0.999)
OPTIMIZER_EPSILON = 1e-7  # Keras' epsilon for RMSprop and Adam (inside the sqrt for RMSprop)

# A weight with |w| below this counts as "zero" in the sparsity measure: L1 drives weights to
# within a step of zero, not to exactly zero, and 1e-3 is far below a trained weight's scale.
SPARSE_WEIGHT = 1e-3

# The datasets a run can name (core.data loads them; core.spec validates the names). Here, not in
# core.spec, so core.data needs nothing of the spec and the spec can ask core.limits (which
# reads the data's shape) without an import cycle.
TOY_DATASETS = ("moons", "circles", "spiral", "xor", "gaussians", "bumps")  # bumps: 2-D regression
SEQUENCE_DATASETS = ("adding",)  # generated sequences [N, seq_len, features] (the adding problem)
BUNDLED_DATASETS = ("digits", "breast_cancer", "wine")
DOWNLOADED_DATASETS = ("mnist", "fashion_mnist")
DATASETS = TOY_DATASETS + SEQUENCE_DATASETS + BUNDLED_DATASETS + DOWNLOADED_DATASETS
CSV_PREFIX = "csv:"  # "csv:<sha256-prefix>" names an uploaded table registered with core.data
