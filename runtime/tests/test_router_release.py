"""Safe releases through the router: requests assigned to groups by the hash of a sticky key or of
their id, request ids and variants passed on, shadow groups that get a share of the requests
again and never answer the client, and feedback sent to the group that served the request.

The expected groups are computed here from the definition of the hash (the first 8 bytes of the
SHA-256 of the key, over 2**64), not with the router's code."""

import collections
import hashlib
import json
import os
import socket
import time
import unittest
import uuid

from mlops_runtime.router import Config, parse_backends
from mlops_runtime.server import ConfigError

from .test_router import NAMED_SOURCE, ModelServers, Router, RouterTestCase, group


def point(text):
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big") / 2**64


def expected_group(key, weights):
    """The name of the group, of [(name, weight)] in order, whose share of [0, 1) holds key's hash."""
    position, end = point(key) * sum(weight for _, weight in weights), 0
    for name, weight in weights:
        end += weight
        if position < end:
            return name
    raise AssertionError("a hash is below 1")


def shadow(name, *backends, weight):
    return {**group(name, *backends, weight=weight), "shadow": True}


class Assignment(RouterTestCase):
    def test_2000_requests_split_by_the_hash_of_their_id_within_3_points_of_the_weights(self):
        weights = [("a", 70), ("off", 0), ("b", 30)]
        routed = self.router(*(group(name, self.backend(name), weight=weight) for name, weight in weights))
        connection = routed.connection()
        self.addCleanup(connection.close)
        reached = collections.Counter()
        for index in range(2000):
            request_id = f"split-{index}"
            status, headers, _ = routed.request("GET", "/", headers={"X-Request-Id": request_id}, connection=connection)
            self.assertEqual((status, headers["X-Mlops-Variant"]), (200, expected_group(request_id, weights)))
            self.assertEqual(headers["X-Test-Backend"], headers["X-Mlops-Variant"])
            reached[headers["X-Mlops-Variant"]] += 1
        self.assertEqual(set(reached), {"a", "b"})
        self.assertAlmostEqual(reached["a"] / 2000, 0.70, delta=0.03)
        metrics = routed.metrics()
        self.assertEqual(
            {name: metrics.get("mlops_router_requests_total", group=name) for name, _ in weights},
            {"a": reached["a"], "off": 0, "b": reached["b"]},
        )

    def test_the_same_header_value_always_reaches_the_same_group(self):
        weights = [("a", 50), ("b", 30), ("c", 20)]
        routed = self.router(
            *(group(name, self.backend(name), weight=weight) for name, weight in weights),
            MLOPS_ROUTER_STICKY_KEY="header:X-User-Id",
        )
        connection = routed.connection()
        self.addCleanup(connection.close)
        reached = collections.Counter()
        for index in range(200):
            key = f"user-{index}"
            variants = {
                routed.request("GET", "/", headers={"X-User-Id": key}, connection=connection)[1]["X-Mlops-Variant"]
                for _ in range(3)
            }
            self.assertEqual(variants, {expected_group(key, weights)}, key)  # each of the three with a new request id
            reached[variants.pop()] += 1
        self.assertEqual(set(reached), {"a", "b", "c"})
        without_key = routed.request("GET", "/", headers={"X-Request-Id": "no-key"})[1]
        self.assertEqual(
            without_key["X-Mlops-Variant"], expected_group("no-key", weights), "without the key: by the request id"
        )

    def test_the_same_field_value_always_reaches_the_same_group_in_every_format(self):
        weights = [("a", 50), ("b", 50)]
        routed = self.router(
            *(group(name, self.backend(name), weight=weight) for name, weight in weights),
            MLOPS_ROUTER_STICKY_KEY="field:user_id",
        )
        connection = routed.connection()
        self.addCleanup(connection.close)
        for index in range(200):
            value = index if index % 2 else f"user-{index}"  # a number hashes as its JSON text
            bodies = [
                {"dataframe_records": [{"x": 1, "user_id": value}, {"x": 2, "user_id": "someone else"}]},
                {"dataframe_split": {"columns": ["x", "user_id"], "data": [[1, value], [2, "someone else"]]}},
                {"instances": [{"user_id": value, "x": 1}]},
                {"inputs": {"user_id": [value, "someone else"], "x": [1, 2]}},
                {"inputs": [{"user_id": value}]},
            ]
            variants = set()
            for body in bodies:
                status, headers, _ = routed.request(
                    "POST", "/invocations", json.dumps(body), {"Content-Type": "application/json"}, connection
                )
                variants.add(headers["X-Mlops-Variant"])
            self.assertEqual(variants, {expected_group(str(value), weights)}, value)
        status, headers, _ = routed.request(
            "POST", "/invocations", '{"instances": [[1, 2]]}', {"X-Request-Id": "positional"}
        )
        self.assertEqual(
            headers["X-Mlops-Variant"],
            expected_group("positional", weights),
            "a body without the field: by the request id",
        )


