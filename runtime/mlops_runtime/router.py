"""The router in front of a deployment's model service: `python3 -m mlops_runtime.router`.

It holds the deployment's published port and forwards each request to a task of the model
service, found by DNS (in Docker Swarm `tasks.NAME` resolves to one address per running task),
so that replacing the model's tasks never closes the port. A request that finds a task gone
(connection refused) or draining (503) is sent again to another one; one that a task closed the
connection on before answering is sent again once, as the request itself may be what failed.
Backends are weighted groups, for A/B splits: a request goes to the group its sticky key hashes
to (assignment.py), and shadow groups get a share of the requests again once the client has its
answer (mirroring.py). runtime/README.md describes the settings.

/router/backends/metrics and /router/backends/requests read every backend at once, so that
monitoring sees each task through the one published port.
"""

import collections
import concurrent.futures
import http.client
import json
import logging
import math
import os
import re
import signal
import socket
import sys
import threading
import time
from urllib.parse import urlencode, urlsplit

from . import connections
from .assignment import Split, feedback_request_id, mirrored, parse_sticky_key
from .data_access import PROTECTED_PATHS, DataAccess, Denied
from .draining import Draining
from .metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE
from .metrics import Counter, _escape
from .mirroring import MirrorPool
from .request_log import TIMESTAMP, parse_query
from .server import GROUP_NAME, REQUEST_ID, ConfigError, RequestError, _setting, data_token

log = logging.getLogger("mlops_runtime.router")
ADDRESS = re.compile(r"(?:\[([0-9A-Fa-f:.]+)\]|([^\s:\[\]]+)):([0-9]{1,5})")  # host:port, [ipv6]:port
CONNECT_SECONDS = 2.0  # a task that is gone may leave a connection unanswered rather than refuse it
AVOID_SECONDS = 2.0  # how long an address that failed is passed over
FIRST_PAUSE, LONGEST_PAUSE = 0.05, 0.2  # seconds between two attempts, doubling
FAN_OUT_SECONDS = 3.0  # how long /router/backends/metrics waits for a backend's answer
MAX_FAN_OUT_THREADS = 32  # backends asked at once; the others wait for a thread
MIRROR_THREADS, MIRROR_QUEUE = 4, 100  # shadow requests sent at once, and waiting; more are dropped
# A sample line of Prometheus' text format: name, labels (braces may be quoted in them), the rest.
SAMPLE = re.compile(r'([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{((?:[^"}]|"(?:[^"\\]|\\.)*")*)\})?([ \t].*)')
LABEL = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*(?:,|$)')
FAMILY_SUFFIXES = ("_bucket", "_sum", "_count", "_total", "_created")  # samples of a family named without them
HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
}
# Content-Length is set from the body read, and Expect was answered by the router itself, which
# also sets the request id and the variant, and says which requests are shadows.
NOT_FORWARDED = HOP_BY_HOP | {"content-length", "expect", "x-request-id", "x-mlops-variant", "x-mlops-shadow"}

GroupSpec = collections.namedtuple("GroupSpec", "name addresses weight shadow")
Answer = collections.namedtuple("Answer", "status reason headers body")
Page = collections.namedtuple("Page", "lines more complete_before")  # a backend's /requests: (ts, line) pairs


class AttemptFailed(Exception):
    """The backend gave no answer: the request may be sent again."""


class HungUp(AttemptFailed):
    """The backend took the request and closed the connection without an answer: it may have
    stopped, or the request may be what made it fail, so it is sent again only once."""


class Config:
    """The settings, from environment variables."""

    def __init__(self, env):
        self.host = env.get("MLOPS_HOST") or "0.0.0.0"
        self.port = _setting(env, "PORT", 8080, int)
        self.groups = parse_backends(env.get("MLOPS_ROUTER_BACKENDS"))
        self.sticky_key = parse_sticky_key(env.get("MLOPS_ROUTER_STICKY_KEY"))
        self.resolve_seconds = _setting(env, "MLOPS_ROUTER_RESOLVE_SECONDS", 1.0, float)
        self.timeout_seconds = _setting(env, "MLOPS_ROUTER_TIMEOUT_SECONDS", 30.0, float)
        self.retry_seconds = _setting(env, "MLOPS_ROUTER_RETRY_SECONDS", 10.0, float)
        self.max_body_bytes = _setting(env, "MLOPS_MAX_REQUEST_BYTES", connections.MAX_REQUEST_BYTES, int)
        self.max_connections = _setting(env, "MLOPS_MAX_CONNECTIONS", connections.MAX_CONNECTIONS, int)
        self.read_seconds = _setting(env, "MLOPS_REQUEST_READ_SECONDS", connections.READ_SECONDS, float)
        positive = (
            ("MLOPS_ROUTER_TIMEOUT_SECONDS", self.timeout_seconds),
            ("MLOPS_MAX_CONNECTIONS", self.max_connections),
            ("MLOPS_REQUEST_READ_SECONDS", self.read_seconds),
        )
        for name, value in positive:
            if not value:
                raise ConfigError(f"{name} must be more than 0")
        self.data_token = data_token(env)


