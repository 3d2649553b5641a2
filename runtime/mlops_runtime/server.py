"""The HTTP model server: MLflow's scoring protocol and the Open Inference Protocol (KServe V2),
batched, health, version, Prometheus metrics, and the request log with the outcomes sent to
POST /feedback.

`python3 -m mlops_runtime` serves the model in MLOPS_MODEL_DIR; runtime/README.md lists the
environment variables and the endpoints.
"""

import contextlib
import json
import logging
import math
import os
import re
import signal
import sys
import threading
import time
from urllib.parse import urlsplit

from . import connections, model_worker, open_inference, scoring
from .batching import Batcher
from .data_access import PROTECTED_PATHS, DataAccess, Denied, KnownIds, TokenError, read_token
from .draining import Draining
from .metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE
from .metrics import Metrics
from .request_log import RequestLog, parse_query

log = logging.getLogger("mlops_runtime")
MIB = 1024 * 1024
REQUEST_ID = re.compile(r"[\x21-\x7e]{1,200}")  # printable ASCII, safe to send back in a header
GROUP_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")  # a router's group, sent as X-Mlops-Variant
FEEDBACK_KEYS = ("request_id", "label", "reward")
MAX_BATCH_SIZE = 64  # rows predicted in one model call at most (MLOPS_MAX_BATCH_SIZE)
MAX_BATCH_WAIT_MS = 5.0  # how long a forming batch waits for requests on their way (MLOPS_MAX_BATCH_WAIT_MS)
KNOWN_IDS = 200_000  # client-chosen request ids remembered for feedback, about what a full default log holds


class ConfigError(Exception):
    pass


class RequestError(Exception):
    """A request answered with an error status before it reaches the model."""

    def __init__(self, status, code, message, headers=()):
        super().__init__(message)
        self.status, self.code, self.headers = status, code, list(headers)


class Config:
    """The settings, from environment variables."""

    def __init__(self, env):
        self.model_dir = env.get("MLOPS_MODEL_DIR") or "/opt/mlops/model"
        self.labels_file = env.get("MLOPS_LABELS_FILE") or "/opt/mlops/labels.json"
        self.model_version = env.get("MLOPS_MODEL_VERSION") or None
        self.model_name = env.get("MLOPS_MODEL_NAME") or None
        self.host = env.get("MLOPS_HOST") or "0.0.0.0"
        self.port = _setting(env, "PORT", 8080, int)
        self.max_body_bytes = _setting(env, "MLOPS_MAX_REQUEST_BYTES", connections.MAX_REQUEST_BYTES, int)
        self.max_connections = _setting(env, "MLOPS_MAX_CONNECTIONS", connections.MAX_CONNECTIONS, int)
        self.read_seconds = _setting(env, "MLOPS_REQUEST_READ_SECONDS", connections.READ_SECONDS, float)
        for name, value in (
            ("MLOPS_MAX_CONNECTIONS", self.max_connections),
            ("MLOPS_REQUEST_READ_SECONDS", self.read_seconds),
        ):
            if not value:
                raise ConfigError(f"{name} must be more than 0")
        self.drain_seconds = _setting(env, "MLOPS_DRAIN_SECONDS", 20.0, float)
        self.max_batch_rows = _setting(env, "MLOPS_MAX_BATCH_SIZE", MAX_BATCH_SIZE, int)
        if not self.max_batch_rows:
            raise ConfigError("MLOPS_MAX_BATCH_SIZE must be more than 0 (1 turns batching off)")
        self.max_batch_wait = _setting(env, "MLOPS_MAX_BATCH_WAIT_MS", MAX_BATCH_WAIT_MS, float) / 1000
        self.model_process = _setting(env, "MLOPS_MODEL_PROCESS", 0, int) != 0
        self.log_dir = env.get("MLOPS_REQUEST_LOG_DIR") or None
        self.log_max_bytes = _setting(env, "MLOPS_REQUEST_LOG_MAX_BYTES", 10 * MIB, int)
        self.log_backups = _setting(env, "MLOPS_REQUEST_LOG_BACKUPS", 5, int)
        # The variant this server runs as in a traffic split, for requests that come without a
        # router's X-Mlops-Variant (a Gateway API HTTPRoute sends none), and whether it is a shadow.
        self.variant = env.get("MLOPS_VARIANT") or None
        if self.variant is not None and not GROUP_NAME.fullmatch(self.variant):
            raise ConfigError(f"MLOPS_VARIANT must be letters, digits, '.', '_' or '-', not {self.variant!r}")
        self.shadow = env.get("MLOPS_SHADOW") == "1"
        self.data_token = data_token(env)


