"""The TensorBoard export read back the way TensorBoard reads it: EventAccumulator per run folder
(scalar and histogram tags, values equal to the frames) and the HParams plugin data (experiment
config at the root, one session per member) on a real tiny comparison."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

pytest.importorskip("tensorboardX", reason="tensorboardX is not installed (requirements.txt)")
event_accumulator = pytest.importorskip(
    "tensorboard.backend.event_processing.event_accumulator",
    reason="tensorboard (the reader) is not installed (requirements-dev.txt)",
)
from tensorboard.plugins.hparams import plugin_data_pb2  # noqa: E402

from core import tensorboard as tb  # noqa: E402
from core.runner import run_comparison  # noqa: E402
from core.spec import Comparison, Experiment  # noqa: E402

TINY = Experiment(n_samples=300, width=16, depth=2, epochs=3)
VARY = {"learning_rate": [0.01, 0.1], "activation": ["relu", "tanh"]}
SEEDS = 2


@pytest.fixture(scope="module")
def result():
    return run_comparison(Comparison.of(TINY, VARY, seeds=SEEDS))


@pytest.fixture(scope="module")
def logdir(result, tmp_path_factory) -> Path:
    return tb.write_logdir(result, tmp_path_factory.mktemp("tb") / "logs")


def _load(folder: Path):
    acc = event_accumulator.EventAccumulator(str(folder), size_guidance={"scalars": 0, "histograms": 0})
    acc.Reload()
    return acc


def _plugin_data(acc, tag: str) -> plugin_data_pb2.HParamsPluginData:
    content = acc.PluginTagToContent(tb.HPARAMS_PLUGIN)[tag]
    return plugin_data_pb2.HParamsPluginData.FromString(content)


def test_one_folder_per_member_with_train_and_validation(result, logdir):
    names = tb.run_names(result)
    assert len(set(names)) == len(result.runs) == 8
    for name in names:
        assert {p.name for p in (logdir / name).iterdir() if p.is_dir()} == {"train", "validation"}


def test_epoch_scalars_equal_the_epochs_frame(result, logdir):
    for run, name in zip(result.runs, tb.run_names(result)):
        epochs = run.frame("epochs")
        for group, columns in tb.EPOCH_SCALARS.items():
            acc = _load(logdir / name / group)
            for column, tag in columns:
                events = acc.Scalars(tag)
                assert [e.step for e in events] == epochs["epoch"].tolist()
                assert [e.value for e in events] == pytest.approx(epochs[column].tolist(), rel=1e-6)


def test_step_scalars_and_kernel_histograms_in_train(result, logdir):
    run, name = result.runs[0], tb.run_names(result)[0]
    acc = _load(logdir / name / "train")
    steps = run.frame("steps")
    for column, tag in tb.STEP_SCALARS:
        assert [e.step for e in acc.Scalars(tag)] == steps["step"].tolist()
        assert [e.value for e in acc.Scalars(tag)] == pytest.approx(steps[column].tolist(), rel=1e-6)
    hist = run.frame("histograms")
    layers = hist["layer_name"].unique().tolist()
    assert sorted(acc.Tags()["histograms"]) == sorted(f"kernel/{n}" for n in layers)
    first = hist[hist["layer_name"] == layers[0]]
    stored = acc.Histograms(f"kernel/{layers[0]}")[-1].histogram_value
    assert stored.bucket == pytest.approx(first["count"].tolist())
    assert stored.num == first["count"].sum()
    assert "step_loss" not in _load(logdir / name / "validation").Tags()["scalars"]


def test_hparams_experiment_lists_varied_knobs_with_their_values_and_final_metrics(logdir):
    experiment = _plugin_data(_load(logdir), tb.EXPERIMENT_TAG).experiment
    domains = {
        info.name: [
            v.WhichOneof("kind") and getattr(v, v.WhichOneof("kind")) for v in info.domain_discrete.values
        ]
        for info in experiment.hparam_infos
    }
    assert domains == {**VARY, "seed": [0, 1]}
    metrics = {(m.name.group, m.name.tag) for m in experiment.metric_infos}
    assert metrics == set(tb.METRICS)


def test_each_member_session_carries_its_own_knob_values(result, logdir):
    for run, name in zip(result.runs, tb.run_names(result)):
        data = _plugin_data(_load(logdir / name), tb.SESSION_START_TAG)
        values = {k: getattr(v, v.WhichOneof("kind")) for k, v in data.session_start_info.hparams.items()}
        expected = {k: getattr(run.experiment, k) for k in (*VARY, "seed")}
        assert values == expected


def test_refuses_a_folder_that_already_has_logs(result, logdir):
    with pytest.raises(ValueError, match="not an empty folder"):
        tb.write_logdir(result, logdir)


def test_zip_holds_the_same_event_files(result, tmp_path):
    archive = zipfile.ZipFile(io.BytesIO(tb.logdir_zip(result)))
    archive.extractall(tmp_path)
    name = tb.run_names(result)[-1]
    acc = _load(tmp_path / name / "validation")
    assert [e.value for e in acc.Scalars("epoch_loss")] == pytest.approx(
        result.runs[-1].frame("epochs")["val_loss"].tolist(), rel=1e-6
    )
    assert _plugin_data(_load(tmp_path), tb.EXPERIMENT_TAG).experiment.hparam_infos


def test_cli_export_tb_writes_the_comparison_it_selects(tmp_path, capsys):
    from core.__main__ import main

    logdir = tmp_path / "cli"
    args = ["export-tb", "--set", "epochs=2", "--set", "n_samples=300", "--set", "width=8"]
    assert (
        main(
            [*args, "--vary", "learning_rate=0.02,0.2", "--seeds", "2", "--no-store", "--logdir", str(logdir)]
        )
        == 0
    )
    experiment = _plugin_data(_load(logdir), tb.EXPERIMENT_TAG).experiment
    assert {i.name: len(i.domain_discrete.values) for i in experiment.hparam_infos} == {
        "learning_rate": 2,
        "seed": 2,
    }
    assert len([p for p in logdir.iterdir() if p.is_dir()]) == 4
    capsys.readouterr()
    assert main([*args, "--no-store", "--logdir", str(logdir)]) == 2  # refused before any training
    assert "not an empty folder" in capsys.readouterr().err


def test_export_runs_without_importing_tensorflow(result, tmp_path):
    """The app's server process replays comparisons without TensorFlow; exporting must keep it so."""
    import pickle
    import subprocess
    import sys

    from tests.conftest import ROOT

    (tmp_path / "result.pkl").write_bytes(pickle.dumps(result))
    script = (
        "import pickle, sys; from core.tensorboard import write_logdir; "
        f"write_logdir(pickle.load(open({str(tmp_path / 'result.pkl')!r}, 'rb')), {str(tmp_path / 'logs')!r}); "
        "print('tensorflow' in sys.modules, 'keras' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
    assert (
        len(_load(tmp_path / "logs" / tb.run_names(result)[0] / "validation").Scalars("epoch_loss"))
        == TINY.epochs
    )
