"""What every topic page shows under its builder: curves with seed bands, the final metrics,
the summary table, and the export/share row. Pages add their own topic charts around it."""

from __future__ import annotations

import json

import streamlit as st
from streamlit.errors import StreamlitAPIException

from core.export import keras_snippet
from core.results import ComparisonResult
from ui import charts
from ui.nav import PageInfo

METRICS = {
    "val_loss": "validation loss",
    "train_loss": "training loss",
    "val_accuracy": "validation accuracy",
    "train_accuracy": "training accuracy",
}


def chart(c, key: str | None = None) -> None:
    st.altair_chart(c, width="stretch", key=key)


def curves_panel(result: ComparisonResult, key: str, default_metric: str = "val_loss") -> None:
    """Loss/accuracy curves per variant with seed bands; the x axis and metric are choices."""
    epochs, summary, order = result.frame("epochs"), result.summary(), result.variant_order()
    cols = st.columns([2, 2, 1])
    metric = cols[0].selectbox("metric", list(METRICS), index=list(METRICS).index(default_metric),
                               format_func=METRICS.get, key=f"{key}.metric")  # fmt: skip
    x = cols[1].radio("x axis", ["epoch", "seconds"], horizontal=True, key=f"{key}.x")
    log_y = cols[2].toggle("log y", value=False, key=f"{key}.log")
    chart(charts.curves(epochs, metric=metric, x=x, summary=summary, variant_order=order, log_y=log_y))


def final_panel(result: ComparisonResult, metric: str = "final_val_loss") -> None:
    chart(charts.final_metric(charts.with_gaps(result.summary()), metric, result.variant_order()))


def summary_table(result: ComparisonResult) -> None:
    """One row per variant (mean over seeds), with the diverged count — the numbers behind it all."""
    s = charts.with_gaps(result.summary())
    cols = ["final_train_loss", "final_val_loss", "final_val_accuracy", "generalization_gap", "seconds"]
    agg = s.groupby("variant", sort=False)[cols].mean(numeric_only=True)
    agg["seeds"] = s.groupby("variant", sort=False).size()
    agg["diverged"] = s.groupby("variant", sort=False)["diverged"].sum().astype(int)
    agg = agg.reindex([v for v in result.variant_order() if v in agg.index]).reset_index()
    st.dataframe(
        agg,
        hide_index=True,
        width="stretch",
        column_config={
            "variant": st.column_config.TextColumn("variant"),
            "final_train_loss": st.column_config.NumberColumn("train loss", format="%.4f"),
            "final_val_loss": st.column_config.NumberColumn("val loss", format="%.4f"),
            "final_val_accuracy": st.column_config.NumberColumn("val accuracy", format="percent"),
            "generalization_gap": st.column_config.NumberColumn("gap (val − train loss)", format="%.4f"),
            "seconds": st.column_config.NumberColumn("s / run", format="%.2f"),
            "diverged": st.column_config.NumberColumn("diverged seeds", help="runs whose loss blew up"),
        },
    )


def export_panel(result: ComparisonResult, key: str) -> None:
    """CSV of the epoch frame, JSON of the comparison, a Keras snippet for one chosen run."""
    with st.expander("Export & reproduce"):
        cols = st.columns(2)
        cols[0].download_button(
            "Epoch metrics (CSV)", result.frame("epochs").to_csv(index=False), "epochs.csv", "text/csv",
            key=f"{key}.csv",
        )  # fmt: skip
        cols[1].download_button(
            "Comparison (JSON)", json.dumps(result.comparison.to_dict(), indent=2), "comparison.json",
            "application/json", key=f"{key}.json",
        )  # fmt: skip
        variants = result.summary()["variant"]
        runs = {f"{variants[i]} · seed {r.experiment.seed}": r for i, r in enumerate(result.runs)}
        label = st.selectbox("Keras code for this run", list(runs), key=f"{key}.snippet")
        st.code(keras_snippet(runs[label].experiment), language="python")
        st.caption("Run it anywhere with TensorFlow installed. Same knobs, plain Keras; the explorer "
                   "computes the same update rules, stacked.")  # fmt: skip


def share_panel(key: str) -> None:
    params = {k: st.query_params.get_all(k) for k in st.query_params}
    query = "&".join(f"{k}={v}" for k, vs in params.items() for v in vs)
    st.caption("Share: this page's address holds the comparison; whoever opens it sees these runs "
               "replayed from the store, without training." + (f"  `?{query}`" if query else ""))  # fmt: skip


def standard(result: ComparisonResult, key: str, metric: str = "val_loss") -> None:
    """The block every topic page shows for its comparison."""
    curves_panel(result, key, metric)
    left, right = st.columns(2)
    with left:
        final_panel(result)
    with right:
        summary_table(result)
    replayed = f"{result.replayed} of {len(result.runs)} runs replayed from the store"
    st.caption(f"{len(result.runs)} runs · {replayed}")
    export_panel(result, key)
    share_panel(key)


def page_link(page: PageInfo) -> None:
    """A link to a topic page. Run on its own (a deep link, AppTest.from_file) a page has no
    navigation to resolve the file against, so fall back to a plain URL link."""
    try:
        st.page_link(page.path, label=page.title, icon=page.icon)
    except StreamlitAPIException:
        st.markdown(f"{page.icon} [{page.title}](/{page.path.removeprefix('pages/').removesuffix('.py')})")