def data_token(env):
    try:
        return read_token(env)
    except TokenError as error:
        raise ConfigError(str(error)) from None


def _setting(env, name, default, parse):
    text = env.get(name)
    if not text:
        return default
    try:
        value = parse(text)
    except ValueError:
        raise ConfigError(f"{name} must be a {'number' if parse is float else 'whole number'}, not {text!r}") from None
    if value < 0:
        raise ConfigError(f"{name} must not be negative, not {text!r}")
    return value


def read_labels(path):
    """The image's labels; none when the file is absent (a server started outside an image)."""
    try:
        with open(path, encoding="utf-8") as f:
            labels = json.load(f)
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as error:
        raise ConfigError(f"{path} cannot be read as JSON: {error}") from None
    if not isinstance(labels, dict):
        raise ConfigError(f"{path} must hold a JSON object of image labels")
    return labels


def model_version(configured, labels):
    if configured:
        return configured
    if labels.get("mlops.version"):
        return str(labels["mlops.version"])
    if labels.get("mlops.context.hash"):
        return str(labels["mlops.context.hash"])[:12]
    return "unknown"


class Runtime(Draining):
    """What the request handlers share: the model, its metrics and request log, the drain state."""

    def __init__(self, config, model, labels):
        super().__init__()
        self.config, self.model, self.labels = config, model, labels
        self.version = model_version(config.model_version, labels)
        self.name = open_inference.model_name(config.model_name, labels, model)
        self.metrics = Metrics(self.version, model)
        self.request_log = (
            RequestLog(config.log_dir, config.log_max_bytes, config.log_backups) if config.log_dir else None
        )
        self.access = DataAccess(config.data_token)
        self.batcher = Batcher(model, config.max_batch_rows, config.max_batch_wait, self.metrics.observe_batch)
        self.known_ids = KnownIds(KNOWN_IDS)
        self.started = time.monotonic()
        self._log_warned = False

    def prepare_log_dir(self):
        if self.request_log is None:
            return
        try:
            os.makedirs(self.config.log_dir, exist_ok=True)
            for request_id in self.request_log.logged_ids():  # a log kept on a volume outlives the container
                self.note_request_id(request_id)
        except OSError as error:
            self._warn_log_failure(error)

    def note_request_id(self, request_id):
        """Remembers a logged request's id for feedback, unless its signature vouches for it."""
        if not self.access.issued(request_id):
            self.known_ids.add(request_id)

    def unknown_ids(self, request_ids):
        """The ids, in order and once each, of requests neither issued with this token nor logged here."""
        unknown = [i for i in request_ids if not self.access.issued(i) and i not in self.known_ids]
        return list(dict.fromkeys(unknown))

    def record(self, entry):
        """Appends to the request log; a failure is counted and never fails the request."""
        if self.request_log is None:
            return
        self.note_request_id(entry["request_id"])
        try:
            self.request_log.write(entry)
        except (OSError, ValueError) as error:
            self.metrics.observe_log_error()
            self._warn_log_failure(error)

    def _warn_log_failure(self, error):
        if not self._log_warned:  # once: a full or read-only volume would otherwise flood the log
            self._log_warned = True
            log.warning(
                "cannot write the request log in %s: %s; requests are still served, failures are counted in mlops_request_log_errors_total",
                self.config.log_dir,
                error,
            )


