"""The Streamlit front end: pages compose these modules; charts are pure Altair (ui.charts).

TensorFlow's C++ log level is set here, on the first import of anything in ui, because a page
opened by a deep link runs without app.py and may import training code (which imports
TensorFlow) before anything else: set later, the level would not silence TF's start-up chatter.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # 2 = warnings and info off, errors still shown
