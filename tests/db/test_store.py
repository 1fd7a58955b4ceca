"""The store: keyset paging, filters, search, saves with conflicts, the edit log, pending."""

from __future__ import annotations

from pathlib import Path

import pytest
from db_helpers import write_jsonl

from db.importers import ImportConfig, import_file
from db.store import Conflict, Filter, HypothesisIn, Sort, Store, StoreError

# key, duration, confidence, transcription, sub-dialect
ROWS = [
    ("k1", None, 0.5, "最少辰光阿拉", "Taihu_Shanghai"),
    ("k2", 1.0, None, "侬好伐", "Taihu_Suzhou"),
    ("k3", 1.0, 0.5, "今朝去伐", "Taihu_Shanghai"),
    ("k4", 1.0, 0.9, "有钞票就是", "Taihu_Shanghai"),
    ("k5", 2.0, 0.1, "到银行里", "Taihu_Suzhou"),
    ("k6", None, None, "保本保息", "Taihu_Shanghai"),
    ("k7", 3.0, 0.5, "阿拉是做撒", "Taihu_Suzhou"),
]


@pytest.fixture
def project(tmp_path: Path, store: Store) -> Store:
    rows = []
    for key, duration, confidence, text, dialect in ROWS:
        row = {"key": key, "wav": f"/d/{key}.wav", "transcription": text,
               "meta-info": {"sub-dialect": dialect}}
        if duration is not None:
            row["duration"] = duration
        if confidence is not None:
            row["confidence"] = confidence
        rows.append(row)
    import_file(store, write_jsonl(tmp_path / "c.jsonl", rows), ImportConfig(probe=False))
    return store


def ids(store: Store) -> dict[str, int]:
    return {k: store.utterance_id(k) or 0 for k, *_ in ROWS}


def walk_forward(store: Store, filt: Filter, sort: Sort, size: int) -> list[str]:
    keys: list[str] = []
    page = store.page(filt, sort, limit=size)
    while page:
        keys += [r.key for r in page]
        page = store.page(filt, sort, after=page[-1].cursor, limit=size)
    return keys


def walk_back(store: Store, filt: Filter, sort: Sort, size: int, last_cursor) -> list[str]:
    keys: list[str] = []
    page = store.page_before(filt, sort, last_cursor, limit=size)
    while page:
        keys = [r.key for r in page] + keys
        page = store.page_before(filt, sort, page[0].cursor, limit=size)
    return keys


@pytest.mark.parametrize(("field", "descending", "expected"), [
    # NULLs first, ties broken by id: the order never depends on page boundaries.
    ("duration", False, ["k1", "k6", "k2", "k3", "k4", "k5", "k7"]),
    ("duration", True, ["k7", "k5", "k4", "k3", "k2", "k6", "k1"]),
    ("confidence", False, ["k2", "k6", "k5", "k1", "k3", "k7", "k4"]),
    ("key", True, ["k7", "k6", "k5", "k4", "k3", "k2", "k1"]),
])
@pytest.mark.parametrize("size", [1, 2, 3, 7])
def test_keyset_paging_forward_and_back(project: Store, field, descending, expected, size):
    sort = Sort(field, descending)
    assert walk_forward(project, Filter(), sort, size) == expected
    everything = project.page(Filter(), sort, limit=100)
    assert walk_back(project, Filter(), sort, size, everything[-1].cursor) == expected[:-1]
    assert project.position(Filter(), sort, everything[3].cursor) == 3


def test_paging_by_cer_of_a_system(project: Store):
    i = ids(project)
    project.add_hypotheses([
        HypothesisIn(i["k1"], "X", "asr", "最少辰光"),  # 2 of 6 deleted
        HypothesisIn(i["k2"], "X", "asr", "侬好伐"),
        HypothesisIn(i["k3"], "X", "asr", "今朝"),  # 2 of 4
    ])
    sort = Sort("cer", descending=True, system="X")
    keys = walk_forward(project, Filter(), sort, 2)
    assert keys[:3] == ["k3", "k1", "k2"] and len(keys) == 7  # no answer: CER NULL, last
    with pytest.raises(StoreError, match="needs a system"):
        project.page(Filter(), Sort("cer"))


def test_filters(project: Store):
    i = ids(project)
    project.add_hypotheses([
        HypothesisIn(i["k1"], "X", "asr", "最少辰光"),
        HypothesisIn(i["k2"], "X", "asr", None, error="timeout"),
        HypothesisIn(i["k2"], "Y", "asr", "侬好"),
    ])
    u = project.utterance(i["k3"])
    project.accept(i["k3"], u.version, draft=u.draft or "", annotator="ann")
    keys = lambda f: [r.key for r in project.page(f, Sort(), limit=100)]  # noqa: E731
    assert keys(Filter(status="accepted")) == ["k3"]
    assert keys(Filter(status="todo")) == ["k1", "k2", "k4", "k5", "k6", "k7"]
    assert keys(Filter(group_field="sub_dialect", group_value="Taihu_Suzhou")) == [
        "k2", "k5", "k7"]
    assert keys(Filter(has_system="X")) == ["k1"]  # a failure is not an answer
    assert "k2" in keys(Filter(missing_system="X")) and "k1" not in keys(
        Filter(missing_system="X"))
    assert keys(Filter(cer_system="X", cer_min=0.3, cer_max=0.4)) == ["k1"]
    assert keys(Filter(cer_system="Y", cer_max=0.2)) == []
    assert project.count(Filter(status="todo", group_field="sub_dialect",
                                group_value="Taihu_Shanghai")) == 3
    with pytest.raises(StoreError):
        project.count(Filter(status="done"))


