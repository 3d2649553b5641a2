"""The data token: GET /requests, POST /feedback and the router's /router/backends/requests take
it (or answer on loopback only without one), prediction, health and metrics stay open, and
feedback is refused for request ids the deployment never answered."""

import http.client
import json
import os
import socket
import tempfile
import unittest
import uuid
from unittest import mock

from mlops_runtime import data_access
from mlops_runtime.data_access import DataAccess, Denied, KnownIds, TokenError, is_loopback, read_token
from mlops_runtime.router import Config as RouterConfig
from mlops_runtime.server import ConfigError

from .serving import ServerTestCase, run_server, write_model
from .test_router import ModelServers, group
from .test_router_release import expected_group
from .test_server_requests import line, write_files

TOKEN = "s3cr3t-token-0123456789abcdef"
ECHO = "def predict(records):\n    return [r['x'] for r in records]\n"


def non_loopback_address():
    """An address of this machine that is not loopback: the source address of a route out."""
    for probe in ("192.0.2.1", "10.255.255.1", "172.16.255.1"):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            try:
                sock.connect((probe, 9))  # UDP: chooses the route, sends nothing
            except OSError:
                continue
            address = sock.getsockname()[0]
            if not is_loopback(address):
                return address
    raise AssertionError("this machine has no address other than loopback to connect from")


def call(port, method, path, body=None, headers=None, host="127.0.0.1"):
    """(status, headers, decoded JSON or text) on a new connection to host."""
    connection = http.client.HTTPConnection(host, port, timeout=30)
    try:
        connection.request(
            method, path, body=body.encode("utf-8") if isinstance(body, str) else body, headers=headers or {}
        )
        response = connection.getresponse()
        text = response.read().decode("utf-8")
    finally:
        connection.close()
    try:
        return response.status, response.headers, json.loads(text)
    except ValueError:
        return response.status, response.headers, text


class Settings(unittest.TestCase):
    def test_the_token_comes_from_the_file_then_the_variable(self):
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "token")
            with open(path, "w") as f:
                f.write(f"{TOKEN}\n")
            self.assertEqual(
                read_token({"MLOPS_DATA_TOKEN_FILE": path, "MLOPS_DATA_TOKEN": "other-token-0123456789"}),
                TOKEN,
                "a Swarm secret's trailing newline is not part of it",
            )
            self.assertEqual(read_token({"MLOPS_DATA_TOKEN": f" {TOKEN} "}), TOKEN)
            self.assertIsNone(read_token({}))
            self.assertIsNone(read_token({"MLOPS_DATA_TOKEN": ""}))
            missing = os.path.join(folder, "missing")
            with self.assertRaisesRegex(
                TokenError, f"MLOPS_DATA_TOKEN_FILE {missing} cannot be read: No such file or directory"
            ):
                read_token({"MLOPS_DATA_TOKEN_FILE": missing})
            for bad in ("short", "has a space in the middle", "x" * 513, "é" * 20):
                with (
                    self.subTest(bad),
                    self.assertRaisesRegex(
                        TokenError,
                        "MLOPS_DATA_TOKEN must hold a token of 16 to 512 printable ASCII characters without spaces",
                    ),
                ):
                    read_token({"MLOPS_DATA_TOKEN": bad})

    def test_a_server_with_a_token_it_cannot_read_does_not_start(self):
        with tempfile.TemporaryDirectory() as folder:
            model = write_model(os.path.join(folder, "m"), "function", source=ECHO)
            code, stderr = run_server(model, MLOPS_DATA_TOKEN_FILE=os.path.join(folder, "none"))
            self.assertEqual(code, 1)
            self.assertIn(f"cannot start: MLOPS_DATA_TOKEN_FILE {os.path.join(folder, 'none')} cannot be read", stderr)
            code, stderr = run_server(model, MLOPS_DATA_TOKEN="short")
            self.assertEqual((code, "cannot start: MLOPS_DATA_TOKEN must hold a token" in stderr), (1, True), stderr)
        with self.assertRaises(ConfigError):
            RouterConfig({"MLOPS_ROUTER_BACKENDS": json.dumps([group("a", "a:1")]), "MLOPS_DATA_TOKEN": "short"})


