"""The second pass on real project files: routing, sampling, approve/correct, export."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from team_helpers import make_project

from db import claims, schema, second_pass, second_pass_policy
from db.exporters import export
from db.store import Filter, Sort, Store


def _accept_all(store: Store, annotator: str, ids: list[int]) -> None:
    for utt_id in ids:
        utt = store.utterance(utt_id)
        store.accept(utt_id, utt.version, draft=utt.draft or "", annotator=annotator,
                     gender="男性")


def test_second_pass_never_goes_to_the_first_annotator(tmp_path: Path) -> None:
    store = make_project(tmp_path / "team.db", 12)
    second_pass.set_policy(store, "all")
    _accept_all(store, "ann", [1, 2, 3, 4])
    _accept_all(store, "bob", [5, 6, 7, 8])
    for name, others in (("ann", {5, 6, 7, 8}), ("bob", {1, 2, 3, 4}), ("cat", set(range(1, 9)))):
        due = {r.id for r in store.page(Filter(second_pass_for=name), Sort())}
        assert due == others
    # Claimed for pass 2 at the same time, each gets only the other's work.
    pass2 = Filter(second_pass_for="ann")
    assert claims.claim_batch(store, "ann", pass2, Sort(), size=10, pass_=2) == 4
    assert claims.claim_batch(store, "bob", Filter(second_pass_for="bob"), Sort(), pass_=2) == 4
    assert {r.id for r in store.page(Filter(claimed_by="ann"), Sort())} == {5, 6, 7, 8}
    assert {r.id for r in store.page(Filter(claimed_by="bob"), Sort())} == {1, 2, 3, 4}
    utt = store.utterance(1)
    with pytest.raises(second_pass.SecondPassError, match="ann gave the first pass"):
        second_pass.review(store, 1, utt.version, "ann", second_pass.Verdict(utt.gold or ""))
    store.close()


def test_a_later_save_by_someone_else_does_not_make_them_the_first_annotator(
    tmp_path: Path,
) -> None:
    """The first pass is whoever accepted, not whoever saved last (a lead's note, a label)."""
    store = make_project(tmp_path / "team.db", 3)
    second_pass.set_policy(store, "all")
    _accept_all(store, "ann", [1])
    utt = store.utterance(1)
    store.save(1, utt.version, {"note": "checked the clip", "emotion": "中立"}, "lead")
    assert {r.id for r in store.page(Filter(second_pass_for="ann"), Sort())} == set()
    assert {r.id for r in store.page(Filter(second_pass_for="lead"), Sort())} == {1}
    utt = store.utterance(1)
    with pytest.raises(second_pass.SecondPassError, match="ann gave the first pass"):
        second_pass.review(store, 1, utt.version, "ann", second_pass.Verdict(utt.gold or ""))
    second_pass.review(store, 1, utt.version, "lead", second_pass.Verdict(utt.gold or ""))
    assert second_pass.first_pass(store, 1) == ("ann", utt.gold, "corrected")
    # Taken back to todo and accepted by someone else, the first pass is theirs.
    _accept_all(store, "ann", [2])
    utt = store.utterance(2)
    utt = store.save(2, utt.version, {"status": "todo"}, "lead")
    _accept_all(store, "bob", [2])
    assert {r.id for r in store.page(Filter(second_pass_for="ann"), Sort())} == {2}
    store.close()


def test_approve_and_correct_keep_the_first_pass(tmp_path: Path) -> None:
    store = make_project(tmp_path / "team.db", 4)
    second_pass.set_policy(store, "all")
    _accept_all(store, "ann", [1, 2, 3])
    one, two = store.utterance(1), store.utterance(2)
    approved = second_pass.review(
        store, 1, one.version, "bob", second_pass.Verdict(one.gold or "", gender="男性")
    )
    corrected = second_pass.review(
        store, 2, two.version, "bob", second_pass.Verdict("侬好呀", gender="女性")
    )
    assert approved.gold == one.gold and corrected.gold == "侬好呀"
    assert second_pass.first_pass(store, 1) == ("ann", one.gold, "approved")
    assert second_pass.first_pass(store, 2) == ("ann", two.gold, "corrected")
    log = store.edit_log(2)
    assert ("gold", two.gold, "侬好呀", "bob") in [entry[:4] for entry in log]
    assert ("second_pass", "ann", "corrected", "bob") in [entry[:4] for entry in log]
    with pytest.raises(second_pass.SecondPassError, match="already"):
        second_pass.review(store, 2, corrected.version, "cat", second_pass.Verdict("x"))
    with pytest.raises(second_pass.SecondPassError, match="only utterances a person accepted"):
        second_pass.review(store, 4, 0, "bob", second_pass.Verdict("x"))
    # `reviewed` as a list status and an export status.
    assert [r.id for r in store.page(Filter(status="reviewed"), Sort())] == [1, 2]
    assert store.status_counts()["reviewed"] == 2
    assert [r.id for r in store.page(Filter(second_pass_for="cat"), Sort())] == [3]
    out = tmp_path / "reviewed.jsonl"
    assert export(store, out, "wenet", status="reviewed") == 2
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [(r["key"], r["txt"]) for r in rows] == [("utt_0000", one.gold), ("utt_0001", "侬好呀")]
    assert export(store, tmp_path / "accepted.jsonl", "wenet", status="accepted") == 3
    # Gold changed after the second pass is no longer what was reviewed.
    store.save(2, corrected.version, {"gold": "侬好啊"}, "ann")
    assert [r.id for r in store.page(Filter(status="reviewed"), Sort())] == [1]
    assert store.status_counts()["reviewed"] == 1
    assert export(store, out, "wenet", status="reviewed") == 1
    store.close()


def test_a_fraction_samples_uniformly_and_reproducibly(tmp_path: Path) -> None:
    store = make_project(tmp_path / "team.db", 2000)
    with store.transaction() as conn:
        conn.execute("UPDATE utterances SET status = 'accepted', gold = draft, annotator = 'ann'")
    assert store.count(Filter(second_pass_for="bob")) == 0  # no policy: none
    policy = second_pass.set_policy(store, "10%")
    assert str(policy) == "10%" and second_pass.policy(store) == policy
    first = [r.id for r in store.page(Filter(second_pass_for="bob"), Sort(), limit=5000)]
    # Each run of 500 consecutive ids gets its tenth, give or take one.
    for start in range(0, 2000, 500):
        assert 49 <= sum(start < i <= start + 500 for i in first) <= 51
    assert 196 <= len(first) <= 204
    # The same project samples the same utterances; setting the policy again keeps the seed.
    second_pass.set_policy(store, "0.1")
    assert [r.id for r in store.page(Filter(second_pass_for="bob"), Sort(), limit=5000)] == first
    other = second_pass_policy.Policy(0.1, policy.seed + 1)
    where, args = second_pass_policy.sampled_sql(other)
    with store.locked() as conn:
        ids = [r[0] for r in conn.execute(
            f"SELECT u.id FROM utterances u WHERE {where} ORDER BY u.id", args)]
    assert ids != first and len(set(ids) & set(first)) < len(first) // 2
    second_pass.set_policy(store, "none")
    assert store.count(Filter(second_pass_for="bob")) == 0
    store.close()


@pytest.mark.parametrize("text", ["some", "120%", "-1"])
def test_bad_policy_is_a_clear_error(text: str) -> None:
    with pytest.raises(second_pass_policy.PolicyError, match="second-pass policy"):
        second_pass_policy.parse(text)


def test_an_older_project_opens_and_its_accepts_count_as_first_passes(tmp_path: Path) -> None:
    """A file made before the team tables migrates on open; who saved an accepted row then
    stands in for who accepted it."""
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    for statement in schema._statements(schema.MIGRATIONS[0]):
        conn.execute(statement)
    conn.execute("PRAGMA user_version = 1")
    conn.execute(
        "INSERT INTO utterances (key, audio, draft, gold, status, annotator) "
        "VALUES ('old', 'old.wav', '侬好', '侬好', 'accepted', 'ann')"
    )
    conn.commit()
    conn.close()
    store = Store.open(path)
    second_pass.set_policy(store, "all")
    assert [r.key for r in store.page(Filter(second_pass_for="bob"), Sort())] == ["old"]
    assert store.page(Filter(second_pass_for="ann"), Sort()) == []
    store.close()