def parse_backends(text):
    """The groups of MLOPS_ROUTER_BACKENDS, a JSON list of {"name", "addresses", "weight", "shadow"}."""
    example = '[{"name": "churn", "addresses": ["tasks.churn:8080"], "weight": 100}]'
    if not text:
        raise ConfigError(f"MLOPS_ROUTER_BACKENDS is required, e.g. {example}")
    try:
        groups = json.loads(text)
    except ValueError as error:
        raise ConfigError(f"MLOPS_ROUTER_BACKENDS is not JSON ({error}); e.g. {example}") from None
    if not isinstance(groups, list) or not groups:
        raise ConfigError(f"MLOPS_ROUTER_BACKENDS must be a non-empty list of groups, e.g. {example}")
    specs = [_group_spec(group) for group in groups]
    names = [spec.name for spec in specs]
    if len(set(names)) < len(names):
        raise ConfigError(f"MLOPS_ROUTER_BACKENDS names a group twice: {', '.join(names)}")
    if not any(spec.weight > 0 and not spec.shadow for spec in specs):
        raise ConfigError("MLOPS_ROUTER_BACKENDS needs a group that is not a shadow with a weight above 0")
    return specs


def _group_spec(group):
    where = f"MLOPS_ROUTER_BACKENDS group {json.dumps(group)}"
    if not isinstance(group, dict) or not set(group) <= {"name", "addresses", "weight", "shadow"}:
        raise ConfigError(f"{where} must be an object with name, addresses, weight and shadow")
    name, addresses, weight, shadow = (
        group.get("name"),
        group.get("addresses"),
        group.get("weight", 1),
        group.get("shadow", False),
    )
    if not isinstance(name, str) or not GROUP_NAME.fullmatch(name):
        raise ConfigError(f"{where}: the name must be letters, digits, '.', '_' or '-'")
    if not isinstance(addresses, list) or not addresses:
        raise ConfigError(f"{where}: addresses must be a non-empty list of host:port")
    if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not 0 <= weight < math.inf:
        raise ConfigError(f"{where}: the weight must be a number, 0 or more")
    if not isinstance(shadow, bool):
        raise ConfigError(f"{where}: shadow must be true or false")
    if shadow and weight > 100:
        raise ConfigError(
            f"{where}: the weight of a shadow group is the percent of requests mirrored to it, from 0 to 100"
        )
    return GroupSpec(name, [_address(address, where) for address in addresses], weight, shadow)


def _address(text, where):
    match = ADDRESS.fullmatch(text) if isinstance(text, str) else None
    if not match or not 0 < int(match.group(3)) < 65536:
        raise ConfigError(f"{where}: {json.dumps(text)} is not host:port")
    return match.group(1) or match.group(2), int(match.group(3))


def endpoint_text(host, port):
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def resolve(addresses):
    """(sorted (ip, port) endpoints, the errors of the hosts that did not resolve, or None)."""
    endpoints, errors = set(), []
    for host, port in addresses:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError as error:
            errors.append(f"{host} cannot be resolved: {reason(error)}")
        else:
            endpoints.update((info[4][0], info[4][1]) for info in infos)
    return sorted(endpoints), "; ".join(errors) or None


def reason(error):
    return getattr(error, "strerror", None) or str(error) or type(error).__name__


