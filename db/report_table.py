"""The report as rich tables, leaderboard-shaped: systems as rows, groups as columns.

Names come from data: each goes through `_name` (visible control characters, no markup).
"""

from __future__ import annotations

from rich.markup import escape
from rich.table import Table

from db.report import Cer, Report, SystemCer
from db.safe_text import safe


def _name(text: str) -> str:
    return escape(safe(text))


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.2f}%"


def _cell(c: Cer) -> str:
    # The unanswered count sits beside the CER so skipping hard utterances shows.
    missing = f" [dim](−{c.unanswered})[/]" if c.unanswered else ""
    return _pct(c.cer) + missing


def _cer_table(
    title: str, rows: list[SystemCer], report: Report, oracle: Cer | None = None
) -> Table:
    table = Table(
        title=title,
        caption=f"{report.gold} gold utterances; (−k): k of them the system did not answer",
    )
    table.add_column("system", no_wrap=True)
    table.add_column("CER", justify="right")
    table.add_column("N", justify="right")
    table.add_column("S/D/I", justify="right")
    table.add_column("not answered", justify="right")
    for group, gold in report.groups:
        table.add_column(f"{_name(group or '(none)')}\n{gold}", justify="right")
    for r in rows:
        o = r.overall
        table.add_row(
            _name(r.system), _pct(o.cer), str(o.n), f"{o.s}/{o.d}/{o.i}", str(o.unanswered),
            *(_cell(r.groups[g]) for g, _ in report.groups),
        )
    if oracle is not None:
        # The ceiling of picking one system per utterance: what a vote could hope to reach.
        table.add_row(
            "[dim]oracle[/]", _pct(oracle.cer), str(oracle.n),
            f"{oracle.s}/{oracle.d}/{oracle.i}", "", *("" for _ in report.groups),
        )
        table.caption = f"{table.caption}; oracle: the best system of each utterance"
    return table


def _triage_tables(report: Report) -> list[Table]:
    tables = []
    if len(report.provenance) > 1:  # one maker alone says nothing the caption does not
        made = Table(title="Accepted gold by provenance")
        for name in ("provenance", "utterances", "audio hours"):
            made.add_column(name, justify="left" if name == "provenance" else "right")
        for p in report.provenance:
            made.add_row(escape(p.provenance), f"{p.utterances:,}", f"{p.hours:.1f}")
        tables.append(made)
    t = report.triage
    if t is None:
        return tables
    tiers = Table(title="Triage: consensus tiers",
                  caption=f"{t.hours_saved:.1f} audio hours accepted unseen (human hours saved)")
    for name in ("tier", "utterances", "unseen (todo)"):
        tiers.add_column(name, justify="left" if name == "tier" else "right")
    for tier, total in t.tiers.items():
        tiers.add_row(tier, f"{total:,}", f"{t.unseen.get(tier, 0):,}")
    tables.append(tiers)
    if t.audits:
        audits = Table(title="Audits: residual CER of the consensus, tier's unseen part")
        for name in ("audit", "tier", "system", "sample", "residual CER", "95% interval",
                     "accepted", "hours"):
            audits.add_column(name, justify="right" if name not in ("tier", "system") else "left")
        for a in t.audits:
            interval = (
                "under way" if a.committed_at is None
                else f"{_pct(a.cer_low)}–{_pct(a.cer_high)}"
            )
            audits.add_row(
                str(a.id), a.tier, escape(a.system), str(a.size), _pct(a.cer), interval,
                "—" if a.accepted is None else f"{a.accepted:,}",
                "—" if a.hours is None else f"{a.hours:.1f}",
            )
        tables.append(audits)
    for name, shares in t.agreement.items():
        agree = Table(title=f"Agreement with {escape(name)}",
                      caption="share of its slots where the system's arc won")
        agree.add_column("system")
        agree.add_column("agreement", justify="right")
        for system, share in shares.items():
            agree.add_row(escape(system), _pct(share))
        tables.append(agree)
    return tables


def render(report: Report) -> list[Table]:
    """One table per kind of score, each left out when nothing was scored."""
    by = f" by {report.group_by.replace('_', '-')}" if report.group_by else ""
    tables = [_cer_table(f"ASR CER against accepted gold{by}", report.cer, report, report.oracle)]
    if report.wu_norm is not None:
        tables.append(_cer_table(f"ASR CER, Wu normalisation (NFKC, no ASCII punctuation){by}",
                                 report.wu_norm, report))
    if report.labels:
        labels = Table(title="Label accuracy against accepted labels")
        for name in ("system", "task", "accuracy", "correct", "answered", "not a label",
                     "not answered"):
            labels.add_column(name, justify="left" if name in ("system", "task") else "right",
                              no_wrap=name == "system")
        for s in report.labels:
            labels.add_row(_name(s.system), s.task, _pct(s.accuracy), str(s.correct),
                           str(s.answered), str(s.off_label), str(s.unanswered))
        tables.append(labels)
    if report.bleu:
        bleu = Table(title="AST corpus BLEU (sacreBLEU, tokenizer zh)")
        for name in ("system", "BLEU", "scored", "not answered"):
            bleu.add_column(name, justify="left" if name == "system" else "right",
                            no_wrap=name == "system")
        for b in report.bleu:
            bleu.add_row(_name(b.system), "—" if b.bleu is None else f"{b.bleu:.2f}",
                         str(b.scored), str(b.unanswered))
        tables.append(bleu)
    return tables + _triage_tables(report)
