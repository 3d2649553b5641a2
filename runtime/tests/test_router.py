"""The router (`python -m mlops_runtime.router`) in a subprocess, in front of backends on 127.0.0.1:
test backends in this process that echo what they receive, and real model servers for the
rolling-update cases (a server stopped while clients keep sending requests) and for reading every
backend's metrics and request log through the router."""

import collections
import http.client
import http.server
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
from urllib.parse import parse_qs, quote, urlsplit

from mlops_runtime.router import Config, Page, merge_pages, parse_backends
from mlops_runtime.server import ConfigError

from .serving import RUNTIME_DIR, Exposition, Server, write_model
from .test_server_requests import line, ts, write_files


class Backend(http.server.ThreadingHTTPServer):
    """A test backend: answers a JSON echo of the request, under its name. ?status=N answers N,
    ?sleep=S waits S seconds first; mode "unavailable" answers 503, "hang up" closes unanswered."""

    daemon_threads = True

    def __init__(self, name, mode="ok"):
        super().__init__(("127.0.0.1", 0), EchoHandler)
        self.name, self.mode, self.hits = name, mode, 0
        self.address = f"127.0.0.1:{self.server_address[1]}"
        self._lock = threading.Lock()
        threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def hit(self):
        with self._lock:
            self.hits += 1

    def close(self):
        self.shutdown()
        self.server_close()

    def handle_error(self, request, client_address):
        pass  # a router that gave up on an answer closed its connection


class EchoHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def _answer(self):
        backend = self.server
        backend.hit()
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if backend.mode == "hang up":
            self.close_connection = True
            return
        query = parse_qs(urlsplit(self.path).query)
        time.sleep(float(query.get("sleep", ["0"])[0]))
        status = 503 if backend.mode == "unavailable" else int(query.get("status", ["200"])[0])
        answer = json.dumps(
            {
                "backend": backend.name,
                "method": self.command,
                "path": self.path,
                "headers": [[name.lower(), value] for name, value in self.headers.items()],
                "body": body.decode("utf-8"),
            }
        ).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.send_header("X-Test-Backend", backend.name)
        self.send_header("Keep-Alive", "timeout=5")  # hop-by-hop: the router drops it
        self.end_headers()
        self.wfile.write(answer)

    do_GET = do_POST = do_PUT = do_DELETE = _answer

    def log_message(self, format, *args):
        pass


