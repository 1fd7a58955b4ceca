"""The project file's schema and its migrations, numbered by PRAGMA user_version."""

from __future__ import annotations

import sqlite3

from db.errors import WorkbenchError

# Each entry migrates from version i to i + 1; append, never edit a released one.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE meta (
        name TEXT PRIMARY KEY,
        value TEXT
    );
    CREATE TABLE utterances (
        id INTEGER PRIMARY KEY,
        key TEXT NOT NULL UNIQUE,
        audio TEXT NOT NULL,
        duration REAL,
        sample_rate INTEGER,
        audio_error TEXT,
        subset TEXT,
        domain TEXT,
        sub_dialect TEXT,
        confidence REAL,
        dnsmos REAL,
        snr REAL,
        extra TEXT,
        draft TEXT,
        gold TEXT,
        translation TEXT,
        age TEXT,
        gender TEXT,
        emotion TEXT,
        -- Written with OR, not IN: SQLite rebuilds an IN list for every inserted row,
        -- which cost a bulk import about 2 us a row.
        status TEXT NOT NULL DEFAULT 'todo' CHECK (status = 'todo' OR status = 'accepted'
            OR status = 'skipped' OR status = 'flagged'),
        note TEXT,
        annotator TEXT,
        updated_at TEXT,
        version INTEGER NOT NULL DEFAULT 0,
        disagreement REAL
    );
    -- The sort and status indexes are made on first use (LAZY_INDEXES): a bulk import
    -- then pays only for the primary key and the unique key.

    CREATE TABLE hypotheses (
        utt_id INTEGER NOT NULL REFERENCES utterances (id) ON DELETE CASCADE,
        task TEXT NOT NULL,
        system TEXT NOT NULL,
        text TEXT,
        score REAL,
        error TEXT,
        created_at TEXT NOT NULL,
        -- Counts against the utterance's reference (gold once accepted, else the draft),
        -- kept current on every edit so reports and CER sorts are plain SQL.
        n INTEGER,
        s INTEGER,
        d INTEGER,
        i INTEGER,
        cer REAL,
        PRIMARY KEY (utt_id, task, system)
    ) WITHOUT ROWID;
    CREATE INDEX hyp_system ON hypotheses (system, task, IFNULL(cer, -1), utt_id);

    CREATE TABLE edits (
        id INTEGER PRIMARY KEY,
        utt_id INTEGER NOT NULL REFERENCES utterances (id) ON DELETE CASCADE,
        field TEXT NOT NULL,
        old TEXT,
        new TEXT,
        annotator TEXT NOT NULL,
        at TEXT NOT NULL
    );
    CREATE INDEX edit_utt ON edits (utt_id);
    CREATE INDEX edit_day ON edits (annotator, at);

    -- Text search over drafts and hypotheses. Every character is indexed as its own token
    -- (db.store.spaced), so a phrase query is a substring match of any length; this builds
    -- five times faster than the trigram tokenizer and also finds one- and two-character text.
    CREATE VIRTUAL TABLE utt_fts USING fts5 (text, tokenize = 'unicode61');
    -- Utterances changed since they were indexed (new ones are found by id watermark).
    CREATE TABLE fts_dirty (utt_id INTEGER PRIMARY KEY);
    """,
    # Consensus and triage (wuwb consensus, wuwb bulk-accept).
    """
    -- Expected character errors of the consensus (plus the corpus's doubt) and its tier.
    ALTER TABLE utterances ADD COLUMN risk REAL;
    ALTER TABLE utterances ADD COLUMN tier TEXT;
    -- Who made the gold: human, import-gold or bulk:<system>; NULL until accepted.
    ALTER TABLE utterances ADD COLUMN provenance TEXT;
    -- The audit that drew this utterance for review (audits.id).
    ALTER TABLE utterances ADD COLUMN audit INTEGER;
    -- Per character of a consensus hypothesis: the share of the weight behind it (a byte).
    ALTER TABLE hypotheses ADD COLUMN agreement BLOB;
    -- Gold accepted before provenance existed: by a person if a person accepted it.
    UPDATE utterances SET provenance = CASE WHEN EXISTS (SELECT 1 FROM edits e
        WHERE e.utt_id = utterances.id AND e.field = 'status' AND e.new = 'accepted'
        AND e.annotator != 'import') THEN 'human' ELSE 'import-gold' END
        WHERE status = 'accepted';
    CREATE INDEX utt_audit ON utterances (audit) WHERE audit IS NOT NULL;
    CREATE TABLE audits (
        id INTEGER PRIMARY KEY,
        tier TEXT NOT NULL,
        system TEXT NOT NULL,
        size INTEGER NOT NULL,
        seed INTEGER NOT NULL,
        created_at TEXT NOT NULL,
        annotator TEXT,
        -- The estimate the commit was made on, and what it accepted.
        cer REAL,
        cer_low REAL,
        cer_high REAL,
        committed_at TEXT,
        accepted INTEGER,
        hours REAL
    );
    """,
    """
    -- Start second of each non-space character of the text, as a JSON array (db.timings),
    -- from backends that align (CTC, Whisper word timestamps) and timed result files.
    ALTER TABLE hypotheses ADD COLUMN times TEXT;
    """,
    # Team review (db.claims, db.second_pass). The second pass lives in a table of its own,
    # not in a new status value: SQLite cannot alter the status CHECK without rebuilding the
    # utterances table (a copy of every row, with foreign keys off lest the DROP cascade into
    # hypotheses and edits), whereas a table costs nothing on a million rows and holds what a
    # status could not: who reviewed, the first pass's gold and labels, the verdict, when.
    """
    CREATE TABLE claims (
        utt_id INTEGER PRIMARY KEY REFERENCES utterances (id) ON DELETE CASCADE,
        annotator TEXT NOT NULL,
        pass INTEGER NOT NULL DEFAULT 1,
        claimed_at TEXT NOT NULL,
        expires_at TEXT NOT NULL
    );
    CREATE INDEX claim_holder ON claims (annotator, pass);
    CREATE INDEX claim_expiry ON claims (expires_at);
    CREATE TABLE second_pass (
        utt_id INTEGER PRIMARY KEY REFERENCES utterances (id) ON DELETE CASCADE,
        first_annotator TEXT NOT NULL,
        first_gold TEXT,
        first_age TEXT,
        first_gender TEXT,
        first_emotion TEXT,
        reviewer TEXT NOT NULL,
        gold TEXT,
        age TEXT,
        gender TEXT,
        emotion TEXT,
        verdict TEXT NOT NULL CHECK (verdict = 'approved' OR verdict = 'corrected'),
        at TEXT NOT NULL
    );
    CREATE INDEX second_pass_first ON second_pass (first_annotator);
    -- Who accepted (the first pass), kept apart from `annotator` (whoever saved last, e.g. a
    -- lead adding a note). NULL on rows accepted before this column: `annotator` stands in.
    ALTER TABLE utterances ADD COLUMN accepted_by TEXT;
    """,
    # Review you can trust: changes to an accepted utterance's translation and labels wait here
    # (JSON) until accepted, as its draft waits beside its gold; and the version a reviewer
    # gave up in a conflict stays in the edit log, marked discarded.
    """
    ALTER TABLE utterances ADD COLUMN pending TEXT;
    ALTER TABLE edits ADD COLUMN discarded INTEGER NOT NULL DEFAULT 0;
    """,
)

SCHEMA_VERSION = len(MIGRATIONS)

# Indexes made when a query first needs them. Sort keys are expressions so NULLs order
# first and keyset cursors stay plain numbers; the queries use the same expressions.
LAZY_INDEXES: dict[str, str] = {
    "duration": "CREATE INDEX IF NOT EXISTS utt_duration ON utterances (IFNULL(duration, -1), id)",
    "confidence": (
        "CREATE INDEX IF NOT EXISTS utt_confidence ON utterances (IFNULL(confidence, -1), id)"
    ),
    "disagreement": (
        "CREATE INDEX IF NOT EXISTS utt_disagreement "
        "ON utterances (IFNULL(disagreement, -1), id)"
    ),
    "status": "CREATE INDEX IF NOT EXISTS utt_status ON utterances (status, key)",
    "risk": "CREATE INDEX IF NOT EXISTS utt_risk ON utterances (IFNULL(risk, -1), id)",
    "tier": "CREATE INDEX IF NOT EXISTS utt_tier ON utterances (tier, status)",
}


class SchemaError(WorkbenchError, RuntimeError):
    """The file is not a project this version can open."""


def migrate(conn: sqlite3.Connection) -> None:
    """Bring the file to SCHEMA_VERSION, one migration per transaction."""
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise SchemaError(
            f"project schema version {version} is newer than this wu-workbench "
            f"({SCHEMA_VERSION}); upgrade wu-workbench"
        )
    for step in range(version, SCHEMA_VERSION):
        conn.execute("BEGIN IMMEDIATE")
        for statement in _statements(MIGRATIONS[step]):
            conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {step + 1}")
        conn.execute("COMMIT")


def _statements(script: str) -> list[str]:
    # executescript() would commit on its own; split so each migration is one transaction.
    out: list[str] = []
    buf = ""
    for line in script.splitlines():
        if line.strip().startswith("--"):
            continue
        buf += line + "\n"
        if sqlite3.complete_statement(buf):
            out.append(buf.strip())
            buf = ""
    return [s for s in out if s.strip(";\n ")]
