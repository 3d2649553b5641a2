"""Starting, serving many clients at once, and stopping: startup failures name the file, requests
run in parallel, and SIGTERM lets the requests in flight finish before the process exits 0."""

import concurrent.futures
import json
import os
import shutil
import signal
import socket
import tempfile
import threading
import time
import unittest

from . import toy_models
from .serving import Server, ServerTestCase, features, run_server, write_model

SLOW_SOURCE = "import time\n\ndef predict(records):\n    time.sleep(records[0]['seconds'])\n    return [r['seconds'] for r in records]\n"


class StartupFailures(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="mlops-runtime-test-")
        self.addCleanup(shutil.rmtree, self.dir, ignore_errors=True)

    def write(self, name, content):
        with open(os.path.join(self.dir, name), "wb" if isinstance(content, bytes) else "w") as f:
            f.write(content)

    def assert_fails(self, *fragments, **settings):
        code, stderr = run_server(self.dir, **settings)
        self.assertEqual(code, 1, stderr)
        for fragment in fragments:
            self.assertIn(fragment, stderr)
        self.assertNotIn("Traceback", stderr, "a clear message, not a stack trace")

    def test_a_missing_or_unreadable_model_json(self):
        path = os.path.join(self.dir, "model.json")
        self.assert_fails(f"cannot start: {path} is missing")
        self.write("model.json", "{not json")
        self.assert_fails(f"{path} cannot be read as JSON")
        self.write("model.json", json.dumps({"format": 2, "mode": "estimator"}))
        self.assert_fails(f"{path} is not a format 1 model description")
        self.write("model.json", json.dumps({"format": 1, "mode": "magic"}))
        self.assert_fails('mode must be "estimator" or "function", not \'magic\'')
        self.write("model.json", json.dumps({"format": 1, "mode": "estimator", "features": ["age"]}))
        self.assert_fails("features must be null or a list of")

    def test_an_estimator_that_cannot_be_loaded(self):
        write_model(self.dir, model=toy_models.NoPredict())
        path = os.path.join(self.dir, "model.pkl")
        self.assert_fails(f"{path} holds a NoPredict, which has no predict method")
        self.write("model.pkl", b"cnot_an_installed_module\nModel\n)R.")  # a pickle of a class from elsewhere
        self.assert_fails(
            f"{path} cannot be unpickled: ModuleNotFoundError",
            "not_an_installed_module",
            "must be installed in the image",
        )
        os.remove(path)
        self.assert_fails(f"{path} is missing")

    def test_a_function_that_cannot_be_loaded(self):
        serve = os.path.join(self.dir, "serve.py")
        write_model(self.dir, "function", source="def predict(records):\n    return records\n\nif True\n")
        self.assert_fails(f"{serve}, line 4 failed: SyntaxError")
        write_model(self.dir, "function", source="x = 1\ny = x / 0\n")
        self.assert_fails(f"{serve}, line 2 failed: ZeroDivisionError: division by zero")
        write_model(self.dir, "function", source="def score(records):\n    return records\n")
        self.assert_fails(f"{serve} defines no predict(records) function")
        self.write("namespace.pkl", b"]q\x00.")  # a pickled list
        self.assert_fails("namespace.pkl holds a list, not a dict of globals")

    def test_bad_settings_labels_or_port(self):
        write_model(self.dir, "function", source="def predict(records):\n    return records\n")
        self.assert_fails("PORT must be a whole number, not 'http'", PORT="http")
        self.assert_fails("MLOPS_DRAIN_SECONDS must not be negative", MLOPS_DRAIN_SECONDS="-1")
        self.assert_fails("MLOPS_MAX_CONNECTIONS must be more than 0", MLOPS_MAX_CONNECTIONS="0")
        self.assert_fails("MLOPS_REQUEST_READ_SECONDS must be more than 0", MLOPS_REQUEST_READ_SECONDS="0")
        self.assert_fails("MLOPS_MAX_BATCH_SIZE must be more than 0 (1 turns batching off)", MLOPS_MAX_BATCH_SIZE="0")
        self.assert_fails("MLOPS_MAX_BATCH_WAIT_MS must be a number, not '5ms'", MLOPS_MAX_BATCH_WAIT_MS="5ms")
        self.write("labels.json", "[1, 2]")
        self.assert_fails(
            "labels.json must hold a JSON object", MLOPS_LABELS_FILE=os.path.join(self.dir, "labels.json")
        )
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            self.assert_fails(f"cannot listen on 127.0.0.1 port {taken.getsockname()[1]}", PORT=taken.getsockname()[1])


