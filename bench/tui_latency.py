"""Review TUI latency on a generated 1,000,000-utterance project with three systems.

Drives the real app with Pilot and prints: time to first full render (list and detail),
p50/p95 from a key press to the screen showing its result (next, previous, page down, take
hypothesis, accept), and peak memory. Targets (issue 4): first render < 1.5 s, movement
p95 < 50 ms, accept p95 < 100 ms, memory < 400 MB.

    .venv/bin/python bench/tui_latency.py [--rows 1000000] [--fresh]

The project is generated once into bench/out/ (plain SQL inserts, in a child process so its
memory is not counted) and reused; --fresh rebuilds it.
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

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
OUT = ROOT / "bench" / "out"
SYSTEMS = ("Step-Audio2-FT", "Tele-CTC-FT", "wswu-corpus")
CHARS = "侬今朝去伐阿拉是做撒呃喃有钞票就是到银行里保本保息最少辰光㑚好勿晓得个末老早"
DIALECTS = ("Taihu_Shanghai", "Taihu_Suzhou", "Taihu_Wuxi", "Unknown")
DOMAINS = ("Podcast", "Vlog", "News", "Audiobook", "Interview")


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
    with store.lock:
        conn = store.conn
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


async def measure(path: Path, presses: int) -> dict[str, list[float]]:
    from textual import events

    from workbench.tui.app import ReviewApp
    from workbench.tui.review_screen import ReviewScreen

    times: dict[str, list[float]] = {}
    frames: list[float] = [0.0]  # when the compositor last produced a frame
    start = time.perf_counter()
    app = ReviewApp(path, "bench")
    display = app._display

    def timed_display(screen: object, renderable: object) -> None:
        if renderable is not None:
            frames[0] = time.perf_counter()
        display(screen, renderable)  # type: ignore[arg-type]

    app._display = timed_display  # type: ignore[method-assign]
    async with app.run_test(size=(160, 45)):

        async def until(done: Callable[[], bool]) -> float:
            """Wait for `done`, then for the frame that shows it; returns that frame's time."""
            while not done():
                await asyncio.sleep(0)
            seen = time.perf_counter()
            while frames[0] < seen:
                await asyncio.sleep(0)
            return frames[0]

        def screen() -> ReviewScreen:
            current = app.screen
            assert isinstance(current, ReviewScreen)
            return current

        def shown() -> bool:
            current = app.screen
            if not isinstance(current, ReviewScreen) or current.utt is None:
                return False
            row = current.list.current
            return row is not None and current.utt is not None and current.utt.id == row.id

        times["first render"] = [await until(shown) - start]
        times["count of matches"] = [await until(lambda: screen().matches is not None) - start]

        def press(key: str) -> float:
            """Deliver a key the way the terminal driver does; returns when it was sent."""
            assert app._driver is not None
            event = events.Key(key, None)
            event.set_sender(app)
            t0 = time.perf_counter()
            app._driver.send_message(event)
            return t0

        async def timed(name: str, key: str, done: Callable[[], bool]) -> None:
            t0 = press(key)
            times.setdefault(name, []).append(await until(done) - t0)
            await asyncio.sleep(0.02)  # a reviewer's keys are not back to back

        for _ in range(presses):
            target = screen().list.cursor + 1
            await timed("next", "ctrl+down", lambda t=target: screen().list.cursor == t and shown())
        for _ in range(presses):
            target = screen().list.cursor - 1
            await timed(
                "previous", "ctrl+up", lambda t=target: screen().list.cursor == t and shown()
            )
        for _ in range(presses):
            target = screen().list.cursor + 25
            await timed(
                "page down", "ctrl+pagedown", lambda t=target: screen().list.cursor == t and shown()
            )
        for n in range(presses):
            utt = screen().utt
            assert utt is not None
            want = [h.text for h in utt.hypotheses if h.task == "asr"][n % 3]
            await timed(
                "take hypothesis", f"alt+{n % 3 + 1}", lambda w=want: screen().editor.text == w
            )
        for _ in range(presses):
            target = screen().list.cursor + 1
            before = screen().utt
            assert before is not None
            saved_line = f"saved {before.key} as gold"
            t0 = press("ctrl+s")
            shown_at = await until(lambda t=target: screen().list.cursor == t and shown())
            saved_at = await until(
                lambda s=saved_line: s in str(screen().query_one("#status").render())
            )
            times.setdefault("accept → next shown", []).append(shown_at - t0)
            times.setdefault("accept → committed, 'saved' shown", []).append(saved_at - t0)
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

    times = asyncio.run(measure(work, args.presses))
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\nreview TUI on {args.rows:,} utterances, {args.presses} presses per key")
    print(f"{'':38} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
    for name, values in times.items():
        ms = [v * 1000 for v in values]
        if len(ms) == 1:
            print(f"{name:38} {ms[0]:8.0f}")
        else:
            print(
                f"{name:38} {statistics.median(ms):8.1f} {percentile(ms, 0.95):8.1f} {max(ms):8.1f}"
            )
    print(f"peak memory (RSS) {rss_mb:.0f} MB")
    first = times["first render"][0] * 1000
    print(
        f"first render {first:.0f} ms; p95 next {percentile(times['next'], 0.95) * 1000:.1f} ms; "
        f"p95 accept {percentile(times['accept → next shown'], 0.95) * 1000:.1f} ms; "
        f"memory {rss_mb:.0f} MB"
    )


if __name__ == "__main__":
    main()
