"""Consensus: hand-worked confusion networks, the vote's tie rule, and a seeded simulation
through a real project file (synthetic transcripts with known truth; no accuracy claim)."""

from __future__ import annotations

import json
import random
import sqlite3
from pathlib import Path

import pytest

from db import consensus, metrics, triage
from db.consensus import EMPTY, UNVOTED, arcs, combine, rank, scaled, vote
from db.consensus_run import ConsensusError, Request, run, tier_of
from db.store import Filter, HypothesisIn, Sort, Store

EQUAL3 = scaled([1, 1, 1])


def test_insertions_at_both_ends_open_slots_with_empty_arcs():
    hyps = [list("好阿"), list("侬好阿拉"), list("好阿拉")]
    slots = [list(slot) for slot in zip(*arcs(hyps), strict=True)]
    assert slots == [[EMPTY, "侬", EMPTY], ["好"] * 3, ["阿"] * 3, [EMPTY, "拉", "拉"]]
    c = combine(["好阿", "侬好阿拉", "好阿拉"], EQUAL3)
    # Slot 1: the empty arc has two votes of three, so 侬 is left out; slot 4: 拉 wins 2:1.
    assert c.text == "好阿拉"
    assert c.shares == pytest.approx((1, 1, 2 / 3), abs=1e-6)
    assert c.expected_errors == pytest.approx(2 / 3, abs=1e-6)
    assert c.matches == (3, 3, 4) and c.slots == 4 and not c.unanimous


def test_empty_arcs_vote_and_all_empty_slots():
    c = combine(["", "", "侬"], EQUAL3)
    assert (c.text, c.tokens) == ("", ())
    assert c.expected_errors == pytest.approx(1 / 3, abs=1e-6)
    # A slot where every arc is empty produces nothing and costs nothing.
    assert vote([[EMPTY], [EMPTY], [EMPTY]], EQUAL3) == ([EMPTY], [1.0], 0.0)
    nothing = combine(["", "。"], scaled([1, 1]))
    assert nothing.tokens == () and nothing.unanimous and nothing.expected_errors == 0


def test_ties_go_to_the_highest_ranked_system():
    assert rank({"B": 1.0, "A": 1.0, "C": 2.0}) == ["C", "A", "B"]
    two = scaled([1, 1])
    assert combine(["侬好", "侬坏"], two).text == "侬好"
    assert combine(["侬坏", "侬好"], two).text == "侬坏"
    # A token tied with an empty arc: the first-ranked system's arc wins either way.
    assert combine(["侬好", "侬"], two).text == "侬好"
    assert combine(["侬", "侬好"], two).text == "侬"
    # Weights are summed as integers: 0.1 + 0.2 ties 0.3 exactly.
    w = scaled([0.3, 0.1, 0.2])
    assert w[0] == w[1] + w[2]
    assert combine(["侬好", "侬坏", "侬坏"], w).text == "侬好"


def test_one_system_is_its_own_consensus_but_never_trusted_unseen():
    c = combine(["侬好，"], [consensus.SCALE])
    assert c.text == "侬好，" and c.voters == 1 and not c.unanimous
    assert list(c.agreement) == [254, 254, UNVOTED]
    assert tier_of(c, 0.0, high_max=0.5, agree_max=None) == "low"


def test_punctuation_never_splits_a_vote_and_the_text_stays_readable():
    c = combine(["侬好，阿拉。", "侬好阿拉", "侬好 阿拉!"], EQUAL3)
    assert c.unanimous and c.text == "侬好，阿拉。" and c.expected_errors == 0
    assert tier_of(c, 0.0, high_max=0.5, agree_max=None) == "agree"
    # The backbone loses a character but keeps its punctuation around the winner.
    d = combine(["侬好，伊拉。", "侬好阿拉", "侬好阿拉"], EQUAL3)
    assert d.text == "侬好，阿拉。"
    assert list(d.agreement) == [254, 254, UNVOTED, 169, 254, UNVOTED]
    assert consensus.decode_agreement(d.agreement)[3] == pytest.approx(2 / 3, abs=0.01)
    # Latin keeps the backbone's spelling and spaces where the backbone's token won.
    assert combine(["ok 侬好", "OK 侬好", "ok 侬坏"], EQUAL3).text == "ok 侬好"


# --- a seeded simulation through a real project ---------------------------------------------

CHARS = "侬好阿拉伊拉今朝明朝啥物事覅勿晓得辰光做撒呃喃有钞票就是到银行里保本保息上海苏州话讲得来"
# The best system last by name: equal weights break 2:2 ties towards the worst one.
RATES = {"sysA": 0.20, "sysB": 0.16, "sysC": 0.12, "sysD": 0.08}
UTTERANCES = 2000
GOLD = 600  # the first utterances are accepted by a person: auto weights learn from them


def _noisy(rng: random.Random, text: str, rate: float) -> str:
    """Independent character errors: a third each substitutions, deletions, insertions."""
    out = []
    for char in text:
        r = rng.random()
        if r < rate / 3:
            continue
        if r < 2 * rate / 3:
            out.append(rng.choice(CHARS.replace(char, "")))
        elif r < rate:
            out += [char, rng.choice(CHARS)]
        else:
            out.append(char)
    return "".join(out)