class Handler(connections.RequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, so clients reuse their connections
    # Headers and body go out in separate writes; with Nagle on, a kept-alive client waits for a
    # delayed ACK (about 40 ms) before the body arrives.
    disable_nagle_algorithm = True
    server_version = "mlops-runtime"
    timeout = 60  # seconds a kept-alive connection waits for its next request
    routes = {
        "/invocations": ("POST", "_invocations"),
        "/ping": ("GET", "_ping"),
        "/health": ("GET", "_health"),
        "/version": ("GET", "_version"),
        "/metrics": ("GET", "_metrics"),
        "/requests": ("GET", "_requests"),
        "/feedback": ("POST", "_feedback"),
    }

    def _dispatch(self):
        runtime = self.server.runtime
        # The headers by lowercase name, the first of each as headers.get() gives it: read a dozen
        # times per request, and each headers.get() looks through them all.
        self.fields = {}
        for name, value in self.headers.items():
            self.fields.setdefault(name.lower(), value)
        given = self.fields.get("x-request-id", "")
        self.request_id = given if REQUEST_ID.fullmatch(given) else runtime.access.new_request_id()
        # A body nobody reads would be taken for the next request on this connection.
        self._unread_body = (
            bool(self.fields.get("transfer-encoding")) or self.fields.get("content-length", "0").strip() != "0"
        )
        path = urlsplit(self.path).path
        with runtime.handling():
            route = self.routes.get(path)
            if route is None and path.startswith("/v2"):
                self._open_inference(runtime, path)
            elif route is None:
                self._send_error(
                    RequestError(404, "ENDPOINT_NOT_FOUND", f"no endpoint {path}; there are {', '.join(self.routes)}")
                )
            elif route[0] != self.command:
                error = RequestError(405, "METHOD_NOT_ALLOWED", f"{path} takes {route[0]}, not {self.command}")
                self._send_error(error, [("Allow", route[0])])
            elif path in PROTECTED_PATHS and not self._allowed(runtime, path):
                return
            else:
                getattr(self, route[1])(runtime)

    def _allowed(self, runtime, path):
        """Whether the client may read the log or send feedback; answers it when not."""
        try:
            runtime.access.check(path, self.headers, self.client_address[0])
            return True
        except Denied as denied:
            self._send_error(RequestError(denied.status, denied.code, str(denied), denied.headers))
            return False

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _dispatch

    def _ping(self, runtime):
        if runtime.draining.is_set():
            self._send(503, b"draining\n", "text/plain; charset=utf-8")
        else:
            self._send(200, b"\n", "text/plain; charset=utf-8")  # as MLflow's /ping

    def _health(self, runtime):
        draining = runtime.draining.is_set()
        self._send_json(
            503 if draining else 200,
            {
                "status": "draining" if draining else "ok",
                "version": runtime.version,
                "uptime_seconds": round(time.monotonic() - runtime.started, 3),
                "requests": runtime.metrics.request_count,
                "in_flight": runtime.in_flight() - 1,  # not counting this request
            },
        )

    def _version(self, runtime):
        self._send_json(200, {"version": runtime.version, "labels": runtime.labels, "model": runtime.model.describe()})

    def _metrics(self, runtime):
        self._send(200, runtime.metrics.render().encode("utf-8"), METRICS_CONTENT_TYPE)

    def _requests(self, runtime):
        """The request log's lines after ?since=, oldest first, streamed from the files."""
        if runtime.request_log is None:
            message = "this server keeps no request log; set MLOPS_REQUEST_LOG_DIR to the directory to write requests.jsonl in (images set /var/log/mlops)"
            self._send_error(RequestError(404, "REQUEST_LOG_DISABLED", message))
            return
        try:
            since, limit = parse_query(urlsplit(self.path).query)
        except ValueError as error:
            self._send_error(RequestError(400, "BAD_REQUEST", str(error)))
            return
        try:
            selection = runtime.request_log.read(since, limit)
        except OSError as error:
            log.warning("cannot read the request log in %s: %s", runtime.config.log_dir, error)
            self._send_error(
                RequestError(500, "INTERNAL_ERROR", f"cannot read the request log in {runtime.config.log_dir}: {error}")
            )
            return
        with contextlib.closing(selection):
            headers = [("X-Mlops-Complete-Before", selection.complete_before)] + (
                [("X-Mlops-More", "1")] if selection.more else []
            )
            self._send_chunks(200, selection.length, selection.chunks(), "application/x-ndjson", headers)

    def _invocations(self, runtime):
        self._answer_scoring(runtime, self._score)

    def _answer_scoring(self, runtime, score):
        """Scores a request with score(runtime) -> (status, payload, rows, predictions, error), and
        counts, logs and answers it."""
        started = time.perf_counter()
        status, payload, rows, predictions, error = score(runtime)
        seconds = time.perf_counter() - started
        runtime.metrics.observe_request(status, seconds, len(predictions) if predictions else 0)
        if predictions is not None:
            runtime.metrics.observe_inputs(rows)
            runtime.metrics.observe_predictions(predictions)
        entry = {"request_id": self.request_id, "version": runtime.version}
        variant = self.fields.get("x-mlops-variant", "")
        variant = variant if GROUP_NAME.fullmatch(variant) else runtime.config.variant
        if variant:
            entry["variant"] = variant
        if self.fields.get("x-mlops-shadow") == "1" or runtime.config.shadow:
            entry["shadow"] = True
        entry.update(
            {"inputs": rows, "predictions": predictions, "latency_ms": round(seconds * 1000, 3), "status": status}
        )
        if error is not None:
            entry["error"] = error
        runtime.record(entry)
        self._send_json(status, payload)

    def _score(self, runtime):
        """(status, payload, rows read, predictions, error message) of an /invocations request."""

        def failed(status, code, message, rows=None):
            return status, _error(code, message), rows, None, message

        with runtime.batcher.arriving() as ticket:
            try:
                body = self._read_body(runtime.config.max_body_bytes)
                rows = scoring.parse_request(body, self._media(), runtime.model)
            except RequestError as error:
                return failed(error.status, error.code, str(error))
            except scoring.BadRequest as error:
                return failed(400, "BAD_REQUEST", str(error))
            scored = self.fields.get("x-mlops-scores") == "1" and runtime.model.score_classes is not None
            try:
                predictions, scores = ticket.predict(rows, scored)
            except Exception as error:
                log.error("request %s: the model failed", self.request_id, exc_info=error)
                return failed(500, "INTERNAL_ERROR", f"the model failed: {type(error).__name__}: {error}", rows)
        payload = {"predictions": predictions}
        if scored:
            payload.update(scores=scores, classes=runtime.model.score_classes)
        return 200, payload, rows, predictions, None

    def _open_inference(self, runtime, path):
        """The Open Inference Protocol's endpoints; its errors answer {"error": message}."""
        found = open_inference.route(path)
        try:
            if found is None:
                raise open_inference.ProtocolError(
                    404,
                    f"no endpoint {path}; the Open Inference Protocol's are /v2, /v2/health/live, /v2/health/ready, /v2/models/{runtime.name}[/versions/{runtime.version}][/ready|/infer]",
                )
            endpoint, name, version = found
            method = "POST" if endpoint == "infer" else "GET"
            if self.command != method:
                self._send_json(405, {"error": f"{path} takes {method}, not {self.command}"}, [("Allow", method)])
                return
            if name is not None:
                open_inference.check_model(name, version, runtime.name, runtime.version)
        except open_inference.ProtocolError as error:
            self._send_json(error.status, {"error": str(error)})
            return
        if endpoint == "infer":
            self._answer_scoring(runtime, self._infer)
        elif endpoint == "server":
            self._send_json(200, open_inference.server_metadata(runtime.version))
        elif endpoint == "model":
            self._send_json(200, open_inference.model_metadata(runtime.name, runtime.version, runtime.model))
        elif endpoint == "live":
            self._send_json(200, {"live": True})
        elif runtime.draining.is_set():  # ready, model_ready: a 4xx says not ready
            self._send_json(400, {"error": "the server is stopping (draining)", "ready": False})
        else:
            self._send_json(200, {"ready": True} if endpoint == "ready" else {"name": runtime.name, "ready": True})

    def _infer(self, runtime):
        """(status, payload, rows read, predictions, error message) of a POST .../infer request."""

        def failed(status, message, rows=None):
            return status, {"error": message}, rows, None, message

        with runtime.batcher.arriving() as ticket:
            try:
                if self.fields.get("content-encoding", "identity") != "identity":
                    raise RequestError(415, "", "compressed bodies are not supported; send the request uncompressed")
                body = self._read_body(runtime.config.max_body_bytes)
                request = open_inference.parse_infer(
                    body, self.fields.get("inference-header-content-length"), runtime.model
                )
            except (RequestError, open_inference.ProtocolError) as error:
                return failed(error.status, str(error))
            if request.id is not None and self.fields.get("x-request-id") is None and REQUEST_ID.fullmatch(request.id):
                self.request_id = request.id  # the protocol's id names the request in the log and for feedback
            try:
                predictions, scores = ticket.predict(request.rows, open_inference.PREDICT_PROBA in request.outputs)
            except Exception as error:
                log.error("request %s: the model failed", self.request_id, exc_info=error)
                return failed(500, f"the model failed: {type(error).__name__}: {error}", request.rows)
        payload = open_inference.infer_response(runtime.name, runtime.version, request, predictions, scores)
        return 200, payload, request.rows, predictions, None

    def _feedback(self, runtime):
        """Records what really happened to requests: one log line per {request_id, label, reward}."""
        if runtime.request_log is None:
            message = "this server keeps no request log to record feedback in; set MLOPS_REQUEST_LOG_DIR (images set /var/log/mlops)"
            self._send_error(RequestError(404, "REQUEST_LOG_DISABLED", message))
            return
        try:
            body = self._read_body(runtime.config.max_body_bytes)
            outcomes, batch = parse_feedback(body)
            entries = [dict(kind="feedback", **outcome, version=runtime.version) for outcome in outcomes]
            unknown = runtime.unknown_ids([outcome["request_id"] for outcome in outcomes])
            if unknown:
                raise RequestError(404, "UNKNOWN_REQUEST_ID", unknown_message(unknown))
        except RequestError as error:
            self._send_error(error)
            return
        try:
            for entry in entries:
                runtime.request_log.write(entry)
        except (OSError, ValueError) as error:
            runtime.metrics.observe_log_error()
            log.warning("cannot write feedback to the request log in %s: %s", runtime.config.log_dir, error)
            self._send_error(
                RequestError(
                    500, "INTERNAL_ERROR", f"cannot write the request log in {runtime.config.log_dir}: {error}"
                )
            )
            return
        if batch:
            self._send_json(202, {"status": "recorded", "count": len(entries)})
        else:
            self._send_json(202, {"status": "recorded", "request_id": entries[0]["request_id"]})

    def _read_body(self, limit):
        if self.fields.get("transfer-encoding"):
            raise RequestError(411, "LENGTH_REQUIRED", "chunked bodies are not supported; send a Content-Length")
        text = self.fields.get("content-length")
        if text is None:
            raise RequestError(411, "LENGTH_REQUIRED", "a Content-Length header is required")
        if not connections.CONTENT_LENGTH.fullmatch(text):
            raise RequestError(400, "BAD_REQUEST", f"invalid Content-Length {text[:40]!r}")
        length = int(text)
        if length > limit:
            message = f"the body has {length} bytes, more than the limit of {limit} (MLOPS_MAX_REQUEST_BYTES)"
            raise RequestError(413, "REQUEST_TOO_LARGE", message)
        body = self.rfile.read(length)
        self._unread_body = False
        if len(body) < length:
            raise RequestError(400, "BAD_REQUEST", f"the body ended after {len(body)} of {length} bytes")
        return body

    def _media(self):
        media = (self.fields.get("content-type") or "application/json").split(";")[0].strip().lower()
        if media == "text/csv":
            return "csv"
        if media == "application/json" or media.endswith("+json"):
            return "json"
        raise RequestError(
            415, "UNSUPPORTED_MEDIA_TYPE", f"content type {media} is not supported; send application/json or text/csv"
        )

    def _send_error(self, error, headers=()):
        self._send_json(error.status, _error(error.code, str(error)), [*error.headers, *headers])

    def _send_json(self, status, payload, headers=()):
        self._send(status, json.dumps(payload, ensure_ascii=False).encode("utf-8"), "application/json", headers)

    def _send(self, status, body, content_type, headers=()):
        self._send_chunks(status, len(body), [body], content_type, headers)

    def _send_chunks(self, status, length, chunks, content_type, headers=()):
        """Sends the answer of length bytes chunk by chunk, so a large one is never held whole."""
        if self.server.runtime.draining.is_set() or self._unread_body:
            self.close_connection = True
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(length))
            self.send_header("X-Request-Id", self.request_id)
            for name, value in headers:
                self.send_header(name, value)
            if self.close_connection:
                self.send_header("Connection", "close")
            if isinstance(chunks, list) and len(chunks) == 1 and self.request_version != "HTTP/0.9":
                # Headers and body in one write: each write lets go of the GIL and waits to get it back.
                self._headers_buffer.extend((b"\r\n", chunks[0]))
                self.flush_headers()
                return
            self.end_headers()
            for chunk in chunks:
                self.wfile.write(chunk)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client went away; nobody is left to answer
        except OSError as error:  # a chunk could not be read: the answer breaks off, as it must end here
            log.warning("request %s: the answer broke off: %s", self.request_id, error)
            self.close_connection = True

    def log_message(self, format, *args):
        if log.isEnabledFor(logging.DEBUG):  # called for every answer: formatted only when it is logged
            log.debug("%s %s", self.address_string(), format % args)


