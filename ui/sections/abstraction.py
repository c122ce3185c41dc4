"""The wide-vs-deep page's feature-abstraction section (claim WVD4): linear probes on every hidden
layer of a deep net, trained and at its initial weights."""

from __future__ import annotations

import streamlit as st

from ui import panels
from ui.charts import families
from ui.run import claim_preview


def abstraction_section(dataset: str, key: str = "wide_deep.probes") -> None:
    """Subheader, a Run button, then probe accuracy by layer, trained vs untrained."""
    st.subheader("What each layer has learned")
    st.markdown(
        "Whether deeper layers hold more abstract features can be checked with a *linear probe*: a "
        "logistic regression that tries to read the class from one layer's activations. The better it "
        "does, the more directly that layer encodes the class. Probes on the same network before "
        "training show what a layer carries by chance; the difference is what training put there."
    )
    result = claim_preview(
        "WVD4", dataset, key, "Run the probes", lambda b: f"{b.depth}x{b.width} network, probes on each layer"
    )
    if result is None:
        return
    st.markdown("**Probe accuracy on the validation split, by layer**")
    panels.chart(families.probe_accuracy(result.frame("probes")))
    st.caption(
        "Layer 0 is the (scaled) input itself. Line: mean over seeds; band: lowest to highest seed. "
        "Probes: scikit-learn logistic regression on standardized activations, fitted on the training split."
    )
    panels.replay_caption(result)
