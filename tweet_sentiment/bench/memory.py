"""Peak resident memory of this process and all its children (the Spark JVM, Python workers), sampled."""

import threading

import psutil


def tree_rss_bytes(process: psutil.Process) -> int:
    """RSS of `process` plus every descendant still alive."""
    total = 0
    for member in [process, *process.children(recursive=True)]:
        try:
            total += member.memory_info().rss
        except psutil.Error:  # a worker exited between listing and reading
            continue
    return total


class PeakRssSampler:
    """A background thread that records the highest tree RSS seen while the `with` block runs."""

    def __init__(self, interval_s: float = 0.5) -> None:
        self.interval_s = interval_s
        self.peak_bytes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        me = psutil.Process()
        while not self._stop.is_set():
            self.peak_bytes = max(self.peak_bytes, tree_rss_bytes(me))
            self._stop.wait(self.interval_s)

    def reset(self) -> None:
        self.peak_bytes = 0

    @property
    def peak_mb(self) -> float:
        return self.peak_bytes / 2**20

    def __enter__(self) -> "PeakRssSampler":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
