"""`wuwb prefill` and `wuwb backends` through their argparse glue."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from test_external import FAKE_SWIFT, executable

from backends import registry
from db.store import Store
from workbench.cli_prefill import parse_shard, register


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="wuwb")
    register(p.add_subparsers(dest="command", required=True))
    return p


def test_prefill_help_lists_every_backend_and_its_options(
        capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        parser().parse_args(["prefill", "--help"])
    out = capsys.readouterr().out
    for name in registry.BUILTINS:
        assert f"{name} options" in out
    for option in ("--shard", "--only-missing", "--swift", "--wenet-dir", "--model-type",
                   "--ctc-weight", "--arch"):
        assert option in out


def test_backends_lists_installation_state(capsys: pytest.CaptureFixture[str]) -> None:
    args = parser().parse_args(["backends"])
    assert args.func(args) == 0
    out = capsys.readouterr().out
    assert all(name in out for name in registry.BUILTINS)


def test_shard_must_be_i_of_n() -> None:
    assert parse_shard("1/4") == (1, 4)
    for bad in ("4/4", "x/2", "1"):
        with pytest.raises(argparse.ArgumentTypeError):
            parse_shard(bad)


def test_prefill_command_runs_a_backend_into_the_project(
        tmp_path: Path, clips: list[Path], make_project: Callable[..., Path]) -> None:
    path = make_project([(c.stem, c, 1.0) for c in clips])
    swift = executable(tmp_path / "swift", FAKE_SWIFT)
    argv = ["prefill", str(path), "--backend", "swift", "--system", "und", "--task", "emotion",
            "--model", "m", "--swift", str(swift), "--shard", "0/2", "--no-progress"]
    args = parser().parse_args(argv)
    code = args.func(args)
    store = Store.open(path)
    ids = [r[0] for r in store.execute("SELECT utt_id FROM hypotheses")]
    store.close()
    assert code == 0
    assert ids and all(i % 2 == 0 for i in ids)


def test_prefill_reports_a_bad_backend_option(
        tmp_path: Path, make_project: Callable[..., Path],
        capsys: pytest.CaptureFixture[str]) -> None:
    path = make_project([])
    args = parser().parse_args(["prefill", str(path), "--backend", "wenet-cli",
                                "--system", "u2pp", "--python", sys.executable])
    assert args.func(args) == 2
    assert "--wenet-dir" in capsys.readouterr().err


def test_entry_point_plugins_are_found(monkeypatch: pytest.MonkeyPatch) -> None:
    from importlib.metadata import EntryPoint

    plugin = EntryPoint("echo-lab", "test_runner:Echo", registry.GROUP)
    broken = EntryPoint("broken", "no_such_module:Thing", registry.GROUP)
    monkeypatch.setattr(registry, "entry_points", lambda group: [plugin, broken])
    found, problems = registry.discover()
    assert found["echo-lab"].__name__ == "Echo"
    assert any("broken" in p for p in problems)
