"""What the machine offers, found WITHOUT importing TensorFlow (the app's banner must be instant).

TensorFlow's own view (core.training.device) decides where training runs; this is only the badge.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess


@functools.cache
def accelerator() -> str:
    """'GPU: <name>' when an NVIDIA GPU is visible, else 'CPU (<n> cores)'."""
    if shutil.which("nvidia-smi") and os.environ.get("CUDA_VISIBLE_DEVICES", "") != "-1":
        try:
            out = subprocess.run(
                ["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"],
                capture_output=True,
                text=True,
                timeout=5,
                check=True,
            ).stdout.strip()
            if out:
                return f"GPU: {out.splitlines()[0]}"
        except (OSError, subprocess.SubprocessError):
            pass
    return f"CPU ({os.cpu_count() or 1} cores)"
