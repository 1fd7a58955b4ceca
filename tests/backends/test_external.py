"""swift and wenet-cli: the files they hand the external program (checked against
FORMATS.md), the commands they build, and result files in the real formats read back.
The external programs here are small synthetic stand-ins that answer in those formats."""

from __future__ import annotations

import json
import stat
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from backends.base import BackendConfigError, BackendOptions, BackendRunError, Utterance
from backends.runner import NOT_A_LABEL, prefill
from backends.swift import SwiftBackend
from backends.wenet_cli import WenetCliBackend
from db.store import Store
from db.tasks import PROMPTS

# A recorded `swift infer --result_path` line: the input row plus response (and labels).
SWIFT_RESULT_LINE = json.dumps({
    "response": "最少辰光阿拉是做撒呃喃", "labels": None,
    "messages": [{"role": "user", "content": "<audio>语音说了什么"},
                 {"role": "assistant", "content": "最少辰光阿拉是做撒呃喃"}],
    "audios": ["/data/wu/utt_0001.wav"],
}, ensure_ascii=False)


def utterances(clips: list[Path]) -> list[Utterance]:
    return [Utterance(i + 1, clip.stem, str(clip), 1.0) for i, clip in enumerate(clips)]


def executable(path: Path, body: str) -> Path:
    path.write_text(f"#!{sys.executable}\n{body}", encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return path


# Stands in for `swift infer`: answers every row of --val_dataset by its audio file's name,
# and records its argv, so the test sees what a real swift would be given.
FAKE_SWIFT = """
import json, sys
args = sys.argv[1:]
opt = {args[i]: args[i + 1] for i in range(1, len(args) - 1) if args[i].startswith("--")}
open(opt["--result_path"] + ".argv", "w").write(json.dumps(args))
with open(opt["--val_dataset"]) as src, open(opt["--result_path"], "w") as out:
    for line in src:
        row = json.loads(line)
        name = row["audios"][0].rsplit("/", 1)[-1]
        row["response"] = "老年" if "wu_" in name else "  " + name + " \\n"
        row["labels"] = None
        out.write(json.dumps(row, ensure_ascii=False) + "\\n")
"""


def test_swift_dataset_rows_follow_formats_md(tmp_path: Path, clips: list[Path]) -> None:
    for task in PROMPTS:
        backend = SwiftBackend(BackendOptions(system="und", task=task, model=Path("m")))
        data = tmp_path / f"{task}.jsonl"
        backend.write_dataset(utterances(clips), data)
        rows = [json.loads(line) for line in data.read_text(encoding="utf-8").splitlines()]
        assert len(rows) == len(clips)
        for row, clip in zip(rows, clips, strict=True):
            user = row["messages"][0]
            assert user == {"role": "user", "content": PROMPTS[task]}
            assert user["content"].count("<audio>") == len(row["audios"]) == 1
            assert row["audios"] == [str(clip.resolve())]
        assert "语音说了什么" not in data.read_text(encoding="utf-8") or task == "asr"
    und = SwiftBackend(BackendOptions(task="asr", model=Path("m"), extra={"asr_prompt": "und"}))
    assert und.prompt == "<audio>请记录下你所听到的语音内容。"


def test_swift_command_carries_model_adapters_and_passthrough() -> None:
    backend = SwiftBackend(BackendOptions(
        task="age", model=Path("/m/Step-Audio-2-mini"), adapters=Path("/m/lora"),
        device="cuda:1", extra={"swift_arg": ["--infer_backend vllm"],
                                "swift_env": ["HF_HOME=/hf"]}))
    cmd = backend.command(Path("d.jsonl"), Path("r.jsonl"), 16)
    assert cmd[:4] == ["swift", "infer", "--model", "/m/Step-Audio-2-mini"]
    pairs = dict(zip(cmd[4::2], cmd[5::2], strict=False))
    assert pairs["--adapters"] == "/m/lora"
    assert pairs["--max_new_tokens"] == "512" and pairs["--torch_dtype"] == "bfloat16"
    assert pairs["--val_dataset"] == "d.jsonl" and pairs["--result_path"] == "r.jsonl"
    assert cmd[-2:] == ["--infer_backend", "vllm"]
    assert backend.env == {"CUDA_VISIBLE_DEVICES": "1", "HF_HOME": "/hf"}


def test_swift_result_file_in_the_real_format_is_collected(tmp_path: Path) -> None:
    path = tmp_path / "results.jsonl"
    unanswered = {"messages": [{"role": "user", "content": "<audio>语音说了什么"}],
                  "audios": ["/data/wu/utt_0002.wav"], "response": None}
    path.write_text(SWIFT_RESULT_LINE + "\n\nnot json\n" + json.dumps(unanswered) + "\n",
                    encoding="utf-8")
    backend = SwiftBackend(BackendOptions(system="asr", model=Path("m")))
    batch = [Utterance(7, "utt_0001", "/data/wu/utt_0001.wav"),
             Utterance(8, "utt_0002", "/data/wu/utt_0002.wav")]
    first, second = backend.collect(batch, path)
    assert (first.utt_id, first.text, first.error) == (7, "最少辰光阿拉是做撒呃喃", None)
    assert second.utt_id == 8 and second.text is None
    assert "results.jsonl:3" in (second.error or "") and "no 'response'" in (second.error or "")


def test_swift_prefill_end_to_end_with_a_stand_in_swift(
        tmp_path: Path, clips: list[Path], make_project: Callable[..., Path]) -> None:
    path = make_project([(c.stem, c, 1.0) for c in clips])
    swift = executable(tmp_path / "swift", FAKE_SWIFT)
    work = tmp_path / "work"
    store = Store.open(path)
    backend = SwiftBackend(BackendOptions(system="und", task="age", model=Path("m"), extra={
        "swift": str(swift), "work_dir": str(work)}))
    summary = prefill(store, backend, progress=False)
    rows = dict(store.execute("SELECT u.key, h.error FROM hypotheses h JOIN utterances u "
                              "ON u.id = h.utt_id WHERE h.system = 'und'"))
    store.close()
    assert summary.written == len(clips) and summary.failed == 0
    wu = next(c.stem for c in clips if c.stem.startswith("wu_"))
    assert rows.pop(wu) is None  # "老年" is a label
    assert set(rows.values()) == {NOT_A_LABEL}  # file names are not labels
    argv = json.loads((work / "batch00001" / "results.jsonl.argv").read_text())
    assert argv[0] == "infer" and "--val_dataset" in argv


def test_swift_failure_reports_the_log_tail(tmp_path: Path, clips: list[Path]) -> None:
    swift = executable(tmp_path / "swift", "import sys\nprint('CUDA out of memory')\nsys.exit(3)")
    backend = SwiftBackend(BackendOptions(task="asr", model=Path("m"),
                                          extra={"swift": str(swift)}))
    with pytest.raises(BackendRunError, match="CUDA out of memory"):
        backend.run(utterances(clips[:1]))


# Stands in for WeNet's recognize.py: writes <result_dir>/<mode>/text for each mode, the
# first key's hypothesis empty ("key " line), as recognize.py does for an empty result.
FAKE_RECOGNIZE = """
import json, os, sys
args = sys.argv[1:]
modes = args[args.index("--modes") + 1:]
modes = modes[:next((i for i, a in enumerate(modes) if a.startswith("--")), len(modes))]
result_dir = args[args.index("--result_dir") + 1]
data = args[args.index("--test_data") + 1]
keys = [json.loads(line)["key"] for line in open(data)]
for mode in modes:
    os.makedirs(os.path.join(result_dir, mode), exist_ok=True)
    with open(os.path.join(result_dir, mode, "text"), "w") as out:
        for i, key in enumerate(keys):
            out.write(f"{key} " + ("" if i == 0 else f"{mode[:3]} 侬好 <unk>") + "\\n")
open(os.path.join(result_dir, "argv.json"), "w").write(json.dumps(args))
"""


@pytest.fixture
def wenet_checkout(tmp_path: Path) -> Path:
    checkout = tmp_path / "wenet"
    (checkout / "wenet" / "bin").mkdir(parents=True)
    (checkout / "wenet" / "bin" / "recognize.py").write_text(FAKE_RECOGNIZE, encoding="utf-8")
    return checkout


@pytest.fixture
def wenet_model(tmp_path: Path) -> Path:
    model = tmp_path / "Conformer-U2pp-Wu"
    model.mkdir()
    (model / "train.yaml").write_text("encoder: conformer\n", encoding="utf-8")
    (model / "u2++.pt").write_bytes(b"synthetic")
    return model


def test_wenet_data_list_follows_formats_md(
        tmp_path: Path, clips: list[Path], wenet_checkout: Path) -> None:
    backend = WenetCliBackend(BackendOptions(model=tmp_path, extra={
        "wenet_dir": str(wenet_checkout)}))
    data = tmp_path / "data.list"
    backend.write_list(utterances(clips), data)
    rows = [json.loads(line) for line in data.read_text(encoding="utf-8").splitlines()]
    assert rows == [{"key": c.stem, "wav": str(c.resolve()), "txt": ""} for c in clips]


def test_recognize_text_in_the_real_format_is_collected(
        tmp_path: Path, wenet_checkout: Path) -> None:
    (tmp_path / "attention" / "").mkdir()
    (tmp_path / "attention" / "text").write_text("utt1 侬好 阿拉\nutt2 \nutt3 <unk>好\n",
                                                 encoding="utf-8")
    backend = WenetCliBackend(BackendOptions(system="w", model=tmp_path, extra={
        "wenet_dir": str(wenet_checkout), "modes": ["attention"]}))
    batch = [Utterance(i, f"utt{i}", "x.wav") for i in (1, 2, 3)]
    got = [(r.utt_id, r.text, r.system) for r in backend.collect(batch, tmp_path)]
    assert got == [(1, "侬好 阿拉", "w"), (2, "", "w"), (3, "<unk>好", "w")]


def test_wenet_cli_prefill_writes_one_system_per_mode(
        tmp_path: Path, clips: list[Path], wenet_checkout: Path, wenet_model: Path,
        make_project: Callable[..., Path]) -> None:
    path = make_project([(c.stem, c, 1.0) for c in clips])
    backend = WenetCliBackend(BackendOptions(system="u2pp", model=wenet_model, device="cuda:2",
                                             extra={
        "wenet_dir": str(wenet_checkout), "python": sys.executable,
        "modes": ["ctc_greedy_search", "attention_rescoring"], "work_dir": str(tmp_path / "w"),
        "reverse_weight": 0.3}))
    backend.load()
    store = Store.open(path)
    summary = prefill(store, backend, progress=False)
    rows = store.execute("SELECT system, text FROM hypotheses ORDER BY system")
    store.close()
    assert summary.written == len(clips) and summary.failed == 0
    systems = {s for s, _ in rows}
    assert systems == {"u2pp-ctc_greedy_search", "u2pp-attention_rescoring"}
    assert ("u2pp-attention_rescoring", "") in rows  # an empty hypothesis stays empty
    assert ("u2pp-ctc_greedy_search", "ctc 侬好 <unk>") in rows
    argv = json.loads((tmp_path / "w" / "batch00001" / "result" / "argv.json").read_text())
    def value(name: str) -> str:
        return str(argv[argv.index(name) + 1])

    assert argv[:4] == ["--gpu", "2", "--device", "cuda"]
    assert value("--checkpoint") == str((wenet_model / "u2++.pt").resolve())
    assert value("--config") == str((wenet_model / "train.yaml").resolve())
    assert value("--reverse_weight") == "0.3" and value("--data_type") == "raw"


def test_wenet_cli_needs_a_checkout(tmp_path: Path, wenet_model: Path) -> None:
    backend = WenetCliBackend(BackendOptions(model=wenet_model,
                                             extra={"wenet_dir": str(tmp_path)}))
    with pytest.raises(BackendConfigError, match="not a WeNet checkout"):
        backend.load()