class Group:
    """A weighted group of backends: the endpoints its addresses resolve to, taken in turn. A shadow
    group's weight is the percent of requests mirrored to it."""

    def __init__(self, spec, resolve_seconds):
        self.name, self.addresses, self.weight, self.shadow = spec
        self.resolve_seconds = resolve_seconds
        self._resolving = threading.Lock()
        self._resolved_at, self._endpoints, self._error = -math.inf, [], None
        self._lock = threading.Lock()
        self._turn = 0
        self._avoided = {}  # endpoint -> until when it is passed over

    def resolve(self, fresher_than=-math.inf):
        """(endpoints, error), resolved again when older than resolve_seconds or than fresher_than.
        One thread resolves at a time; those waiting for it take its result."""
        with self._resolving:
            now = time.monotonic()
            if self._resolved_at < fresher_than or now - self._resolved_at >= self.resolve_seconds:
                self._endpoints, self._error = resolve(self.addresses)
                self._resolved_at = now
            return self._endpoints, self._error

    def pick(self, fresher_than):
        """The next endpoint in turn, passing over those that failed lately unless all did."""
        endpoints, error = self.resolve(fresher_than)
        if not endpoints:
            raise AttemptFailed(f"{self.name}: {error}")
        now = time.monotonic()
        with self._lock:
            usable = [e for e in endpoints if self._avoided.get(e, now) <= now] or endpoints
            self._turn += 1
            return usable[self._turn % len(usable)]

    def avoid(self, endpoint):
        """Passes over endpoint for AVOID_SECONDS; False when it already was."""
        now = time.monotonic()
        with self._lock:
            self._avoided = {e: until for e, until in self._avoided.items() if until > now}
            fresh = endpoint not in self._avoided
            self._avoided[endpoint] = now + AVOID_SECONDS
            return fresh

    def describe(self):
        endpoints, error = self.resolve()
        return {
            "name": self.name,
            "weight": self.weight,
            "shadow": self.shadow,
            "addresses": [endpoint_text(*a) for a in self.addresses],
            "backends": [endpoint_text(*e) for e in endpoints],
            "error": error,
        }


class RouterMetrics:
    """Requests, retries and failures per group, and the requests mirrored to each shadow group,
    in Prometheus' text format; thread-safe."""

    def __init__(self, groups):
        self._lock = threading.Lock()
        self._counters = {
            "requests": Counter("mlops_router_requests_total", "Requests forwarded to the group.", ("group",)),
            "retries": Counter(
                "mlops_router_retries_total",
                "Attempts after the first, when a backend gave no answer or answered 503.",
                ("group",),
            ),
            "failures": Counter(
                "mlops_router_failures_total",
                "Requests the router answered itself with an error: mostly 502, no backend answered, or 504, too slow.",
                ("group",),
            ),
            "shadow": Counter(
                "mlops_router_shadow_total", "Requests queued to be mirrored to the shadow group.", ("group",)
            ),
            "shadow_dropped": Counter(
                "mlops_router_shadow_dropped_total",
                "Requests not mirrored to the shadow group because the queue was full.",
                ("group",),
            ),
            "shadow_failures": Counter(
                "mlops_router_shadow_failures_total",
                "Mirrored requests the shadow group gave no answer to or answered with a 5xx status.",
                ("group",),
            ),
        }
        for kind, counter in self._counters.items():
            for group in groups:
                if group.shadow == kind.startswith("shadow"):
                    counter.inc(group.name, amount=0)

    def count(self, kind, group):
        with self._lock:
            self._counters[kind].inc(group.name)

    def render(self):
        lines = []
        with self._lock:
            for counter in self._counters.values():
                lines += [f"# HELP {counter.name} {counter.help}", f"# TYPE {counter.name} counter"]
                lines += [f'{name}{{group="{labels[0][1]}"}} {value}' for name, labels, value in counter.samples()]
        return "\n".join(lines) + "\n"