@pytest.mark.parametrize(("query", "expected"), [
    ("辰光阿", ["k1"]),
    ("阿拉", ["k1", "k7"]),
    ("伐", ["k2", "k3"]),
    ("保本保息", ["k6"]),
    ("不存在", []),
])
def test_text_search_of_any_length(project: Store, query: str, expected: list[str]):
    found = [r.key for r in project.page(Filter(text=query), Sort(), limit=100)]
    assert found == expected


def test_search_sees_edits_and_hypotheses(project: Store):
    i = ids(project)
    u = project.utterance(i["k5"])
    project.save(i["k5"], u.version, {"draft": "到上海去"}, "ann")
    project.add_hypotheses([HypothesisIn(i["k4"], "X", "asr", "苏州话")])
    assert [r.key for r in project.page(Filter(text="上海"), Sort())] == ["k5"]
    assert [r.key for r in project.page(Filter(text="苏州话"), Sort())] == ["k4"]
    # The old words are still found through the corpus's own hypothesis.
    assert [r.key for r in project.page(Filter(text="银行"), Sort())] == ["k5"]
    assert [r.key for r in project.page(Filter(text="上海去"), Sort())] == ["k5"]


def test_save_conflict_and_edit_log(project: Store):
    i = ids(project)["k2"]
    first = project.save(i, 0, {"draft": "侬好呀", "note": "checked"}, "alice")
    assert first.version == 1 and first.annotator == "alice"
    with pytest.raises(Conflict) as exc:
        project.save(i, 0, {"draft": "侬好啊"}, "bob")
    assert exc.value.theirs.draft == "侬好呀" and "alice" in str(exc.value)
    unchanged = project.save(i, 1, {"draft": "侬好呀"}, "bob")  # nothing changed: no log
    assert unchanged.version == 2
    log = project.edit_log(i)
    assert [(f, old, new, who) for f, old, new, who, _ in log] == [
        ("draft", "侬好伐", "侬好呀", "alice"), ("note", None, "checked", "alice")]
    with pytest.raises(StoreError, match="cannot edit"):
        project.save(i, 2, {"key": "x"}, "bob")


def test_accept_rescores_against_gold(project: Store):
    i = ids(project)["k2"]
    project.add_hypotheses([HypothesisIn(i, "X", "asr", "侬好伐")])
    accepted = project.accept(i, 0, draft="侬好呀", annotator="ann", age="中年")
    (hyp,) = [h for h in accepted.hypotheses if h.system == "X"]
    assert (accepted.status, accepted.gold, accepted.age) == ("accepted", "侬好呀", "中年")
    assert (hyp.n, hyp.s, hyp.cer) == (3, 1, pytest.approx(1 / 3))


def test_a_new_system_is_scored_without_disturbing_the_others(project: Store):
    i = ids(project)["k2"]
    draft = project.utterance(i).draft
    project.add_hypotheses([HypothesisIn(i, "X", "asr", draft)])
    project.add_hypotheses([HypothesisIn(i, "Y", "asr", "")])
    hyps = {h.system: h for h in project.utterance(i).hypotheses if h.task == "asr"}
    n = hyps["X"].n
    assert n and (hyps["X"].d, hyps["X"].cer) == (0, 0.0)
    assert (hyps["Y"].n, hyps["Y"].d, hyps["Y"].cer) == (n, n, 1.0)
    # the disagreement sees every system, old and new
    assert project.utterance(i).disagreement is not None


def test_pending_shortest_first_resumes_and_shards(project: Store):
    i = ids(project)
    project.add_hypotheses([HypothesisIn(i["k2"], "X", "asr", None, error="failed")])
    todo = [p.key for p in project.pending("X", "asr")]
    assert todo == ["k1", "k6", "k3", "k4", "k5", "k7"]  # a recorded failure counts as done
    shards = [[p.key for p in project.pending("X", "asr", shard=(s, 3))] for s in range(3)]
    assert sorted(k for shard in shards for k in shard) == sorted(todo)
    assert all(not set(a) & set(b) for a in shards for b in shards if a is not b)
    assert [p.key for p in project.pending("X", "asr", limit=2)] == ["k1", "k6"]
    with pytest.raises(StoreError, match="shard"):
        list(project.pending("X", "asr", shard=(3, 3)))
