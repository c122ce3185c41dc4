"""A comparison as TensorBoard logs: Scalars, Histograms and HParams tabs from the stored frames.

Why: people already read runs in TensorBoard; `tensorboard --logdir DIR` on an export shows the
comparison next to their own experiments. Written with tensorboardX, which writes the same event
files as TensorFlow's summary ops without importing TensorFlow, so the app's TF-free server
process can export a replayed comparison without paying the 3-7 s TensorFlow import.

Layout (the one Keras' TensorBoard callback uses, so the tabs group the same way):

    DIR/                          HParams experiment config (varied knobs + seed, final metrics)
    DIR/<member>/                 the member's HParams session (its knob values, status)
    DIR/<member>/train/           epoch_loss, epoch_accuracy (per epoch); step_loss,
                                  step_grad_norm, step_learning_rate (per recorded step);
                                  kernel/<layer> histograms (kernels after training)
    DIR/<member>/validation/      epoch_loss, epoch_accuracy (per epoch)

HParams metrics name a run group (train / validation) and a tag, so TensorBoard's table shows the
last value of each curve: the final metrics. The histograms are the stored 30-bin counts of the
final kernels (the trainer keeps no per-epoch weights), so the tab shows one step per layer.
"""

from __future__ import annotations

import io
import math
import re
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from google.protobuf import struct_pb2
from tensorboardX import SummaryWriter
from tensorboardX.proto import api_pb2, plugin_hparams_pb2
from tensorboardX.proto.summary_pb2 import Summary, SummaryMetadata

from core.results import ComparisonResult, RunResult
from core.spec import value_text

HPARAMS_PLUGIN = "hparams"
EXPERIMENT_TAG = "_hparams_/experiment"
SESSION_START_TAG = "_hparams_/session_start_info"
SESSION_END_TAG = "_hparams_/session_end_info"
TRAIN, VALIDATION = "train", "validation"
# (frame column, tag) pairs; the tags are the Keras callback's so curves line up with other logs.
EPOCH_SCALARS = {
    TRAIN: (("train_loss", "epoch_loss"), ("train_accuracy", "epoch_accuracy")),
    VALIDATION: (("val_loss", "epoch_loss"), ("val_accuracy", "epoch_accuracy")),
}
STEP_SCALARS = (("loss", "step_loss"), ("grad_norm", "step_grad_norm"), ("lr", "step_learning_rate"))
METRICS = (
    (VALIDATION, "epoch_loss"),
    (VALIDATION, "epoch_accuracy"),
    (TRAIN, "epoch_loss"),
    (TRAIN, "epoch_accuracy"),
)
DATASET_TYPES = {TRAIN: "DATASET_TRAINING", VALIDATION: "DATASET_VALIDATION"}
UNSAFE_IN_DIR_NAME = re.compile(r"[^A-Za-z0-9=.,_+-]+")


def write_logdir(result: ComparisonResult, logdir: str | Path) -> Path:
    """Write the comparison's TensorBoard logs into `logdir` (created; must be new or empty, so
    TensorBoard never mixes this export's curves with an earlier one's). Returns the folder."""
    root = check_logdir(logdir)
    root.mkdir(parents=True, exist_ok=True)
    knobs = hparam_values(result)
    _write_summary(root, _experiment_summary(knobs))
    for run, name in zip(result.runs, run_names(result)):
        _write_member(root / name, run, {k: getattr(run.experiment, k) for k in knobs})
    return root


def check_logdir(logdir: str | Path) -> Path:
    """Refuse a folder that already holds files (callers check before training, not after)."""
    root = Path(logdir)
    if root.exists() and (not root.is_dir() or any(root.iterdir())):
        raise ValueError(f"{root} is not an empty folder: export into a new or empty folder")
    return root


def logdir_zip(result: ComparisonResult) -> bytes:
    """The same logs as one zip (for a download button): unzip and point TensorBoard at it."""
    buffer = io.BytesIO()
    with tempfile.TemporaryDirectory(prefix="whatif-tb-") as tmp:
        root = write_logdir(result, Path(tmp) / "logs")
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(root.rglob("*")):
                if path.is_file():
                    archive.write(path, path.relative_to(root).as_posix())
    return buffer.getvalue()


def hparam_values(result: ComparisonResult) -> dict[str, list[Any]]:
    """Every varied knob, and the seed, with the values the members took (first-seen order)."""
    names = [*result.comparison.varied, "seed"]
    return {n: list(dict.fromkeys(getattr(r.experiment, n) for r in result.runs)) for n in names}


def run_names(result: ComparisonResult) -> list[str]:
    """One folder name per member: its varied knob values and seed ('learning_rate=0.1,seed=0'),
    kept to characters every file system and zip tool accepts."""
    names = []
    for run in result.runs:
        parts = [f"{k}={value_text(getattr(run.experiment, k))}" for k in result.comparison.varied]
        label = ",".join([*parts, f"seed={run.experiment.seed}"])
        names.append(UNSAFE_IN_DIR_NAME.sub("_", label))
    return names