class Router(Draining):
    """What the handlers share: the groups, the settings, the metrics and the drain state."""

    def __init__(self, config):
        super().__init__()
        self.config = config
        self.groups = [Group(spec, config.resolve_seconds) for spec in config.groups]
        self.split = Split([group for group in self.groups if not group.shadow])
        self.shadows = [group for group in self.groups if group.shadow and group.weight > 0]
        self.metrics = RouterMetrics(self.groups)
        self.mirrors = MirrorPool(self._mirror, MIRROR_THREADS, MIRROR_QUEUE) if self.shadows else None
        self.access = DataAccess(config.data_token)

    def forward(self, group, method, target, headers, body):
        """(endpoint, answer) from group, trying its backends in turn until one answers other
        than 503 or MLOPS_ROUTER_RETRY_SECONDS have passed; a request that a backend took and
        closed the connection on without answering is tried once more, not again."""
        self.metrics.count("requests", group)
        deadline = time.monotonic() + self.config.retry_seconds
        pause, failed_at, hung_up = FIRST_PAUSE, -math.inf, None
        while True:
            endpoint = None
            try:
                endpoint = group.pick(failed_at)
                answer = self._attempt(group, endpoint, method, target, headers, body)
                if answer.status != 503:
                    return endpoint, answer
                error = f"{group.name}/{endpoint_text(*endpoint)} answered 503"
            except HungUp as failure:
                if hung_up is not None:
                    self.metrics.count("failures", group)
                    message = f"{hung_up}, then {failure}; the request is not sent again, as it may be what makes the backends fail"
                    log.warning("%s %s: %s", method, target, message)
                    raise RequestError(502, "BAD_GATEWAY", message) from None
                error = hung_up = str(failure)
            except AttemptFailed as failure:
                error = str(failure)
            except RequestError:
                self.metrics.count("failures", group)
                raise
            failed_at = time.monotonic()
            if endpoint is not None and group.avoid(endpoint):
                log.info("%s; passing it over for %g s", error, AVOID_SECONDS)
            if failed_at + pause > deadline:
                self.metrics.count("failures", group)
                message = f"no backend of group {group.name} answered within {self.config.retry_seconds:g} s; the last error: {error}"
                log.warning("%s %s: %s", method, target, message)
                raise RequestError(502, "BAD_GATEWAY", message)
            self.metrics.count("retries", group)
            time.sleep(pause)
            pause = min(pause * 2, LONGEST_PAUSE)

    def mirror(self, request_id, method, target, headers, body):
        """Queues the request for each shadow group whose share of the requests its id falls in."""
        for group in self.shadows:
            if mirrored(request_id, group.weight):
                shadow_headers = headers + [("X-Mlops-Variant", group.name), ("X-Mlops-Shadow", "1")]
                queued = self.mirrors.submit(group, method, target, shadow_headers, body)
                self.metrics.count("shadow" if queued else "shadow_dropped", group)

    def _mirror(self, group, method, target, headers, body):
        """One attempt at a mirrored request, in a thread of the pool; the answer is dropped."""
        endpoint = None
        try:
            endpoint = group.pick(-math.inf)
            status = self._attempt(group, endpoint, method, target, headers, body).status
            if status < 500:
                return
            error = f"{group.name}/{endpoint_text(*endpoint)} answered {status}"
        except (AttemptFailed, RequestError) as failure:
            error = str(failure)
        self.metrics.count("shadow_failures", group)
        if endpoint is None or group.avoid(endpoint):  # logged once per address every AVOID_SECONDS
            log.info("a request mirrored to shadow group %s failed: %s", group.name, error)

    def fan_out(self, target, timeout):
        """GET target from every backend of every group in parallel: ([(group, endpoint, Answer or
        the reason there is none)], ["name (error)" of each group whose hosts did not resolve])."""
        backends, unresolved = [], []
        for group in self.groups:
            endpoints, error = group.resolve()
            backends += [(group, endpoint) for endpoint in endpoints]
            if error:
                unresolved.append(f"{group.name} ({error})")
        if not backends:
            return [], unresolved
        headers = self.access.headers()
        with concurrent.futures.ThreadPoolExecutor(min(len(backends), MAX_FAN_OUT_THREADS)) as pool:
            answers = list(pool.map(lambda backend: _get(backend[1], target, timeout, headers), backends))
        return [(group, endpoint, answer) for (group, endpoint), answer in zip(backends, answers)], unresolved

    def feedback_elsewhere(self, answered, method, target, headers, body):
        """(group, endpoint, answer) of the first other live backend that records feedback the
        backend `answered` refused for request ids it never logged (a client's own ids, logged by
        another task), asked one by one; None when none does."""
        for group in self.groups:
            if group.shadow:
                continue
            for endpoint in group.resolve()[0]:
                if (group, endpoint) == answered:
                    continue
                try:
                    answer = self._attempt(
                        group, endpoint, method, target, headers + [("X-Mlops-Variant", group.name)], body
                    )
                except (AttemptFailed, RequestError):
                    continue
                if not unknown_ids_answer(answer):
                    return group, endpoint, answer
        return None

    def _attempt(self, group, endpoint, method, target, headers, body):
        """One exchange on a new connection. AttemptFailed when it could not be opened, HungUp when
        it was closed before an answer; RequestError when waiting or the answer failed, which is
        not retried as the backend may have acted."""
        where = f"{group.name}/{endpoint_text(*endpoint)}"
        connection = http.client.HTTPConnection(*endpoint, timeout=min(CONNECT_SECONDS, self.config.timeout_seconds))
        connected = False
        try:
            try:
                connection.connect()
                connected = True
                connection.sock.settimeout(self.config.timeout_seconds)
                response = _exchange(connection, method, target, headers, body)
            except socket.timeout:
                if not connected:  # nothing was sent
                    raise AttemptFailed(f"{where}: cannot connect within {connection.timeout:g} s") from None
                raise RequestError(
                    504, "GATEWAY_TIMEOUT", f"{where} did not answer within {self.config.timeout_seconds:g} s"
                ) from None
            except OSError as error:  # refused or unreachable; or reset, or closed before an answer
                raise (HungUp if connected else AttemptFailed)(f"{where}: {reason(error)}") from None
            except (http.client.InvalidURL, ValueError) as error:  # control characters in the target or a header
                raise RequestError(400, "BAD_REQUEST", str(error)) from None
            except http.client.HTTPException as error:
                raise RequestError(502, "BAD_GATEWAY", f"{where} did not answer in HTTP: {reason(error)}") from None
            try:
                return Answer(response.status, response.reason, response.getheaders(), response.read())
            except (OSError, http.client.HTTPException) as error:
                raise RequestError(502, "BAD_GATEWAY", f"{where} broke off its answer: {reason(error)}") from None
        finally:
            connection.close()


