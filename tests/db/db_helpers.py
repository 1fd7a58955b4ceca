"""Helpers shared by the store tests (a module of its own: conftest is not importable)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from db.store import Store

# The real clips ship once, with their attribution, in the demo data.
AUDIO = Path(__file__).resolve().parents[2] / "workbench" / "demo_data" / "audio"
WU_CLIP = "wu_A0002_S0003_0_G0003_G0004_33.wav"
AISHELL_CLIP = "aishell_BAC009S0724W0121.wav"


def write_jsonl(path: Path, rows: Iterable[dict[str, Any] | str]) -> Path:
    with open(path, "w", encoding="utf-8") as f:
        for row in rows:
            f.write(row if isinstance(row, str) else json.dumps(row, ensure_ascii=False))
            f.write("\n")
    return path


def dump(store: Store) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the tables an import writes, for before/after comparisons."""
    conn = sqlite3.connect(store.path)
    try:
        return {
            table: conn.execute(f"SELECT * FROM {table} ORDER BY 1, 2").fetchall()
            for table in ("utterances", "hypotheses", "edits")
        }
    finally:
        conn.close()


def utt(store: Store, key: str) -> dict[str, Any]:
    conn = sqlite3.connect(store.path)
    conn.row_factory = sqlite3.Row
    try:
        row = conn.execute("SELECT * FROM utterances WHERE key = ?", (key,)).fetchone()
    finally:
        conn.close()
    assert row is not None, key
    return dict(row)
