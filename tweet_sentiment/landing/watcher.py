"""Source files the OS reports finished (inotify on Linux, through watchdog): closed after writing, or renamed into
the source folder. Such a file needs no second look to be known settled, and no wait for the sensor's next tick."""

import os
import queue
import sys
from pathlib import Path

from watchdog.events import FileClosedEvent, FileMovedEvent, FileSystemEventHandler
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver

from tweet_sentiment.landing.discovery import is_source_file

DEBOUNCE_S = 0.05
"""Files finished together (a copy of several files) are taken in one look, so they can share a batch."""


class FinishedFiles(FileSystemEventHandler):
    """Collects the paths of source files closed after writing or moved into the watched folder."""

    def __init__(self, root: Path) -> None:
        self._root = root
        self._paths: queue.Queue[str] = queue.Queue()

    def _add(self, path: str | bytes) -> None:
        path = os.fsdecode(path)
        if is_source_file(os.path.basename(path)) and not self._in_hidden_folder(path):
            self._paths.put(path)

    def _in_hidden_folder(self, path: str) -> bool:
        """Below a hidden folder of the source folder (skipped by the sensor's walk too)."""
        try:
            parts = Path(path).parent.relative_to(self._root).parts
        except ValueError:
            return True
        return any(part.startswith(".") for part in parts)

    def on_closed(self, event: FileClosedEvent) -> None:
        if not event.is_directory:
            self._add(event.src_path)

    def on_moved(self, event: FileMovedEvent) -> None:
        if not event.is_directory:
            self._add(event.dest_path)

    def take(self, timeout_s: float | None = None) -> set[str]:
        """The next group of finished files: waits up to `timeout_s` for one (empty set on timeout), then takes what
        else finishes within `DEBOUNCE_S`."""
        try:
            paths = {self._paths.get(timeout=timeout_s)}
        except queue.Empty:
            return set()
        while True:
            try:
                paths.add(self._paths.get(timeout=DEBOUNCE_S))
            except queue.Empty:
                return paths


def watch(root: Path) -> tuple[FinishedFiles, BaseObserver]:
    """Start watching `root` recursively; the caller stops the observer."""
    handler = FinishedFiles(root)
    if sys.platform.startswith("linux"):
        from watchdog.observers.inotify import InotifyObserver

        # Full events: a file renamed in from outside the folder is a move (complete), not a creation (maybe empty).
        observer: BaseObserver = InotifyObserver(generate_full_events=True)
    else:  # no close events there: files wait for the sensor's looks
        observer = Observer()
    observer.schedule(handler, str(root), recursive=True)
    observer.start()
    return handler, observer
