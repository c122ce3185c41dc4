"""Widgets of the run history page: filters, the run table, knob charts, overlay and delete.

Each function draws one part and returns plain values (the filtered runs, the selected keys),
so pages/history.py reads top to bottom. The table's row selection is mirrored by a multiselect
of run keys: the same choice for keyboard and screen-reader users, and for AppTest, which
cannot click table rows. Nothing here trains: runs come from the store, so TensorFlow is never
imported by this page.
"""

from __future__ import annotations

import hashlib
import hmac
import os

import pandas as pd
import streamlit as st

from core import history
from ui import charts
from ui.panels import METRICS, chart
from ui.session import session_id, store

MAX_OVERLAY = 24  # runs on one curves chart: beyond that the colours stop being distinguishable
NO_COLOUR = "(none)"


def _keep_valid(key: str, options: list) -> None:
    """Drop stale values from a multiselect's state before it is drawn (deleted runs, filters)."""
    if key in st.session_state:
        st.session_state[key] = [v for v in st.session_state[key] if v in options]


def filters(runs: pd.DataFrame, key: str) -> pd.DataFrame:
    """Dataset and knob filters (empty = everything); returns the runs that pass."""
    chosen: dict[str, list[str]] = {}
    datasets = history.value_options(runs, "dataset")
    _keep_valid(f"{key}.dataset", datasets)
    cols = st.columns([2, 3])
    chosen["dataset"] = cols[0].multiselect("dataset", datasets, key=f"{key}.dataset", placeholder="all")
    knobs = history.varying(runs, exclude=("dataset",))
    with cols[1].expander(f"Filter by knob ({len(knobs)} knobs differ among the stored runs)"):
        inner = st.columns(3)
        for i, knob in enumerate(knobs):
            options = history.value_options(runs, knob)
            _keep_valid(f"{key}.f.{knob}", options)
            chosen[knob] = inner[i % 3].multiselect(knob, options, key=f"{key}.f.{knob}", placeholder="all")
    return history.apply_filters(runs, chosen)


def _column_config(table: pd.DataFrame) -> dict:
    number = {m: st.column_config.NumberColumn(m, format="%.4f") for m in history.MAIN_METRICS}
    number |= {m: st.column_config.NumberColumn(m, format="percent") for m in history.MAIN_METRICS
               if "accuracy" in m}  # fmt: skip
    return {
        **{c: cfg for c, cfg in number.items() if c in table},
        "run": st.column_config.TextColumn("run", help="the first characters of the run's key", pinned=True),
        "created": st.column_config.DatetimeColumn("created (UTC)", format="YYYY-MM-DD HH:mm"),
        "diverged": st.column_config.CheckboxColumn("diverged", help="the loss blew up; the run stopped"),
        "seconds": st.column_config.NumberColumn("s / run", format="%.2f"),
    }


def table(runs: pd.DataFrame, key: str) -> list[str]:
    """The runs, one row each (select rows to act on them); returns the selected keys."""
    shown = history.table_frame(runs)
    # The key follows the rows shown, so a selection never points at rows that moved after a
    # filter change or a delete: a new table starts unselected.
    digest = hashlib.sha256("|".join(shown["key"]).encode()).hexdigest()[:10]
    event = st.dataframe(
        shown,
        hide_index=True,
        width="stretch",
        height=min(420, 38 + 35 * len(shown)),
        column_config=_column_config(shown),
        on_select="rerun",
        selection_mode="multi-row",
        key=f"{key}.table.{digest}",
    )
    rows = [r for r in event.selection.rows if 0 <= r < len(shown)]
    return list(shown["key"].iloc[rows])


def picker(runs: pd.DataFrame, key: str, from_table: list[str]) -> list[str]:
    """The keyboard way to select runs (a multiselect of the runs the filters let through, so
    its "Select all" never reaches a run the page does not show); returns the union of both
    selections, table rows first."""
    newest = runs.iloc[::-1]
    moving = history.varying(newest, exclude=("dataset",))
    labels = {}
    for _, row in newest.iterrows():
        knobs = [f"{k}={history.value_text(row[k])}" for k in moving[:4]]
        labels[row["key"]] = " · ".join([row["key"][: history.SHORT_KEY], str(row["dataset"]), *knobs])
    _keep_valid(f"{key}.pick", list(labels))
    picked = st.multiselect(
        "or pick runs by key",
        list(labels),
        format_func=labels.get,
        key=f"{key}.pick",
        placeholder="type part of a key, a dataset or a knob value",
    )
    return list(dict.fromkeys([*from_table, *picked]))


