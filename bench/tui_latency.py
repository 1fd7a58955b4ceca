"""Review TUI latency on a generated 1,000,000-utterance project with three systems.

Drives the real app with Pilot (160×45, headless) and prints: time to first full render, p50
/p95 from a key press to the screen showing its result (next, previous, page down, take
hypothesis, accept), and peak memory. Targets (issue 4): first render < 1.5 s, movement p95
< 50 ms, accept p95 < 100 ms, memory < 400 MB.

    .venv/bin/python bench/tui_latency.py [--rows 1000000] [--presses 60] [--fresh]

What is measured, exactly:
- "first render": from creating the app to the first frame whose list has its cursor row and
  whose detail shows that utterance (header, hypotheses, editor). Twice: on the first open of
  a freshly generated project, which builds the status index (once per project, ~0.8 s on a
  million rows), and on reopening it. Importing the app comes before the clock starts and is
  printed on its own line.
- a key: from handing the key event to the app, as the terminal driver does, to the first
  frame at which the list's cursor is on the target row AND the detail's header and diffs are
  of that row's utterance (take hypothesis: the editor holds the text AND every system's diff
  is against it; accept: the next utterance is shown, and separately the status line says it
  was committed). Each frame is also turned into the bytes a terminal would be sent.
- keys are 20 ms apart after each result is shown; the app reads the neighbours of the row
  in view ahead of time, so next, previous and accept usually find their utterance read; page
  down (25 rows) does not, and shows the cost of reading one (the move waits up to 30 ms for
  it so list and detail change in one frame).
- peak memory: the process's maximum RSS (the project is generated in a child process).

The project is generated once into bench/out/ (plain SQL inserts) and reused; --fresh rebuilds
it. Each run works on a fresh copy, so the first open really is a first open.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import random
import resource
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the app is imported in main(), once the silent sound device is set up
    from rich.console import RenderableType
    from textual.screen import Screen

    from workbench.tui.app import ReviewApp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
OUT = ROOT / "bench" / "out"
SYSTEMS = ("Step-Audio2-FT", "Tele-CTC-FT", "wswu-corpus")
CHARS = "侬今朝去伐阿拉是做撒呃喃有钞票就是到银行里保本保息最少辰光㑚好勿晓得个末老早"
DIALECTS = ("Taihu_Shanghai", "Taihu_Suzhou", "Taihu_Wuxi", "Unknown")
DOMAINS = ("Podcast", "Vlog", "News", "Audiobook", "Interview")
SIZE = (160, 45)


def generate(path: Path, rows: int) -> None:
    """Write a project of `rows` utterances, each with three systems' hypotheses."""
    import numpy as np
    import soundfile

    from db.store import Store

    rng = random.Random(7)
    clip = path.parent / "clip.wav"
    t = np.arange(16000 * 5) / 16000
    soundfile.write(clip, (0.3 * np.sin(2 * np.pi * 220 * t) * np.sin(np.pi * t / 5)), 16000)
    store = Store.open(path)
    batch = 50_000
    with store.locked() as conn:
        for start in range(0, rows, batch):
            utts, hyps = [], []
            for i in range(start, min(start + batch, rows)):
                draft = "".join(rng.choices(CHARS, k=rng.randint(6, 30)))
                utts.append(
                    (
                        i + 1,
                        f"WU_{i:08d}",
                        str(clip),
                        round(rng.uniform(1, 15), 2),
                        16000,
                        rng.choice(DIALECTS),
                        rng.choice(DOMAINS),
                        round(rng.random(), 3),
                        draft,
                        round(rng.random(), 3),
                    )
                )
                for system in SYSTEMS:
                    text = list(draft)
                    for _ in range(rng.randint(0, 3)):
                        text[rng.randrange(len(text))] = rng.choice(CHARS)
                    cer = rng.random() * 0.3
                    hyps.append(
                        (
                            i + 1,
                            "asr",
                            system,
                            "".join(text),
                            "2025-01-01T00:00:00Z",
                            len(draft),
                            1,
                            0,
                            0,
                            cer,
                        )
                    )
            conn.execute("BEGIN")
            conn.executemany(
                "INSERT INTO utterances (id, key, audio, duration, sample_rate, sub_dialect, "
                "domain, confidence, draft, disagreement) VALUES (?,?,?,?,?,?,?,?,?,?)",
                utts,
            )
            conn.executemany(
                "INSERT INTO hypotheses (utt_id, task, system, text, created_at, n, s, d, i, cer) "
                "VALUES (?,?,?,?,?,?,?,?,?,?)",
                hyps,
            )
            conn.execute("COMMIT")
    store.close()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(round(q * (len(ordered) - 1)), len(ordered) - 1)]