class RequestIds(RouterTestCase):
    def test_a_valid_id_goes_through_and_any_other_is_replaced(self):
        routed = self.router(group("model", self.backend("model")))
        forged = {"X-Mlops-Variant": "forged", "X-Mlops-Shadow": "1"}
        status, headers, body = routed.request("POST", "/invocations", "{}", {"X-Request-Id": "client-42", **forged})
        received = dict(json.loads(body)["headers"])
        self.assertEqual(
            (status, received["x-request-id"], headers.get_all("X-Request-Id")), (200, "client-42", ["client-42"])
        )
        self.assertEqual((received["x-mlops-variant"], headers["X-Mlops-Variant"]), ("model", "model"))
        self.assertNotIn("x-mlops-shadow", received, "only the router says what is a shadow request")
        generated = set()
        for given in (None, "", "has space", "x" * 201):
            with self.subTest(given):
                status, headers, body = routed.request(
                    "GET", "/", headers={} if given is None else {"X-Request-Id": given}
                )
                (request_id,) = headers.get_all("X-Request-Id")
                self.assertEqual(uuid.UUID(request_id).version, 4)
                self.assertEqual(dict(json.loads(body)["headers"])["x-request-id"], request_id)
                generated.add(request_id)
        self.assertEqual(len(generated), 4)
        status, headers, _ = routed.request("GET", "/router/health", headers={"X-Request-Id": "health-1"})
        self.assertEqual((status, headers["X-Request-Id"]), (200, "health-1"), "the router's own answers carry it too")


