"""The Ray backend on a real local 2-CPU Ray: the same members give bit-identical numbers on both
backends (CLI JSON, every frame), groups run as concurrent tasks with live progress, large groups
are split into chunks, and the node listens on 127.0.0.1 only.

One Ray start per module (6-20 s on a loaded 2-core machine); workers are reused across tests.
"""

from __future__ import annotations

import json
import os

import pytest

from core.backends.ray_backend import ADDRESS_ENV, RayBackend  # before ray: it binds to loopback

ray = pytest.importorskip("ray", reason="ray is not installed: pip install -r requirements-cluster.txt")

from core import backends  # noqa: E402
from core.__main__ import main  # noqa: E402
from core.runner import groups_of  # noqa: E402
from core.spec import Comparison, Experiment  # noqa: E402

TINY = ["--set", "epochs=2", "--set", "n_samples=300", "--set", "depth=1"]
TIMING = "seconds"  # wall time: the one field that differs run to run on any backend
VARY = ["--vary", "width=8,16", "--vary", "learning_rate=0.01,0.1", "--seeds", "2"]


@pytest.fixture(scope="module")
def ray_backend():
    saved = {k: os.environ.get(k) for k in (ADDRESS_ENV, backends.BACKEND_ENV)}
    for k in saved:
        os.environ.pop(k, None)
    backend = backends._instances["ray"] = RayBackend()
    yield backend
    backends._instances.pop("ray", None)
    backends.select(None)
    ray.shutdown()
    os.environ.update({k: v for k, v in saved.items() if v is not None})


def _compare_json(capsys, backend: str) -> list[dict]:
    assert main(["compare", *TINY, *VARY, "--json", "--no-store", "--backend", backend]) == 0
    records = json.loads(capsys.readouterr().out)
    for record in records:
        assert record.pop(TIMING) > 0
    return records


def test_compare_json_is_identical_on_local_and_ray(ray_backend, capsys):
    local = _compare_json(capsys, "local")
    remote = _compare_json(capsys, "ray")
    assert json.dumps(remote, sort_keys=True) == json.dumps(local, sort_keys=True)
    assert len(local) == 4 and all(r["seeds"] == 2 for r in local)


def test_every_frame_is_bit_identical_and_groups_run_as_tasks(ray_backend):
    base = Experiment(n_samples=300, depth=1, epochs=2, dropout=0.1)
    comparison = Comparison.of(base, {"width": [8, 16], "learning_rate": [0.01, 0.1]}, seeds=2)
    groups = groups_of(comparison.members())
    progress, done = [], []
    remote = ray_backend.train_groups(
        groups, lambda g, e, n: progress.append((g, e, n)), on_done=lambda g, runs: done.append(g)
    )
    backends.select("local")
    local = [run for runs in backends.get().train_groups(groups) for run in runs]
    backends.select(None)
    assert sorted(done) == [0, 1]  # each group handed over once, when its task finished
    assert {(g, n) for g, _, n in progress} == {(0, 2), (1, 2)}
    for a, b in zip(local, [run for runs in remote for run in runs], strict=True):
        assert a.key == b.key
        for name, frame in a.frames.items():
            other = b.frames[name]
            assert frame.drop(columns=TIMING, errors="ignore").equals(
                other.drop(columns=TIMING, errors="ignore")
            )


def test_a_group_larger_than_the_chunk_size_is_split(ray_backend, monkeypatch):
    monkeypatch.setattr(ray_backend, "max_members", 2)
    comparison = Comparison.of(
        Experiment(n_samples=300, depth=1, epochs=2), {"learning_rate": [0.01, 0.1]}, seeds=2
    )
    members = comparison.members()
    progress = []
    [runs] = ray_backend.train_groups([members], lambda g, e, n: progress.append(e))
    assert [r.key for r in runs] == [m.key for m in members]
    assert {r.summary["group_size"] for r in runs} == {2}  # trained as two 2-member tasks
    assert progress == sorted(progress)  # a group's progress never runs backwards


def test_lr_find_json_is_identical_on_both_backends(ray_backend, capsys):
    outputs = []
    for backend in ("local", "ray"):
        assert main(["lr-find", *TINY, "--json", "--backend", backend]) == 0
        outputs.append(capsys.readouterr().out)
    assert outputs[0] == outputs[1]
    assert json.loads(outputs[0])["suggestions"]


def test_the_local_node_listens_on_loopback_only(ray_backend):
    addresses = {node["NodeManagerAddress"] for node in ray.nodes() if node["Alive"]}
    assert addresses == {"127.0.0.1"}
    assert ray.cluster_resources()["CPU"] == (os.cpu_count() or 1)
