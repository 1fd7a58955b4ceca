"""Export: byte-exact WeNet and swift lines, selection, atomic write, and the round trip."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from db_helpers import utt, write_jsonl

from db import exporters
from db.exporters import ExportError, export
from db.importers import ImportConfig, import_file
from db.row_formats import Options
from db.store import Store

ROWS = [
    {"key": "b", "wav": "/d/b.wav", "txt": "侬好，伐？", "spk": "S2"},
    {"key": "a", "wav": "/d/a.wav", "txt": "IT'S 3 <unk>"},
    {"key": "c", "wav": "/d/c.wav", "txt": "还没审"},
]


@pytest.fixture
def project(tmp_path: Path, store: Store) -> Store:
    import_file(store, write_jsonl(tmp_path / "in.jsonl", ROWS[:2]),
                ImportConfig(options=Options(gold=True, subset="s1"), probe=False))
    import_file(store, write_jsonl(tmp_path / "todo.jsonl", ROWS[2:]),
                ImportConfig(options=Options(subset="s2"), probe=False))
    b = utt(store, "b")
    store.save(b["id"], b["version"], {"translation": "你好，吗？", "age": "中年",
                                       "gender": "女性", "emotion": "高兴"}, "ann")
    return store


def test_wenet_export_is_byte_exact(tmp_path: Path, project: Store):
    out = tmp_path / "out.jsonl"
    assert export(project, out, "wenet") == 2
    assert out.read_bytes().decode("utf-8") == (
        '{"key": "a", "wav": "/d/a.wav", "txt": "IT\'S 3 <unk>", "provenance": "import-gold"}\n'
        '{"key": "b", "wav": "/d/b.wav", "txt": "侬好，伐？", "provenance": "import-gold", '
        '"spk": "S2"}\n'
    )


def test_wenet_export_all_writes_drafts_and_subset_filters(tmp_path: Path, project: Store):
    out = tmp_path / "out.jsonl"
    assert export(project, out, "wenet", status="all", subset="s2") == 1
    assert out.read_text(encoding="utf-8") == (
        '{"key": "c", "wav": "/d/c.wav", "txt": "还没审"}\n'
    )


def test_swift_export_is_byte_exact(tmp_path: Path, project: Store):
    out = tmp_path / "out.jsonl"
    assert export(project, out, "swift", tasks=("asr", "ast", "age", "gender", "emotion")) == 6
    user = '{"messages": [{"role": "user", "content": "'
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[0] == (
        user + '<audio>语音说了什么"}, {"role": "assistant", "content": "IT\'S 3 <unk>"}], '
        '"audios": ["/d/a.wav"], "provenance": "import-gold"}'
    )
    assert lines[1:] == [
        user + '<audio>语音说了什么"}, {"role": "assistant", "content": "侬好，伐？"}], '
        '"audios": ["/d/b.wav"], "provenance": "import-gold"}',
        user + '<audio>请仔细聆听这段语音，然后将其内容翻译成普通话。"}, '
        '{"role": "assistant", "content": "你好，吗？"}], "audios": ["/d/b.wav"], '
        '"provenance": "import-gold"}',
        user + '<audio>请根据语音的声学特征，判断说话人的年龄，'
        '从儿童、少年、青年、中年、老年中选一个标签。"}, '
        '{"role": "assistant", "content": "中年"}], "audios": ["/d/b.wav"], '
        '"provenance": "import-gold"}',
        user + '<audio>请根据语音的声学特征，判断说话人的性别，从男性、女性中选一个标签。"}, '
        '{"role": "assistant", "content": "女性"}], "audios": ["/d/b.wav"], '
        '"provenance": "import-gold"}',
        user + '<audio>请根据语音的声学特征和语义，判断语音的情感，'
        '从中立、高兴、难过、惊讶、生气选一个标签。"}, '
        '{"role": "assistant", "content": "高兴"}], "audios": ["/d/b.wav"], '
        '"provenance": "import-gold"}',
    ]


def test_swift_export_only_the_tasks_asked(tmp_path: Path, project: Store):
    out = tmp_path / "out.jsonl"
    assert export(project, out, "swift", tasks=("gender",)) == 1
    assert '"content": "女性"' in out.read_text(encoding="utf-8")


def test_export_replaces_atomically_and_leaves_no_temp_on_failure(
    tmp_path: Path, project: Store, monkeypatch: pytest.MonkeyPatch
):
    out = tmp_path / "out.jsonl"
    out.write_text("old contents\n")

    def broken(rows):  # a crash halfway through writing
        yield ['{"key": "a"}\n']
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(exporters, "_wenet_lines", broken)
    with pytest.raises(OSError):
        export(project, out, "wenet")
    assert out.read_text() == "old contents\n"
    assert [p for p in os.listdir(tmp_path) if p.endswith(".tmp")] == []


def test_export_errors(tmp_path: Path, project: Store):
    with pytest.raises(ExportError, match="no such folder"):
        export(project, tmp_path / "nope" / "out.jsonl", "wenet")
    with pytest.raises(ExportError, match="unknown task"):
        export(project, tmp_path / "o.jsonl", "swift", tasks=("asr", "pitch"))
    with pytest.raises(ExportError, match="is a folder"):
        export(project, tmp_path, "wenet")


def test_round_trip_wenet(tmp_path: Path, project: Store):
    out = tmp_path / "out.jsonl"
    export(project, out, "wenet")
    again = Store.open(tmp_path / "again.db")
    try:
        import_file(again, out, ImportConfig(options=Options(gold=True), probe=False))
        for key in ("a", "b"):
            old, new = utt(project, key), utt(again, key)
            for name in ("key", "audio", "gold", "draft", "status", "extra"):
                assert old[name] == new[name], name
        again_out = tmp_path / "again.jsonl"
        export(again, again_out, "wenet")
        assert again_out.read_bytes() == out.read_bytes()
    finally:
        again.close()


def test_round_trip_swift(tmp_path: Path, project: Store):
    out = tmp_path / "out.jsonl"
    export(project, out, "swift")
    again = Store.open(tmp_path / "again.db")
    try:
        summary = import_file(again, out, ImportConfig(options=Options(gold=True), probe=False))
        assert summary.bad == 0 and summary.inserted == 2
        for key in ("a", "b"):
            old, new = utt(project, key), utt(again, key)
            for name in ("audio", "gold", "status", "translation", "age", "gender", "emotion"):
                assert old[name] == new[name], (key, name)
        again_out = tmp_path / "again.jsonl"
        export(again, again_out, "swift")
        assert again_out.read_bytes() == out.read_bytes()
    finally:
        again.close()