class ShadowTraffic(ModelServers):
    """A live model server and a candidate behind one router, the candidate a shadow group that
    mirrors 30% of the requests."""

    @classmethod
    def servers(cls, root):
        return {
            name: (NAMED_SOURCE.format(name=name), {"MLOPS_REQUEST_LOG_DIR": os.path.join(root, f"log-{name}")})
            for name in ("live", "candidate")
        }

    @classmethod
    def groups(cls, addresses):
        return [group("live", addresses["live"], weight=100), shadow("candidate", addresses["candidate"], weight=30)]

    def log(self, name):
        path = os.path.join(self.root, f"log-{name}", "requests.jsonl")
        if not os.path.exists(path):
            return []
        with open(path, encoding="utf-8") as f:
            return [json.loads(text) for text in f]

    def test_the_candidate_gets_its_share_again_and_never_answers(self):
        forwarded = self.routed.metrics().get("mlops_router_requests_total", group="live")
        sent = [f"mirror-{index}" for index in range(300)]
        for request_id in sent:
            status, answer, headers = self.routed.post({"instances": [[1]]}, headers={"X-Request-Id": request_id})
            self.assertEqual(
                (status, answer, headers["X-Mlops-Variant"], headers["X-Request-Id"]),
                (200, {"predictions": ["live"]}, "live", request_id),
            )
        expected = {request_id for request_id in sent if point(request_id + ":shadow") * 100 < 30}
        self.assertAlmostEqual(len(expected), 90, delta=30)
        deadline = time.monotonic() + 20
        while len(self.log("candidate")) < len(expected) and time.monotonic() < deadline:
            time.sleep(0.05)
        mirrored = self.log("candidate")
        self.assertEqual(sorted(entry["request_id"] for entry in mirrored), sorted(expected))
        self.assertEqual(
            {(e["variant"], e["shadow"], json.dumps(e["predictions"])) for e in mirrored},
            {("candidate", True, '["candidate"]')},
        )
        live = self.log("live")
        self.assertEqual([e["request_id"] for e in live], sent)
        self.assertEqual({(e["variant"], "shadow" in e) for e in live}, {("live", False)})
        metrics = self.routed.metrics()
        self.assertEqual(metrics.get("mlops_router_shadow_total", group="candidate"), len(expected))
        self.assertEqual(metrics.get("mlops_router_shadow_dropped_total", group="candidate"), 0)
        self.assertEqual(metrics.get("mlops_router_shadow_failures_total", group="candidate"), 0)
        self.assertEqual(metrics.get("mlops_router_requests_total", group="live"), forwarded + len(sent))
        self.assertIsNone(
            metrics.get("mlops_router_requests_total", group="candidate"), "a shadow group takes no part in the split"
        )

        status, _, body = self.routed.request("GET", "/router/backends/requests")
        lines = [json.loads(text) for text in body.decode("utf-8").splitlines()]
        by_instance = collections.Counter((e["instance"], e.get("shadow", False)) for e in lines)
        self.assertEqual(
            by_instance,
            {(self.addresses["live"], False): len(sent), (self.addresses["candidate"], True): len(expected)},
        )
        status, _, health = self.routed.get("/router/health")
        self.assertEqual(
            [(g["name"], g["weight"], g["shadow"]) for g in health["groups"]],
            [("live", 100, False), ("candidate", 30, True)],
        )
        status, _, body = self.routed.request("GET", "/router/backends/metrics")
        self.assertIn(
            f'mlops_backend_up{{group="candidate",instance="{self.addresses["candidate"]}"}} 1', body.decode("utf-8")
        )

    def test_only_scoring_requests_are_mirrored(self):
        before = self.routed.metrics().get("mlops_router_shadow_total", group="candidate")
        for index in range(20):
            self.assertEqual(self.routed.request("GET", "/ping", headers={"X-Request-Id": f"ping-{index}"})[0], 200)
        self.assertEqual(self.routed.metrics().get("mlops_router_shadow_total", group="candidate"), before)

    # Named to run after test_the_candidate_gets_its_share_again_and_never_answers, which reads whole logs.
    def test_v2_infer_requests_are_mirrored_too(self):
        before = self.routed.metrics().get("mlops_router_shadow_total", group="candidate")
        sent = [f"v2-mirror-{index}" for index in range(60)]
        tensor = {"inputs": [{"name": "rows", "shape": [1, 1], "datatype": "INT64", "data": [1]}]}
        for request_id in sent:
            status, _, body = self.routed.request(
                "POST", "/v2/models/predict/infer", json.dumps(tensor), {"X-Request-Id": request_id}
            )
            self.assertEqual((status, json.loads(body)["outputs"][0]["data"]), (200, ["live"]))
        expected = {request_id for request_id in sent if point(request_id + ":shadow") * 100 < 30}
        deadline = time.monotonic() + 20
        while not expected <= {e["request_id"] for e in self.log("candidate")} and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertEqual({e["request_id"] for e in self.log("candidate") if e["request_id"] in sent}, expected)
        self.assertEqual(
            self.routed.metrics().get("mlops_router_shadow_total", group="candidate"), before + len(expected)
        )