def knob_charts(runs: pd.DataFrame, key: str) -> None:
    """Parallel coordinates of the knobs that differ → final validation loss; a knob-vs-metric
    scatter with the axes as choices."""
    knobs = history.varying(runs, exclude=("seed",))
    st.subheader("Which knobs went with a low validation loss")
    if knobs:
        chart(charts.parallel_coordinates(runs, knobs, "final_val_loss"), key=f"{key}.parallel")
        st.caption("One line per run, across the knobs that differ among the runs shown; hover a line "
                   "to follow it. Dashed grey: diverged runs (no final loss).")  # fmt: skip
    else:
        st.info("The runs shown differ only in their seed: there is no knob to compare across.")
    st.subheader("Any knob against any metric")
    xs, metrics = history.numeric_knobs(runs), history.metric_columns(runs)
    if not xs or not metrics:
        st.info("No numeric knob or metric to plot yet.")
        return
    cols = st.columns([2, 2, 2, 1])
    x = cols[0].selectbox("knob (x)", xs, key=f"{key}.sx")
    y = cols[1].selectbox("metric (y)", metrics, key=f"{key}.sy")
    others = history.varying(runs, exclude=("seed", x))
    hues = [NO_COLOUR, *others, *(["seed"] if "seed" in history.varying(runs) else [])]
    hue = cols[2].selectbox("colour by", hues, index=1 if others else 0, key=f"{key}.shue")
    log_x = cols[3].toggle("log x", value=history.spans_decades(runs[x]), key=f"{key}.slog.{x}")
    chart(charts.scatter(runs, x, y, None if hue == NO_COLOUR else hue, log_x=log_x), key=f"{key}.scatter")


def overlay(keys: list[str], key: str) -> None:
    """The selected runs' curves on one chart, labelled by whatever differs among them."""
    st.subheader("Selected runs, overlaid")
    if not keys:
        st.caption("Select rows in the table (or pick runs by key) to overlay their curves here.")
        return
    if len(keys) > MAX_OVERLAY:
        st.warning(f"{len(keys)} runs selected: the first {MAX_OVERLAY} are drawn.")
    found = store().get_many(keys[:MAX_OVERLAY], frames=["epochs"])
    runs = [found[k] for k in keys[:MAX_OVERLAY] if k in found]
    if not runs:
        st.info("The selected runs are no longer in the store.")
        return
    cols = st.columns([2, 2, 1, 2])
    metric = cols[0].selectbox("metric", list(METRICS), format_func=METRICS.get, key=f"{key}.metric")
    x = cols[1].radio("x axis", ["epoch", "seconds"], horizontal=True, key=f"{key}.x")
    log_y = cols[2].toggle("log y", key=f"{key}.log")
    pool = cols[3].toggle("pool seeds into bands", key=f"{key}.pool",
                          help="runs that differ only in their seed become one line with a band")  # fmt: skip
    ov = history.overlay(runs, pool_seeds=pool)
    chart(charts.curves(ov.epochs, metric, x, ov.summary, ov.order, log_y), key=f"{key}.overlay")
    st.caption(f"{len(runs)} stored run(s) replayed from the store · labels name what differs among them")


ADMIN_ENV = "WHATIF_ADMIN_TOKEN"  # the server's admin secret; unset = nobody deletes others' runs


def admin_configured() -> bool:
    return bool(os.environ.get(ADMIN_ENV))


def is_admin() -> bool:
    return bool(st.session_state.get("admin")) and admin_configured()


