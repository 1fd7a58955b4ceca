"""Hypotheses from recognize.py, swift infer and TSV files, tied to the project's utterances."""

from __future__ import annotations

from pathlib import Path

import pytest
from db_helpers import write_jsonl

from db.hypfiles import (
    NOT_A_LABEL,
    HypFileError,
    SwiftResult,
    import_hypotheses,
    read_swift_results,
    read_wenet_text,
    sniff_format,
)
from db.importers import ImportConfig, import_file
from db.jsonl import BadLine
from db.store import Store
from db.tasks import PROMPTS


@pytest.fixture
def project(tmp_path: Path, store: Store) -> Store:
    rows = [{"key": k, "wav": f"/d/{k}.wav", "txt": t}
            for k, t in (("u1", "侬好"), ("u2", "今朝"), ("u3", "伐"))]
    import_file(store, write_jsonl(tmp_path / "in.jsonl", rows), ImportConfig(probe=False))
    return store


def hyps(store: Store, key: str) -> dict[tuple[str, str], tuple[str | None, str | None]]:
    u = store.utterance(store.utterance_id(key) or 0)
    return {(h.system, h.task): (h.text, h.error) for h in u.hypotheses}


def test_read_wenet_text_splits_at_the_first_space(tmp_path: Path):
    text = tmp_path / "text"
    text.write_text("u1 侬 好 <unk>\nu2 \nu3\n\nu4 a\tb\r\n", encoding="utf-8")
    assert list(read_wenet_text(text)) == [
        ("u1", "侬 好 <unk>"), ("u2", ""), ("u3", ""), ("u4", "a\tb"),
    ]


def test_read_swift_results(tmp_path: Path):
    path = write_jsonl(tmp_path / "r.jsonl", [
        {"messages": [{"role": "user", "content": PROMPTS["age"]}], "audios": ["/d/u1.wav"],
         "response": "中年", "labels": "青年"},
        {"messages": [{"role": "user", "content": PROMPTS["asr"]}], "audios": ["/d/u2.wav"]},
        "garbage",
    ])
    bad: list[BadLine] = []
    assert list(read_swift_results(path, on_bad=bad.append)) == [
        SwiftResult("/d/u1.wav", "age", "中年", 1, "青年"),
    ]
    assert str(bad[0]) == f"{path}:2: no 'response'"
    assert str(bad[1]).startswith(f"{path}:3: not JSON (")


def test_wenet_text_import_empty_hyp_tags_and_unknown_keys(tmp_path: Path, project: Store):
    text = tmp_path / "text"
    text.write_text("u1 侬好<unk>\nu2 \nghost 啥\n", encoding="utf-8")
    (result,) = import_hypotheses(project, text, "ctc")
    assert result.written == {"asr": 2} and result.unknown == 1
    assert result.unknown_lines() == [f"{text}: unknown key 'ghost' (not in the project, "
                                      "not imported)"]
    assert hyps(project, "u1") == {("ctc", "asr"): ("侬好<unk>", None)}
    u2 = project.utterance(project.utterance_id("u2") or 0).hypotheses[0]
    assert (u2.text, u2.n, u2.d, u2.cer) == ("", 2, 2, 1.0)  # empty: every token deleted
    assert project.utterance_id("ghost") is None


def test_reimport_replaces_that_systems_answer_only(tmp_path: Path, project: Store):
    first = tmp_path / "a.tsv"
    first.write_text("u1\t侬好\nu2\t今朝\n", encoding="utf-8")
    import_hypotheses(project, first, "tele")
    import_hypotheses(project, first, "other")
    second = tmp_path / "b.tsv"
    second.write_text("u1\t侬\n", encoding="utf-8")
    import_hypotheses(project, second, "tele")
    assert hyps(project, "u1") == {("tele", "asr"): ("侬", None), ("other", "asr"): ("侬好", None)}
    assert hyps(project, "u2")[("tele", "asr")] == ("今朝", None)


def test_result_dir_gives_one_system_per_mode(tmp_path: Path, project: Store):
    for mode, line in (("ctc_greedy_search", "u1 侬"), ("attention_rescoring", "u1 侬好")):
        (tmp_path / "R" / mode).mkdir(parents=True)
        (tmp_path / "R" / mode / "text").write_text(line + "\n", encoding="utf-8")
    results = import_hypotheses(project, tmp_path / "R", "u2pp")
    assert [r.system for r in results] == ["u2pp-attention_rescoring", "u2pp-ctc_greedy_search"]
    assert hyps(project, "u1") == {
        ("u2pp-attention_rescoring", "asr"): ("侬好", None),
        ("u2pp-ctc_greedy_search", "asr"): ("侬", None),
    }
    with pytest.raises(HypFileError, match="no <mode>/text"):
        import_hypotheses(project, tmp_path, "x")


def test_swift_results_by_stem_then_by_path_with_labels(tmp_path: Path, project: Store):
    # u3's audio has a file name that is not its key: the stored path ties it.
    project.execute("UPDATE utterances SET audio = ? WHERE key = 'u3'", (str(tmp_path / "x.wav"),))

    def row(task: str, audio: str, response: str) -> dict[str, object]:
        return {"messages": [{"role": "user", "content": PROMPTS[task]}], "audios": [audio],
                "response": response}

    path = write_jsonl(tmp_path / "results.jsonl", [
        row("asr", "/elsewhere/u1.wav", "侬好"),
        row("age", "/elsewhere/u1.wav", "标签：中年。"),
        row("gender", "/elsewhere/u1.wav", "不知道"),
        row("emotion", "x.wav", "高兴"),
        row("ast", "/elsewhere/nobody.wav", "你好"),
    ])
    (result,) = import_hypotheses(project, path, "step")
    assert hyps(project, "u1") == {
        ("step", "asr"): ("侬好", None),
        ("step", "age"): ("中年", None),
        ("step", "gender"): ("不知道", NOT_A_LABEL),
    }
    assert hyps(project, "u3") == {("step", "emotion"): ("高兴", None)}
    assert result.unknown == 1 and result.not_labels == 1
    (only_age,) = import_hypotheses(project, path, "step2", task="age")
    assert only_age.written == {"age": 1}


def test_sniff_and_errors(tmp_path: Path, project: Store):
    tsv = tmp_path / "h.txt"
    tsv.write_text("u1\t侬好\n", encoding="utf-8")
    assert sniff_format(tsv) == "tsv"
    assert sniff_format(tmp_path / "r.jsonl") == "swift-results"
    plain = tmp_path / "h2.txt"
    plain.write_text("u1 侬好\n", encoding="utf-8")
    assert sniff_format(plain) == "wenet-text"
    with pytest.raises(HypFileError, match="no such file"):
        import_hypotheses(project, tmp_path / "nope.txt", "s", fmt="tsv")
    with pytest.raises(HypFileError, match="needs a name"):
        import_hypotheses(project, tsv, " ")
    binary = tmp_path / "bin.txt"
    binary.write_bytes(b"u1 \xff\xfe\n")
    with pytest.raises(HypFileError, match="not UTF-8"):
        import_hypotheses(project, binary, "s")