class Frames:
    """The frames the app produces, and the conditions waiting for one.

    The app runs headless, so each frame is turned into the bytes a terminal would be sent
    (the cost a real session pays), and then every waiter whose condition holds is resolved
    with that frame's time. A frame is composed from the app's state at that moment, so the
    first frame at which the condition holds is the first one that shows it. Checking at
    frame time, rather than polling from a coroutine, keeps the bench from competing with the
    app for its event loop.
    """

    def __init__(self, app: ReviewApp) -> None:
        from textual._compositor import CompositorUpdate

        self.app = app
        self.update_type = CompositorUpdate
        self.waiting: list[tuple[Callable[[], bool], asyncio.Future[float]]] = []
        self.display = app._display
        app._display = self._display  # type: ignore[method-assign]

    def _display(self, screen: Screen[None], renderable: RenderableType | None) -> None:
        self.display(screen, renderable)
        if renderable is None:
            return
        if isinstance(renderable, self.update_type):
            renderable.render_segments(self.app.console)
        now = time.perf_counter()
        for waiter in list(self.waiting):
            done, future = waiter
            if done():
                self.waiting.remove(waiter)
                future.set_result(now)

    async def first(self, done: Callable[[], bool]) -> float:
        """The time of the first frame at which `done()` holds (registered before acting)."""
        return await asyncio.wait_for(self.watch(done), 60)

    def watch(self, done: Callable[[], bool]) -> asyncio.Future[float]:
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self.waiting.append((done, future))
        return future


def shown(app: ReviewApp) -> bool:
    """The review screen shows the utterance under the list's cursor in its detail."""
    from workbench.tui.review_screen import ReviewScreen

    screen = app.screen
    if not isinstance(screen, ReviewScreen) or screen.utt is None:
        return False
    row = screen.list.current
    return row is not None and screen.utt.id == row.id and screen.detail.shown_id == row.id


async def first_open(path: Path) -> dict[str, float]:
    """Open a project never opened before (the status index gets built) and close it."""
    from workbench.tui.app import ReviewApp

    start = time.perf_counter()
    app = ReviewApp(path, "bench")
    frames = Frames(app)
    rendered = frames.watch(lambda: shown(app))
    async with app.run_test(size=SIZE):
        first = await asyncio.wait_for(rendered, 60)
    return {"first render, first open of the project": first - start}


