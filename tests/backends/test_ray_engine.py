"""`wuwb prefill --engine ray` on a local Ray (2 CPUs): the synthetic telespeech_ctc model
through sherpa-onnx in actors, a synthetic backend whose actor dies, whose utterances fail,
or that is broken, and a driver killed mid-run. Every model here is synthetic."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest

ray = pytest.importorskip("ray")
pytest.importorskip("sherpa_onnx")
pytest.importorskip("onnx")

from ray_backends import Keyed  # noqa: E402
from synthetic_models import build_telespeech  # noqa: E402

from backends.base import BackendOptions, BackendRunError  # noqa: E402
from backends.ray_engine import run_ray  # noqa: E402
from backends.runner import Runner, Summary  # noqa: E402
from db.store import Store  # noqa: E402
from workbench.cli import main  # noqa: E402

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
PYTHONPATH = os.pathsep.join([str(HERE), str(ROOT)])
MakeProject = Callable[[Sequence[tuple[str, Path, float | None]]], Path]


@pytest.fixture(scope="module")
def local_ray() -> Iterator[None]:
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
             runtime_env={"env_vars": {"PYTHONPATH": PYTHONPATH}})
    yield
    ray.shutdown()


def rows(count: int) -> list[tuple[str, Path, float | None]]:
    return [(f"k{i:03d}", Path(f"/nowhere/k{i:03d}.wav"), 1.0 + i % 7) for i in range(count)]


def answers(path: Path, system: str) -> dict[str, tuple[str | None, str | None, str]]:
    store = Store.open(path)
    got = store.execute(
        "SELECT u.key, h.text, h.error, h.created_at FROM hypotheses h "
        "JOIN utterances u ON u.id = h.utt_id WHERE h.system = ?", (system,))
    count = store.execute("SELECT COUNT(*) FROM hypotheses WHERE system = ?",
                               (system,))[0][0]
    store.close()
    assert count == len(got)
    return {key: (text, error, at) for key, text, error, at in got}


def run_keyed(path: Path, workers: int = 2, **extra: object) -> Summary:
    store = Store.open(path)
    try:
        options = BackendOptions(system="keyed", extra=dict(extra))
        runner = Runner(store, Keyed(options))
        items = runner.work()
        return run_ray(items, Keyed, options, runner.write,
                       Summary("keyed", "asr", pending=len(items)), workers=workers,
                       gpus_per_worker=0, batch_size=4, address=None, progress=False)
    finally:
        store.close()


def test_sherpa_in_ray_actors_answers_every_utterance_once_as_the_plain_runner(
        local_ray: None, tmp_path: Path, clip_rows: Callable[[int], list],
        make_project: MakeProject) -> None:
    (tmp_path / "tele").mkdir()
    model = build_telespeech(tmp_path / "tele")
    path = make_project(clip_rows(10))
    plain = tmp_path / "plain.db"
    shutil.copyfile(path, plain)
    common = ["--backend", "sherpa-onnx", "--system", "tele", "--model", str(model),
              "--batch-size", "3", "--no-progress"]
    assert main(["prefill", str(path), *common, "--engine", "ray", "--workers", "2"]) == 0
    assert main(["prefill", str(plain), *common]) == 0
    by_ray, by_plain = answers(path, "tele"), answers(plain, "tele")
    assert len(by_ray) == 10
    assert {k: v[:2] for k, v in by_ray.items()} == {k: v[:2] for k, v in by_plain.items()}
    assert all(text for text, _, _ in by_ray.values())


def test_a_dead_actor_is_restarted_and_failing_utterances_are_recorded(
        local_ray: None, tmp_path: Path, make_project: MakeProject) -> None:
    path = make_project(rows(20))
    marker = tmp_path / "crashed-once"
    summary = run_keyed(path, crash_marker=str(marker), bad="k007")
    assert marker.exists()  # an actor did die mid-batch
    got = answers(path, "keyed")
    assert len(got) == 20 and summary.written == 20
    assert got["k007"][0] is None and "cannot decode" in (got["k007"][1] or "")
    assert all(got[k][:2] == (k, None) for k in got if k != "k007")


def test_a_broken_model_stops_the_run_after_three_failed_batches(
        local_ray: None, make_project: MakeProject) -> None:
    path = make_project(rows(40))
    with pytest.raises(BackendRunError, match="in a row failed whole"):
        run_keyed(path, workers=1, broken=True)
    got = answers(path, "keyed")
    assert len(got) == 12  # three batches of 4, recorded as failed with the reason
    assert all(text is None and "synthetic model is broken" in (error or "")
               for text, error, _ in got.values())


def test_an_actor_that_cannot_load_the_model_ends_the_run_in_one_line(
        local_ray: None, make_project: MakeProject) -> None:
    path = make_project(rows(8))
    with pytest.raises(BackendRunError, match=r"Ray stopped: .*model not found: /nowhere"):
        run_keyed(path, workers=1, no_model=True)
    assert answers(path, "keyed") == {}


DRIVER = """
import sys
import ray
from test_ray_engine import run_keyed
ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
         runtime_env={"env_vars": {"PYTHONPATH": sys.argv[2]}})
run_keyed(__import__("pathlib").Path(sys.argv[1]), delay=0.5)
"""


def test_killed_driver_resumes_without_writing_anything_twice(
        local_ray: None, make_project: MakeProject) -> None:
    path = make_project(rows(60))
    env = {**os.environ, "PYTHONPATH": PYTHONPATH}
    proc = subprocess.Popen([sys.executable, "-c", DRIVER, str(path), PYTHONPATH], cwd=ROOT,
                            env=env, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            if len(answers(path, "keyed")) >= 8:
                break
            time.sleep(0.2)
        assert proc.poll() is None, "the driver finished before it could be killed"
        os.killpg(proc.pid, signal.SIGKILL)  # the driver and the Ray it started
        proc.wait(30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    before = answers(path, "keyed")
    assert 8 <= len(before) < 60
    summary = run_keyed(path)
    after = answers(path, "keyed")
    assert summary.pending == 60 - len(before)
    assert len(after) == 60 and all(after[k][:2] == (k, None) for k in after)
    assert all(after[k][2] == before[k][2] for k in before)  # the first run's rows untouched