class Serving(ServerTestCase):
    @classmethod
    def model_dirs(cls, root):
        linear = write_model(
            os.path.join(root, "linear"),
            "function",
            source="def predict(records):\n    return [r['a'] * 2 + r['b'] for r in records]\n",
        )
        slow = write_model(os.path.join(root, "slow"), "function", source=SLOW_SOURCE)
        warm = write_model(
            os.path.join(root, "warm"),
            model=toy_models.Echo(),
            features=features(("a", "int64")),
            sample=[{"a": 1, "target": 0}],
        )
        return {
            "linear": (linear, {"MLOPS_REQUEST_LOG_DIR": os.path.join(root, "logs")}),
            "slow": (slow, {}),
            "warm": (warm, {}),
        }

    def test_many_parallel_clients_get_their_own_answers(self):
        server = self.servers["linear"]
        count = 200

        def call(i):
            status, answer, headers = server.post(
                {"dataframe_records": [{"a": i, "b": 1}, {"a": 1, "b": i}]}, headers={"X-Request-Id": f"parallel-{i}"}
            )
            return i, status, answer, headers["X-Request-Id"]

        with concurrent.futures.ThreadPoolExecutor(max_workers=32) as pool:
            results = list(pool.map(call, range(count)))
        for i, status, answer, request_id in results:
            self.assertEqual((status, answer, request_id), (200, {"predictions": [2 * i + 1, 2 + i]}, f"parallel-{i}"))
        self.assertEqual(server.metrics().get("mlops_requests_total"), count)
        self.assertEqual(server.get_json("/health")[1]["requests"], count)
        with open(os.path.join(self.root, "logs", "requests.jsonl"), encoding="utf-8") as f:
            entries = [json.loads(line) for line in f]
        self.assertEqual(
            sorted(e["request_id"] for e in entries),
            sorted(f"parallel-{i}" for i in range(count)),
            "one whole line per request",
        )
        for entry in entries:
            i = int(entry["request_id"].split("-")[1])
            self.assertEqual(entry["predictions"], [2 * i + 1, 2 + i])

    def test_slow_requests_run_at_the_same_time(self):
        started = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
            answers = list(
                pool.map(lambda _: self.servers["slow"].predict({"instances": [{"seconds": 0.8}]}), range(8))
            )
        self.assertEqual(answers, [[0.8]] * 8)
        self.assertLess(time.monotonic() - started, 4.0, "8 requests of 0.8 s each take 6.4 s one after the other")

    def test_a_failed_warm_up_is_a_warning_and_the_server_serves(self):
        server = self.servers["warm"]
        self.assertRegex(
            server.stderr(), r"WARNING .*sample\.json at startup failed: BadRequest: extra columns: 'target'"
        )
        self.assertEqual(server.predict({"instances": [[5]]})[0]["values"], [5])


class Call(threading.Thread):
    """A scoring request in a thread; keeps its answer or the exception it raised."""

    def __init__(self, server, payload):
        super().__init__(daemon=True)
        self.server, self.payload, self.answer, self.error = server, payload, None, None
        self.start()

    def run(self):
        try:
            status, answer, _ = self.server.post(self.payload)
            self.answer = (status, answer)
        except Exception as error:
            self.error = error