def silent_address(test):
    """host:port of a socket that listens but never answers."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)  # connections are taken, and wait
    test.addCleanup(sock.close)
    return f"127.0.0.1:{sock.getsockname()[1]}"


class ShadowFailures(RouterTestCase):
    def test_a_shadow_group_that_never_answers_drops_requests_past_the_queue_and_slows_no_answer(self):
        live = self.backend("live")
        routed = self.router(
            group("live", live), shadow("silent", silent_address(self), weight=100), MLOPS_ROUTER_TIMEOUT_SECONDS="30"
        )
        connection = routed.connection()
        self.addCleanup(connection.close)
        started = time.monotonic()
        for index in range(300):
            status, headers, _ = routed.request("POST", "/invocations", "{}", {"X-Request-Id": f"r{index}"}, connection)
            self.assertEqual((status, headers["X-Test-Backend"]), (200, "live"))
        self.assertLess(
            time.monotonic() - started, 15, "the answers never wait for the shadow group, which holds each request 30 s"
        )
        metrics = routed.metrics()
        queued, dropped = (metrics.get(f"mlops_router_shadow{kind}_total", group="silent") for kind in ("", "_dropped"))
        self.assertEqual(queued + dropped, 300)
        self.assertLessEqual(queued, 4 + 100, "the threads' requests and the queue")

    def test_a_shadow_group_that_refuses_is_counted_and_logged(self):
        refused = socket.socket()
        refused.bind(("127.0.0.1", 0))
        self.addCleanup(refused.close)
        address = f"127.0.0.1:{refused.getsockname()[1]}"
        routed = self.router(group("live", self.backend("live")), shadow("gone", address, weight=100))
        for index in range(10):
            self.assertEqual(routed.request("POST", "/invocations", "{}", {"X-Request-Id": f"g{index}"})[0], 200)
        deadline = time.monotonic() + 10
        while (
            routed.metrics().get("mlops_router_shadow_failures_total", group="gone") < 10
            and time.monotonic() < deadline
        ):
            time.sleep(0.05)
        self.assertEqual(routed.metrics().get("mlops_router_shadow_failures_total", group="gone"), 10)
        self.assertIn(
            f"a request mirrored to shadow group gone failed: gone/{address}: Connection refused", routed.stderr()
        )


class Feedback(ModelServers):
    @classmethod
    def servers(cls, root):
        source = "def predict(records):\n    return [1 for r in records]\n"
        return {
            name: (source, {"MLOPS_REQUEST_LOG_DIR": os.path.join(root, f"log-{name}"), "MLOPS_MODEL_VERSION": name})
            for name in ("a", "b")
        }

    @classmethod
    def groups(cls, addresses):
        return [group("a", addresses["a"], weight=50), group("b", addresses["b"], weight=50)]

    def send(self, payload):
        status, headers, body = self.routed.request(
            "POST", "/feedback", json.dumps(payload), {"Content-Type": "application/json"}
        )
        return status, headers, json.loads(body)

    def lines(self):
        body = self.routed.request("GET", "/router/backends/requests")[2]
        return [json.loads(text) for text in body.decode("utf-8").splitlines()]

    def test_feedback_reaches_the_group_that_served_the_request(self):
        served = {}
        for index in range(20):
            request_id = f"outcome-{index}"
            status, _, headers = self.routed.post({"instances": [[1]]}, headers={"X-Request-Id": request_id})
            served[request_id] = headers["X-Mlops-Variant"]
            status, headers, answer = self.send({"request_id": request_id, "label": index % 2, "reward": 0.5})
            self.assertEqual(
                (status, answer, headers["X-Mlops-Variant"]),
                (202, {"status": "recorded", "request_id": request_id}, served[request_id]),
            )
        self.assertEqual(set(served.values()), {"a", "b"})
        time.sleep(0.01)  # past the millisecond of the last line, which /requests leaves for later
        lines = [e for e in self.lines() if e["request_id"] in served]
        feedback = [e for e in lines if e.get("kind") == "feedback"]
        self.assertEqual(len(feedback), 20)
        for entry in feedback:
            request = [e for e in lines if e["request_id"] == entry["request_id"] and "kind" not in e]
            self.assertEqual([e["instance"] for e in request], [entry["instance"]])
            self.assertEqual((entry["version"], entry["reward"]), (served[entry["request_id"]], 0.5))

    def test_a_batch_and_bad_feedback(self):
        # Two ids the same group serves, so that one backend has logged both.
        ids = [i for i in (f"batch-{n}" for n in range(100)) if expected_group(i, [("a", 50), ("b", 50)]) == "a"][:2]
        for request_id in ids:
            self.assertEqual(self.routed.post({"instances": [[1]]}, headers={"X-Request-Id": request_id})[0], 200)
        status, _, answer = self.send([{"request_id": ids[0], "label": "yes"}, {"request_id": ids[1], "reward": 1}])
        self.assertEqual((status, answer), (202, {"status": "recorded", "count": 2}))
        status, _, answer = self.send({"request_id": "bad", "lable": "yes"})
        self.assertEqual((status, answer["error_code"]), (400, "BAD_REQUEST"))
        self.assertIn("unknown key 'lable'", answer["message"])
        time.sleep(0.01)
        batch = [e for e in self.lines() if e["request_id"] in ids and e.get("kind") == "feedback"]
        self.assertEqual(
            sorted((e["request_id"], e["label"], e["reward"]) for e in batch),
            sorted([(ids[0], "yes", None), (ids[1], None, 1)]),
        )
        self.assertEqual(len({e["instance"] for e in batch}), 1, "a batch goes to one backend, by its first request id")


class ReleaseSettings(unittest.TestCase):
    def test_shadow_groups(self):
        groups = parse_backends(
            '[{"name": "a", "addresses": ["a:1"]}, {"name": "c", "addresses": ["c:1"], "weight": 12.5, "shadow": true}]'
        )
        self.assertEqual([(g.name, g.weight, g.shadow) for g in groups], [("a", 1, False), ("c", 12.5, True)])

    def test_bad_shadow_groups(self):
        cases = {
            '[{"name": "a", "addresses": ["a:1"]}, {"name": "c", "addresses": ["c:1"], "weight": 101, "shadow": true}]': "the weight of a shadow group is the percent of requests mirrored to it, from 0 to 100",
            '[{"name": "a", "addresses": ["a:1"], "shadow": "yes"}]': "shadow must be true or false",
            '[{"name": "c", "addresses": ["c:1"], "weight": 50, "shadow": true}]': "needs a group that is not a shadow with a weight above 0",
            '[{"name": "a", "addresses": ["a:1"], "weight": 0}, {"name": "c", "addresses": ["c:1"], "shadow": true}]': "needs a group that is not a shadow with a weight above 0",
        }
        for text, message in cases.items():
            with self.subTest(text), self.assertRaises(ConfigError) as raised:
                parse_backends(text)
            self.assertIn(message, str(raised.exception))

    def test_sticky_keys(self):
        backends = '[{"name": "m", "addresses": ["a:1"]}]'
        self.assertIsNone(Config({"MLOPS_ROUTER_BACKENDS": backends}).sticky_key)
        for text, expected in (("header:X-User-Id", ("header", "X-User-Id")), ("field:user id", ("field", "user id"))):
            key = Config({"MLOPS_ROUTER_BACKENDS": backends, "MLOPS_ROUTER_STICKY_KEY": text}).sticky_key
            self.assertEqual((key.kind, key.name), expected)
        for text in ("user_id", "cookie:x", "header:", "header:X User", "field:"):
            with self.subTest(text), self.assertRaises(ConfigError) as raised:
                Config({"MLOPS_ROUTER_BACKENDS": backends, "MLOPS_ROUTER_STICKY_KEY": text})
            self.assertEqual(
                str(raised.exception),
                f"MLOPS_ROUTER_STICKY_KEY must be header:NAME (a request header) or field:NAME (a field of the first row), not {text!r}",
            )

    def test_a_bad_sticky_key_stops_the_router(self):
        router = Router([group("m", "a:1")], MLOPS_ROUTER_STICKY_KEY="cookie:session")
        self.addCleanup(router.close)
        self.assertEqual(router.process.wait(10), 1)
        self.assertIn("cannot start: MLOPS_ROUTER_STICKY_KEY must be header:NAME", router.stderr())


if __name__ == "__main__":
    unittest.main()
