"""wenet-cli: a WeNet checkpoint (train.yaml + u2++.pt / whisper.pt) run by WeNet's own
``wenet/bin/recognize.py`` from a WeNet checkout, exactly as the checkout's recipes run it.

The batch becomes a WeNet data list (FORMATS.md §1); each decoding mode's
``<result_dir>/<mode>/text`` comes back, one system per mode when several are asked for.
"""

from __future__ import annotations

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
from backends.external import batch_folder, parse_env, run_program, split_args, write_jsonl
from db.hypfiles import read_wenet_text

CHECKPOINT_NAMES = ("final.pt", "u2++.pt", "whisper.pt", "avg_10.pt", "avg_5.pt")


def data_list_row(key: str, audio: str) -> dict[str, str]:
    # recognize.py's raw reader wants a txt field; before annotation it is empty.
    return {"key": key, "wav": audio, "txt": ""}


def gpu_args(device: str) -> list[str]:
    if device == "cpu":
        return ["--gpu", "-1", "--device", "cpu"]
    index = device.partition(":")[2] or "0"
    return ["--gpu", index, "--device", "cuda"]


class WenetCliBackend(Backend):
    name = "wenet-cli"
    tasks = frozenset({"asr"})
    summary = "WeNet checkpoint via a WeNet checkout's recognize.py (Conformer-U2pp-Wu, ...)"
    needs = "a WeNet checkout (--wenet-dir) and a python that can import it (--python)"
    default_batch_size = 1000

    def __init__(self, options: BackendOptions) -> None:
        super().__init__(options)
        wenet_dir = options.get_str("wenet_dir", "")
        if not wenet_dir:
            raise BackendConfigError("--wenet-dir (a WeNet checkout) is required")
        self.wenet_dir = Path(wenet_dir)
        self.python = options.get_str("python", "python")
        self.modes = options.get_list("modes") or ["attention_rescoring"]
        self.env = parse_env(options.get_list("wenet_env"))
        self.passthrough = split_args(options.get_list("wenet_arg"))
        work_dir = options.get_str("work_dir", "")
        self.work_dir = Path(work_dir) if work_dir else None
        self.runs = 0

    @classmethod
    def add_arguments(cls, parser: ArgumentAdder) -> None:
        parser.add_argument("--wenet-dir", type=Path, metavar="DIR",
                            help="a WeNet checkout (holds wenet/bin/recognize.py)")
        parser.add_argument("--python", metavar="PATH",
                            help="python of the environment WeNet runs in (default: python)")
        parser.add_argument("--config", type=Path,
                            help="train.yaml (default: the one beside --model)")
        parser.add_argument("--checkpoint", type=Path,
                            help="the .pt (default: --model if a file, else one found in it)")
        parser.add_argument("--modes", nargs="+", metavar="MODE",
                            help="decoding modes (default attention_rescoring); several "
                                 "give one system each, named SYSTEM-MODE")
        parser.add_argument("--beam-size", type=int, help="(default 10)")
        parser.add_argument("--ctc-weight", type=float, help="(default 0.3)")
        parser.add_argument("--reverse-weight", type=float, help="(default 0.5)")
        parser.add_argument("--decoding-chunk-size", type=int, help="(default -1: full)")
        parser.add_argument("--decode-batch", type=int,
                            help="recognize.py --batch_size (default 1)")
        parser.add_argument("--wenet-env", action="append", metavar="NAME=VALUE",
                            help="environment for recognize.py (repeatable)")
        parser.add_argument("--wenet-arg", action="append", metavar="ARGS",
                            help="extra recognize.py arguments, e.g. '--length_penalty 0.5'")
        parser.add_argument("--work-dir", type=Path,
                            help="keep each batch's files and log here")

    def systems(self) -> list[str]:
        system = self.options.system
        if len(self.modes) == 1:
            return [system]
        return [f"{system}-{mode}" for mode in self.modes]

    def model_files(self) -> tuple[Path, Path]:
        opts = self.options
        model = opts.require_model()
        checkpoint = Path(opts.get_str("checkpoint", "")) if opts.get_str("checkpoint", "") \
            else model if model.is_file() \
            else next((model / n for n in CHECKPOINT_NAMES if (model / n).is_file()), None)
        if checkpoint is None:
            raise BackendConfigError(f"no checkpoint ({', '.join(CHECKPOINT_NAMES)}) in {model}")
        config_opt = opts.get_str("config", "")
        config = Path(config_opt) if config_opt else checkpoint.with_name("train.yaml")
        if not config.is_file():
            raise BackendConfigError(f"missing WeNet config {config} (give --config)")
        return config.resolve(), checkpoint.resolve()

    def load(self) -> None:
        if not (self.wenet_dir / "wenet" / "bin" / "recognize.py").is_file():
            raise BackendConfigError(f"{self.wenet_dir} is not a WeNet checkout "
                                     "(no wenet/bin/recognize.py)")
        self.model_files()

    def command(self, data_list: Path, result_dir: Path) -> list[str]:
        opts = self.options
        config, checkpoint = self.model_files()
        return [
            self.python, "wenet/bin/recognize.py",
            *gpu_args(opts.device),
            "--config", str(config),
            "--checkpoint", str(checkpoint),
            "--data_type", "raw",
            "--test_data", str(data_list),
            "--modes", *self.modes,
            "--beam_size", str(opts.get_int("beam_size", 10)),
            "--batch_size", str(opts.get_int("decode_batch", 1)),
            "--ctc_weight", str(opts.get_float("ctc_weight", 0.3)),
            "--reverse_weight", str(opts.get_float("reverse_weight", 0.5)),
            "--decoding_chunk_size", str(opts.get_int("decoding_chunk_size", -1)),
            "--result_dir", str(result_dir),
            *self.passthrough,
        ]

    def write_list(self, batch: Sequence[Utterance], path: Path) -> None:
        write_jsonl(path, (data_list_row(u.key, str(Path(u.audio).resolve())) for u in batch))

    def run(self, batch: Sequence[Utterance]) -> list[Result]:
        self.runs += 1
        with batch_folder(self.work_dir, self.runs, "wuwb-wenet-") as folder:
            data_list, result_dir = folder / "data.list", folder / "result"
            self.write_list(batch, data_list)
            env = {"PYTHONPATH": str(self.wenet_dir.resolve()), **self.env}
            run_program(self.command(data_list, result_dir), env=env,
                        cwd=self.wenet_dir, log=folder / "recognize.log")
            return self.collect(batch, result_dir)

    def collect(self, batch: Sequence[Utterance], result_dir: Path) -> list[Result]:
        ids = {utt.key: utt.id for utt in batch}
        out: list[Result] = []
        for mode, system in zip(self.modes, self.systems(), strict=True):
            text_file = result_dir / mode / "text"
            if not text_file.is_file():
                continue  # every utterance of this mode is then reported as unanswered
            for key, text in read_wenet_text(text_file):
                if key in ids:
                    out.append(Result(ids[key], text, system=system))
        return out
