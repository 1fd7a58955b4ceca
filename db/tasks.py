"""Tasks, label sets and the exact swift prompts (shared/FORMATS.md §2), byte for byte."""

from __future__ import annotations

TASKS: tuple[str, ...] = ("asr", "ast", "age", "gender", "emotion")
LABEL_TASKS: tuple[str, ...] = ("age", "gender", "emotion")

AGE_LABELS: tuple[str, ...] = ("儿童", "少年", "青年", "中年", "老年")
GENDER_LABELS: tuple[str, ...] = ("男性", "女性")
EMOTION_LABELS: tuple[str, ...] = ("中立", "高兴", "难过", "惊讶", "生气")
LABEL_SETS: dict[str, tuple[str, ...]] = {
    "age": AGE_LABELS,
    "gender": GENDER_LABELS,
    "emotion": EMOTION_LABELS,
}

ASR_PROMPT = "<audio>语音说了什么"
ASR_PROMPT_UND = "<audio>请记录下你所听到的语音内容。"
PROMPTS: dict[str, str] = {
    "asr": ASR_PROMPT,
    "ast": "<audio>请仔细聆听这段语音，然后将其内容翻译成普通话。",
    "age": "<audio>请根据语音的声学特征，判断说话人的年龄，从儿童、少年、青年、中年、老年中选一个标签。",
    "gender": "<audio>请根据语音的声学特征，判断说话人的性别，从男性、女性中选一个标签。",
    "emotion": "<audio>请根据语音的声学特征和语义，判断语音的情感，从中立、高兴、难过、惊讶、生气选一个标签。",
}
# The two asr wordings a backend can be asked for (`--asr-prompt`).
ASR_PROMPTS: dict[str, str] = {"wu-asr": ASR_PROMPT, "und": ASR_PROMPT_UND}


def prompt_for(task: str, asr_style: str = "wu-asr") -> str:
    """The exact prompt for a task; asr_style picks the asr wording (wu-asr or und)."""
    if asr_style not in ASR_PROMPTS:
        raise ValueError(f"--asr-prompt must be one of {', '.join(ASR_PROMPTS)}")
    return ASR_PROMPTS[asr_style] if task == "asr" else PROMPTS[task]


# Every prompt that names a task, the Und model's asr wording included.
PROMPT_TASK: dict[str, str] = {prompt: task for task, prompt in PROMPTS.items()}
PROMPT_TASK[ASR_PROMPT_UND] = "asr"


def task_of_prompt(prompt: str) -> str | None:
    """The task a swift user prompt asks for, or None if it is none of the known prompts."""
    return PROMPT_TASK.get(prompt.strip())


def match_label(task: str, answer: str) -> str | None:
    """The label an answer names, or None when it names none (or several) of the task's set.

    Models answer with the bare label, sometimes wrapped in punctuation or a short phrase
    ("标签：中年。"), so a unique label contained in the answer counts.
    """
    labels = LABEL_SETS[task]
    text = answer.strip()
    if text in labels:
        return text
    found = [label for label in labels if label in text]
    return found[0] if len(found) == 1 else None
