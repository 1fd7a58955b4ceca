"""Import of WeNet, swift and WenetSpeech-Wu JSONL: fields, bad lines, policies, audio."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from db_helpers import AISHELL_CLIP, WU_CLIP, dump, utt, write_jsonl

from db.importers import ImportConfig, ImportError_, import_file, sniff
from db.row_formats import CORPUS_SYSTEM, Options
from db.store import Store
from db.tasks import PROMPTS

CORPUS_ROW = {
    "key": "WU_0001", "wav": f"/abs/corpus/{WU_CLIP}", "duration": 6.96,
    "transcription": "侬今朝去伐", "translation": "你今天去吗？", "confidence": 0.874,
    "audio-quality": {"DNSMOS": 3.31, "SNR": 28.4},
    "paralinguistic": {"emotion": "neutral", "age": 37.5, "gender": "Female"},
    "low-level-feature": {"speech_rate": 17.1, "loudness": -36.2, "f0_mean": 190.3,
                          "f0_std": 30.1, "energy_mean": 0.006, "energy_std": 0.007},
    "meta-info": {"domain": "Podcast", "sub-dialect": "Taihu_Shanghai"},
}


def swift_row(task: str, answer: str | None, audio: str) -> dict[str, object]:
    messages = [{"role": "user", "content": PROMPTS[task]}]
    if answer is not None:
        messages.append({"role": "assistant", "content": answer})
    return {"messages": messages, "audios": [audio]}


# --- WeNet ---------------------------------------------------------------------------------


def test_wenet_fields_probe_and_extra(tmp_path: Path, audio_dir: Path, store: Store, do_import):
    data = write_jsonl(tmp_path / "data.list", [
        {"key": "a", "wav": str(audio_dir / WU_CLIP), "txt": "侬好", "spk": "S1", "n": [1, 2]},
        {"key": "b", "wav": str(audio_dir / AISHELL_CLIP)},
    ])
    summary, bad = do_import(data, subset="dev")
    assert bad == [] and summary.format == "wenet"
    assert (summary.lines, summary.inserted) == (2, 2)
    a = utt(store, "a")
    assert a["draft"] == "侬好" and a["gold"] is None and a["status"] == "todo"
    assert (a["duration"], a["sample_rate"], a["audio_error"]) == (6.86, 16000, None)
    assert a["subset"] == "dev"
    assert json.loads(a["extra"]) == {"spk": "S1", "n": [1, 2]}
    assert utt(store, "b")["draft"] is None and utt(store, "b")["duration"] == 4.281


def test_gold_makes_accepted_gold(tmp_path: Path, store: Store, do_import):
    data = write_jsonl(tmp_path / "d.jsonl", [
        {"key": "a", "wav": "a.wav", "txt": "参考"}, {"key": "e", "wav": "e.wav", "txt": ""},
    ])
    do_import(data, gold=True, probe=False)
    a = utt(store, "a")
    assert (a["draft"], a["gold"], a["status"]) == ("参考", "参考", "accepted")
    # An empty reference is still a reference (counted apart by the report).
    assert (utt(store, "e")["gold"], utt(store, "e")["status"]) == ("", "accepted")


def test_relative_audio_resolves_against_the_jsonl_folder(tmp_path: Path, store: Store,
                                                          do_import):
    sub = tmp_path / "lists"
    sub.mkdir()
    data = write_jsonl(sub / "d.jsonl", [{"key": "a", "wav": "../audio/x.wav", "txt": "t"}])
    do_import(data, probe=False)
    assert utt(store, "a")["audio"] == str(tmp_path / "audio" / "x.wav")


def test_audio_root_by_key_then_by_file_name(tmp_path: Path, audio_dir: Path, store: Store,
                                             do_import):
    os.rename(audio_dir / AISHELL_CLIP, audio_dir / "k1.wav")
    data = write_jsonl(tmp_path / "d.jsonl", [
        {"key": "k1", "wav": "/elsewhere/whatever.wav"},
        {"key": "k2", "wav": f"/elsewhere/{WU_CLIP}"},
        {"key": "k3", "wav": "/elsewhere/gone.wav"},
    ])
    summary, _ = do_import(data, audio_root=str(audio_dir))
    assert utt(store, "k1")["audio"] == str(audio_dir / "k1.wav")
    assert utt(store, "k2")["audio"] == str(audio_dir / WU_CLIP)
    assert utt(store, "k2")["audio_error"] is None
    assert utt(store, "k3")["audio"] == str(audio_dir / "gone.wav")
    assert utt(store, "k3")["audio_error"] == "missing"
    assert summary.audio_missing == 1


def test_missing_and_corrupt_audio_are_flagged_not_fatal(tmp_path: Path, store: Store,
                                                         do_import):
    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunkjunk")
    data = write_jsonl(tmp_path / "d.jsonl", [
        {"key": "gone", "wav": str(tmp_path / "gone.wav")},
        {"key": "broken", "wav": str(broken)},
    ])
    summary, bad = do_import(data)
    assert bad == [] and summary.inserted == 2
    assert utt(store, "gone")["audio_error"] == "missing"
    assert utt(store, "broken")["audio_error"].startswith("unreadable: ")
    assert (summary.audio_missing, summary.audio_unreadable) == (1, 1)


def test_no_probe_leaves_audio_unchecked(tmp_path: Path, store: Store, do_import):
    data = write_jsonl(tmp_path / "d.jsonl", [{"key": "gone", "wav": "/nowhere/x.wav"}])
    summary, _ = do_import(data, probe=False)
    assert utt(store, "gone")["audio_error"] is None and summary.audio_missing == 0


# --- bad lines ---------------------------------------------------------------------------

BAD_LINES = [
    ('{"key": "a", "wav": "a.wav", "txt": "好"}', None),
    ("this is not json", "not JSON"),
    ('["a", "list"]', "not a JSON object but list"),
    ('{"wav": "b.wav", "txt": "x"}', "missing 'key'"),
    ('{"key": "c", "txt": "x"}', "missing 'wav'"),
    ('{"key": 7, "wav": "d.wav"}', "'key' must be a string, not int"),
    ('{"key": "e", "wav": "e.wav", "txt": 5}', "'txt' must be a string, not int"),
    ('{"key": "", "wav": "f.wav"}', "empty 'key'"),
    ('{"key": "g", "wav": "g.wav"}', None),
]


def test_bad_lines_are_reported_with_file_and_line(tmp_path: Path, store: Store, do_import):
    data = write_jsonl(tmp_path / "d.jsonl", [line for line, _ in BAD_LINES])
    summary, bad = do_import(data, probe=False)
    expected = [(n, why) for n, (_, why) in enumerate(BAD_LINES, 1) if why]
    assert len(bad) == len(expected) == summary.bad
    for message, (line_no, why) in zip(bad, expected, strict=True):
        assert message.startswith(f"{data}:{line_no}: {why}")
    assert summary.inserted == 2 and summary.lines == len(BAD_LINES)
    assert store.count() == 2


def test_strict_stops_at_the_first_bad_line_and_writes_nothing(tmp_path: Path, store: Store,
                                                                 do_import):
    rows = [{"key": f"k{i}", "wav": f"{i}.wav", "txt": "x"} for i in range(50)]
    data = write_jsonl(tmp_path / "d.jsonl", [*rows, "oops", {"key": "z", "wav": "z.wav"}])
    with pytest.raises(ImportError_, match=rf"{data}:51: not JSON .*--strict"):
        # Small batches: earlier batches were flushed before the bad line and must roll back.
        do_import(data, strict=True, probe=False, batch=10)
    assert store.count() == 0


def test_strict_duplicate_error_also_writes_nothing(tmp_path: Path, store: Store, do_import):
    data = write_jsonl(tmp_path / "d.jsonl", [
        {"key": "a", "wav": "a.wav", "txt": "one"}, {"key": "b", "wav": "b.wav"},
        {"key": "a", "wav": "a.wav", "txt": "two"},
    ])
    with pytest.raises(ImportError_, match=r":3: duplicate key 'a' \(draft differ\)"):
        do_import(data, strict=True, probe=False, on_duplicate="error", batch=1)
    assert store.count() == 0


def test_unknown_format_and_empty_file(tmp_path: Path, store: Store):
    odd = write_jsonl(tmp_path / "odd.jsonl", [{"id": 1}])
    with pytest.raises(ImportError_, match="cannot tell the format"):
        sniff(odd)
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n")
    with pytest.raises(ImportError_, match="no JSON lines"):
        import_file(store, empty, ImportConfig())


# --- idempotency, resume, duplicates ----------------------------------------------------


def test_reimport_changes_nothing(tmp_path: Path, audio_dir: Path, store: Store, do_import):
    data = write_jsonl(tmp_path / "d.jsonl", [
        {"key": "a", "wav": str(audio_dir / WU_CLIP), "txt": "侬好", "spk": "S1"},
    ])
    corpus = write_jsonl(tmp_path / "c.jsonl", [{**CORPUS_ROW, "wav": str(audio_dir / WU_CLIP)}])
    do_import(data)
    do_import(corpus)
    before = dump(store)
    again, _ = do_import(data)
    again_corpus, _ = do_import(corpus)
    assert dump(store) == before
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 1)
    assert (again_corpus.inserted, again_corpus.updated, again_corpus.unchanged) == (0, 0, 1)
    assert {r["version"] for r in (utt(store, "a"), utt(store, "WU_0001"))} == {0}


def test_killed_import_completes_when_rerun(tmp_path: Path, store: Store, do_import):
    rows = [{"key": f"k{i:03d}", "wav": f"{i}.wav", "txt": f"t{i}"} for i in range(100)]
    data = write_jsonl(tmp_path / "d.jsonl", rows)
    # A kill after some batches committed: what is left is a prefix of the file.
    write_jsonl(tmp_path / "part.jsonl", rows[:37])
    do_import(tmp_path / "part.jsonl", probe=False, batch=10)
    summary, _ = do_import(data, probe=False, batch=10)
    assert (summary.inserted, summary.unchanged) == (63, 37)
    assert store.count() == 100


def test_duplicate_policies(tmp_path: Path, store: Store, do_import):
    first = write_jsonl(tmp_path / "1.jsonl", [{"key": "a", "wav": "a.wav", "txt": "old"}])
    second = write_jsonl(tmp_path / "2.jsonl", [{"key": "a", "wav": "a.wav", "txt": "new"}])
    do_import(first, probe=False)

    skipped, bad = do_import(second, probe=False, on_duplicate="skip")
    assert (skipped.skipped, bad) == (1, [])
    assert utt(store, "a")["draft"] == "old"

    errored, bad = do_import(second, probe=False, on_duplicate="error")
    assert bad == [f"{second}:1: duplicate key 'a' (draft differ)"] and errored.bad == 1
    assert utt(store, "a")["draft"] == "old"

    updated, _ = do_import(second, probe=False, on_duplicate="update")
    a = utt(store, "a")
    assert updated.updated == 1 and a["draft"] == "new" and a["version"] == 1
    assert store.edit_log(a["id"])[0][:4] == ("draft", "old", "new", "import")


def test_duplicates_inside_one_file(tmp_path: Path, store: Store, do_import):
    data = write_jsonl(tmp_path / "d.jsonl", [
        {"key": "a", "wav": "a.wav", "txt": "first"},
        {"key": "a", "wav": "a.wav", "txt": "first"},  # identical: not a duplicate
        {"key": "a", "wav": "a.wav", "txt": "second"},
    ])
    summary, bad = do_import(data, probe=False, on_duplicate="error")
    assert bad == [f"{data}:3: duplicate key 'a' (draft differ)"]
    assert utt(store, "a")["draft"] == "first" and (summary.inserted, summary.merged) == (1, 1)
    store2 = Store.open(tmp_path / "two.db")
    try:
        import_file(store2, data, ImportConfig(probe=False, on_duplicate="update"))
        assert utt(store2, "a")["draft"] == "second"
    finally:
        store2.close()


def test_update_does_not_touch_reviewed_fields_it_does_not_carry(tmp_path: Path, store: Store,
                                                                 do_import):
    do_import(write_jsonl(tmp_path / "1.jsonl", [{"key": "a", "wav": "a.wav", "txt": "x"}]),
              probe=False)
    a = utt(store, "a")
    store.save(a["id"], 0, {"note": "checked", "age": "中年"}, "ann")
    do_import(write_jsonl(tmp_path / "2.jsonl", [{"key": "a", "wav": "a.wav", "txt": "y"}]),
              probe=False, on_duplicate="update")
    a = utt(store, "a")
    assert (a["draft"], a["note"], a["age"], a["version"]) == ("y", "checked", "中年", 2)


# --- swift ---------------------------------------------------------------------------------


def test_swift_rows_merge_by_audio_stem(tmp_path: Path, audio_dir: Path, store: Store,
                                        do_import):
    wav = str(audio_dir / WU_CLIP)
    other = str(audio_dir / AISHELL_CLIP)
    data = write_jsonl(tmp_path / "s.jsonl", [
        swift_row("asr", "侬好", wav),
        swift_row("ast", "你好", other),
        {**swift_row("ast", "你好", wav), "messages": [
            {"role": "user", "content": "<audio>请记录下你所听到的语音内容。"},
            {"role": "assistant", "content": "侬好"}]},  # the Und model's asr prompt
        swift_row("ast", "你好", wav),
        swift_row("age", "中年", wav),
        swift_row("gender", "男性", wav),
        swift_row("emotion", "中立", wav),
    ])
    summary, bad = do_import(data, gold=True)
    assert bad == [] and summary.format == "swift"
    assert any("stem" in note for note in summary.notes)
    key = WU_CLIP.removesuffix(".wav")
    u = utt(store, key)
    assert (u["gold"], u["status"], u["translation"]) == ("侬好", "accepted", "你好")
    assert (u["age"], u["gender"], u["emotion"]) == ("中年", "男性", "中立")
    assert u["sample_rate"] == 16000
    other_row = utt(store, AISHELL_CLIP.removesuffix(".wav"))
    assert other_row["translation"] == "你好" and other_row["status"] == "todo"
    assert store.count() == 2


def test_swift_bad_rows(tmp_path: Path, store: Store, do_import):
    data = write_jsonl(tmp_path / "s.jsonl", [
        swift_row("asr", "好", "/x/a.wav"),
        {"messages": [{"role": "user", "content": "<audio>说点什么"}], "audios": ["/x/b.wav"]},
        swift_row("age", "三十岁", "/x/c.wav"),
        {**swift_row("asr", None, "/x/d.wav"), "audios": ["/x/d.wav", "/x/e.wav"]},
        {"messages": "hi", "audios": ["/x/f.wav"]},
    ])
    summary, bad = do_import(data, probe=False)
    assert [b.split(": ", 1)[0] for b in bad] == [f"{data}:{n}" for n in (2, 3, 4, 5)]
    assert "unknown prompt" in bad[0] and "not one of 儿童" in bad[1]
    assert "expected one audio" in bad[2] and "'messages'" in bad[3]
    assert summary.inserted == 1


# --- WenetSpeech-Wu corpus ---------------------------------------------------------------


def test_corpus_fields_labels_and_hypotheses(tmp_path: Path, audio_dir: Path, store: Store,
                                             do_import):
    data = write_jsonl(tmp_path / "c.jsonl", [
        {**CORPUS_ROW, "extra_field": "kept"},
        {**CORPUS_ROW, "key": "WU_0002", "wav": "/abs/corpus/missing.wav",
         "paralinguistic": {"emotion": "unknown", "age": 8, "gender": "Male"}},
    ])
    summary, bad = do_import(data, audio_root=str(audio_dir))
    assert bad == [] and summary.format == "wswu"
    u = utt(store, "WU_0001")
    assert u["audio"] == str(audio_dir / WU_CLIP)
    assert (u["duration"], u["sample_rate"]) == (6.86, 16000)  # probed beats the metadata
    assert (u["draft"], u["translation"], u["confidence"]) == ("侬今朝去伐", "你今天去吗？", 0.874)
    assert (u["dnsmos"], u["snr"]) == (3.31, 28.4)
    assert (u["domain"], u["sub_dialect"]) == ("Podcast", "Taihu_Shanghai")
    assert (u["age"], u["gender"], u["emotion"]) == ("青年", "女性", "中立")
    assert json.loads(u["extra"]) == {
        "low-level-feature": CORPUS_ROW["low-level-feature"], "extra_field": "kept"}
    hyps = {h.task: h for h in store.utterance(u["id"]).hypotheses}
    assert {h.system for h in hyps.values()} == {CORPUS_SYSTEM}
    assert {t: h.text for t, h in hyps.items()} == {
        "asr": "侬今朝去伐", "ast": "你今天去吗？", "age": "青年", "gender": "女性",
        "emotion": "中立",
    }
    assert (hyps["asr"].n, hyps["asr"].cer) == (5, 0.0)
    u2 = utt(store, "WU_0002")
    assert (u2["age"], u2["gender"], u2["emotion"]) == ("儿童", "男性", None)
    assert u2["audio_error"] == "missing" and u2["duration"] == 6.96  # the metadata's figure
    tasks2 = {h.task for h in store.utterance(u2["id"]).hypotheses}
    assert "emotion" not in tasks2


@pytest.mark.parametrize(("age", "label"), [
    (0, "儿童"), (11.9, "儿童"), (12, "少年"), (17.5, "少年"), (18, "青年"), (39.9, "青年"),
    (40, "中年"), (59, "中年"), (60, "老年"), (95, "老年"),
])
def test_default_age_bands(tmp_path: Path, store: Store, do_import, age: float, label: str):
    row = {**CORPUS_ROW, "paralinguistic": {"emotion": "happy", "age": age, "gender": "Male"}}
    do_import(write_jsonl(tmp_path / "c.jsonl", [row]), probe=False)
    assert utt(store, "WU_0001")["age"] == label


def test_age_bounds_are_configurable(tmp_path: Path, store: Store):
    row = {**CORPUS_ROW, "paralinguistic": {"age": 30, "emotion": "sad", "gender": "Male"}}
    cfg = ImportConfig(options=Options(age_bounds=(10, 15, 25, 50)), probe=False)
    import_file(store, write_jsonl(tmp_path / "c.jsonl", [row]), cfg)
    assert utt(store, "WU_0001")["age"] == "中年"
    assert utt(store, "WU_0001")["emotion"] == "难过"


def test_corpus_bad_values(tmp_path: Path, store: Store, do_import):
    data = write_jsonl(tmp_path / "c.jsonl", [
        {**CORPUS_ROW, "confidence": "high"},
        {**CORPUS_ROW, "audio-quality": [1, 2]},
    ])
    summary, bad = do_import(data, probe=False)
    assert "'confidence' must be a number" in bad[0] and bad[0].startswith(f"{data}:1: ")
    assert "'audio-quality' must be an object" in bad[1] and bad[1].startswith(f"{data}:2: ")
    assert summary.bad == 2 and store.count() == 0


def test_corpus_update_rescores_and_replaces_its_answer(tmp_path: Path, store: Store, do_import):
    do_import(write_jsonl(tmp_path / "1.jsonl", [CORPUS_ROW]), probe=False)
    changed = {**CORPUS_ROW, "transcription": "侬今朝去伐啦"}
    do_import(write_jsonl(tmp_path / "2.jsonl", [changed]), probe=False, on_duplicate="update")
    u = store.utterance(store.utterance_id("WU_0001") or 0)
    asr = next(h for h in u.hypotheses if h.task == "asr")
    assert (u.draft, asr.text, asr.cer) == ("侬今朝去伐啦", "侬今朝去伐啦", 0.0)
