"""Finding backends: the built-ins plus whatever entry points (group ``wu_workbench.backends``)
other packages declare, so a lab adds its own model runner without forking."""

from __future__ import annotations

import importlib
import importlib.util
from dataclasses import dataclass
from importlib.metadata import entry_points

from backends.base import Backend, BackendConfigError

GROUP = "wu_workbench.backends"

# name -> "module:Class". The modules are light (heavy imports wait for load()), but importing
# on demand still keeps `wuwb --help` from touching them.
BUILTINS: dict[str, str] = {
    "swift": "backends.swift:SwiftBackend",
    "wenet-cli": "backends.wenet_cli:WenetCliBackend",
    "wenet-jit": "backends.wenet_jit:WenetJitBackend",
    "sherpa-onnx": "backends.sherpa:SherpaOnnxBackend",
    "transformers": "backends.hf:TransformersBackend",
    "faster-whisper": "backends.faster_whisper:FasterWhisperBackend",
}


@dataclass(frozen=True)
class Availability:
    ok: bool
    detail: str  # what is missing and how to install it, or what it still needs at run time


def _load(target: str) -> type[Backend]:
    module_name, _, attr = target.partition(":")
    cls = getattr(importlib.import_module(module_name), attr)
    if not (isinstance(cls, type) and issubclass(cls, Backend)):
        raise BackendConfigError(f"{target} is not a Backend subclass")
    return cls


def discover() -> tuple[dict[str, type[Backend]], list[str]]:
    """Every backend by name, and a note for each plugin that could not be used."""
    found = {name: _load(target) for name, target in BUILTINS.items()}
    problems: list[str] = []
    for ep in entry_points(group=GROUP):
        if ep.name in BUILTINS:
            if ep.value != BUILTINS[ep.name]:
                problems.append(f"plugin {ep.name} ({ep.value}) ignored: a built-in has that name")
            continue
        try:
            cls = ep.load()
        except Exception as exc:  # a broken plugin must not take the CLI down with it
            problems.append(f"plugin {ep.name} ({ep.value}) failed to load: {exc}")
            continue
        if not (isinstance(cls, type) and issubclass(cls, Backend)):
            problems.append(f"plugin {ep.name} ({ep.value}) is not a Backend subclass")
            continue
        found[ep.name] = cls
    return found, problems


def get(name: str) -> type[Backend]:
    backends, _ = discover()
    try:
        return backends[name]
    except KeyError:
        raise BackendConfigError(
            f"unknown backend {name!r}; known: {', '.join(sorted(backends))}"
        ) from None


def available(cls: type[Backend]) -> Availability:
    """Whether the Python packages the backend imports are installed (found, not imported)."""
    missing = [m for m in cls.modules if importlib.util.find_spec(m) is None]
    if missing:
        how = f"pip install 'wu-workbench[{cls.extra}]'" if cls.extra else "install them"
        return Availability(False, f"missing {', '.join(missing)}: {how}")
    return Availability(True, cls.needs or "ready")
