"""TensorFlow import with the settings this product needs, and which device runs the training.

Importing TensorFlow is slow (3-5 s) and chatty; only modules that train import this one, so
replaying stored runs never pays for it. GPU memory growth must be enabled before the GPU is
first touched, which is why it happens here, at import, once per process.
"""

from __future__ import annotations

import contextlib
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import tensorflow as tf


def _enable_memory_growth() -> list[str]:
    names = []
    for gpu in tf.config.list_physical_devices("GPU"):
        with contextlib.suppress(RuntimeError):  # already initialized: keep it as it is
            tf.config.experimental.set_memory_growth(gpu, True)
        details = tf.config.experimental.get_device_details(gpu)
        names.append(details.get("device_name", gpu.name))
    return names


GPUS = _enable_memory_growth()
tf.get_logger().setLevel("ERROR")  # retracing notices: expected once per new network shape


def device_name() -> str:
    """'GPU: <name>' when TensorFlow sees a GPU (the same code then runs there), else 'CPU'."""
    return f"GPU: {GPUS[0]}" if GPUS else "CPU"
