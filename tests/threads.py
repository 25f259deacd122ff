"""Start several threads at one barrier, so race tests collide on purpose instead of by luck."""

from __future__ import annotations

import threading
from collections.abc import Callable


def run_at_once(target: Callable[[], object], count: int, timeout: float) -> list[BaseException]:
    """Run `target` in `count` threads released together; the exceptions they raised, for the test to assert on.
    A thread still running after `timeout` counts as a `TimeoutError`, so a hang cannot pass as success."""
    start = threading.Barrier(count)
    errors: list[BaseException] = []

    def run() -> None:
        start.wait()
        try:
            target()
        except BaseException as exc:  # collected for the caller's assertion
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    hung = sum(thread.is_alive() for thread in threads)
    return errors + [TimeoutError(f"thread still running after {timeout} s") for _ in range(hung)]
