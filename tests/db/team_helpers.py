"""A small team project: n todo utterances imported from a real WeNet list (no audio probe)."""

from __future__ import annotations

from pathlib import Path

from db_helpers import write_jsonl

from db.importers import ImportConfig, import_file
from db.store import Store


def make_project(path: Path, n: int, duration: float | None = None) -> Store:
    rows = [
        {"key": f"utt_{i:04d}", "wav": f"clips/utt_{i:04d}.wav", "txt": f"侬好{i}"}
        for i in range(n)
    ]
    data = write_jsonl(path.parent / f"{path.stem}.jsonl", rows)
    store = Store.open(path)
    import_file(store, data, ImportConfig(probe=False))
    if duration is not None:
        with store.transaction() as conn:
            conn.execute("UPDATE utterances SET duration = ?", (duration,))
    return store