def _error(code, message):
    return {"error_code": code, "message": message}


def parse_feedback(body):
    """([{request_id, label, reward}], whether the body is a list) of a POST /feedback body, one
    object or a list of them, label or reward None when not given; RequestError 400 naming what
    is wrong."""
    try:
        payload = json.loads(body.decode("utf-8-sig"), parse_constant=_not_a_number)
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise RequestError(400, "BAD_REQUEST", f"the feedback is not JSON: {error}") from None
    if isinstance(payload, dict):
        return [_outcome(payload, "the feedback")], False
    if not isinstance(payload, list) or not payload:
        raise RequestError(
            400,
            "BAD_REQUEST",
            'the feedback must be an object {"request_id": ..., "label": ... or "reward": ...} or a non-empty list of them',
        )
    return [_outcome(item, f"feedback[{index}]") for index, item in enumerate(payload)], True


def unknown_message(unknown):
    """Why feedback for these request ids is refused."""
    shown = ", ".join(json.dumps(i) for i in unknown[:5]) + (
        f" and {len(unknown) - 5} more" if len(unknown) > 5 else ""
    )
    return f"no request with id {shown} was answered here; send the X-Request-Id that an answer of this deployment carried (nothing was recorded)"


def _not_a_number(name):
    raise ValueError(f"{name} is not a number JSON allows")


