"""What every topic page shows under its builder: curves with seed bands, the final metrics,
the summary table, and the export/share row. Pages add their own topic charts around it."""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from typing import Any

import pandas as pd
import streamlit as st
from streamlit.errors import StreamlitAPIException

from core import measures
from core.export import keras_snippet, plain_unavailable
from core.export_exact import exact_script, exact_unavailable, exact_zip
from core.results import ComparisonResult
from core.spec import Experiment
from core.topics.regularization import training_clock, with_steps
from ui import charts
from ui.labels import legend_key as labels_key
from ui.nav import PageInfo
from ui.share import query_text
from ui.text import dataset_label, plain

METRICS = {
    "val_loss": "validation loss",
    "train_loss": "training loss",
    "val_accuracy": "validation accuracy",
    "train_accuracy": "training accuracy",
}


def chart(c: charts.Chart, key: str | None = None) -> None:
    """Draw an Altair chart at the container's width, its label limits fitted to its labels.

    Streamlit converts with chart.to_dict(), which validates the whole spec against Vega-Lite's
    JSON schema: ~0.3 s per chart, most of a stored page's redraw. Every builder's output is
    validated by tests/ui/charts, so the page skips it: the drawn copy's to_dict does not validate.
    """
    fitted = charts.fit_labels(c)
    to_dict = functools.partial(fitted.to_dict, validate=False)
    if charts.with_full_names(fitted):  # tooltips also give each short variant label in full
        object.__setattr__(fitted, "to_dict", lambda *a, **kw: charts.add_full_tips(to_dict(*a, **kw)))
    else:
        object.__setattr__(fitted, "to_dict", to_dict)
    st.altair_chart(fitted, width="stretch", key=key)


# The x axes a curves panel can offer: by epoch every variant has seen the same data, by optimizer
# step the same number of updates, by training seconds the same compute.
X_AXES = {"epoch": "epoch", "optimizer step": "step", "seconds (training)": "seconds"}


def curves_panel(
    result: ComparisonResult,
    key: str,
    default_metric: str = "val_loss",
    x_axes: Sequence[str] = ("epoch", "seconds (training)"),
    epochs: pd.DataFrame | None = None,
    summary: pd.DataFrame | None = None,
) -> None:
    """Loss/accuracy curves per variant with seed bands; the metric, the x axis (among `x_axes`,
    keys of X_AXES) and a log y are choices.

    Seconds leave out each group's first-epoch tracing/compilation (training_clock), which is
    paid once per network shape and would otherwise dominate short runs. Pass the frames when the
    page already has them: building them again is a noticeable share of a replay.
    """
    summary = result.summary() if summary is None else summary
    epochs = result.frame("epochs") if epochs is None else epochs
    cols = st.columns([2, 3, 1])
    metrics = list(METRICS)
    metric = cols[0].selectbox(
        "metric", metrics, index=metrics.index(default_metric), format_func=METRICS.get, key=f"{key}.metric"
    )
    x = X_AXES[cols[1].radio("x axis", list(x_axes), horizontal=True, key=f"{key}.x")]
    log_y = cols[2].toggle("log y", value=False, key=f"{key}.log")
    if x == "seconds":
        epochs = training_clock(epochs)
    elif x == "step":
        epochs = with_steps(epochs, summary)
    order = result.variant_order()
    chart(charts.curves(epochs, metric=metric, x=x, summary=summary, variant_order=order, log_y=log_y))
    legend_key(order)


def legend_key(labels: Sequence[str]) -> None:
    """Spell out the knob abbreviations the variant labels use (ui.labels), once per chart block."""
    key = labels_key(labels)
    if key:
        st.caption(f"Labels: {key}.")


def final_panel(result: ComparisonResult, metric: str = "final_val_loss") -> None:
    """Every seed's final metric per variant (dots, mean tick, seed range)."""
    chart(charts.final_metric(measures.with_gaps(result.summary()), metric, result.variant_order()))


