"""Turning one parsed JSONL object of each input format into the fields of an utterance.

Each parser returns a `Row`: only the fields the line sets (so rows of the same utterance can
merge), plus the hypotheses the line carries. A line that cannot be used raises `RowError`
with the reason; the importer adds FILE:LINE.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from db import corpus_labels
from db.errors import WorkbenchError
from db.tasks import LABEL_SETS, task_of_prompt

FORMATS: tuple[str, ...] = ("wenet", "swift", "wswu")
CORPUS_SYSTEM = "wswu-corpus"


class RowError(WorkbenchError, ValueError):
    """Why a line cannot be imported."""


class Row:
    """One line's contribution to an utterance (a slotted class: one is made per line)."""

    __slots__ = ("duration", "fields", "flags", "hyps", "key", "wav")

    def __init__(
        self, key: str, wav: str, fields: dict[str, Any], hyps: dict[str, str] | None = None,
        duration: float | None = None, flags: tuple[str, ...] = (),
    ) -> None:
        self.key = key
        self.wav = wav
        self.fields = fields  # utterance columns this line sets (never key/audio)
        self.hyps = hyps or {}  # task → text, answers of system wswu-corpus
        self.duration = duration  # the corpus's own figure, kept when the audio is not probed
        self.flags = flags  # corpus label values left empty, as the summary counts them


@dataclass(frozen=True)
class Options:
    gold: bool = False
    subset: str | None = None
    age_bounds: Sequence[float] = corpus_labels.AGE_BOUNDS


Parser = Callable[[dict[str, Any], Options], Row]


def detect(obj: dict[str, Any]) -> str | None:
    """The format of a file, judged from its first object; None if it is none of ours."""
    if "messages" in obj and "audios" in obj:
        return "swift"
    if {"transcription", "paralinguistic", "meta-info", "audio-quality"} & obj.keys():
        return "wswu"
    if "key" in obj and "wav" in obj:
        return "wenet"
    return None


def check_key(key: str, what: str = "key") -> None:
    """Refuse a key holding whitespace: result lines of recognize.py (`key text`) split at
    the first space, so that utterance's hypotheses could never be matched."""
    # The first two tests are cheap and almost always pass: a key is plain text.
    if (" " in key or not key.isprintable()) and any(c.isspace() for c in key):
        raise RowError(
            f"{what} {key!r} holds whitespace; keys may not, since recognize.py result "
            "lines are split at the first space and its hypotheses could never match"
        )


def _text(obj: dict[str, Any], name: str, *, required: bool = False) -> str | None:
    value = obj.get(name)
    if value is None:
        if required:
            raise RowError(f"missing {name!r}")
        return None
    if type(value) is not str:
        raise RowError(f"{name!r} must be a string, not {type(value).__name__}")
    if required and not value:
        raise RowError(f"empty {name!r}")
    return value


def _number(obj: dict[str, Any], name: str) -> float | None:
    value = obj.get(name)
    if value is None:
        return None
    if type(value) not in (int, float):
        raise RowError(f"{name!r} must be a number, not {type(value).__name__}")
    return float(value)


def _object(obj: dict[str, Any], name: str) -> dict[str, Any]:
    value = obj.get(name)
    if value is None:
        return {}
    if type(value) is not dict:
        raise RowError(f"{name!r} must be an object, not {type(value).__name__}")
    return value


def _extra(obj: dict[str, Any], known: frozenset[str]) -> str | None:
    rest = {k: v for k, v in obj.items() if k not in known}
    return json.dumps(rest, ensure_ascii=False) if rest else None


def _set_transcript(fields: dict[str, Any], text: str, opts: Options) -> None:
    if opts.gold:
        # A benchmark reference: accepted as it stands, an empty one included.
        fields.update(draft=text, gold=text, status="accepted", provenance="import-gold")
    elif text:
        fields["draft"] = text


_WENET_KNOWN = frozenset(("key", "wav", "txt", "provenance"))


def _set_provenance(fields: dict[str, Any], obj: dict[str, Any]) -> None:
    """An exported gold's maker comes back with it: machine-accepted stays machine-accepted."""
    made = obj.get("provenance")
    if fields.get("status") == "accepted" and type(made) is str and made:
        fields["provenance"] = made


def parse_wenet(obj: dict[str, Any], opts: Options) -> Row:
    # The hot path of a million-line import: plain type checks inline, reasons (and the
    # helpers that give them) only on failure.
    key = obj.get("key")
    wav = obj.get("wav")
    if type(key) is not str or not key or type(wav) is not str or not wav:
        _text(obj, "key", required=True)
        _text(obj, "wav", required=True)
    if " " in key or not key.isprintable():  # type: ignore[operator, union-attr]
        check_key(key)  # type: ignore[arg-type]
    txt = obj.get("txt")
    if txt is None:
        fields: dict[str, Any] = {}
        plain = len(obj) == 2
    elif type(txt) is str:
        if opts.gold:
            fields = {}
            _set_transcript(fields, txt, opts)
        else:
            fields = {"draft": txt} if txt else {}
        plain = len(obj) == 3
    else:
        _text(obj, "txt")
    if not plain:  # fields beyond key, wav and txt: kept for the export
        _set_provenance(fields, obj)
        extra = _extra(obj, _WENET_KNOWN)
        if extra is not None:
            fields["extra"] = extra
    if opts.subset is not None:
        fields["subset"] = opts.subset
    return Row(key, wav, fields)  # type: ignore[arg-type]


_SWIFT_KNOWN = frozenset(("messages", "audios", "provenance"))