class Draining(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="mlops-runtime-test-")
        self.addCleanup(shutil.rmtree, self.dir, ignore_errors=True)
        write_model(self.dir, "function", source=SLOW_SOURCE)

    def start(self, **settings):
        server = Server(self.dir, **settings).wait_ready()
        self.addCleanup(server.close)
        return server

    def wait_until(self, condition, seconds, what):
        deadline = time.monotonic() + seconds
        while not condition():
            if time.monotonic() > deadline:
                self.fail(f"waited {seconds} s for {what}")
            time.sleep(0.02)

    def wait_in_flight(self, server):
        self.wait_until(lambda: server.get_json("/health")[1]["in_flight"] >= 1, 10, "the request to reach the model")

    def refused(self, server):
        try:
            server.request("GET", "/ping")
        except (ConnectionRefusedError, ConnectionResetError):
            return True
        return False

    def test_sigterm_lets_the_request_in_flight_finish_then_exits_0(self):
        server = self.start()
        kept = server.connection()  # a keep-alive connection opened before the signal
        self.addCleanup(kept.close)
        self.assertEqual(server.request("GET", "/ping", connection=kept)[0], 200)
        call = Call(server, {"instances": [{"seconds": 4.0}]})
        self.wait_in_flight(server)
        server.signal(signal.SIGTERM)

        ping = {}

        def ping_answers_503():
            ping["status"], ping["headers"], _ = server.request("GET", "/ping", connection=kept)
            return ping["status"] == 503

        self.wait_until(ping_answers_503, 2, "/ping to answer 503")
        self.assertEqual(ping["headers"]["Connection"], "close", "a draining server closes kept-alive connections")
        self.wait_until(lambda: self.refused(server), 2, "the port to close")
        self.assertTrue(call.is_alive(), "the slow request was still running all along")

        call.join(15)
        self.assertIsNone(call.error)
        self.assertEqual(call.answer, (200, {"predictions": [4.0]}))
        self.assertEqual(server.process.wait(10), 0)
        self.assertRegex(
            server.stderr(),
            r"SIGTERM: closing the port, waiting up to 20 s for \d+ requests in flight(.|\n)*INFO mlops_runtime: stopped",
        )

    def test_health_is_503_while_draining(self):
        server = self.start()
        kept = server.connection()
        self.addCleanup(kept.close)
        server.request("GET", "/health", connection=kept)
        call = Call(server, {"instances": [{"seconds": 2.0}]})
        self.wait_in_flight(server)
        server.signal(signal.SIGTERM)
        time.sleep(0.3)
        status, _, body = server.request("GET", "/health", connection=kept)
        self.assertEqual(status, 503)
        self.assertEqual(json.loads(body)["status"], "draining")
        call.join(15)
        self.assertEqual(call.answer[0], 200)
        self.assertEqual(server.process.wait(10), 0)

    def test_open_inference_readiness_is_false_while_draining(self):
        server = self.start()
        kept = server.connection()
        self.addCleanup(kept.close)
        self.assertEqual(server.request("GET", "/v2/health/ready", connection=kept)[0], 200)
        call = Call(server, {"instances": [{"seconds": 2.0}]})
        self.wait_in_flight(server)
        server.signal(signal.SIGTERM)
        time.sleep(0.3)
        status, _, body = server.request("GET", "/v2/health/ready", connection=kept)
        self.assertEqual((status, json.loads(body)["ready"]), (400, False))  # the protocol's 4xx: not ready
        call.join(15)
        self.assertEqual(call.answer[0], 200)
        self.assertEqual(server.process.wait(10), 0)

    def test_sigint_stops_an_idle_server_at_once(self):
        server = self.start()
        started = time.monotonic()
        server.signal(signal.SIGINT)
        self.assertEqual(server.process.wait(10), 0)
        self.assertLess(time.monotonic() - started, 3)
        self.assertIn("SIGINT", server.stderr())

    def test_draining_ends_after_MLOPS_DRAIN_SECONDS(self):
        server = self.start(MLOPS_DRAIN_SECONDS="0.5")
        call = Call(server, {"instances": [{"seconds": 60}]})
        self.wait_in_flight(server)
        started = time.monotonic()
        server.signal(signal.SIGTERM)
        self.assertEqual(server.process.wait(10), 0)
        self.assertLess(time.monotonic() - started, 5)
        self.assertIn("1 requests still running after 0.5 s", server.stderr())
        call.join(5)
        self.assertIsNotNone(call.error, "the abandoned request's connection is closed")


if __name__ == "__main__":
    unittest.main()