class Checks(unittest.TestCase):
    def test_loopback_addresses(self):
        for host in ("127.0.0.1", "127.8.9.10", "::1", "::ffff:127.0.0.1"):
            self.assertTrue(is_loopback(host), host)
        for host in (
            "10.0.0.7",
            "172.17.0.1",
            "192.0.2.2",
            "::ffff:10.0.0.7",
            "fd00::2",
            "fe80::1%eth0",
            "",
            "localhost",
        ):
            self.assertFalse(is_loopback(host), host)

    def test_without_a_token_loopback_only(self):
        access = DataAccess(None)
        access.check("/requests", {}, "127.0.0.1")
        with self.assertRaises(Denied) as refused:
            access.check("/requests", {"X-Mlops-Token": TOKEN}, "10.0.0.7")
        self.assertEqual((refused.exception.status, refused.exception.code), (403, "FORBIDDEN"))
        self.assertIn(
            "/requests answers on loopback only, as this server has no data token: set MLOPS_DATA_TOKEN_FILE",
            str(refused.exception),
        )

    def test_with_a_token_every_client_needs_it_compared_in_constant_time(self):
        access = DataAccess(TOKEN)
        for headers in (
            {"X-Mlops-Token": TOKEN},
            {"Authorization": f"Bearer {TOKEN}"},
            {"Authorization": f"bearer  {TOKEN}"},
        ):
            with (
                self.subTest(headers),
                mock.patch.object(
                    data_access.hmac, "compare_digest", wraps=data_access.hmac.compare_digest
                ) as compared,
            ):
                access.check("/feedback", headers, "10.0.0.7")
                compared.assert_called_once_with(TOKEN.encode(), TOKEN.encode())
        for client in ("10.0.0.7", "127.0.0.1"):
            for headers, message in (
                (
                    {},
                    "/feedback needs the deployment's data token, as Authorization: Bearer TOKEN or X-Mlops-Token: TOKEN",
                ),
                ({"Authorization": f"Basic {TOKEN}"}, "needs the deployment's data token"),
                ({"X-Mlops-Token": TOKEN[:-1]}, "the data token sent to /feedback is not this deployment's"),
                ({"Authorization": f"Bearer {TOKEN}x"}, "is not this deployment's"),
            ):
                with self.subTest(client=client, headers=headers), self.assertRaises(Denied) as refused:
                    access.check("/feedback", headers, client)
                self.assertEqual((refused.exception.status, refused.exception.code), (401, "UNAUTHORIZED"))
                self.assertIn(message, str(refused.exception))
                self.assertTrue(dict(refused.exception.headers)["WWW-Authenticate"].startswith('Bearer realm="mlops"'))

    def test_issued_request_ids_carry_the_tokens_signature(self):
        access = DataAccess(TOKEN)
        issued = access.new_request_id()
        random, signature = issued.split(".")
        self.assertEqual((uuid.UUID(random).version, len(signature)), (4, 16))
        self.assertTrue(access.issued(issued))
        self.assertTrue(DataAccess(TOKEN).issued(issued), "another replica with the token verifies it")
        self.assertFalse(DataAccess("another-token-0123456789").issued(issued))
        for forged in (f"{random}.{'0' * 16}", f"{uuid.uuid4()}.{signature}", random, f"{issued}0", "made-up"):
            self.assertFalse(access.issued(forged), forged)
        plain = DataAccess(None).new_request_id()
        self.assertEqual(uuid.UUID(plain).version, 4)
        self.assertFalse(DataAccess(None).issued(plain))

    def test_known_ids_keep_the_newest(self):
        known = KnownIds(3)
        for request_id in ("a", "b", "c", "a", "d"):
            known.add(request_id)
        self.assertEqual([i for i in "abcd" if i in known], ["a", "c", "d"], "b is the oldest once a is seen again")