def summary_table(result: ComparisonResult) -> None:
    """One row per variant (mean over seeds), with how many seeds diverged and how many did not
    train at all (diverged or stuck at chance level) — the numbers behind it all."""
    s = measures.with_gaps(result.summary())
    cols = ["final_train_loss", "final_val_loss", "final_val_accuracy", "generalization_gap", "seconds"]
    agg = s.groupby("variant", sort=False)[cols].mean(numeric_only=True)
    agg["seeds"] = s.groupby("variant", sort=False).size()
    agg["diverged"] = s.groupby("variant", sort=False)["diverged"].sum().astype(int)
    agg["did_not_train"] = measures.did_not_train(s).groupby(s["variant"], sort=False).sum().astype(int)
    agg = agg.reindex([v for v in result.variant_order() if v in agg.index]).reset_index()
    dataframe(
        agg,
        column_config={
            "variant": st.column_config.TextColumn("variant"),
            "final_train_loss": st.column_config.NumberColumn("train loss", format="%.4f"),
            "final_val_loss": st.column_config.NumberColumn("val loss", format="%.4f"),
            "final_val_accuracy": st.column_config.NumberColumn("val accuracy", format="percent"),
            "generalization_gap": st.column_config.NumberColumn("gap (val − train loss)", format="%.4f"),
            "seconds": st.column_config.NumberColumn("s / run", format="%.2f"),
            "diverged": st.column_config.NumberColumn("diverged seeds", help="runs whose loss blew up"),
            "did_not_train": st.column_config.NumberColumn(
                "did not train", help="seeds that diverged or sat at chance level (collapsed)"
            ),
        },
    )


# Numbers in tables: four significant digits (0.01602, 379.2, 6.727e+04), never a raw float
# such as 2.0460458199183145; a column given its own format keeps it.
NUMBER_FORMAT = "%.4g"


def dataframe(df: pd.DataFrame, column_config: dict | None = None, **kwargs: Any) -> None:
    """st.dataframe with every float column formatted (NUMBER_FORMAT unless configured), hidden
    index and container width by default."""
    config = dict(column_config or {})
    for column in df.columns:
        if column not in config and pd.api.types.is_float_dtype(df[column]):
            config[column] = st.column_config.NumberColumn(str(column), format=NUMBER_FORMAT)
    kwargs.setdefault("hide_index", True)
    kwargs.setdefault("width", "stretch")
    st.dataframe(df, column_config=config, **kwargs)


def replay_caption(result: ComparisonResult) -> None:
    """How many of the shown runs came from the store: a replay is instant and trains nothing."""
    n = len(result.runs)
    on = plain(dataset_label(result.comparison.baseline.dataset))
    st.caption(f"{n} runs on {on} · {result.replayed} of {n} runs replayed from the store")


def table(
    df: pd.DataFrame, formats: dict[str, str] | None = None, labels: dict[str, str] | None = None
) -> None:
    """A read-only numbers table with printf formats and friendlier column titles."""
    formats, labels = formats or {}, labels or {}
    config = {
        c: st.column_config.NumberColumn(labels.get(c, c), format=formats[c])
        if c in formats
        else st.column_config.Column(labels.get(c, c))
        for c in df.columns
    }
    dataframe(df, column_config=config)


def tensorboard_zip(result: ComparisonResult) -> bytes:
    """The comparison as zipped TensorBoard logs; tensorboardX is imported only when asked for."""
    from core.tensorboard import logdir_zip

    return logdir_zip(result)


