"""A progress bar for management commands, drawn only when a person watches a terminal."""

import time


class ProgressBar:
    WIDTH = 30

    def __init__(self, stream, label: str):
        self.stream, self.label = stream, label
        self.enabled = stream.isatty()
        self._drawn_at = 0.0

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        # Redrawing on every row would make a big file slower than the import itself.
        if not self.enabled or (done < total and now - self._drawn_at < 0.1):
            return
        self._drawn_at = now
        filled = self.WIDTH * done // max(total, 1)
        bar = "#" * filled + "-" * (self.WIDTH - filled)
        # Plain text even on stderr, which commands otherwise colour as an error.
        self.stream.write(f"\r{self.label} [{bar}] {done}/{total}", _plain, ending="")
        if done >= total:
            self.stream.write("", _plain)
        self.stream.flush()


def _plain(text: str) -> str:
    return text