def _outcome(item, where):
    if not isinstance(item, dict):
        raise RequestError(400, "BAD_REQUEST", f"{where} must be an object with request_id and label or reward")
    unknown = [key for key in item if key not in FEEDBACK_KEYS]
    if unknown:
        raise RequestError(
            400,
            "BAD_REQUEST",
            f"{where} has unknown key {', '.join(repr(k) for k in unknown)}; it takes request_id, label and reward",
        )
    request_id, label, reward = item.get("request_id"), item.get("label"), item.get("reward")
    if not isinstance(request_id, str) or not REQUEST_ID.fullmatch(request_id):
        raise RequestError(
            400,
            "BAD_REQUEST",
            f"{where}: request_id must be the X-Request-Id of a request (1 to 200 printable ASCII characters), not {json.dumps(request_id)[:80]}",
        )
    if label is None and reward is None:
        raise RequestError(400, "BAD_REQUEST", f"{where} needs a label or a reward")
    if label is not None and not (isinstance(label, (str, bool)) or _finite_number(label)):
        raise RequestError(
            400, "BAD_REQUEST", f"{where}: label must be a string, a number or a boolean, not {json.dumps(label)[:80]}"
        )
    if reward is not None and not _finite_number(reward):
        raise RequestError(400, "BAD_REQUEST", f"{where}: reward must be a number, not {json.dumps(reward)[:80]}")
    return {"request_id": request_id, "label": label, "reward": reward}