@pytest.fixture(scope="module")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    """Synthetic: 2,000 utterances of known truth, 4 systems with 8-20 % character errors."""
    rng = random.Random(20261205)
    truth = ["".join(rng.choices(CHARS, k=rng.randint(8, 24))) for _ in range(UTTERANCES)]
    path = tmp_path_factory.mktemp("sim") / "sim.db"
    with Store.open(path) as store, store.transaction() as conn:
        conn.executemany(
            "INSERT INTO utterances (id, key, audio, duration, draft) VALUES (?, ?, ?, ?, ?)",
            [(n + 1, f"u{n:05d}", f"/x/{n}.wav", 2.0, "") for n in range(UTTERANCES)],
        )
    with Store.open(path) as store:
        for system, rate in RATES.items():
            store.add_hypotheses(
                HypothesisIn(n + 1, system, "asr", _noisy(rng, t, rate))
                for n, t in enumerate(truth)
            )
        for n in range(GOLD):
            utt = store.utterance(n + 1)
            store.accept(utt.id, utt.version, draft=truth[n], annotator="person")
    return path, truth


def _texts(store: Store, system: str) -> list[str]:
    rows = store.execute(
        "SELECT text FROM hypotheses WHERE system = ? AND task = 'asr' ORDER BY utt_id", (system,)
    )
    return [r[0] for r in rows]


def _cer(refs: list[str], hyps: list[str]) -> float:
    total = metrics.corpus_counts(zip(refs, hyps, strict=True))
    assert total.cer is not None
    return total.cer


def test_simulation_consensus_beats_the_best_system_and_auto_weights_help(simulated):
    path, truth = simulated
    unseen = truth[GOLD:]
    with Store.open(path) as store:
        run(store, Request(name="vote-equal", weights="equal"), jobs=1)
        totals, weights, _ = run(store, Request(name="vote-auto"), jobs=1)
        assert weights.notes[0].startswith("auto: learnt from the gold overall")
        # The best system gets the most weight.
        assert rank(weights.overall)[0] == "sysD"
        assert totals.voted == UTTERANCES
        single = {s: _cer(unseen, _texts(store, s)[GOLD:]) for s in RATES}
        equal = _cer(unseen, _texts(store, "vote-equal")[GOLD:])
        auto = _cer(unseen, _texts(store, "vote-auto")[GOLD:])
        print(f"simulation CER: systems {single}, consensus equal {equal:.4f}, auto {auto:.4f}")
        assert equal < min(single.values())
        assert auto < equal
        # The report's view of the same: the consensus systems are derived, not voters.
        assert store.derived == {"vote-equal", "vote-auto"}


def test_simulation_audit_intervals_cover_the_unseen_residual_cer(simulated):
    path, truth = simulated
    with Store.open(path) as store:
        run(store, Request(name="vote-cover"), jobs=1)  # auto weights, the default
        texts = _texts(store, "vote-cover")
    per = [metrics.counts(t, h) for t, h in zip(truth, texts, strict=True)]
    covered = 0
    for seed in range(100):
        drawn = set(random.Random(seed).sample(range(UTTERANCES), 200))
        low, high = triage.bootstrap(
            [per[i].errors for i in sorted(drawn)], [per[i].n for i in sorted(drawn)], seed,
            population=UTTERANCES,
        )
        rest = [per[i] for i in range(UTTERANCES) if i not in drawn]
        true = sum(c.errors for c in rest) / sum(c.n for c in rest)
        covered += low <= true <= high
    print(f"95% intervals covering the unseen residual CER: {covered} / 100")
    assert covered >= 90


def test_run_resumes_after_the_last_range_written_and_keeps_ranks_sortable(simulated, tmp_path):
    path, _ = simulated
    copy = tmp_path / "copy.db"
    with (
        Store.open(path) as src, Store.open(copy) as dst,
        src.locked() as source, dst.locked() as target,
    ):
        source.backup(target)
    with Store.open(copy) as store:
        request = Request(name="vote-resume", weights="equal")
        seen: list[int] = []

        class Stop(Exception):
            pass

        def stop_after_two(done: int, top: int) -> None:
            seen.append(done)
            if len(seen) == 2:
                raise Stop

        with pytest.raises(Stop):
            run(store, request, jobs=1, chunk=500, progress=stop_after_two)
        written = store.execute(
            "SELECT count(*) FROM hypotheses WHERE system = 'vote-resume'"
        )[0][0]
        assert written == 1000  # two ranges, each committed with its watermark
        totals, _, resumed = run(store, request, jobs=2, chunk=500)
        assert resumed and totals.voted == UTTERANCES
        state = json.loads(store.execute(
            "SELECT value FROM meta WHERE name = 'consensus:vote-resume'"
        )[0][0])
        assert state["totals"]["done_through"] == UTTERANCES
        # Risk orders the list, riskiest first; tier filters it.
        top = store.page(Filter(), Sort("risk", descending=True), limit=3)
        risks = [r.risk for r in top]
        assert risks == sorted(risks, reverse=True) and risks[0] is not None
        tiers = sum(store.count(Filter(tier=t)) for t in ("agree", "high", "low"))
        assert tiers == UTTERANCES


