"""Hostile and malformed requests to a real model server and to the router in front of it: deep
and huge JSON, wrong types, broken HTTP, half requests and slow clients. Each is answered with a
4xx status and a JSON message naming the problem (a connection that sent nothing is closed), a
request refused for its content reaches the model server once through the router, and clients
sending good requests all the while are all served in normal time."""

import collections
import http.client
import json
import os
import re
import select
import shutil
import socket
import tempfile
import threading
import time
import unittest

from mlops_runtime import scoring

from . import toy_models
from .serving import Server, features, write_model
from .test_router import Router, group

READ_SECONDS = 1.5  # MLOPS_REQUEST_READ_SECONDS of the servers under test
LIMIT = 1_000_000  # their MLOPS_MAX_REQUEST_BYTES
LATENCY = 2.0  # the most a good request may take while the fuzzing goes on (they take milliseconds)
DEEP = 100_000


def exchange(port, data, shut=False, timeout=10):
    """Sends raw bytes on a new connection, then reads the answer: (status, headers, body), or
    None when the connection was closed without one. shut: close the sending side first."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        try:
            sock.sendall(data)
            if shut:
                sock.shutdown(socket.SHUT_WR)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered before it read everything, and closed
        return read_answer(sock)


def read_answer(sock):
    response = http.client.HTTPResponse(sock)
    try:
        response.begin()
    except http.client.RemoteDisconnected:
        return None
    return response.status, response.headers, response.read()


def request(body, content_type="application/json", length=None, request_id=None, extra=b""):
    """The bytes of a POST /invocations with this body, and a Content-Length of length if given."""
    body = body.encode("utf-8") if isinstance(body, str) else body
    head = f"POST /invocations HTTP/1.1\r\nHost: fuzz\r\nContent-Type: {content_type}\r\nContent-Length: {len(body) if length is None else length}\r\n"
    if request_id:
        head += f"X-Request-Id: {request_id}\r\n"
    return head.encode("latin-1") + extra + b"\r\n" + body


def records(*rows):
    return json.dumps({"dataframe_records": list(rows)})


GOOD = {"x": 1.5, "n": 2}
# name: (body, expected status, error code, what the message says); the model takes x (float64) and n (int64).
CONTENT_CASES = {
    "arrays nested 100,000 levels": ("[" * DEEP + "]" * DEEP, 400, "BAD_REQUEST", "nests more than 100 levels"),
    "objects nested 100,000 levels": (
        '{"a":' * DEEP + "1" + "}" * DEEP,
        400,
        "BAD_REQUEST",
        "nests more than 100 levels",
    ),
    "a value nested 100,000 levels in a row": (
        '{"dataframe_records": [{"x": ' + "[" * DEEP + "]" * DEEP + ', "n": 1}]}',
        400,
        "BAD_REQUEST",
        "nests more than 100 levels",
    ),
    "100,000 unclosed brackets": ("[" * DEEP, 400, "BAD_REQUEST", "nests more than 100 levels"),
    "1e999": ('{"dataframe_records": [{"x": 1e999, "n": 1}]}', 400, "BAD_REQUEST", "1e999 is too large a number"),
    "-1e999": ('{"dataframe_records": [{"x": -1e999, "n": 1}]}', 400, "BAD_REQUEST", "-1e999 is too large a number"),
    "10**400 as an integer literal": (
        '{"dataframe_records": [{"x": 1, "n": 1' + "0" * 400 + "}]}",
        400,
        "BAD_REQUEST",
        "(401 characters) is too large a number",
    ),
    "10**5000 as an integer literal": (
        '{"dataframe_records": [{"x": 1, "n": 1' + "0" * 5000 + "}]}",
        400,
        "BAD_REQUEST",
        "(5001 characters) is too large a number",
    ),
    "Infinity": (
        '{"dataframe_records": [{"x": Infinity, "n": 1}]}',
        400,
        "BAD_REQUEST",
        "Infinity is not a value a model can take",
    ),
    "-Infinity": (
        '{"dataframe_records": [{"x": -Infinity, "n": 1}]}',
        400,
        "BAD_REQUEST",
        "-Infinity is not a value a model can take",
    ),
    "a string for a number": (
        records({"x": "abc", "n": 1}),
        400,
        "BAD_REQUEST",
        "row 0, column 'x': \"abc\" is not a number",
    ),
    "a string too large for a number": (
        records({"x": "1e999", "n": 1}),
        400,
        "BAD_REQUEST",
        "row 0, column 'x': \"1e999\" is not a number",
    ),
    "a boolean for a number": (
        records({"x": True, "n": 1}),
        400,
        "BAD_REQUEST",
        "row 0, column 'x': true is not a number",
    ),
    "an object for a number": (
        records({"x": {"a": 1}, "n": 1}),
        400,
        "BAD_REQUEST",
        "row 0, column 'x': {\"a\": 1} is not a number",
    ),
    "an object instead of the list of rows": (
        '{"dataframe_records": {"x": 1, "n": 1}}',
        400,
        "BAD_REQUEST",
        "dataframe_records must be a list of rows, not an object",
    ),
    "null": ("null", 400, "BAD_REQUEST", "expected a JSON object with one of the keys dataframe_records"),
    "null rows": ('{"instances": null}', 400, "BAD_REQUEST", "instances must be a list of rows, not null"),
    "a null row": ('{"instances": [null]}', 400, "BAD_REQUEST", "row 0 is null"),
    "a boolean body": ("true", 400, "BAD_REQUEST", "expected a JSON object"),
    "an empty body": ("", 400, "BAD_REQUEST", "the body is empty"),
    "an empty list of rows": ('{"instances": []}', 400, "BAD_REQUEST", "the request holds no rows"),
    "a list body": ("[]", 400, "BAD_REQUEST", "expected a JSON object"),
    "rows of lists one too wide": (
        '{"instances": [[1, 2, 3]]}',
        400,
        "BAD_REQUEST",
        "row 0 has 3 values but the model takes 2 features",
    ),
    "split rows one too narrow": (
        '{"dataframe_split": {"columns": ["x", "n"], "data": [[1]]}}',
        400,
        "BAD_REQUEST",
        "dataframe_split.data[0] must be a list of 2 values",
    ),
    "an unknown column": (records({"x": 1, "n": 1, "z": 3}), 400, "BAD_REQUEST", "extra columns: 'z'"),
    "an unknown format key": ('{"rows": []}', 400, "BAD_REQUEST", "unknown key 'rows'"),
    "a body that is not JSON": ("x=1&n=2", 400, "BAD_REQUEST", "invalid JSON"),
    "invalid UTF-8": (
        b'{"dataframe_records": [{"x": "\xff\xfe", "n": 1}]}',
        400,
        "BAD_REQUEST",
        "the body is not UTF-8",
    ),
    "half of a surrogate pair": (
        '{"dataframe_records": [{"x": "\\ud800", "n": 1}]}',
        400,
        "BAD_REQUEST",
        "\\ud800, half of a UTF-16 surrogate pair",
    ),
}


class GoodClients:
    """Threads that send good scoring requests without pause, two to each port, each on its own
    kept-alive connection, and record (port, status or error, seconds) of each."""

    def __init__(self, ports):
        self.done, self.lock, self.answers = threading.Event(), threading.Lock(), []
        self.threads = [threading.Thread(target=self._run, args=(port,)) for port in ports for _ in range(2)]
        for thread in self.threads:
            thread.start()

    def _run(self, port):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        body = records(GOOD)
        while not self.done.is_set():
            started = time.monotonic()
            try:
                connection.request("POST", "/invocations", body, {"Content-Type": "application/json"})
                response = connection.getresponse()
                answer = json.loads(response.read())
                outcome = response.status if answer == {"predictions": [5.5]} else f"{response.status}: {answer}"
            except (OSError, http.client.HTTPException, ValueError) as error:
                outcome = f"{type(error).__name__}: {error}"
                connection.close()
            with self.lock:
                self.answers.append((port, outcome, time.monotonic() - started))
            time.sleep(0.01)
        connection.close()

    def take(self, at_least=0, ports=()):
        """The answers since the last call, once there are at_least of each port (10 s at most)."""
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with self.lock:
                counts = collections.Counter(port for port, _, _ in self.answers)
                if all(counts[port] >= at_least for port in ports):
                    answers, self.answers = self.answers, []
                    return answers
            time.sleep(0.05)
        raise AssertionError(f"the good clients got fewer than {at_least} answers from each of {ports} in 10 s")

    def stop(self):
        self.done.set()
        for thread in self.threads:
            thread.join(30)


class Fuzzing(unittest.TestCase):
    """A model server, estimator Linear([1, 2]) on features x and n, with a router in front of
    it; good clients send to both during every test."""

    @classmethod
    def setUpClass(cls):
        root = tempfile.mkdtemp(prefix="mlops-fuzz-test-")
        cls.addClassCleanup(shutil.rmtree, root, ignore_errors=True)
        model = write_model(
            os.path.join(root, "model"),
            model=toy_models.Linear([1, 2]),
            task="regression",
            features=features(("x", "float64"), ("n", "int64")),
        )
        cls.log_dir = os.path.join(root, "log")
        limits = {"MLOPS_MAX_REQUEST_BYTES": LIMIT, "MLOPS_REQUEST_READ_SECONDS": READ_SECONDS}
        cls.server = Server(model, MLOPS_REQUEST_LOG_DIR=cls.log_dir, **limits).wait_ready()
        cls.addClassCleanup(cls.server.close)
        cls.router = Router([group("model", f"127.0.0.1:{cls.server.port}")], **limits).wait_ready()
        cls.addClassCleanup(cls.router.close)
        cls.targets = {"server": cls.server.port, "router": cls.router.port}
        cls.good = GoodClients(cls.targets.values())
        cls.addClassCleanup(cls.good.stop)

    def setUp(self):
        self.good.take()

    def tearDown(self):
        # The good clients were served all along, in normal time, and still are.
        answers = self.good.take(at_least=2, ports=self.targets.values())
        failed = [answer for answer in answers if answer[1] != 200]
        self.assertEqual(failed, [], "good requests failed while the fuzzing went on")
        slowest = max(seconds for _, _, seconds in answers)
        self.assertLess(slowest, LATENCY, f"a good request took {slowest:.2f} s")
        self.assertEqual(
            self.router.metrics().get("mlops_router_retries_total", group="model"),
            0,
            "the router sent no request twice",
        )

    def logged(self, request_id):
        """The request log's lines of request_id."""
        with open(os.path.join(self.log_dir, "requests.jsonl"), encoding="utf-8") as f:
            return [entry for entry in map(json.loads, f) if entry["request_id"] == request_id]

    def assert_error(self, answer, status, code, message):
        self.assertIsNotNone(answer, "the connection was closed without an answer")
        got, headers, body = answer
        self.assertEqual(headers["Content-Type"], "application/json", body[:200])
        error = json.loads(body)
        self.assertEqual((got, error["error_code"]), (status, code), error)
        self.assertIn(message, error["message"])
        return error["message"]

    def test_bad_content_is_400_naming_the_problem_and_reaches_the_model_server_once(self):
        for index, (name, (body, status, code, message)) in enumerate(CONTENT_CASES.items()):
            for target, port in self.targets.items():
                with self.subTest(name, target=target):
                    request_id = f"fuzz-{index}-{target}"
                    started = time.monotonic()
                    answer = exchange(port, request(body, request_id=request_id))
                    self.assertLess(time.monotonic() - started, LATENCY)
                    self.assert_error(answer, status, code, message)
                    self.assertEqual(answer[1]["X-Request-Id"], request_id)
                    self.assertEqual(
                        [entry["status"] for entry in self.logged(request_id)], [status], "one attempt, logged once"
                    )

    def test_a_wrong_content_type_is_415(self):
        for target, port in self.targets.items():
            with self.subTest(target):
                answer = exchange(
                    port, request(records(GOOD), content_type="text/plain", request_id=f"fuzz-text-{target}")
                )
                self.assert_error(answer, 415, "UNSUPPORTED_MEDIA_TYPE", "content type text/plain is not supported")
                self.assertEqual(len(self.logged(f"fuzz-text-{target}")), 1)

    def test_broken_http_is_4xx_in_json_and_the_connection_closed(self):
        oversized = b'{"instances": [' + b"[1, 2]," * (LIMIT // 7) + b"[1, 2]]}"
        cases = {
            "a body over the limit": (
                request(oversized),
                413,
                "REQUEST_TOO_LARGE",
                f"more than the limit of {LIMIT} (MLOPS_MAX_REQUEST_BYTES)",
            ),
            "a Content-Length of 1 TB and no body": (
                request(b"", length=10**12),
                413,
                "REQUEST_TOO_LARGE",
                "the body has 1000000000000 bytes",
            ),
            "a Content-Length with an underscore": (
                request(b"{}", length="1_0"),
                400,
                "BAD_REQUEST",
                "invalid Content-Length '1_0'",
            ),
            "a negative Content-Length": (request(b"{}", length=-1), 400, "BAD_REQUEST", "invalid Content-Length '-1'"),
            "a header line of 70,000 bytes": (
                request(records(GOOD), extra=b"X-Long: " + b"a" * 70_000 + b"\r\n"),
                431,
                "REQUEST_HEADER_FIELDS_TOO_LARGE",
                "Line too long",
            ),
            "200 headers": (
                request(records(GOOD), extra=b"".join(b"X-Flood-%d: 1\r\n" % i for i in range(200))),
                431,
                "REQUEST_HEADER_FIELDS_TOO_LARGE",
                "Too many headers",
            ),
            "a request line of 70,000 bytes": (
                b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\nHost: fuzz\r\n\r\n",
                414,
                "REQUEST_URI_TOO_LONG",
                "longer than 65536 bytes",
            ),
            "an unknown method": (
                b"BREW /invocations HTTP/1.1\r\nHost: fuzz\r\n\r\n",
                501,
                "NOT_IMPLEMENTED",
                "Unsupported method ('BREW')",
            ),
            "garbage for a request line": (
                b"\x16\x03\x01\x02 \x00\x01 \xfc\x03\r\n\r\n",
                400,
                "BAD_REQUEST",
                "Bad request version",
            ),
        }
        for name, (data, status, code, message) in cases.items():
            for target, port in self.targets.items():
                with self.subTest(name, target=target):
                    answer = exchange(port, data)
                    self.assert_error(answer, status, code, message)
                    self.assertEqual(answer[1]["Connection"], "close")

    def test_half_a_body_then_closing_is_400(self):
        for target, port in self.targets.items():
            with self.subTest(target):
                body = records(GOOD)
                answer = exchange(port, request(body, length=200), shut=True)
                self.assert_error(answer, 400, "BAD_REQUEST", f"the body ended after {len(body)} of 200 bytes")

    def test_half_requests_and_slow_clients_are_cut_off_after_the_read_time_without_holding_up_others(self):
        cases = {
            "half a body, then waiting": request(records(GOOD), length=200),
            "half the headers, then waiting": b"POST /invocations HTTP/1.1\r\nHost: fuzz\r\nContent-Le",
            "half a request line, then waiting": b"POST /invocati",
            "a byte a second": request(records(GOOD)),
            "nothing": b"",
        }
        outcomes, threads = {}, []
        for name, data in cases.items():
            for target, port in self.targets.items():
                send = self.trickle if name == "a byte a second" else self.stall
                thread = threading.Thread(
                    target=lambda key=(name, target), send=send, port=port, data=data: outcomes.setdefault(
                        key, send(port, data)
                    )
                )
                thread.start()
                threads.append(thread)
        for thread in threads:
            thread.join(30)
        for (name, target), (answer, seconds) in sorted(outcomes.items()):
            with self.subTest(name, target=target):
                self.assertGreater(seconds, READ_SECONDS - 0.2)
                self.assertLess(seconds, READ_SECONDS + 2.5, "cut off after MLOPS_REQUEST_READ_SECONDS")
                if name == "nothing":
                    self.assertIsNone(answer, "a connection that sent nothing is closed without an answer")
                else:
                    self.assert_error(
                        answer,
                        408,
                        "REQUEST_TIMEOUT",
                        f"the request did not arrive within {READ_SECONDS:g} s (MLOPS_REQUEST_READ_SECONDS",
                    )
        self.assertEqual(len(outcomes), len(cases) * len(self.targets))

    @staticmethod
    def stall(port, data):
        """Sends data and nothing more: (answer, seconds until the server answered or closed)."""
        started = time.monotonic()
        return exchange(port, data), time.monotonic() - started

    @staticmethod
    def trickle(port, data):
        """Sends data a byte a second until the server answers."""
        started = time.monotonic()
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            answered = threading.Event()

            def send():
                try:
                    for byte in data:
                        sock.sendall(bytes([byte]))
                        if answered.wait(1.0):
                            return
                except OSError:
                    pass  # closed by the server

            sender = threading.Thread(target=send)
            sender.start()
            try:
                return read_answer(sock), time.monotonic() - started
            finally:
                answered.set()
                sender.join(5)


class ServerFailures(unittest.TestCase):
    def test_a_failure_outside_the_model_is_answered_500_not_a_closed_connection_and_not_retried(self):
        root = tempfile.mkdtemp(prefix="mlops-fuzz-test-")
        self.addCleanup(shutil.rmtree, root, ignore_errors=True)
        # An answer that holds half a surrogate pair cannot be encoded as UTF-8.
        source = "def predict(records):\n    return ['\\ud800' for r in records]\n"
        server = Server(write_model(root, "function", source=source, task="regression")).wait_ready()
        self.addCleanup(server.close)
        router = Router([group("model", f"127.0.0.1:{server.port}")]).wait_ready()
        self.addCleanup(router.close)
        for target in (server, router):
            status, answer, _ = target.post({"instances": [{"x": 1}]})
            self.assertEqual((status, answer["error_code"]), (500, "INTERNAL_ERROR"))
            self.assertIn("the server failed on this request", answer["message"])
        self.assertEqual(server.metrics().get("mlops_requests_total"), 2, "one attempt each")
        self.assertEqual(router.metrics().get("mlops_router_retries_total", group="model"), 0)
        self.assertIn("UnicodeEncodeError", server.stderr(), "the traceback is logged")


class ConnectionLimit(unittest.TestCase):
    """A server that serves 3 connections at once."""

    def setUp(self):
        root = tempfile.mkdtemp(prefix="mlops-fuzz-test-")
        self.addCleanup(shutil.rmtree, root, ignore_errors=True)
        model = write_model(root, model=toy_models.Linear([1, 2]), features=features(("x", "float64"), ("n", "int64")))
        self.server = Server(model, MLOPS_MAX_CONNECTIONS=3, MLOPS_REQUEST_READ_SECONDS=2).wait_ready()
        self.addCleanup(self.server.close)
        self.timed_predict()  # libraries such as pandas may start threads of their own on first use
        time.sleep(0.3)  # for the thread of that connection to end
        self.idle_threads = self.threads()

    def threads(self):
        with open(f"/proc/{self.server.process.pid}/status", encoding="utf-8") as f:
            return int(re.search(r"^Threads:\s+(\d+)", f.read(), re.MULTILINE).group(1))

    def timed_predict(self):
        started = time.monotonic()
        self.assertEqual(self.server.predict(records(GOOD)), [5.5])
        return time.monotonic() - started

    def open(self, data):
        sock = socket.create_connection(("127.0.0.1", self.server.port), timeout=10)
        self.addCleanup(sock.close)
        sock.sendall(data)
        return sock

    def test_stalled_requests_hold_at_most_the_limit_of_threads_until_they_are_cut_off(self):
        stalled = [self.open(request(records(GOOD), length=200)) for _ in range(6)]
        time.sleep(0.5)
        self.assertEqual(self.threads(), self.idle_threads + 3, "one thread per connection served, no more")
        seconds = self.timed_predict()
        self.assertGreater(seconds, 1.0, "a new client waits for a thread")
        self.assertLess(seconds, 2 * 2 + 2, "the stalled requests are cut off after MLOPS_REQUEST_READ_SECONDS")
        self.assertLessEqual(self.threads(), self.idle_threads + 3)
        for sock in stalled:
            self.assertEqual(read_answer(sock)[0], 408)

    def test_idle_kept_alive_connections_make_room_for_new_ones(self):
        kept = []
        for _ in range(3):
            connection = self.server.connection()
            self.addCleanup(connection.close)
            self.server.request("POST", "/invocations", records(GOOD), {"Content-Type": "application/json"}, connection)
            kept.append(connection)
        time.sleep(1.2)  # idle for more than a second: no client between two requests of its own
        self.assertLess(self.timed_predict(), 1.0)
        self.assertEqual(
            [closed(connection.sock) for connection in kept],
            [True, False, False],
            "the connection idle longest was closed",
        )
        self.assertLessEqual(self.threads(), self.idle_threads + 3)


def closed(sock):
    """Whether the other end closed the socket (without sending anything)."""
    readable, _, _ = select.select([sock], [], [], 0.5)
    return bool(readable) and sock.recv(1, socket.MSG_PEEK) == b""


class JsonLimits(unittest.TestCase):
    """The limits of scoring.parse_request at their edges, for a model without features."""

    model = scoring.Model({"mode": "function", "features": None}, lambda rows: rows)

    def parse(self, text):
        return scoring.parse_request(text.encode("utf-8"), "json", self.model)

    def test_100_levels_are_read_and_101_refused(self):
        for levels, brackets in ((100, "[" * 98 + "1" + "]" * 98), (101, "[" * 99 + "1" + "]" * 99)):
            text = '{"instances": [' + brackets + "]}"  # the object and the list of rows: 2 levels more
            if levels == 100:
                self.assertEqual(json.dumps(self.parse(text)), "[" + brackets + "]")
            else:
                with self.assertRaisesRegex(scoring.BadRequest, "nests more than 100 levels"):
                    self.parse(text)

    def test_brackets_in_strings_do_not_count(self):
        text = json.dumps({"instances": [["[" * 500, '\\"{{{{', "]" * 3, "\\"]]})
        self.assertEqual(self.parse(text), [["[" * 500, '\\"{{{{', "]" * 3, "\\"]])

    def test_the_largest_numbers_are_read(self):
        text = '{"instances": [[1.7976931348623157e308, -1.7976931348623157e308, 1e-999, ' + str(10**308) + "]]}"
        self.assertEqual(self.parse(text), [[1.7976931348623157e308, -1.7976931348623157e308, 0.0, 10**308]])
        with self.assertRaisesRegex(scoring.BadRequest, "1.8e308 is too large a number"):
            self.parse('{"instances": [[1.8e308]]}')

    def test_half_a_surrogate_pair_is_refused_and_a_whole_one_read(self):
        with self.assertRaisesRegex(scoring.BadRequest, r"the JSON holds \\udc00, half of a UTF-16 surrogate pair"):
            self.parse('{"instances": [["a\\\\udc00", "\\udc00"]]}')  # an escaped backslash, then half a pair
        self.assertEqual(self.parse('{"instances": [["\\ud83d\\ude00"]]}'), [["\U0001f600"]])