def _finite_number(value):
    return (isinstance(value, int) and not isinstance(value, bool)) or (
        isinstance(value, float) and math.isfinite(value)
    )


def warm_up(runtime):
    """Predicts sample.json once, so the first request does not pay for lazy imports; a failure is only logged."""
    path = os.path.join(runtime.config.model_dir, "sample.json")
    if not os.path.exists(path):
        return
    try:
        with open(path, encoding="utf-8") as f:
            sample = json.load(f)
        if not isinstance(sample, list):
            raise ValueError("it is not a list of records")
        runtime.model.predict(scoring.rows_for(sample, runtime.model))
    except Exception as error:
        log.warning("predicting %s at startup failed: %s: %s", path, type(error).__name__, error)


def main():
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        config = Config(os.environ)
        labels = read_labels(config.labels_file)
        model = (model_worker if config.model_process else scoring).load_model(config.model_dir)
    except (ConfigError, scoring.ModelLoadError) as error:
        log.error("cannot start: %s", error)
        return 1
    runtime = Runtime(config, model, labels)
    runtime.prepare_log_dir()
    warm_up(runtime)
    try:
        server = connections.Server(
            (config.host, config.port), Handler, config.max_connections, config.read_seconds, runtime=runtime
        )
    except OSError as error:
        log.error("cannot start: cannot listen on %s port %d: %s", config.host, config.port, error)
        return 1

    def drain(signum, _frame):
        if runtime.draining.is_set():
            return
        runtime.draining.set()
        log.info(
            "%s: closing the port, waiting up to %g s for %d requests in flight",
            signal.Signals(signum).name,
            config.drain_seconds,
            runtime.in_flight(),
        )
        # shutdown() waits for serve_forever(), which runs in this thread: call it from another one.
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, drain)
    signal.signal(signal.SIGINT, drain)
    log.info(
        "serving %s %r (%s) version %s on %s port %d",
        model.mode,
        model.variable,
        model.task,
        runtime.version,
        config.host,
        server.server_address[1],
    )
    server.serve_forever(poll_interval=0.1)  # how soon a signal closes the port
    server.server_close()
    left = runtime.wait_idle(config.drain_seconds)
    if left:
        log.warning("%d requests still running after %g s; exiting without them", left, config.drain_seconds)
        logging.shutdown()
        os._exit(0)  # skips the interpreter's cleanup, which threads still in the model could crash
    log.info("stopped")
    return 0
