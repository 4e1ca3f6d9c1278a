"""Memory of a process tree counted three ways, to tell real use from double counting: RSS (what `ps` shows; pages
shared between processes, such as forked Python workers' copy-on-write pages or the JVM's mapped JARs, are counted
once per process), USS (pages only that process holds) and PSS (shared pages split between their sharers; the sum
over processes is the tree's real footprint)."""

import threading
from dataclasses import dataclass, field

import psutil


@dataclass
class TreeMemory:
    """Sums over a process tree, in bytes, and each process's share (name, pid, rss, uss, pss)."""

    rss: int = 0
    uss: int = 0
    pss: int = 0
    processes: list[tuple[str, int, int, int, int]] = field(default_factory=list)


def tree_memory(roots: list[psutil.Process]) -> TreeMemory:
    """RSS, USS and PSS of the roots and all their descendants (each process once)."""
    seen, total = set(), TreeMemory()
    for root in roots:
        try:
            members = [root, *root.children(recursive=True)]
        except psutil.Error:
            continue
        for member in members:
            if member.pid in seen:
                continue
            seen.add(member.pid)
            try:
                info = member.memory_full_info()
                name = member.name()
            except psutil.Error:  # exited between listing and reading, or not ours to read
                continue
            pss = getattr(info, "pss", info.uss)
            total.rss, total.uss, total.pss = total.rss + info.rss, total.uss + info.uss, total.pss + pss
            total.processes.append((name, member.pid, info.rss, info.uss, pss))
    return total


class PeakMemorySampler:
    """A background thread keeping the sample with the highest RSS, and the highest PSS, while the block runs."""

    def __init__(self, extra_pids: list[int] | None = None, interval_s: float = 1.0) -> None:
        self.extra_pids, self.interval_s = extra_pids or [], interval_s
        self.peak_rss, self.peak_pss = TreeMemory(), TreeMemory()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _roots(self) -> list[psutil.Process]:
        roots = [psutil.Process()]
        for pid in self.extra_pids:
            try:
                roots.append(psutil.Process(pid))
            except psutil.Error:
                continue
        return roots

    def _sample(self) -> None:
        while not self._stop.is_set():
            sample = tree_memory(self._roots())
            if sample.rss > self.peak_rss.rss:
                self.peak_rss = sample
            if sample.pss > self.peak_pss.pss:
                self.peak_pss = sample
            self._stop.wait(self.interval_s)

    def reset(self) -> None:
        self.peak_rss, self.peak_pss = TreeMemory(), TreeMemory()

    def summary(self) -> dict[str, object]:
        """Peaks in MB, and the processes of the highest-RSS sample (largest RSS first)."""
        mb = 2**20
        return {"peak_rss_mb": round(self.peak_rss.rss / mb, 1), "uss_at_peak_rss_mb": round(self.peak_rss.uss / mb, 1),
                "pss_at_peak_rss_mb": round(self.peak_rss.pss / mb, 1), "peak_pss_mb": round(self.peak_pss.pss / mb, 1),
                "processes_at_peak_rss": [
                    {"name": n, "pid": p, "rss_mb": round(r / mb, 1), "uss_mb": round(u / mb, 1),
                     "pss_mb": round(s / mb, 1)}
                    for n, p, r, u, s in sorted(self.peak_rss.processes, key=lambda x: -x[2])[:12]]}

    def __enter__(self) -> "PeakMemorySampler":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
