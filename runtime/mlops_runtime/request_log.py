"""The request log: one JSON line per scoring request, for monitoring and back-testing.

requests.jsonl is rotated by size as logging's RotatingFileHandler does: requests.jsonl.1 is the
newest backup and requests.jsonl.N the oldest. A line is never split across two files, so a line
larger than the limit makes a file of its own.

Each line starts with its ts, taken under the lock that orders the writes and never earlier than
the line before, so the files read oldest first are in ts order. GET /requests relies on it: a
reader that asks again after the last ts it got misses no line (see RequestLog.read).
"""

import contextlib
import datetime
import json
import os
import re
import threading
from urllib.parse import parse_qs

DEFAULT_LIMIT, MAX_LIMIT = 10000, 100000
LEADING_TS = re.compile(rb'\{"ts":"([^"\\]*)"')  # how write() starts every line
# A request line, as write() starts it: feedback lines have their kind before the request id.
LEADING_REQUEST_ID = re.compile(rb'\{"ts":"[^"\\]*","request_id":("(?:[^"\\]|\\.)*")')
TIMESTAMP = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z")  # as timestamp() writes it
CHUNK_BYTES = 64 * 1024


def timestamp(moment):
    """An aware datetime as the log writes it, 2026-11-27T21:45:32.123Z (truncated to the
    millisecond): of fixed width, so that two compare as text as they do as times."""
    utc = moment.astimezone(datetime.timezone.utc).replace(tzinfo=None)
    return utc.isoformat(timespec="milliseconds") + "Z"


def now():
    return timestamp(datetime.datetime.now(datetime.timezone.utc))


def parse_query(query):
    """(since in the log's format or None, limit) of GET /requests' query string; ValueError
    naming the parameter that is wrong. An empty parameter is taken as absent."""
    params = parse_qs(query, keep_blank_values=True)
    unknown = sorted(set(params) - {"since", "limit"})
    if unknown:
        raise ValueError(f"unknown parameter {unknown[0]!r}; /requests takes since and limit")
    for name, values in params.items():
        if len(values) > 1:
            raise ValueError(f"{name} is given {len(values)} times")
    since, limit = params.get("since", [""])[0], params.get("limit", [""])[0]
    if limit and not (re.fullmatch(r"[0-9]{1,6}", limit) and 1 <= int(limit) <= MAX_LIMIT):
        raise ValueError(f"limit must be a whole number from 1 to {MAX_LIMIT}, not {limit!r}")
    return (_since(since) if since else None), (int(limit) if limit else DEFAULT_LIMIT)


def _since(text):
    try:
        moment = datetime.datetime.fromisoformat(text[:-1] + "+00:00" if text[-1] in "Zz" else text)
        return timestamp(moment if moment.tzinfo else moment.replace(tzinfo=datetime.timezone.utc))
    except (ValueError, OverflowError):
        raise ValueError(
            f"since must be an ISO 8601 time such as 2026-11-27T21:45:32.123Z (UTC unless it has an offset), not {text!r}"
        ) from None


class RequestLog:
    def __init__(self, directory, max_bytes, backups):
        self.path = os.path.join(directory, "requests.jsonl")
        self.max_bytes = max_bytes
        self.backups = backups
        self._lock = threading.Lock()
        self._last_ts = ""

    def write(self, entry):
        """Appends entry as one line after its ts; raises OSError when the file cannot be written."""
        # Encoded before taking the lock: a large request must not hold up the others' lines.
        rest = json.dumps(entry, ensure_ascii=False, separators=(",", ":"), default=str)[1:]
        with self._lock:
            self._last_ts = ts = max(now(), self._last_ts)  # a clock set back must not break the order
            line = f'{{"ts":"{ts}"{"," if entry else ""}{rest}\n'.encode()
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

    def logged_ids(self):
        """The request ids of the request lines in the files, oldest first."""
        for path in [f"{self.path}.{index}" for index in range(self.backups, 0, -1)] + [self.path]:
            try:
                with open(path, "rb") as f:
                    for line in f:
                        match = LEADING_REQUEST_ID.match(line)
                        if match:
                            with contextlib.suppress(ValueError):
                                yield json.loads(match.group(1))
            except FileNotFoundError:
                continue

    def read(self, since, limit):
        """The lines with a ts after since (all when None), oldest first, as a Selection to close.

        The files are opened under the write lock, so a rotation cannot move a file between two
        opens, and read while held open, so a later rotation does not matter. Lines with a ts at
        or after complete_before are left for a later call, as more with that ts may still be
        written; lines past limit are left out too, but never some of those sharing a ts."""
        files = []
        with contextlib.ExitStack() as opened:
            with self._lock:
                complete_before = max(now(), self._last_ts)
                for path in [f"{self.path}.{index}" for index in range(self.backups, 0, -1)] + [self.path]:
                    with contextlib.suppress(FileNotFoundError):
                        files.append(opened.enter_context(open(path, "rb")))
            selection = Selection(files, complete_before)
            selection.scan(since, limit)
            opened.pop_all()  # the selection closes them once sent
        return selection


class Selection:
    """Lines chosen from the log files, kept as byte ranges of the open files rather than read
    into memory: `length` bytes, sent by `chunks()`; `more` when lines were left out."""

    def __init__(self, files, complete_before):
        self.files, self.complete_before = files, complete_before
        self.ranges = []  # (file, start, end) of runs of chosen lines
        self.length = 0
        self.more = False

    def scan(self, since, limit):
        count, last = 0, None
        for f in self.files:
            offset, start = 0, None  # start: of the run of chosen lines going on
            for line in iter(f.readline, b""):
                if not line.endswith(b"\n"):
                    break  # still being written
                ts = self._chosen(line, since)
                if ts is not None and count >= limit and ts != last:
                    self.more = True
                    break
                if ts is not None:
                    count, last = count + 1, ts
                    start = offset if start is None else start
                elif start is not None:
                    self._add(f, start, offset)
                    start = None
                offset += len(line)
            if start is not None:
                self._add(f, start, offset)
            if self.more:
                return

    def _chosen(self, line, since):
        """The ts of a line to send: a JSON object with a string ts after since and before complete_before."""
        leading = LEADING_TS.match(line)
        if since is not None and leading and leading.group(1).decode("utf-8", "replace") <= since:
            return None  # without parsing it: on a call that continues, most lines are before since
        try:
            entry = json.loads(line)
        except (ValueError, RecursionError):
            return None
        ts = entry.get("ts") if isinstance(entry, dict) else None
        if not isinstance(ts, str) or (since is not None and ts <= since) or ts >= self.complete_before:
            return None
        return ts

    def _add(self, f, start, end):
        self.ranges.append((f, start, end))
        self.length += end - start

    def chunks(self):
        for f, start, end in self.ranges:
            f.seek(start)
            left = end - start
            while left:
                data = f.read(min(CHUNK_BYTES, left))
                if not data:
                    raise OSError(f"{f.name} got shorter while it was being sent")
                left -= len(data)
                yield data

    def close(self):
        for f in self.files:
            f.close()
