"""How the router assigns a request to a group: by the hash of a sticky key, never at random.

A key's hash is the first 8 bytes of the SHA-256 of its UTF-8 text, read as an integer and
divided by 2**64: a point in [0, 1) that is the same in any language, so that another program
can tell which group a key reaches. runtime/README.md describes MLOPS_ROUTER_STICKY_KEY.
"""

import bisect
import hashlib
import json
import re

from .server import ConfigError

TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # an HTTP header name
SHADOW_SALT = ":shadow"  # hashed after the request id to choose the requests mirrored


def fraction(text):
    """The point in [0, 1) that text hashes to."""
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big") / 2**64


class Split:
    """Groups of positive weight in their configured order; `pick(key)` is the group whose share
    of [0, 1), laid end to end by cumulative weight, holds the key's hash."""

    def __init__(self, groups):
        self.groups = [group for group in groups if group.weight > 0]
        self.bounds, total = [], 0
        for group in self.groups:
            total += group.weight
            self.bounds.append(total)
        self.total = total

    def pick(self, key):
        index = bisect.bisect_right(self.bounds, fraction(key) * self.total)
        return self.groups[min(index, len(self.groups) - 1)]  # a product rounded up to the total


def mirrored(request_id, percent):
    """Whether a request goes to a shadow group that mirrors percent of them."""
    return fraction(request_id + SHADOW_SALT) * 100 < percent


class StickyKey:
    """MLOPS_ROUTER_STICKY_KEY, header:NAME or field:NAME; `value(headers, body)` is the key's text
    in a request, or None when it has none."""

    def __init__(self, kind, name):
        self.kind, self.name = kind, name

    def value(self, headers, body):
        if self.kind == "header":
            return headers.get(self.name) or None
        found = first_row_field(body, self.name)
        if found is None:
            return None
        return found if isinstance(found, str) else json.dumps(found, ensure_ascii=False, separators=(",", ":"))


def parse_sticky_key(text):
    """The StickyKey of the setting, None when it is not set."""
    if not text:
        return None
    kind, _, name = text.partition(":")
    if (kind == "header" and TOKEN.fullmatch(name)) or (kind == "field" and name):
        return StickyKey(kind, name)
    raise ConfigError(
        f"MLOPS_ROUTER_STICKY_KEY must be header:NAME (a request header) or field:NAME (a field of the first row), not {text!r}"
    )


def first_row_field(body, name):
    """The value of field name in the first row of a JSON scoring body (dataframe_records,
    dataframe_split, instances or inputs); None when the body has no such field."""
    try:
        payload = json.loads(body) if body else None
    except (ValueError, RecursionError):
        return None
    if not isinstance(payload, dict) or len(payload) != 1:
        return None
    key, rows = next(iter(payload.items()))
    if key == "dataframe_split" and isinstance(rows, dict):
        columns, data = rows.get("columns"), rows.get("data")
        if (
            isinstance(columns, list)
            and name in columns
            and isinstance(data, list)
            and data
            and isinstance(data[0], list)
        ):
            row = data[0]
            index = columns.index(name)
            return row[index] if index < len(row) else None
        return None
    if key == "inputs" and isinstance(rows, dict):
        column = rows.get(name)
        return (column[0] if column else None) if isinstance(column, list) else column
    if (
        key in ("dataframe_records", "instances", "inputs")
        and isinstance(rows, list)
        and rows
        and isinstance(rows[0], dict)
    ):
        return rows[0].get(name)
    return None


def feedback_request_id(body):
    """The request_id of a POST /feedback body, of its first object when it is a list; None when
    it has none (the model server answers why)."""
    try:
        payload = json.loads(body) if body else None
    except (ValueError, RecursionError):
        return None
    if isinstance(payload, list) and payload:
        payload = payload[0]
    request_id = payload.get("request_id") if isinstance(payload, dict) else None
    return request_id if isinstance(request_id, str) and request_id else None