# -- event files ---------------------------------------------------------------------------
def _write_member(folder: Path, run: RunResult, hparams: dict[str, Any]) -> None:
    status = "STATUS_FAILURE" if run.diverged else "STATUS_SUCCESS"
    _write_summary(folder, _session_start_summary(hparams), _session_end_summary(status))
    epochs = run.frame("epochs")
    for group, columns in EPOCH_SCALARS.items():
        with SummaryWriter(str(folder / group)) as writer:
            _scalars(writer, epochs, "epoch", columns)
            if group == TRAIN:
                _scalars(writer, run.frame("steps"), "step", STEP_SCALARS)
                _histograms(writer, run.frame("histograms"), step=len(epochs))


def _scalars(writer: SummaryWriter, frame: pd.DataFrame, step_col: str, columns) -> None:
    """One point per row and column; NaN (a regression run's accuracy) is left out, not drawn as 0."""
    for column, tag in columns:
        if column not in frame:
            continue
        for step, value in zip(frame[step_col], frame[column]):
            if value is not None and math.isfinite(float(value)):
                writer.add_scalar(tag, float(value), int(step))


def _histograms(writer: SummaryWriter, frame: pd.DataFrame, step: int) -> None:
    """The stored bins as TensorBoard histograms: bucket i ends at bin_end[i]; sum and sum of
    squares are taken at bin centres (the raw weights are not stored)."""
    if frame.empty:
        return
    for name, bins in frame.groupby("layer_name", sort=False):
        counts = bins["count"].to_numpy(dtype=float)
        centres = (bins["bin_start"].to_numpy() + bins["bin_end"].to_numpy()) / 2
        writer.add_histogram_raw(
            f"kernel/{name}",
            min=float(bins["bin_start"].iloc[0]),
            max=float(bins["bin_end"].iloc[-1]),
            num=int(counts.sum()),
            sum=float((counts * centres).sum()),
            sum_squares=float((counts * centres**2).sum()),
            bucket_limits=bins["bin_end"].astype(float).tolist(),
            bucket_counts=counts.tolist(),
            global_step=step,
        )


def _write_summary(folder: Path, *summaries: Summary) -> None:
    with SummaryWriter(str(folder)) as writer:
        for summary in summaries:
            writer.file_writer.add_summary(summary)


# -- HParams plugin protos -------------------------------------------------------------------
def _plugin_summary(tag: str, data: plugin_hparams_pb2.HParamsPluginData) -> Summary:
    plugin = SummaryMetadata.PluginData(plugin_name=HPARAMS_PLUGIN, content=data.SerializeToString())
    return Summary(value=[Summary.Value(tag=tag, metadata=SummaryMetadata(plugin_data=plugin))])


def _as_value(value: Any) -> struct_pb2.Value:
    if isinstance(value, (bool, np.bool_)):
        return struct_pb2.Value(bool_value=bool(value))
    if isinstance(value, (int, float, np.integer, np.floating)):
        return struct_pb2.Value(number_value=float(value))
    return struct_pb2.Value(string_value=str(value))


def _data_type(values: list[Any]) -> int:
    kind = _as_value(values[0]).WhichOneof("kind")
    names = {"bool_value": "DATA_TYPE_BOOL", "number_value": "DATA_TYPE_FLOAT64"}
    return api_pb2.DataType.Value(names.get(kind, "DATA_TYPE_STRING"))


def _experiment_summary(knobs: dict[str, list[Any]]) -> Summary:
    infos = []
    for name, values in knobs.items():
        domain = struct_pb2.ListValue(values=[_as_value(v) for v in values])
        infos.append(api_pb2.HParamInfo(name=name, type=_data_type(values), domain_discrete=domain))
    metrics = [
        api_pb2.MetricInfo(
            name=api_pb2.MetricName(group=group, tag=tag),
            display_name=f"final {group} {tag.removeprefix('epoch_')}",
            dataset_type=api_pb2.DatasetType.Value(DATASET_TYPES[group]),
        )
        for group, tag in METRICS
    ]
    experiment = api_pb2.Experiment(hparam_infos=infos, metric_infos=metrics)
    return _plugin_summary(EXPERIMENT_TAG, plugin_hparams_pb2.HParamsPluginData(experiment=experiment))


def _session_start_summary(hparams: dict[str, Any]) -> Summary:
    start = plugin_hparams_pb2.SessionStartInfo()
    for name, value in hparams.items():
        start.hparams[name].CopyFrom(_as_value(value))
    return _plugin_summary(SESSION_START_TAG, plugin_hparams_pb2.HParamsPluginData(session_start_info=start))


def _session_end_summary(status: str) -> Summary:
    end = plugin_hparams_pb2.SessionEndInfo(status=api_pb2.Status.Value(status))
    return _plugin_summary(SESSION_END_TAG, plugin_hparams_pb2.HParamsPluginData(session_end_info=end))