def refused_address(test):
    """host:port of a bound socket that does not listen: connections to it are refused."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    test.addCleanup(sock.close)
    return f"127.0.0.1:{sock.getsockname()[1]}"


def group(name, *backends, weight=1):
    return {"name": name, "addresses": [b if isinstance(b, str) else b.address for b in backends], "weight": weight}


class Router(Server):
    """The router in a subprocess on a free port; the server helpers (request, stop...) apply."""

    def __init__(self, groups, **settings):
        env = {k: v for k, v in os.environ.items() if not k.startswith("MLOPS_") and k != "PORT"}
        env.update(
            {
                "PYTHONPATH": RUNTIME_DIR,
                "MLOPS_HOST": "127.0.0.1",
                "PORT": "0",
                "MLOPS_ROUTER_BACKENDS": json.dumps(groups),
            }
        )
        env.update({k: str(v) for k, v in settings.items()})
        self.stderr_file = tempfile.NamedTemporaryFile(prefix="mlops-router-", suffix=".log", delete=False)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "mlops_runtime.router"], env=env, stdout=subprocess.DEVNULL, stderr=self.stderr_file
        )
        self.port = None

    def get(self, path, connection=None):
        """(status, headers, decoded JSON body)."""
        status, headers, body = self.request("GET", path, connection=connection)
        return status, headers, json.loads(body)

    def metrics(self):
        status, headers, body = self.request("GET", "/router/metrics")
        assert status == 200 and headers["Content-Type"].startswith("text/plain; version=0.0.4"), (status, headers)
        return Exposition(body.decode("utf-8"))


class RouterTestCase(unittest.TestCase):
    def backend(self, name, mode="ok"):
        backend = Backend(name, mode)
        self.addCleanup(backend.close)
        return backend

    def router(self, *groups, **settings):
        router = Router(list(groups), **settings).wait_ready()
        self.addCleanup(router.close)
        return router


class Forwarding(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.a, cls.b = Backend("a"), Backend("b")
        cls.addClassCleanup(cls.a.close)
        cls.addClassCleanup(cls.b.close)
        cls.routed = Router([group("model", cls.a, cls.b)]).wait_ready()
        cls.addClassCleanup(cls.routed.close)

    def test_method_path_query_headers_and_body_are_forwarded_on_a_kept_alive_connection(self):
        connection = self.routed.connection()
        self.addCleanup(connection.close)
        body = json.dumps({"dataframe_records": [{"age": 42}]})
        headers = {
            "Content-Type": "application/json",
            "X-Request-Id": "abc",
            "Connection": "keep-alive, X-Hop",
            "X-Hop": "1",
        }
        status, answer_headers, answer = self.routed.request(
            "POST", "/invocations?x=1&y=%20z", body, headers, connection
        )
        self.assertEqual(status, 200)
        echo = json.loads(answer)
        self.assertEqual((echo["method"], echo["path"], echo["body"]), ("POST", "/invocations?x=1&y=%20z", body))
        received = dict(echo["headers"])
        self.assertEqual(
            (received["content-type"], received["x-request-id"], received["content-length"]),
            ("application/json", "abc", str(len(body))),
        )
        self.assertEqual(received["host"], f"127.0.0.1:{self.routed.port}", "the client's Host goes along")
        self.assertNotIn("x-hop", received, "a header named by Connection is hop-by-hop")
        self.assertNotIn("connection", received)
        self.assertEqual(answer_headers["X-Test-Backend"], echo["backend"])
        self.assertEqual(answer_headers["X-Mlops-Backend"], "model/127.0.0.1")
        self.assertIsNone(answer_headers["Keep-Alive"])
        self.assertIsNone(answer_headers["Connection"])
        for method in ("GET", "PUT", "DELETE"):
            status, _, answer = self.routed.request(method, "/anything", connection=connection)
            self.assertEqual((status, json.loads(answer)["method"]), (200, method))

    def test_status_codes_are_passed_on_and_not_retried(self):
        for code in (201, 400, 404, 500):
            with self.subTest(code):
                before = self.a.hits + self.b.hits
                status, _, answer = self.routed.request("GET", f"/x?status={code}")
                self.assertEqual((status, json.loads(answer)["path"]), (code, f"/x?status={code}"))
                self.assertEqual(self.a.hits + self.b.hits, before + 1)
        self.assertEqual(self.routed.metrics().get("mlops_router_retries_total", group="model"), 0)

    def test_backends_take_turns(self):
        names = [self.routed.request("GET", "/")[1]["X-Test-Backend"] for _ in range(10)]
        self.assertEqual(names.count("a"), 5, names)
        self.assertTrue(all(x != y for x, y in zip(names, names[1:])), names)

    def test_ping_and_health_are_the_models(self):
        for path in ("/ping", "/health"):
            status, _, echo = self.routed.get(path)
            self.assertEqual((status, echo["path"]), (200, path))

    def test_router_health_lists_the_backends(self):
        hits = self.a.hits + self.b.hits
        status, _, health = self.routed.get("/router/health")
        self.assertEqual(status, 200)
        self.assertEqual(
            health,
            {
                "status": "ok",
                "groups": [
                    {
                        "name": "model",
                        "weight": 1,
                        "shadow": False,
                        "addresses": [self.a.address, self.b.address],
                        "backends": sorted([self.a.address, self.b.address]),
                        "error": None,
                    }
                ],
            },
        )
        self.assertEqual(self.a.hits + self.b.hits, hits, "/router/health is the router's own")

    def test_chunked_bodies_are_refused(self):
        connection = self.routed.connection()
        self.addCleanup(connection.close)
        connection.request("POST", "/invocations", body=iter([b"{}"]), headers={"Transfer-Encoding": "chunked"})
        response = connection.getresponse()
        self.assertEqual((response.status, json.loads(response.read())["error_code"]), (411, "LENGTH_REQUIRED"))
        self.assertEqual(response.headers["Connection"], "close")


class Weights(RouterTestCase):
    def test_groups_get_their_share(self):
        routed = self.router(
            group("big", self.backend("big"), weight=80), group("small", self.backend("small"), weight=20)
        )
        connection = routed.connection()
        self.addCleanup(connection.close)
        groups = collections.Counter(
            routed.request("GET", "/", connection=connection)[1]["X-Mlops-Backend"] for _ in range(500)
        )
        self.assertEqual(set(groups), {"big/127.0.0.1", "small/127.0.0.1"})
        self.assertAlmostEqual(groups["big/127.0.0.1"], 400, delta=50)  # 5.6 standard deviations
        metrics = routed.metrics()
        self.assertEqual(metrics.get("mlops_router_requests_total", group="big"), groups["big/127.0.0.1"])
        self.assertEqual(metrics.get("mlops_router_requests_total", group="small"), groups["small/127.0.0.1"])


class Failures(RouterTestCase):
    def assert_all_answered_by(self, routed, name, count=30):
        names = [routed.request("GET", "/")[1]["X-Test-Backend"] for _ in range(count)]
        self.assertEqual(names, [name] * count)

    def test_backends_that_refuse_or_hang_up_are_passed_over(self):
        hang_up = self.backend("hang up", "hang up")
        routed = self.router(group("model", refused_address(self), hang_up, self.backend("good")))
        self.assert_all_answered_by(routed, "good")
        self.assertGreaterEqual(hang_up.hits, 1)
        metrics = routed.metrics()
        self.assertGreaterEqual(metrics.get("mlops_router_retries_total", group="model"), 2)
        self.assertEqual(metrics.get("mlops_router_failures_total", group="model"), 0)
        self.assertRegex(routed.stderr(), r"model/127\.0\.0\.1:\d+: Connection refused; passing it over for 2 s")

    def test_a_request_two_backends_hang_up_on_is_not_sent_again(self):
        first, second = self.backend("first", "hang up"), self.backend("second", "hang up")
        routed = self.router(group("model", first, second))
        status, answer, _ = routed.post({"instances": [[1]]})
        self.assertEqual((status, answer["error_code"]), (502, "BAD_GATEWAY"))
        hung_up = r"model/127\.0\.0\.1:\d+: Remote end closed connection without response"
        self.assertRegex(
            answer["message"],
            f"^{hung_up}, then {hung_up}; the request is not sent again, as it may be what makes the backends fail$",
        )
        self.assertEqual((first.hits, second.hits), (1, 1), "sent once more, to the other backend")
        metrics = routed.metrics()
        self.assertEqual(metrics.get("mlops_router_retries_total", group="model"), 1)
        self.assertEqual(metrics.get("mlops_router_failures_total", group="model"), 1)

    def test_a_backend_answering_503_is_passed_over(self):
        unavailable = self.backend("unavailable", "unavailable")
        routed = self.router(group("model", unavailable, self.backend("good")))
        self.assert_all_answered_by(routed, "good")
        self.assertGreaterEqual(unavailable.hits, 1)
        self.assertGreaterEqual(routed.metrics().get("mlops_router_retries_total", group="model"), 1)

    def test_no_backend_answering_is_502_once_the_retries_are_spent(self):
        routed = self.router(
            group("model", refused_address(self), self.backend("unavailable", "unavailable")),
            MLOPS_ROUTER_RETRY_SECONDS="0.5",
        )
        started = time.monotonic()
        status, answer, headers = routed.post({"instances": [[1]]})
        self.assertEqual(
            (status, answer["error_code"], headers["Content-Type"]), (502, "BAD_GATEWAY", "application/json")
        )
        self.assertRegex(
            answer["message"],
            r"^no backend of group model answered within 0\.5 s; the last error: model/127\.0\.0\.1:\d+(: Connection refused| answered 503)$",
        )
        self.assertGreaterEqual(time.monotonic() - started, 0.3)  # no attempt starts after the budget
        self.assertLess(time.monotonic() - started, 3)
        self.assertEqual(routed.get("/router/health")[0], 200, "the backends resolve: the router itself is fine")
        metrics = routed.metrics()
        self.assertEqual(metrics.get("mlops_router_failures_total", group="model"), 1)
        self.assertGreaterEqual(metrics.get("mlops_router_retries_total", group="model"), 2)

    def test_hosts_that_do_not_resolve(self):
        routed = self.router(group("model", "no-such-host.invalid:8080"), MLOPS_ROUTER_RETRY_SECONDS="0.2")
        status, health = routed.get("/router/health")[0::2]
        self.assertEqual((status, health["status"], health["groups"][0]["backends"]), (503, "no backends", []))
        self.assertRegex(health["groups"][0]["error"], r"^no-such-host\.invalid cannot be resolved: ")
        status, answer, _ = routed.post({"instances": [[1]]})
        self.assertEqual(status, 502)
        self.assertIn("the last error: model: no-such-host.invalid cannot be resolved: ", answer["message"])

    def test_a_backend_slower_than_the_timeout_is_504_and_not_retried(self):
        slow, other = self.backend("slow"), self.backend("other")
        routed = self.router(group("model", slow, other), MLOPS_ROUTER_TIMEOUT_SECONDS="0.3")
        status, _, answer = routed.get("/?sleep=1")
        self.assertEqual((status, answer["error_code"]), (504, "GATEWAY_TIMEOUT"))
        self.assertRegex(answer["message"], r"^model/127\.0\.0\.1:\d+ did not answer within 0\.3 s$")
        self.assertEqual(slow.hits + other.hits, 1)
        self.assertEqual(routed.metrics().get("mlops_router_failures_total", group="model"), 1)

    def test_bad_settings_stop_the_router(self):
        router = Router([{"name": "m", "addresses": ["tasks.m"]}])
        self.addCleanup(router.close)
        self.assertEqual(router.process.wait(10), 1)
        self.assertIn(
            'cannot start: MLOPS_ROUTER_BACKENDS group {"name": "m", "addresses": ["tasks.m"]}: "tasks.m" is not host:port',
            router.stderr(),
        )


class Settings(unittest.TestCase):
    def test_backends(self):
        groups = parse_backends(
            '[{"name": "a", "addresses": ["tasks.a:8080", "[::1]:81"], "weight": 90}, {"name": "b.2", "addresses": ["10.0.0.1:1"]}]'
        )
        self.assertEqual(
            groups, [("a", [("tasks.a", 8080), ("::1", 81)], 90, False), ("b.2", [("10.0.0.1", 1)], 1, False)]
        )

    def test_bad_backends(self):
        cases = {
            "": "MLOPS_ROUTER_BACKENDS is required",
            "[1": "MLOPS_ROUTER_BACKENDS is not JSON",
            "[]": "MLOPS_ROUTER_BACKENDS must be a non-empty list of groups",
            '[{"name": "m", "address": ["a:1"]}]': 'group {"name": "m", "address": ["a:1"]} must be an object with name, addresses, weight and shadow',
            '[{"name": "m n", "addresses": ["a:1"]}]': "the name must be letters, digits",
            '[{"name": "m", "addresses": []}]': "addresses must be a non-empty list of host:port",
            '[{"name": "m", "addresses": ["a:0"]}]': '"a:0" is not host:port',
            '[{"name": "m", "addresses": ["a:1"], "weight": -1}]': "the weight must be a number, 0 or more",
            '[{"name": "m", "addresses": ["a:1"], "weight": 0}]': "MLOPS_ROUTER_BACKENDS needs a group that is not a shadow with a weight above 0",
            '[{"name": "m", "addresses": ["a:1"]}, {"name": "m", "addresses": ["b:1"]}]': "names a group twice: m, m",
        }
        for text, message in cases.items():
            with self.subTest(text), self.assertRaises(ConfigError) as raised:
                parse_backends(text)
            self.assertIn(message, str(raised.exception))

    def test_numbers(self):
        backends = '[{"name": "m", "addresses": ["a:1"]}]'
        config = Config({"MLOPS_ROUTER_BACKENDS": backends})
        self.assertEqual(
            (config.host, config.port, config.resolve_seconds, config.timeout_seconds, config.retry_seconds),
            ("0.0.0.0", 8080, 1, 30, 10),
        )
        self.assertEqual(
            (config.max_body_bytes, config.max_connections, config.read_seconds), (50 * 1024 * 1024, 256, 20)
        )
        for name in ("MLOPS_ROUTER_TIMEOUT_SECONDS", "MLOPS_MAX_CONNECTIONS", "MLOPS_REQUEST_READ_SECONDS"):
            with self.assertRaisesRegex(ConfigError, f"{name} must be more than 0"):
                Config({"MLOPS_ROUTER_BACKENDS": backends, name: "0"})
        with self.assertRaisesRegex(ConfigError, "MLOPS_ROUTER_RETRY_SECONDS must be a number, not 'x'"):
            Config({"MLOPS_ROUTER_BACKENDS": backends, "MLOPS_ROUTER_RETRY_SECONDS": "x"})


class Stopping(RouterTestCase):
    def test_sigterm_lets_the_request_in_flight_finish_then_exits_0(self):
        routed = self.router(group("model", self.backend("slow")))
        answers = []
        call = threading.Thread(target=lambda: answers.append(routed.get("/?sleep=1")[0]))
        call.start()
        time.sleep(0.3)
        routed.signal(signal.SIGTERM)
        call.join(10)
        self.assertEqual(answers, [200])
        self.assertEqual(routed.process.wait(10), 0)
        self.assertRegex(routed.stderr(), r"SIGTERM: closing the port(.|\n)*INFO mlops_runtime.router: stopped")
        with self.assertRaises(ConnectionRefusedError):
            routed.request("GET", "/router/health")


# Each model server answers with its name, after a little while so that requests are in flight
# when it is stopped.
NAMED_SOURCE = "import time\n\ndef predict(records):\n    time.sleep(0.005)\n    return [{name!r} for r in records]\n"


class Clients:
    """Threads that send scoring requests through the router without pause, each on its own
    kept-alive connection, and tally the answers: the name of the server, or what went wrong."""

    def __init__(self, router, count=4):
        self.router, self.done, self.lock, self.answers = (
            router,
            threading.Event(),
            threading.Lock(),
            collections.Counter(),
        )
        self.threads = [threading.Thread(target=self._run) for _ in range(count)]
        for thread in self.threads:
            thread.start()

    def _run(self):
        connection = self.router.connection(timeout=10)
        while not self.done.is_set():
            try:
                status, _, body = self.router.request(
                    "POST", "/invocations", '{"instances": [[1]]}', {"Content-Type": "application/json"}, connection
                )
                outcome = json.loads(body)["predictions"][0] if status == 200 else f"{status}: {body}"
            except Exception as error:
                outcome = f"{type(error).__name__}: {error}"
                connection.close()
            with self.lock:
                self.answers[outcome] += 1
        connection.close()

    def take(self):
        """The answers since the last call."""
        with self.lock:
            answers, self.answers = self.answers, collections.Counter()
        return answers

    def stop(self):
        self.done.set()
        for thread in self.threads:
            thread.join(10)


class RollingUpdate(unittest.TestCase):
    def setUp(self):
        root = tempfile.mkdtemp(prefix="mlops-router-test-")
        self.addCleanup(shutil.rmtree, root, ignore_errors=True)
        self.old, self.new = (
            Server(write_model(os.path.join(root, name), "function", source=NAMED_SOURCE.format(name=name)))
            for name in ("old", "new")
        )
        for server in (self.old, self.new):
            self.addCleanup(server.close)
            server.wait_ready()
        self.routed = Router([group("model", f"127.0.0.1:{self.old.port}", f"127.0.0.1:{self.new.port}")]).wait_ready()
        self.addCleanup(self.routed.close)

    def test_a_real_model_server_stopped_while_clients_send_requests_fails_none(self):
        """As Swarm stops the old task once the new one runs: SIGTERM, the server drains and exits."""
        clients = Clients(self.routed)
        self.addCleanup(clients.stop)
        time.sleep(0.5)
        before = clients.take()
        self.old.signal(signal.SIGTERM)
        self.assertEqual(self.old.process.wait(10), 0)
        during = clients.take()
        time.sleep(0.5)
        clients.stop()
        after = clients.take()
        self.assertEqual(set(before), {"old", "new"})
        self.assertLessEqual(set(during), {"old", "new"}, during)
        self.assertEqual(set(after), {"new"}, after)
        self.assertGreater(after["new"], 20)
        metrics = self.routed.metrics()
        self.assertEqual(metrics.get("mlops_router_failures_total", group="model"), 0)
        self.assertGreaterEqual(
            metrics.get("mlops_router_retries_total", group="model"), 1, "requests met the stopped server"
        )


def closed_port(cls):
    """host:port of a bound socket that does not listen, for a whole test class."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    cls.addClassCleanup(sock.close)
    return f"127.0.0.1:{sock.getsockname()[1]}"