def parse_swift(obj: dict[str, Any], opts: Options) -> Row:
    audios = obj.get("audios")
    if type(audios) is not list or not all(type(a) is str and a for a in audios):
        raise RowError("'audios' must be a list of paths")
    if len(audios) != 1:
        raise RowError(f"expected one audio per row, got {len(audios)}")
    messages = obj.get("messages")
    if type(messages) is not list or not all(
        type(m) is dict and type(m.get("role")) is str and type(m.get("content")) is str
        for m in messages
    ):
        raise RowError("'messages' must be a list of {role, content} objects")
    prompts = [m["content"] for m in messages if m["role"] == "user"]
    answers = [m["content"] for m in messages if m["role"] == "assistant"]
    if not prompts:
        raise RowError("no user message")
    task = task_of_prompt(prompts[0])
    if task is None:
        raise RowError(f"unknown prompt {prompts[0][:60]!r}")
    wav: str = audios[0]
    key = os.path.splitext(os.path.basename(wav))[0]
    if not key:
        raise RowError(f"audio path {wav!r} has no file name to take the key from")
    check_key(key, "audio file stem (the key of a swift row)")
    fields: dict[str, Any] = {}
    if answers:
        answer = answers[-1]
        if task == "asr":
            _set_transcript(fields, answer, opts)
        elif task == "ast":
            fields["translation"] = answer
        else:
            label = answer.strip()
            if label not in LABEL_SETS[task]:
                choices = " ".join(LABEL_SETS[task])
                raise RowError(f"{task} answer {answer!r} is not one of {choices}")
            fields[task] = label
    _set_provenance(fields, obj)
    extra = _extra(obj, _SWIFT_KNOWN)
    if extra is not None:
        fields["extra"] = extra
    if opts.subset is not None:
        fields["subset"] = opts.subset
    return Row(key, wav, fields)


_WSWU_KNOWN = frozenset(
    (
        "key", "wav", "duration", "transcription", "translation", "confidence", "audio-quality",
        "paralinguistic", "low-level-feature", "meta-info",
    )
)


def parse_wswu(obj: dict[str, Any], opts: Options) -> Row:
    key = _text(obj, "key", required=True)
    wav = _text(obj, "wav", required=True)
    check_key(key)  # type: ignore[arg-type]
    if "transcription" not in obj:
        raise RowError(
            "missing 'transcription' (every WenetSpeech-Wu line has one; for a WeNet list "
            "use --format wenet)"
        )
    fields: dict[str, Any] = {}
    hyps: dict[str, str] = {}
    # The corpus writes "" where it has nothing: no draft and no corpus answer then.
    transcription = _text(obj, "transcription")
    if transcription:
        _set_transcript(fields, transcription, opts)
        hyps["asr"] = transcription
    translation = _text(obj, "translation")
    if translation:
        fields["translation"] = translation
        hyps["ast"] = translation
    confidence = _number(obj, "confidence")
    if confidence is not None:
        fields["confidence"] = confidence
    quality = _object(obj, "audio-quality")
    for column, name in (("dnsmos", "DNSMOS"), ("snr", "SNR")):
        value = _number(quality, name)
        if value is not None:
            fields[column] = value
    para = _object(obj, "paralinguistic")
    labels, unmapped, flags = _labels(para, opts)
    for task, label in labels.items():
        fields[task] = label
        hyps[task] = label
    meta = _object(obj, "meta-info")
    for column, name in (("domain", "domain"), ("sub_dialect", "sub-dialect")):
        text = _text(meta, name)
        if text is not None:
            fields[column] = text
    # What the schema has no column for (low-level features, unknown fields) stays in extra.
    rest = {k: v for k, v in obj.items() if k not in _WSWU_KNOWN}
    low = _object(obj, "low-level-feature")
    if low:
        rest = {"low-level-feature": low, **rest}
    if unmapped:  # kept, so a label the sets lack is not lost
        rest["unmapped-labels"] = unmapped
    if rest:
        fields["extra"] = json.dumps(rest, ensure_ascii=False)
    if opts.subset is not None:
        fields["subset"] = opts.subset
    return Row(key, wav, fields, hyps, _number(obj, "duration"), flags)  # type: ignore[arg-type]


_MAPPINGS: dict[str, Callable[[str], str | None]] = {
    "emotion": corpus_labels.emotion_label, "gender": corpus_labels.gender_label,
}


def _labels(
    para: dict[str, Any], opts: Options
) -> tuple[dict[str, str], dict[str, Any], tuple[str, ...]]:
    """The corpus's labels mapped to the tasks' sets: (labels, raw values that did not map,
    what the summary counts for them). A value outside the sets costs that label only."""
    labels: dict[str, str] = {}
    unmapped: dict[str, Any] = {}
    flags: list[str] = []
    for task in ("age", "emotion", "gender"):
        value = para.get(task)
        if value is None:
            continue
        label: str | None = None
        flag = f"{task} {value!r}"
        if task == "age":
            if type(value) in (int, float):
                if corpus_labels.AGE_MIN <= value <= corpus_labels.AGE_MAX:
                    label = corpus_labels.age_label(value, opts.age_bounds)
                else:
                    flag = f"age outside {corpus_labels.AGE_MIN}-{corpus_labels.AGE_MAX}"
        elif type(value) is str:
            try:
                label = _MAPPINGS[task](value)
            except corpus_labels.LabelError:
                pass
            else:
                if label is None:  # the corpus's own `unknown`: no label, nothing to count
                    continue
        if label is None:
            unmapped[task] = value
            flags.append(flag)
        else:
            labels[task] = label
    return labels, unmapped, tuple(flags)


PARSERS: dict[str, Parser] = {"wenet": parse_wenet, "swift": parse_swift, "wswu": parse_wswu}