def test_bad_requests_are_named(simulated):
    path, _ = simulated
    with Store.open(path) as store:
        with pytest.raises(ConsensusError, match="no asr hypotheses from nobody"):
            run(store, Request(systems=("sysA", "nobody")))
        with pytest.raises(ConsensusError, match="SYSTEM=WEIGHT"):
            run(store, Request(weights="sysA=heavy"))
        with pytest.raises(ConsensusError, match="every voting system"):
            run(store, Request(systems=("sysA", "sysB"), weights="sysA=1"))


# --- provenance: who made a gold --------------------------------------------------------------


def test_provenance_follows_who_accepted(tmp_path: Path):
    from db.schema import MIGRATIONS, _statements

    path = tmp_path / "old.db"
    # A project from before provenance: one gold accepted by a person, one imported as gold.
    conn = sqlite3.connect(path, isolation_level=None)
    for statement in _statements(MIGRATIONS[0]):
        conn.execute(statement)
    conn.execute("PRAGMA user_version = 1")
    conn.executemany(
        "INSERT INTO utterances (id, key, audio, gold, status) VALUES (?, ?, 'a.wav', ?, ?)",
        [(1, "by-person", "侬好", "accepted"), (2, "imported", "侬好", "accepted"),
         (3, "todo", None, "todo")],
    )
    conn.execute("INSERT INTO edits (utt_id, field, old, new, annotator, at) "
                 "VALUES (1, 'status', 'todo', 'accepted', 'alice', 'now')")
    conn.close()
    with Store.open(path) as store:
        made = dict(store.execute("SELECT key, provenance FROM utterances"))
        assert made == {"by-person": "human", "imported": "import-gold", "todo": None}
        # A person's accept makes human gold (logged); leaving accepted clears it.
        utt = store.utterance(3)
        utt = store.accept(3, utt.version, draft="阿拉", annotator="bob")
        assert utt.provenance == "human"
        assert ("provenance", None, "human", "bob") in [e[:4] for e in store.edit_log(3)]
        utt = store.save(3, utt.version, {"status": "flagged"}, "bob")
        assert utt.provenance is None


def test_a_range_is_read_on_the_primary_key(simulated):
    from db.consensus_run import answers_sql

    path, _ = simulated
    with Store.open(path) as store:
        plan = store.execute(
            "EXPLAIN QUERY PLAN " + answers_sql(4), [1, 500, "asr", *RATES]
        )
    assert "USING PRIMARY KEY (utt_id>? AND utt_id<?)" in plan[0][-1], plan


def test_votes_in_one_process_read_the_project_they_are_given(tmp_path: Path):
    texts = {"a.db": "侬好", "b.db": "阿拉"}
    for name, text in texts.items():
        with Store.open(tmp_path / name) as store:
            store.execute("INSERT INTO utterances (id, key, audio) VALUES (1, 'k', 'a.wav')")
            store.add_hypotheses([HypothesisIn(1, s, "asr", text) for s in ("A", "B")])
    for name, text in texts.items():
        with Store.open(tmp_path / name) as store:
            run(store, Request(weights="equal"), jobs=1)
            assert _texts(store, "consensus") == [text]


def test_draft_option_replaces_only_drafts_no_person_wrote(tmp_path: Path):
    with Store.open(tmp_path / "d.db") as store:
        with store.locked() as conn:
            conn.executemany(
                "INSERT INTO utterances (id, key, audio, draft) VALUES (?, ?, 'a.wav', '侬好伐')",
                [(1, "machine"), (2, "person"), (3, "accepted")],
            )
            store.rescore(conn, [1, 2, 3])
        store.add_hypotheses(
            HypothesisIn(i, s, "asr", "侬好") for i in (1, 2, 3) for s in ("A", "B")
        )
        two = store.utterance(2)
        store.save(2, two.version, {"draft": "侬好伐？"}, "alice")
        three = store.utterance(3)
        store.accept(3, three.version, draft="侬好呀", annotator="alice")
        totals, _, _ = run(store, Request(weights="equal", draft=True), jobs=1)
        assert totals.drafts == 1
        machine = store.utterance(1)
        assert machine.draft == "侬好" and machine.annotator == "consensus"
        assert ("draft", "侬好伐", "侬好", "consensus") in [e[:4] for e in store.edit_log(1)]
        # Every system is scored against the new draft again.
        assert {h.system: h.cer for h in machine.hypotheses} == {
            "A": 0.0, "B": 0.0, "consensus": 0.0,
        }
        assert store.utterance(2).draft == "侬好伐？"
        assert store.utterance(3).draft == "侬好呀"
        # Against gold the consensus is counted; its one deletion of three characters.
        cons = next(h for h in store.utterance(3).hypotheses if h.system == "consensus")
        assert (cons.n, cons.d) == (3, 1)