async def measure(path: Path, presses: int) -> dict[str, list[float]]:
    """Reopen the project and time each key from its press to the frame showing its result."""
    from textual import events

    from workbench.tui.app import ReviewApp
    from workbench.tui.review_screen import ReviewScreen

    times: dict[str, list[float]] = {}
    start = time.perf_counter()
    app = ReviewApp(path, "bench")
    frames = Frames(app)
    rendered = frames.watch(lambda: shown(app))
    counted = frames.watch(
        lambda: isinstance(app.screen, ReviewScreen) and app.screen.matches is not None
    )
    async with app.run_test(size=SIZE):
        times["first render, reopened"] = [await asyncio.wait_for(rendered, 60) - start]
        times["count of matches shown"] = [await asyncio.wait_for(counted, 60) - start]

        def screen() -> ReviewScreen:
            current = app.screen
            assert isinstance(current, ReviewScreen)
            return current

        def press(key: str) -> float:
            """Deliver a key the way the terminal driver does; returns when it was sent."""
            assert app._driver is not None
            event = events.Key(key, None)
            event.set_sender(app)
            t0 = time.perf_counter()
            app._driver.send_message(event)
            return t0

        async def timed(name: str, key: str, done: Callable[[], bool]) -> None:
            waiter = frames.first(done)
            t0 = press(key)
            times.setdefault(name, []).append(await waiter - t0)
            await asyncio.sleep(0.02)  # a reviewer's keys are not back to back

        def at(target: int) -> Callable[[], bool]:
            return lambda: screen().list.cursor == target and shown(app)

        for _ in range(presses):
            await timed("next", "ctrl+down", at(screen().list.cursor + 1))
        for _ in range(presses):
            await timed("previous", "ctrl+up", at(screen().list.cursor - 1))
        for _ in range(presses):
            await timed("page down", "ctrl+pagedown", at(screen().list.cursor + 25))
        for n in range(presses):
            utt = screen().utt
            assert utt is not None
            want = [h.text for h in utt.hypotheses if h.task == "asr"][n % 3]
            # The editor holds the hypothesis and every system's diff is against it.
            await timed(
                "take hypothesis",
                f"alt+{n % 3 + 1}",
                lambda w=want: screen().editor.text == w and screen().detail.shown_ref == w,
            )
        for _ in range(presses):
            before = screen().utt
            assert before is not None
            saved_line = f"saved {before.key} as gold"
            next_shown = frames.first(at(screen().list.cursor + 1))
            saved = frames.first(
                lambda s=saved_line: s in str(screen().query_one("#status").render())
            )
            t0 = press("ctrl+s")
            times.setdefault("accept → next shown", []).append(await next_shown - t0)
            times.setdefault("accept → committed, 'saved' shown", []).append(await saved - t0)
            await asyncio.sleep(0.02)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--presses", type=int, default=60)
    parser.add_argument("--fresh", action="store_true")
    args = parser.parse_args()

    # No sound card on a bench machine: a silent ALSA device keeps PortAudio quiet.
    alsa = Path(tempfile.gettempdir()) / "wuwb-bench-asound.conf"
    alsa.write_text("pcm.!default { type null }\nctl.!default { type null }\n")
    os.environ.setdefault("ALSA_CONFIG_PATH", str(alsa))
    os.environ.setdefault("WUWB_CONFIG", str(alsa.with_suffix(".none")))

    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"tui-{args.rows}.db"
    if args.fresh or not path.exists():
        for stale in OUT.glob(f"tui-{args.rows}.db*"):
            stale.unlink()
        t0 = time.perf_counter()
        child = multiprocessing.Process(target=generate, args=(path, args.rows))
        child.start()
        child.join()
        print(
            f"generated {args.rows:,} utterances × {len(SYSTEMS)} systems "
            f"in {time.perf_counter() - t0:.0f} s ({path.stat().st_size / 1e6:.0f} MB)"
        )
    work = OUT / "tui-run.db"  # accept writes: keep the generated file pristine
    for suffix in ("", "-wal", "-shm"):
        Path(f"{work}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(path, work)

    t0 = time.perf_counter()
    import workbench.tui.app  # noqa: F401  (what `wuwb review` imports before it can draw)

    imported = time.perf_counter() - t0
    opened = asyncio.run(first_open(work))
    times = asyncio.run(measure(work, args.presses))
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\nreview TUI on {args.rows:,} utterances, {args.presses} presses per key")
    print(f"{'importing the app (before the clocks below start)':52} {imported * 1000:8.0f}")
    print(f"{'':52} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
    for name, values in [*((k, [v]) for k, v in opened.items()), *times.items()]:
        ms = [v * 1000 for v in values]
        if len(ms) == 1:
            print(f"{name:52} {ms[0]:8.0f}")
        else:
            print(
                f"{name:52} {statistics.median(ms):8.1f} {percentile(ms, 0.95):8.1f} {max(ms):8.1f}"
            )
    print(f"peak memory (RSS) {rss_mb:.0f} MB")
    p95 = {name: percentile(values, 0.95) * 1000 for name, values in times.items()}
    print(
        f"first render {opened['first render, first open of the project'] * 1000:.0f} ms "
        f"(reopened {times['first render, reopened'][0] * 1000:.0f}); p95 next {p95['next']:.1f}, "
        f"previous {p95['previous']:.1f}, page down {p95['page down']:.1f}, take "
        f"{p95['take hypothesis']:.1f}, accept {p95['accept → next shown']:.1f} ms; "
        f"memory {rss_mb:.0f} MB"
    )


if __name__ == "__main__":
    main()