def _check_token(key: str) -> None:
    """Compare the typed secret with the server's in constant time; remember a match for the
    session (entered once) and forget what was typed either way."""
    typed = st.session_state.get(f"{key}.token", "") or ""
    st.session_state[f"{key}.token"] = ""
    secret = os.environ.get(ADMIN_ENV, "")
    ok = bool(secret) and hmac.compare_digest(typed.encode(), secret.encode())
    st.session_state["admin"] = ok
    st.session_state[f"{key}.flash"] = "Signed in as admin." if ok else "That is not the admin secret."


def admin_login(key: str) -> None:
    """The admin's way in (only when the server has a secret configured)."""
    if not admin_configured() or is_admin():
        return
    with st.expander("Admin: delete any run, restore from the trash"):
        st.text_input("admin secret", type="password", key=f"{key}.token")
        st.button("Sign in", key=f"{key}.signin", on_click=_check_token, args=(key,))


def _ask(key: str, keys: list[str]) -> None:
    st.session_state[f"{key}.confirm"] = list(keys)


def _delete(key: str) -> None:
    keys = st.session_state.pop(f"{key}.confirm", [])
    allowed = keys if is_admin() else [k for k in keys if k in store().owned(session_id())]
    removed = store().delete(allowed)
    st.session_state[f"{key}.pick"] = [k for k in st.session_state.get(f"{key}.pick", []) if k not in keys]
    where = "to the trash (the admin can restore them)" if store().mode == "rw" else "from this session"
    st.session_state[f"{key}.flash"] = f"Deleted {removed} run(s) {where}."


def _cancel(key: str) -> None:
    st.session_state.pop(f"{key}.confirm", None)


def _flash(key: str) -> None:
    flash = st.session_state.pop(f"{key}.flash", None)
    if flash:
        (st.success if flash.startswith(("Deleted", "Restored", "Signed")) else st.error)(flash)


def delete(keys: list[str], key: str) -> None:
    """Delete the selected runs, after a second, explicit confirmation. Without the admin secret
    a session may only discard the runs it trained itself; the rest is not offered. Deleted runs
    go to the trash for `core.store_trash.TRASH_GRACE_S`, restorable by the admin."""
    _flash(key)
    mine = store().owned(session_id())
    deletable = keys if is_admin() else [k for k in keys if k in mine]
    pending = st.session_state.get(f"{key}.confirm")
    if pending:
        shown = ", ".join(k[: history.SHORT_KEY] for k in pending[:8]) + (" …" if len(pending) > 8 else "")
        st.warning(f"Delete {len(pending)} run(s) ({shown}) from the store, for everyone? "
                   "They will be retrained the next time someone asks for them.")  # fmt: skip
        cols = st.columns([1, 1, 4])
        cols[0].button(f"Yes, delete {len(pending)}", type="primary", key=f"{key}.yes",
                       on_click=_delete, args=(key,))  # fmt: skip
        cols[1].button("Cancel", key=f"{key}.no", on_click=_cancel, args=(key,))
        return
    if is_admin() or mine:
        what = "selected run(s)" if is_admin() else "of your own run(s)"
        label = f"🗑️ Delete {len(deletable)} {what}…" if deletable else "🗑️ Delete selected runs…"
        st.button(label, key=f"{key}.delete", disabled=not deletable,
                  on_click=_ask, args=(key, deletable))  # fmt: skip
    others = len(keys) - len(deletable)
    if others:
        st.caption(
            f"{others} selected run(s) were trained by other sessions: only the admin can delete them."
        )
    admin_login(key)


def _restore(key: str) -> None:
    keys = st.session_state.pop(f"{key}.restore", [])
    if is_admin():
        st.session_state[f"{key}.flash"] = f"Restored {store().restore(keys)} run(s) from the trash."


def trash(key: str) -> None:
    """The admin's view of deleted runs, with a restore button."""
    if not is_admin():
        return
    binned = store().trash()
    with st.expander(f"Trash: {len(binned)} deleted run(s), restorable for a while"):
        if binned.empty:
            st.caption("Nothing in the trash.")
            return
        labels = {r.key: f"{r.key[: history.SHORT_KEY]} · {r.dataset}" for r in binned.itertuples()}
        st.multiselect("runs to restore", list(labels), format_func=labels.get, key=f"{key}.restore")
        st.button("Restore", key=f"{key}.restore_btn", on_click=_restore, args=(key,))