def _get(endpoint, target, timeout, headers=()):
    """GET target on a new connection: an Answer (its headers an http.client.HTTPMessage), or a
    string saying why there is none."""
    connection = http.client.HTTPConnection(*endpoint, timeout=CONNECT_SECONDS)
    try:
        connection.connect()
        connection.sock.settimeout(timeout)
        connection.request("GET", target, headers=dict(headers))
        response = connection.getresponse()
        return Answer(response.status, response.reason, response.headers, response.read())
    except socket.timeout:
        return (
            f"cannot connect within {CONNECT_SECONDS:g} s"
            if connection.sock is None
            else f"no answer within {timeout:g} s"
        )
    except (OSError, http.client.HTTPException) as error:
        return reason(error)
    finally:
        connection.close()


def _failure(answer):
    """Why a backend's answer to a fan-out is of no use: the reason there is none, or its status and message."""
    if isinstance(answer, str):
        return answer
    try:
        message = json.loads(answer.body)["message"]
    except (ValueError, TypeError, KeyError):
        message = answer.reason
    return f"answered {answer.status}: {message}"


def _error_code(answer):
    try:
        return json.loads(answer.body).get("error_code")
    except (ValueError, AttributeError):
        return None


def unknown_ids_answer(answer):
    """Whether a backend refused feedback for request ids it did not log."""
    return answer.status == 404 and _error_code(answer) == "UNKNOWN_REQUEST_ID"


def listed(name, entries):
    """A header listing entries separated by "; " (so a ";" in one becomes ","), in printable
    ASCII; none when there are no entries."""
    if not entries:
        return []
    return [(name, "; ".join(re.sub(r"[^\x20-\x7e]+", " ", entry).replace(";", ",") for entry in entries))]