class ModelServers(unittest.TestCase):
    """Real model servers behind one router. Subclasses define servers(root) -> {name: (source,
    environment settings)} and groups(addresses) -> the router's groups, addresses by server name,
    and may define router_settings() -> the router's environment settings."""

    @classmethod
    def setUpClass(cls):
        root = tempfile.mkdtemp(prefix="mlops-router-test-")
        cls.addClassCleanup(shutil.rmtree, root, ignore_errors=True)
        cls.root, cls.models = root, {}
        for name, (source, settings) in cls.servers(root).items():
            server = Server(write_model(os.path.join(root, name), "function", source=source), **settings)
            cls.addClassCleanup(server.close)
            cls.models[name] = server
        for server in cls.models.values():
            server.wait_ready()
        cls.addresses = {name: f"127.0.0.1:{server.port}" for name, server in cls.models.items()}
        cls.addresses["gone"] = closed_port(cls)
        cls.routed = Router(cls.groups(cls.addresses), **cls.router_settings()).wait_ready()
        cls.addClassCleanup(cls.routed.close)

    @classmethod
    def router_settings(cls):
        return {}


class BackendMetrics(ModelServers):
    @classmethod
    def servers(cls, root):
        source = "def predict(records):\n    return [r['label'] for r in records]\n"
        return {"a": (source, {"MLOPS_MODEL_VERSION": "v1"}), "b": (source, {"MLOPS_MODEL_VERSION": "v2"})}

    @classmethod
    def groups(cls, addresses):
        return [
            group("churn-a", addresses["a"]),
            group("churn-b", addresses["b"]),
            group("old", addresses["gone"], weight=0),
        ]

    def backend_metrics(self):
        status, headers, body = self.routed.request("GET", "/router/backends/metrics")
        self.assertEqual((status, headers["Content-Type"]), (200, "text/plain; version=0.0.4; charset=utf-8"))
        return Exposition(body.decode("utf-8")), headers, body.decode("utf-8")

    def test_every_backends_samples_labelled_with_group_and_instance(self):
        awkward = 'a } "b", c\\d'
        sent = collections.Counter()
        for _ in range(20):
            status, _, headers = self.routed.post({"dataframe_records": [{"label": awkward}]})
            self.assertEqual(status, 200)
            sent[headers["X-Mlops-Backend"].split("/")[0]] += 1
        metrics, headers, text = self.backend_metrics()
        a, b, gone = self.addresses["a"], self.addresses["b"], self.addresses["gone"]
        requests = {
            (labels["group"], labels["instance"], labels["version"]): value
            for labels, value in metrics.series("mlops_requests_total")
        }
        self.assertEqual(requests, {("churn-a", a, "v1"): sent["churn-a"], ("churn-b", b, "v2"): sent["churn-b"]})
        self.assertEqual(sum(requests.values()), 20)
        self.assertEqual(text.count("# HELP mlops_requests_total "), 1)
        self.assertEqual(text.count("# TYPE mlops_request_latency_seconds histogram"), 1)
        for labels, _ in metrics.series("mlops_feature_category_total"):
            self.assertEqual(
                (labels["feature"], labels["value"]),
                ("label", awkward),
                "label values with braces and quotes read back",
            )
        self.assertEqual(sum(value for _, value in metrics.series("mlops_feature_category_total")), 20)
        self.assertEqual(metrics.get("mlops_request_latency_seconds_count", instance=a), sent["churn-a"])
        self.assertEqual({labels["instance"] for _, labels, _ in metrics.samples}, {a, b, gone})
        up = {(labels["group"], labels["instance"]): value for labels, value in metrics.series("mlops_backend_up")}
        self.assertEqual(up, {("churn-a", a): 1, ("churn-b", b): 1, ("old", gone): 0})
        self.assertEqual(headers["X-Mlops-Unreachable"], f"{gone} (Connection refused)")
        router = self.routed.metrics()
        self.assertEqual(
            sum(value for _, value in router.series("mlops_router_requests_total")),
            20,
            "fan-outs are not forwarded requests",
        )

    def test_backends_that_answer_no_metrics_are_down_and_say_why(self):
        unavailable, hang_up = Backend("unavailable", "unavailable"), Backend("hang up", "hang up")
        for backend in (unavailable, hang_up):
            self.addCleanup(backend.close)
        routed = Router(
            [
                group("m", self.addresses["a"]),
                group("draining", unavailable, hang_up),
                group("nowhere", "no-such-host.invalid:8080"),
            ]
        ).wait_ready()
        self.addCleanup(routed.close)
        status, headers, body = routed.request("GET", "/router/backends/metrics")
        metrics = Exposition(body.decode("utf-8"))
        up = {labels["instance"]: value for labels, value in metrics.series("mlops_backend_up")}
        self.assertEqual((status, up), (200, {self.addresses["a"]: 1, unavailable.address: 0, hang_up.address: 0}))
        self.assertGreater(len(metrics.series("mlops_requests_total")), 0)
        unreachable = headers["X-Mlops-Unreachable"].split("; ")
        self.assertRegex(
            unreachable[0],
            r"^nowhere \(no-such-host\.invalid cannot be resolved: [^;]+\)$",
            "groups that do not resolve come first",
        )
        self.assertEqual(
            sorted(unreachable[1:]),
            sorted(
                [
                    f"{unavailable.address} (answered 503: Service Unavailable)",
                    f"{hang_up.address} (Remote end closed connection without response)",
                ]
            ),
        )