class WithToken(ServerTestCase):
    @classmethod
    def model_dirs(cls, root):
        model = write_model(os.path.join(root, "echo"), "function", source=ECHO)
        # A log kept on a volume: a request answered before the server started.
        write_files(os.path.join(root, "logs"), {"requests.jsonl": line(1, "before-restart")})
        settings = {
            "MLOPS_REQUEST_LOG_DIR": os.path.join(root, "logs"),
            "MLOPS_DATA_TOKEN": TOKEN,
            "MLOPS_HOST": "0.0.0.0",
        }
        return {
            "token": (model, settings),
            "loopback only": (
                model,
                {"MLOPS_REQUEST_LOG_DIR": os.path.join(root, "open-logs"), "MLOPS_HOST": "0.0.0.0"},
            ),
        }

    def call(self, method, path, body=None, headers=None, server="token", host="127.0.0.1"):
        return call(self.servers[server].port, method, path, body, headers, host)

    def feedback(self, payload, headers=None, server="token"):
        return self.call(
            "POST", "/feedback", json.dumps(payload), {"Content-Type": "application/json", **(headers or {})}, server
        )

    def test_the_log_and_feedback_need_the_token_from_everywhere(self):
        for host in ("127.0.0.1", non_loopback_address()):
            with self.subTest(host):
                status, headers, answer = self.call("GET", "/requests", host=host)
                self.assertEqual(
                    (status, answer["error_code"], headers["WWW-Authenticate"]),
                    (401, "UNAUTHORIZED", 'Bearer realm="mlops"'),
                )
                status, _, answer = self.call(
                    "GET", "/requests", headers={"X-Mlops-Token": "wrong-token-0123456789"}, host=host
                )
                self.assertEqual((status, answer["error_code"]), (401, "UNAUTHORIZED"))
                status, _, answer = self.call(
                    "POST",
                    "/feedback",
                    '{"request_id": "before-restart", "label": 1}',
                    {"Content-Type": "application/json"},
                    host=host,
                )
                self.assertEqual((status, answer["error_code"]), (401, "UNAUTHORIZED"))
                for headers in ({"X-Mlops-Token": TOKEN}, {"Authorization": f"Bearer {TOKEN}"}):
                    status, _, body = self.call("GET", "/requests", headers=headers, host=host)
                    self.assertEqual(status, 200)
                    self.assertIn('"request_id":"before-restart"', body)

    def test_prediction_health_and_metrics_stay_open(self):
        host = non_loopback_address()
        status, _, answer = self.call(
            "POST", "/invocations", '{"instances": [{"x": 4}]}', {"Content-Type": "application/json"}, host=host
        )
        self.assertEqual((status, answer), (200, {"predictions": [4]}))
        for path in ("/ping", "/health", "/version", "/metrics"):
            self.assertEqual(self.call("GET", path, host=host)[0], 200, path)

    def test_feedback_for_issued_logged_and_unknown_ids(self):
        auth = {"X-Mlops-Token": TOKEN}
        status, headers, _ = self.call(
            "POST", "/invocations", '{"instances": [{"x": 1}]}', {"Content-Type": "application/json"}
        )
        issued = headers["X-Request-Id"]
        self.assertTrue(DataAccess(TOKEN).issued(issued), issued)
        self.call(
            "POST",
            "/invocations",
            '{"instances": [{"x": 1}]}',
            {"Content-Type": "application/json", "X-Request-Id": "my-own-id"},
        )
        self.assertEqual(self.feedback({"request_id": issued, "label": 1}, auth)[0], 202)
        self.assertEqual(
            self.feedback(
                [{"request_id": "my-own-id", "label": 0}, {"request_id": "before-restart", "reward": 1}], auth
            )[0],
            202,
        )
        # An id this server never answered, and one made to look issued.
        other = DataAccess("another-token-0123456789").new_request_id()
        status, _, answer = self.feedback(
            [
                {"request_id": issued, "label": 1},
                {"request_id": "never-sent", "label": 1},
                {"request_id": other, "label": 1},
            ],
            auth,
        )
        self.assertEqual((status, answer["error_code"]), (404, "UNKNOWN_REQUEST_ID"))
        self.assertIn(f'no request with id "never-sent", "{other}" was answered here', answer["message"])
        with open(os.path.join(self.root, "logs", "requests.jsonl")) as f:
            recorded = [json.loads(text) for text in f if '"kind":"feedback"' in text]
        self.assertEqual(
            sorted(e["request_id"] for e in recorded),
            sorted([issued, "my-own-id", "before-restart"]),
            "a refused batch records nothing",
        )

    def test_without_a_token_loopback_only(self):
        status, _, answer = self.call("GET", "/requests", server="loopback only", host=non_loopback_address())
        self.assertEqual((status, answer["error_code"]), (403, "FORBIDDEN"))
        self.assertIn("answers on loopback only, as this server has no data token", answer["message"])
        status, _, answer = self.call(
            "POST",
            "/feedback",
            '{"request_id": "x", "label": 1}',
            {"Content-Type": "application/json"},
            "loopback only",
            non_loopback_address(),
        )
        self.assertEqual((status, answer["error_code"]), (403, "FORBIDDEN"))
        self.assertEqual(self.call("GET", "/requests", server="loopback only")[0], 200)
        self.assertEqual(self.call("GET", "/metrics", server="loopback only", host=non_loopback_address())[0], 200)