class MergedMetrics:
    """The metrics of several backends in one exposition: each family's HELP and TYPE once, then
    the samples of every backend, labelled with its group and instance, and mlops_backend_up."""

    def __init__(self):
        self.families = {}  # name -> [HELP line, TYPE line, sample lines], in the order first seen
        self.family("mlops_backend_up")[:2] = [
            "# HELP mlops_backend_up Whether the router could read the backend's /metrics: 1, or 0 (X-Mlops-Unreachable says why).",
            "# TYPE mlops_backend_up gauge",
        ]

    def family(self, name):
        return self.families.setdefault(name, [None, None, []])

    def add(self, group, instance, text):
        """Adds a backend's exposition, or None when it could not be read."""
        own = [("group", _escape(group)), ("instance", _escape(instance))]
        self.family("mlops_backend_up")[2].append(f"mlops_backend_up{_label_text(own)} {0 if text is None else 1}")
        current = None  # the family of the HELP or TYPE line before
        for line in (text or "").split(
            "\n"
        ):  # not splitlines(), which also splits on characters a label value may hold
            if line.startswith("#"):
                words = line.split(None, 3)
                if len(words) > 2 and words[1] in ("HELP", "TYPE"):
                    current = words[2]
                    family = self.family(current)
                    index = 0 if words[1] == "HELP" else 1
                    family[index] = family[index] or line
                continue  # other comments are left out
            match = SAMPLE.fullmatch(line)
            labels = _labels(match.group(2) or "") if match else None
            if labels is None:
                continue  # a blank line, or one that is not a sample: left out rather than break the exposition
            name = match.group(1)
            if current is None or name not in [current] + [current + suffix for suffix in FAMILY_SUFFIXES]:
                current = name  # a sample without HELP or TYPE is a family of its own
            # As Prometheus does, a backend's own group or instance label is kept as exported_<name>.
            labels = [("exported_" + key if key in ("group", "instance") else key, value) for key, value in labels]
            self.family(current)[2].append(f"{name}{_label_text(labels + own)}{match.group(3)}")

    def render(self):
        lines = []
        for help_line, type_line, samples in self.families.values():
            lines += [line for line in (help_line, type_line) if line] + samples
        return "\n".join(lines) + "\n"


def _labels(text):
    """The (name, escaped value) pairs between a sample's braces; None when they cannot be read."""
    pairs, position = [], 0
    while text[position:].strip():
        match = LABEL.match(text, position)
        if not match:
            return None
        pairs.append(match.group(1, 2))
        position = match.end()
    return pairs


def _label_text(pairs):
    """{name="value",...} of (name, escaped value) pairs."""
    return "{" + ",".join(f'{key}="{value}"' for key, value in pairs) + "}"


