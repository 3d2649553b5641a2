"""The request log: one JSON line per scoring request, for monitoring and back-testing.

requests.jsonl is rotated by size as logging's RotatingFileHandler does: requests.jsonl.1 is the
newest backup and requests.jsonl.N the oldest. A line is never split across two files, so a line
larger than the limit makes a file of its own.
"""
import json
import os
import threading


class RequestLog:
    def __init__(self, directory, max_bytes, backups):
        self.path = os.path.join(directory, "requests.jsonl")
        self.max_bytes = max_bytes
        self.backups = backups
        self._lock = threading.Lock()

    def write(self, entry):
        """Appends entry as one line; raises OSError when the file cannot be written."""
        line = (json.dumps(entry, ensure_ascii=False, separators=(",", ":"), default=str) + "\n").encode("utf-8")
        with self._lock:
            try:
                size = os.path.getsize(self.path)
            except FileNotFoundError:
                size = 0
            if size and size + len(line) > self.max_bytes:
                self._rotate()
            # Opened per line, so a file moved or deleted by someone else is simply started again.
            with open(self.path, "ab") as f:
                f.write(line)

    def _rotate(self):
        if self.backups < 1:
            os.remove(self.path)
            return
        for index in range(self.backups - 1, 0, -1):
            older = f"{self.path}.{index}"
            if os.path.exists(older):
                os.replace(older, f"{self.path}.{index + 1}")
        os.replace(self.path, f"{self.path}.1")
