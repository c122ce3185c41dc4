"""The vanishing page's recurrent section (claim VG3): a plain RNN and an LSTM of equal width on the
adding problem, the gradient reaching each time step as a heatmap, and the learning curves
against the constant predictor. It trains the claim's own preset, so the runs it stores are the
ones the claim block replays (one training serves both)."""

from __future__ import annotations

import math

import pandas as pd
import streamlit as st

from core.claims import CLAIMS
from core.claims.recurrent import SOLVED_SHARE, VG3_SEQ_LEN, VG3_WIDTH
from core.results import ComparisonResult
from ui import panels
from ui.charts import recurrent as charts
from ui.run import on_demand, stacked_note
from ui.session import quick  # tests and demos: the claim's fast preset

KEY = "vanishing.recurrent"


def recurrent_section() -> None:
    """Heading, explanation, Run button and (once trained or stored) the charts and a table."""
    st.subheader("Across time steps: a plain RNN vs an LSTM")
    st.markdown(
        "A recurrent net applies the same layer once per time step, so backpropagation through time "
        "multiplies one derivative per *step*: in a plain (tanh) RNN the gradient reaching the early "
        "steps fades like the early layers' of a deep sigmoid net. An LSTM's cell state adds instead of "
        "multiplying, and once its forget gates learn to stay open the gradient reaches the start "
        "([Hochreiter & Schmidhuber 1997](https://www.bioinf.jku.at/publications/older/2604.pdf)). "
        f"The test is the *adding problem*: {VG3_SEQ_LEN} steps of random values, two of them marked (one "
        "in each half); the answer is the sum of the two marked values, so the net must carry the first "
        "one across up to 49 steps. Always answering the mean scores an MSE of about 1/6 (the dashed line)."
    )
    (comparison,) = CLAIMS["VG3"].comparisons("adding", fast=quick())
    note = stacked_note(comparison, f"SimpleRNN vs LSTM, {VG3_WIDTH} units, {comparison.seeds} seeds each")
    result = on_demand(comparison, KEY, "Run RNN vs LSTM", note)
    if result is None:
        return
    order = result.variant_order()
    st.markdown("**Gradient reaching each time step, relative to the last step**")
    st.caption(
        "Rows: time steps, the first at the top. Colour: ‖∂L/∂h_t‖ / ‖∂L/∂h_T‖ on a log scale, mean over "
        "each epoch's steps, geometric mean over seeds."
    )
    panels.chart(charts.timestep_heatmap(result.frame("timesteps"), order))
    st.markdown("**Validation MSE against the constant predictor**")
    panels.chart(charts.curves_vs_baseline(result.frame("epochs"), result.summary(), order))
    panels.dataframe(model_table(result))
    panels.replay_caption(result)


def model_table(result: ComparisonResult) -> pd.DataFrame:
    """Per model: first/last time-step gradient ratio (geometric mean over seeds), validation MSE
    as a share of the constant predictor's, and how many seeds solved the task."""
    s = result.summary()
    rows = []
    for variant in result.variant_order():
        v = s[s["variant"] == variant]
        logs = pd.to_numeric(v.get("log10_step_ratio"), errors="coerce").dropna()
        share = pd.to_numeric(v["final_val_loss"], errors="coerce") / pd.to_numeric(
            v["baseline_val_loss"], errors="coerce"
        )
        rows.append(
            {
                "model": variant,
                "first / last step gradient": 10 ** float(logs.mean()) if len(logs) else math.nan,
                "val MSE / constant predictor's": float(share.mean()),
                f"seeds solved (below {SOLVED_SHARE:g})": f"{int((share < SOLVED_SHARE).sum())}/{len(v)}",
            }
        )
    return pd.DataFrame(rows)