def request_page(answer, instance, shadow=False):
    """The Page of a backend's answer to /requests, "instance" added to each line, and "shadow":
    true to each line of a shadow group's backend."""
    lines = []
    for text in answer.body.split(b"\n"):
        try:
            entry = json.loads(text)
        except ValueError:
            continue  # the empty string after the last line
        if isinstance(entry, dict) and isinstance(entry.get("ts"), str):
            entry["instance"] = instance
            if shadow:
                entry["shadow"] = True
            lines.append(
                (entry["ts"], json.dumps(entry, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n")
            )
    complete_before = answer.headers.get("X-Mlops-Complete-Before", "")
    return Page(
        lines,
        answer.headers.get("X-Mlops-More") == "1",
        complete_before if TIMESTAMP.fullmatch(complete_before) else None,
    )


def merge_pages(pages):
    """(lines sorted by ts, more, complete_before) of several backends' pages. Lines after the
    last ts of a page that was cut short, or at or after the earliest complete_before (the clocks
    of the backends differ), are left for a later call, so that a client that asks again from the
    largest ts it got misses none."""
    cut = [page.lines[-1][0] for page in pages if page.more and page.lines]
    cutoff = min(cut) if cut else None
    bounds = [page.complete_before for page in pages if page.complete_before]
    complete_before = min(bounds) if bounds else None
    kept = [
        line
        for page in pages
        for line in page.lines
        if (cutoff is None or line[0] <= cutoff) and (complete_before is None or line[0] < complete_before)
    ]
    return [text for _, text in sorted(kept, key=lambda line: line[0])], cutoff is not None, complete_before


def _exchange(connection, method, target, headers, body):
    connection.putrequest(method, target, skip_host=True, skip_accept_encoding=True)  # the client's own go along
    for name, value in headers:
        connection.putheader(name, value)
    connection.endheaders(body)
    return connection.getresponse()


def end_to_end(headers):
    """The (name, value) pairs to pass on: not hop-by-hop, nor named by Connection, nor NOT_FORWARDED."""
    named = {
        token.strip().lower() for name, value in headers if name.lower() == "connection" for token in value.split(",")
    }
    return [(name, value) for name, value in headers if name.lower() not in NOT_FORWARDED and name.lower() not in named]


class Handler(connections.RequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, so clients reuse their connections
    server_version = "mlops-router"
    timeout = 60  # seconds a kept-alive connection waits for its next request
    disable_nagle_algorithm = True  # the body, written after the headers, must not wait for their ACK

    def _dispatch(self):
        router = self.server.router
        given = self.headers.get("X-Request-Id", "")
        self.request_id = given if REQUEST_ID.fullmatch(given) else router.access.new_request_id()
        path = urlsplit(self.path).path
        with router.handling():
            try:
                body = self._read_body()
                if path in PROTECTED_PATHS or path == "/router/backends/requests":
                    self._check_access(router, path)
                if self.command == "GET" and path == "/router/health":
                    self._health(router)
                elif self.command == "GET" and path == "/router/metrics":
                    self._reply(200, router.metrics.render().encode("utf-8"), METRICS_CONTENT_TYPE)
                elif self.command == "GET" and path == "/router/backends/metrics":
                    self._backend_metrics(router)
                elif self.command == "GET" and path == "/router/backends/requests":
                    self._backend_requests(router, urlsplit(self.path).query)
                else:
                    self._forward(router, path, body)
            except RequestError as error:
                self._reply_json(error.status, {"error_code": error.code, "message": str(error)}, error.headers)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = _dispatch

    def _read_body(self):
        """The whole body, kept to be sent again; None when the request has none."""
        if self.headers.get("Transfer-Encoding"):
            self.close_connection = True  # the body is left unread
            raise RequestError(411, "LENGTH_REQUIRED", "chunked bodies are not supported; send a Content-Length")
        length = self.headers.get("Content-Length")
        if length is None:
            return None
        if not connections.CONTENT_LENGTH.fullmatch(length):
            self.close_connection = True
            raise RequestError(400, "BAD_REQUEST", f"invalid Content-Length {length[:40]!r}")
        limit = self.server.router.config.max_body_bytes
        if int(length) > limit:
            self.close_connection = True
            raise RequestError(
                413,
                "REQUEST_TOO_LARGE",
                f"the body has {int(length)} bytes, more than the limit of {limit} (MLOPS_MAX_REQUEST_BYTES)",
            )
        body = self.rfile.read(int(length))
        if len(body) < int(length):
            self.close_connection = True
            raise RequestError(400, "BAD_REQUEST", f"the body ended after {len(body)} of {int(length)} bytes")
        return body

    def _check_access(self, router, path):
        """The backends check the token too; the router checks first, as to a backend the router's
        own address may be loopback."""
        try:
            router.access.check(path, self.headers, self.client_address[0])
        except Denied as denied:
            raise RequestError(denied.status, denied.code, str(denied), denied.headers) from None

    def _forward(self, router, path, body):
        # MLflow's scoring requests and the Open Inference Protocol's (/v2/models/NAME[/versions/V]/infer)
        scoring = self.command == "POST" and (
            path == "/invocations" or (path.startswith("/v2/models/") and path.endswith("/infer"))
        )
        feedback = self.command == "POST" and path == "/feedback"
        if feedback:
            key = feedback_request_id(body)  # the group that served the request, unless a sticky key chose it
        else:
            key = router.config.sticky_key.value(self.headers, body) if router.config.sticky_key else None
        group = router.split.pick(key or self.request_id)
        headers = end_to_end(self.headers.items()) + [("X-Request-Id", self.request_id)]
        if body is not None:
            headers.append(("Content-Length", str(len(body))))
        endpoint, answer = router.forward(
            group, self.command, self.path, headers + [("X-Mlops-Variant", group.name)], body
        )
        if feedback and unknown_ids_answer(answer):
            group, endpoint, answer = router.feedback_elsewhere(
                (group, endpoint), self.command, self.path, headers, body
            ) or (group, endpoint, answer)
        self.log_request(answer.status)
        self.send_response_only(answer.status, answer.reason)  # the backend's own Server and Date go along
        own = [("X-Mlops-Backend", f"{group.name}/{endpoint[0]}"), ("X-Mlops-Variant", group.name)]
        self._finish(answer.body, end_to_end(answer.headers) + own)
        if scoring and router.shadows:
            router.mirror(self.request_id, self.command, self.path, headers, body)

    def _health(self, router):
        groups = [group.describe() for group in router.groups]
        if router.draining.is_set():
            status = "draining"
        else:
            status = "ok" if any(group["backends"] and not group["shadow"] for group in groups) else "no backends"
        self._reply_json(200 if status == "ok" else 503, {"status": status, "groups": groups})

    def _backend_metrics(self, router):
        """Every backend's /metrics, labelled with its group and instance."""
        answers, unreachable = router.fan_out("/metrics", FAN_OUT_SECONDS)
        merged = MergedMetrics()
        for group, endpoint, answer in answers:
            instance = endpoint_text(*endpoint)
            if isinstance(answer, Answer) and answer.status == 200:
                merged.add(group.name, instance, answer.body.decode("utf-8", "replace"))
            else:
                merged.add(group.name, instance, None)
                unreachable.append(f"{instance} ({_failure(answer)})")
        self._reply(
            200, merged.render().encode("utf-8"), METRICS_CONTENT_TYPE, listed("X-Mlops-Unreachable", unreachable)
        )

    def _backend_requests(self, router, query):
        """Every backend's request log lines after ?since=, merged by ts, each with its instance."""
        try:
            since, limit = parse_query(query)
        except ValueError as error:
            raise RequestError(400, "BAD_REQUEST", str(error)) from None
        target = "/requests?" + urlencode({"limit": limit, **({"since": since} if since else {})})
        answers, unreachable = router.fan_out(target, router.config.timeout_seconds)
        pages, disabled = [], []
        for group, endpoint, answer in answers:
            instance = endpoint_text(*endpoint)
            if isinstance(answer, Answer) and answer.status == 200:
                pages.append(request_page(answer, instance, group.shadow))
            elif isinstance(answer, Answer) and answer.status == 404 and _error_code(answer) == "REQUEST_LOG_DISABLED":
                disabled.append(instance)  # no lines, not a failure
            else:
                unreachable.append(f"{instance} ({_failure(answer)})")
        lines, more, complete_before = merge_pages(pages)
        headers = [("X-Mlops-More", "1")] if more else []
        headers += [("X-Mlops-Complete-Before", complete_before)] if complete_before else []
        headers += listed("X-Mlops-Unreachable", unreachable) + listed("X-Mlops-Log-Disabled", disabled)
        self._reply(200, b"".join(lines), "application/x-ndjson", headers)

    def _reply_json(self, status, payload, headers=()):
        self._reply(status, json.dumps(payload, ensure_ascii=False).encode("utf-8"), "application/json", headers)

    def _reply(self, status, body, content_type, headers=()):
        self.send_response(status)
        self._finish(body, [("Content-Type", content_type), *headers])

    def _finish(self, body, headers):
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("X-Request-Id", self.request_id)
        self.send_header("Content-Length", str(len(body)))
        if self.server.router.draining.is_set() or self.close_connection:
            self.send_header("Connection", "close")
        try:
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client went away; nobody is left to answer

    def log_message(self, format, *args):
        log.debug("%s %s", self.address_string(), format % args)


def main():
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        config = Config(os.environ)
    except ConfigError as error:
        log.error("cannot start: %s", error)
        return 1
    router = Router(config)
    try:
        server = connections.Server(
            (config.host, config.port), Handler, config.max_connections, config.read_seconds, router=router
        )
    except OSError as error:
        log.error("cannot start: cannot listen on %s port %d: %s", config.host, config.port, error)
        return 1
    # The longest a request can take: its last attempt starts just before the retry budget ends.
    drain_seconds = config.retry_seconds + CONNECT_SECONDS + config.timeout_seconds

    def drain(signum, _frame):
        if router.draining.is_set():
            return
        router.draining.set()
        log.info(
            "%s: closing the port, waiting up to %g s for the requests in flight",
            signal.Signals(signum).name,
            drain_seconds,
        )
        # shutdown() waits for serve_forever(), which runs in this thread: call it from another one.
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, drain)
    signal.signal(signal.SIGINT, drain)
    live = [group for group in router.groups if not group.shadow]
    targets = ", ".join(
        f"{g.name} {g.weight / router.split.total:.0%} ({' '.join(endpoint_text(*a) for a in g.addresses)})"
        for g in live
    )
    shadows = "".join(
        f", mirroring {g.weight:g}% to {g.name} ({' '.join(endpoint_text(*a) for a in g.addresses)})"
        for g in router.shadows
    )
    log.info("routing to %s%s on %s port %d", targets, shadows, config.host, server.server_address[1])
    server.serve_forever(poll_interval=0.1)  # how soon a signal closes the port
    server.server_close()
    left = router.wait_idle(drain_seconds)
    if left:
        log.warning("%d requests still running after %g s; exiting without them", left, drain_seconds)
    log.info("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
