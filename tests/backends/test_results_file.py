"""`wuwb prefill DATA.jsonl --out results.jsonl`: shards that never open a project, a
killed run's cut line re-run, and the file imported by `wuwb import-hyps` equal to a
prefill straight into the project. The model is the synthetic telespeech_ctc export."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

pytest.importorskip("sherpa_onnx")
pytest.importorskip("onnx")

from synthetic_models import build_telespeech

from db.hypfiles import read_results
from db.store import Store
from workbench.cli import main


@pytest.fixture
def data_list(tmp_path: Path, clip_rows: Callable[[int], list]) -> Path:
    path = tmp_path / "data.list"
    lines = [{"key": key, "wav": str(audio), "txt": "侬好"} for key, audio, _ in clip_rows(7)]
    lines.append({"key": "gone", "wav": "gone.wav", "txt": "侬好"})
    path.write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines), "utf-8")
    return path


def test_shards_write_results_files_import_hyps_reads(
        tmp_path: Path, data_list: Path) -> None:
    (tmp_path / "tele").mkdir()
    model = str(build_telespeech(tmp_path / "tele"))
    common = ["--backend", "sherpa-onnx", "--system", "tele", "--model", model,
              "--batch-size", "2", "--no-progress"]
    outs = [tmp_path / f"r{i}.jsonl" for i in range(2)]
    for i, out in enumerate(outs):
        # "gone" (missing audio) is recorded as failed: exit 3, as for a project
        assert main(["prefill", str(data_list), "--out", str(out), "--shard", f"{i}/2",
                     *common]) in (0, 3)
    keys = [[r.key for r in read_results(out)] for out in outs]
    assert sorted(keys[0] + keys[1]) == sorted([f"utt{i:04d}" for i in range(7)] + ["gone"])
    assert not set(keys[0]) & set(keys[1])
    assert all(r.times is not None for r in read_results(outs[0]) if r.text)

    # A kill mid-write leaves half a line: it is cut off and that key alone runs again.
    whole = outs[0].read_bytes()
    outs[0].write_bytes(whole[: whole.rstrip(b"\n").rfind(b"\n") + 1] + b'{"key": "utt')
    assert main(["prefill", str(data_list), "--out", str(outs[0]), "--shard", "0/2",
                 *common]) in (0, 3)
    assert sorted(outs[0].read_bytes().splitlines()) == sorted(whole.splitlines())

    project = tmp_path / "p.db"
    direct = tmp_path / "direct.db"
    for db in (project, direct):
        assert main(["import", str(db), str(data_list), "--gold"]) in (0, 1)
    for out in outs:
        assert main(["import-hyps", str(project), str(out), "--system", "tele"]) == 0
    assert main(["prefill", str(direct), *common]) == 3
    assert texts(project) == texts(direct) and len(texts(project)) == 8


def texts(db: Path) -> dict[str, tuple]:
    store = Store.open(db, create=False)
    try:
        rows = store.execute(
            "SELECT u.key, h.text, h.error IS NULL, h.times, h.cer FROM hypotheses h "
            "JOIN utterances u ON u.id = h.utt_id WHERE h.system = 'tele'")
    finally:
        store.close()
    return {key: rest for key, *rest in rows}