def export_panel(result: ComparisonResult, key: str) -> None:
    """CSV of the epoch frame, JSON of the comparison, TensorBoard logs, a Keras snippet for one run."""
    with st.expander("Export & reproduce"):
        cols = st.columns(3)
        cols[0].download_button(
            "Epoch metrics (CSV)",
            result.export_epochs().to_csv(index=False),  # a diverged run keeps its rows up to the stop
            "epochs.csv",
            "text/csv",
            key=f"{key}.csv",
        )
        cols[1].download_button(
            "Comparison (JSON)",
            json.dumps(result.comparison.to_dict(), indent=2),
            "comparison.json",
            "application/json",
            key=f"{key}.json",
        )
        cols[2].download_button(
            "TensorBoard logs (zip)",
            lambda: tensorboard_zip(result),  # built on click (seconds for a grid), not on every rerun
            "tensorboard-logs.zip",
            "application/zip",
            key=f"{key}.tb",
            help="Unzip, then `tensorboard --logdir .`: Scalars, Histograms and HParams of every run.",
        )
        variants = result.summary()["variant"]
        runs = {f"{variants[i]} · seed {r.experiment.seed}": r for i, r in enumerate(result.runs)}
        label = st.selectbox("Keras code for this run", list(runs), key=f"{key}.snippet")
        snippet_panel(runs[label].experiment, key)


# The two Keras exports: the run replayed step for step, or the same knobs in plain Keras.
SNIPPET_KINDS = {
    "exact": "exact: this run's initial weights and batch order",
    "close": "plain Keras: Keras' own weights and order (numbers come close)",
}


def snippet_panel(e: Experiment, key: str) -> None:
    """One run as Keras code: the exact replay (a script plus its run file, zipped) by default,
    the plain script as the alternative; a run that cannot be replayed exactly says why."""
    kind = st.radio(
        "Keras code",
        list(SNIPPET_KINDS),
        format_func=SNIPPET_KINDS.get,
        horizontal=True,
        key=f"{key}.snippet_kind",
    )
    unavailable = exact_unavailable(e) if kind == "exact" else None
    if kind == "exact" and unavailable is None:
        st.download_button(
            "Script + run file (zip)",
            lambda: exact_zip(e),  # loads the run's data: built on click, not on every rerun
            f"whatif-{e.resolved().key}.zip",
            "application/zip",
            key=f"{key}.exact",
        )
        st.code(exact_script(e), language="python")
        st.caption(
            "Unzip both files into one folder and run the script where TensorFlow is installed: "
            "each epoch prints this run's training and validation loss, equal to the explorer's "
            "up to float32 rounding."
        )
        return
    no_script = plain_unavailable(e)
    if no_script:
        st.caption(f"No Keras script for this run: {plain(no_script)}.")
        return
    if unavailable:
        st.caption(f"No exact replay for this run: {plain(unavailable)}. The plain script follows.")
    st.code(keras_snippet(e), language="python")
    st.caption(
        "Run it anywhere with TensorFlow installed. Same knobs, plain Keras; the explorer "
        "computes the same update rules, stacked, but Keras draws its own initial weights and "
        "batch order, so the numbers come close rather than equal."
    )


def share_panel(key: str) -> None:
    """The page's address as a share link: it replays these runs for whoever opens it."""
    params = {k: st.query_params.get_all(k) for k in st.query_params}
    query = query_text(params)  # ours only, percent-encoded: nothing a visitor typed becomes Markdown
    st.caption(
        "Share: this page's address holds the comparison; whoever opens it sees these runs "
        "replayed from the store, without training." + (f"  `?{query}`" if query else "")
    )


def standard(result: ComparisonResult, key: str, metric: str = "val_loss") -> None:
    """The block every topic page shows for its comparison."""
    curves_panel(result, key, metric)
    final_panel(result)
    summary_table(result)
    replay_caption(result)
    export_panel(result, key)
    share_panel(key)
    from ui.sections.tuning import tuning_section  # lazy: it imports ui.run, which pages import

    tuning_section(result, key)  # TUNING: only when the builder's switch is on


def page_link(page: PageInfo) -> None:
    """A link to a topic page. Run on its own (a deep link, AppTest.from_file) a page has no
    navigation to resolve the file against, so fall back to a plain URL link."""
    try:
        st.page_link(page.path, label=page.title, icon=page.icon)
    except StreamlitAPIException:
        st.markdown(f"{page.icon} [{page.title}](/{page.path.removeprefix('pages/').removesuffix('.py')})")