class ThroughTheRouter(ModelServers):
    """Two model servers with the token behind a router with it, which assigns requests by user."""

    @classmethod
    def servers(cls, root):
        return {
            name: (
                ECHO,
                {
                    "MLOPS_REQUEST_LOG_DIR": os.path.join(root, f"log-{name}"),
                    "MLOPS_DATA_TOKEN": TOKEN,
                    "MLOPS_MODEL_VERSION": name,
                },
            )
            for name in ("a", "b")
        }

    @classmethod
    def groups(cls, addresses):
        return [group("a", addresses["a"], weight=50), group("b", addresses["b"], weight=50)]

    @classmethod
    def router_settings(cls):
        return {"MLOPS_DATA_TOKEN": TOKEN, "MLOPS_ROUTER_STICKY_KEY": "header:X-User-Id", "MLOPS_HOST": "0.0.0.0"}

    def call(self, method, path, body=None, headers=None, host="127.0.0.1"):
        return call(self.routed.port, method, path, body, headers, host)

    def predict(self, user, request_id=None):
        headers = {
            "Content-Type": "application/json",
            "X-User-Id": user,
            **({"X-Request-Id": request_id} if request_id else {}),
        }
        status, headers, _ = self.call(
            "POST", "/invocations", '{"instances": [{"x": 1}]}', headers, non_loopback_address()
        )
        self.assertEqual(status, 200)
        return headers["X-Request-Id"], headers["X-Mlops-Variant"]

    def feedback(self, payload, headers):
        return self.call(
            "POST",
            "/feedback",
            json.dumps(payload),
            {"Content-Type": "application/json", **headers},
            non_loopback_address(),
        )

    def test_the_routers_own_endpoints_and_the_forwarded_ones_need_the_token(self):
        host = non_loopback_address()
        for method, path in (("GET", "/router/backends/requests"), ("GET", "/requests"), ("POST", "/feedback")):
            with self.subTest(path):
                status, headers, answer = self.call(
                    method, path, "{}" if method == "POST" else None, {"Content-Type": "application/json"}, host
                )
                self.assertEqual(
                    (status, answer["error_code"], headers["WWW-Authenticate"]),
                    (401, "UNAUTHORIZED", 'Bearer realm="mlops"'),
                )
        self.predict("reader")
        status, headers, body = self.call(
            "GET", "/router/backends/requests", headers={"Authorization": f"Bearer {TOKEN}"}, host=host
        )
        self.assertEqual(
            (status, headers["X-Mlops-Unreachable"]), (200, None), "the router sends its token to every backend"
        )
        self.assertIn('"version":', body)
        for path in ("/router/health", "/router/metrics", "/router/backends/metrics", "/ping"):
            self.assertEqual(self.call("GET", path, host=host)[0], 200, path)

    def test_feedback_for_router_ids_client_ids_on_another_backend_and_unknown_ids(self):
        auth = {"X-Mlops-Token": TOKEN}
        issued, _ = self.predict("alice")
        self.assertTrue(DataAccess(TOKEN).issued(issued))
        self.assertEqual(self.feedback({"request_id": issued, "label": 1}, auth)[0], 202)
        # A client's own id, served by the group of its user, while feedback goes by the id's hash.
        weights = [("a", 50), ("b", 50)]
        own = next(
            f"order-{n}" for n in range(200) if expected_group(f"order-{n}", weights) != expected_group("bob", weights)
        )
        self.assertEqual(self.predict("bob", own), (own, expected_group("bob", weights)))
        status, headers, answer = self.feedback({"request_id": own, "label": 0}, auth)
        self.assertEqual(
            (status, answer, headers["X-Mlops-Variant"]),
            (202, {"status": "recorded", "request_id": own}, expected_group("bob", weights)),
            "recorded where the request was logged",
        )
        status, _, answer = self.feedback({"request_id": "never-sent", "label": 1}, auth)
        self.assertEqual((status, answer["error_code"]), (404, "UNKNOWN_REQUEST_ID"))
        self.assertIn('no request with id "never-sent" was answered here', answer["message"])


class WithoutATokenBehindARouter(ModelServers):
    """A router without a token in front of servers on loopback: a client from elsewhere must not
    reach the log through it, although the backends see the router's loopback address."""

    @classmethod
    def servers(cls, root):
        return {"a": (ECHO, {"MLOPS_REQUEST_LOG_DIR": os.path.join(root, "log-a")})}

    @classmethod
    def groups(cls, addresses):
        return [group("a", addresses["a"])]

    @classmethod
    def router_settings(cls):
        return {"MLOPS_HOST": "0.0.0.0"}

    def test_loopback_only(self):
        for method, path in (("GET", "/router/backends/requests"), ("GET", "/requests"), ("POST", "/feedback")):
            with self.subTest(path):
                status, _, answer = call(
                    self.routed.port,
                    method,
                    path,
                    "{}" if method == "POST" else None,
                    {"Content-Type": "application/json"},
                    non_loopback_address(),
                )
                self.assertEqual((status, answer["error_code"]), (403, "FORBIDDEN"))
        self.assertEqual(call(self.routed.port, "GET", "/router/backends/requests")[0], 200)
        self.assertEqual(
            call(
                self.routed.port,
                "POST",
                "/invocations",
                '{"instances": [{"x": 1}]}',
                {"Content-Type": "application/json"},
                non_loopback_address(),
            )[0],
            200,
        )


if __name__ == "__main__":
    unittest.main()
