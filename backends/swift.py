"""swift: audio LLMs (Step-Audio2-FT, Step-Audio2-Wu-ASR/Und, ...) through ``swift infer``.

ms-swift pins its own transformers, so it lives in its own environment and we only run its
executable: the batch becomes a swift dataset with the task's exact prompt (FORMATS.md §2),
``swift infer`` answers it into a result JSONL, and the answers come back by audio path
(read with db.hypfiles, the same reader ``wuwb import-hyps`` uses).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

from backends.base import (
    ArgumentAdder,
    Backend,
    BackendConfigError,
    BackendOptions,
    Result,
    Utterance,
)
from backends.external import (
    batch_folder,
    cuda_env,
    parse_env,
    run_program,
    split_args,
    write_jsonl,
)
from db.hypfiles import read_swift_results
from db.jsonl import BadLine
from db.tasks import ASR_PROMPTS, TASKS, prompt_for


def dataset_row(prompt: str, audio: str) -> dict[str, object]:
    """One swift inference row: the user turn only, so swift generates the answer."""
    return {"messages": [{"role": "user", "content": prompt}], "audios": [audio]}


class SwiftBackend(Backend):
    name = "swift"
    tasks = frozenset(TASKS)
    summary = "any ms-swift audio LLM via `swift infer` (Step-Audio2-FT, -Wu-ASR, -Wu-Und)"
    needs = "ms-swift in its own environment: --swift PATH/TO/venv/bin/swift"
    default_batch_size = 512

    def __init__(self, options: BackendOptions) -> None:
        super().__init__(options)
        if options.model is None:
            raise BackendConfigError("--model (a local folder or a model id) is required")
        self.executable = options.get_str("swift", "swift")
        self.env = {**cuda_env(options.device), **parse_env(options.get_list("swift_env"))}
        self.passthrough = split_args(options.get_list("swift_arg"))
        try:
            self.prompt = prompt_for(options.task, options.get_str("asr_prompt", "wu-asr"))
        except ValueError as exc:
            raise BackendConfigError(str(exc)) from exc
        work_dir = options.get_str("work_dir", "")
        self.work_dir = Path(work_dir) if work_dir else None
        self.runs = 0

    @classmethod
    def add_arguments(cls, parser: ArgumentAdder) -> None:
        parser.add_argument("--swift", metavar="PATH",
                            help="the swift executable of ms-swift's own venv (default: swift)")
        parser.add_argument("--swift-env", action="append", metavar="NAME=VALUE",
                            help="environment for swift (repeatable), e.g. HF_HOME=/data/hf")
        parser.add_argument("--swift-arg", action="append", metavar="ARGS",
                            help="extra swift infer arguments, e.g. '--infer_backend vllm'")
        parser.add_argument("--max-new-tokens", type=int, help="(default 512)")
        parser.add_argument("--torch-dtype", help="(default bfloat16)")
        parser.add_argument("--asr-prompt", choices=tuple(ASR_PROMPTS),
                            help="asr prompt: wu-asr (语音说了什么, default) or und")
        parser.add_argument("--work-dir", type=Path,
                            help="keep each batch's dataset, results and log here")

    def command(self, dataset: Path, results: Path, batch_size: int) -> list[str]:
        opts = self.options
        cmd = [self.executable, "infer", "--model", str(opts.model)]
        if opts.adapters is not None:
            cmd += ["--adapters", str(opts.adapters)]
        cmd += [
            "--val_dataset", str(dataset),
            "--result_path", str(results),
            "--max_new_tokens", str(opts.get_int("max_new_tokens", 512)),
            "--torch_dtype", opts.get_str("torch_dtype", "bfloat16"),
            "--max_batch_size", str(batch_size),
            "--temperature", "0",
        ]
        return cmd + self.passthrough

    def write_dataset(self, batch: Sequence[Utterance], path: Path) -> None:
        write_jsonl(path, (dataset_row(self.prompt, str(Path(u.audio).resolve())) for u in batch))

    def run(self, batch: Sequence[Utterance]) -> list[Result]:
        self.runs += 1
        with batch_folder(self.work_dir, self.runs, "wuwb-swift-") as folder:
            dataset, results = folder / "data.jsonl", folder / "results.jsonl"
            self.write_dataset(batch, dataset)
            run_program(self.command(dataset, results, min(len(batch), 64)), env=self.env,
                        cwd=None, log=folder / "swift.log")
            return self.collect(batch, results)

    def collect(self, batch: Sequence[Utterance], results: Path) -> list[Result]:
        by_audio: dict[str, list[int]] = defaultdict(list)
        for utt in batch:
            by_audio[str(Path(utt.audio).resolve())].append(utt.id)
        out: list[Result] = []
        if not results.exists():
            return out
        bad: list[BadLine] = []
        for answer in read_swift_results(results, on_bad=bad.append):
            for utt_id in by_audio.pop(str(Path(answer.audio).resolve()), []):
                out.append(Result(utt_id, answer.response.strip()))
        # Lines swift could not answer carry no usable audio path: their utterances are the
        # ones left, reported with the file's reasons.
        reason = "; ".join(str(b) for b in bad[:3]) or "not in swift's results"
        out += [Result(i, None, error=f"swift: {reason}") for ids in by_audio.values() for i in ids]
        return out