# Two request logs whose times interleave, with ties within each and across both: ids name the log.
LOG_A = [(1, "a1"), (3, "a2"), (3, "a3"), (3, "a4"), (6, "a5"), (8, "a6")]
LOG_B = [(2, "b1"), (3, "b2"), (4, "b3"), (5, "b4"), (6, "b5"), (6, "b6"), (9, "b7")]


class BackendRequests(ModelServers):
    @classmethod
    def servers(cls, root):
        source = "def predict(records):\n    return [1 for r in records]\n"
        for name, lines in (("a", LOG_A), ("b", LOG_B)):
            write_files(
                os.path.join(root, f"log-{name}"),
                {"requests.jsonl": "".join(line(ms, request_id) for ms, request_id in lines)},
            )
        return {
            "a": (source, {"MLOPS_REQUEST_LOG_DIR": os.path.join(root, "log-a")}),
            "b": (source, {"MLOPS_REQUEST_LOG_DIR": os.path.join(root, "log-b")}),
            "no log": (source, {}),
        }

    @classmethod
    def groups(cls, addresses):
        return [
            group("churn-a", addresses["a"]),
            group("churn-b", addresses["b"], addresses["no log"], addresses["gone"]),
        ]

    def read(self, since=None, limit=None):
        """(entries, headers) of /router/backends/requests."""
        query = "&".join(
            f"{name}={quote(str(value))}" for name, value in (("since", since), ("limit", limit)) if value is not None
        )
        status, headers, body = self.routed.request("GET", "/router/backends/requests?" + query)
        self.assertEqual((status, headers["Content-Type"]), (200, "application/x-ndjson"), body)
        return [json.loads(text) for text in body.decode("utf-8").splitlines()], headers

    def test_every_backends_lines_merged_by_time_with_their_instance(self):
        entries, headers = self.read()
        self.assertEqual([e["request_id"] for e in entries][:3], ["a1", "b1", "a2"])
        self.assertEqual(sorted(e["request_id"] for e in entries), sorted(i for _, i in LOG_A + LOG_B))
        self.assertEqual([e["ts"] for e in entries], sorted(ts(ms) for ms, _ in LOG_A + LOG_B))
        instances = {e["request_id"][0]: e["instance"] for e in entries}
        self.assertEqual(instances, {"a": self.addresses["a"], "b": self.addresses["b"]})
        self.assertEqual(set(entries[0]), {"ts", "request_id", "status", "instance"})
        self.assertIsNone(headers["X-Mlops-More"])
        self.assertEqual(headers["X-Mlops-Log-Disabled"], self.addresses["no log"])
        self.assertEqual(headers["X-Mlops-Unreachable"], f"{self.addresses['gone']} (Connection refused)")
        self.assertEqual([e["request_id"] for e in self.read(ts(5))[0]], ["a5", "b5", "b6", "a6", "b7"])
        self.assertEqual(
            sum(value for _, value in self.routed.metrics().series("mlops_router_requests_total")),
            0,
            "nor are these forwarded requests",
        )

    def test_a_client_continuing_from_the_last_time_gets_every_line_once(self):
        for limit in (1, 2, 3, 5):
            with self.subTest(limit=limit):
                pages, since = [], None
                while True:
                    entries, headers = self.read(since, limit)
                    pages.append([e["request_id"] for e in entries])
                    since = entries[-1]["ts"] if entries else since
                    if headers["X-Mlops-More"] is None:
                        break
                received = [request_id for page in pages for request_id in page]
                self.assertEqual(sorted(received), sorted(i for _, i in LOG_A + LOG_B), pages)
                self.assertEqual(len(received), len(set(received)), pages)
                if limit == 2:
                    # a: a1-a4 (a2-a4 share a ts), cut at .003; b: b1 b2, cut at .003; then b cut at .005, then at .006
                    self.assertEqual(
                        pages, [["a1", "b1", "a2", "a3", "a4", "b2"], ["b3", "b4"], ["a5", "b5", "b6"], ["a6", "b7"]]
                    )

    def test_bad_parameters_are_400_naming_them(self):
        status, _, body = self.routed.request("GET", "/router/backends/requests?limit=0")
        self.assertEqual((status, json.loads(body)["error_code"]), (400, "BAD_REQUEST"))
        self.assertIn("limit must be a whole number from 1 to 100000", json.loads(body)["message"])


class Merging(unittest.TestCase):
    def test_lines_that_a_backend_whose_clock_is_behind_may_still_precede_wait(self):
        ahead = Page([(ts(1), b"a1\n"), (ts(5), b"a5\n")], False, ts(6))
        behind = Page([(ts(2), b"b2\n")], False, ts(3))  # it may still write lines at .003 and .004
        self.assertEqual(merge_pages([ahead, behind]), ([b"a1\n", b"b2\n"], False, ts(3)))
        cut_short = Page([(ts(2), b"c2\n")], True, ts(9))
        self.assertEqual(merge_pages([ahead, cut_short]), ([b"a1\n", b"c2\n"], True, ts(6)))
        self.assertEqual(merge_pages([]), ([], False, None))


if __name__ == "__main__":
    unittest.main()
