"""Adaptive batching: concurrent requests share model calls, yet each gets the answer to its own
rows (the trap of MLServer's batching bugs: wrong, empty or swapped answers under load), its own
request id and log line, and a bad request fails alone."""

import concurrent.futures
import json
import os
import statistics
import time
import unittest

from .serving import ServerTestCase, features, write_model
from .toy_models import Picky

try:
    import numpy
    import pandas
    from sklearn.ensemble import RandomForestRegressor
except ImportError:
    numpy = None

FEATURES = features(("a", "float64"), ("b", "float64"), ("c", "int64"))


def forest():
    rng = numpy.random.default_rng(1)
    frame = pandas.DataFrame({"a": rng.normal(size=400), "b": rng.normal(size=400), "c": rng.integers(0, 9, 400)})
    target = frame.a * 3 - frame.b**2 + frame.c
    return RandomForestRegressor(n_estimators=20, random_state=0).fit(frame, target)


def in_parallel(calls, workers):
    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        return list(pool.map(lambda call: call(), calls))


def read_log(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f]


@unittest.skipIf(numpy is None, "scikit-learn, pandas and numpy are not installed")
class ConcurrentAnswers(ServerTestCase):
    @classmethod
    def model_dirs(cls, root):
        cls.model = forest()
        model_dir = write_model(os.path.join(root, "forest"), model=cls.model, task="regression", features=FEATURES)
        picky = write_model(os.path.join(root, "picky"), model=Picky(), task="regression", features=FEATURES)
        return {
            "forest": (model_dir, {"MLOPS_REQUEST_LOG_DIR": os.path.join(root, "logs")}),
            "picky": (picky, {"MLOPS_MAX_BATCH_WAIT_MS": 50}),
            "lone": (model_dir, {"MLOPS_MAX_BATCH_WAIT_MS": 200}),
            "unbatched": (model_dir, {"MLOPS_MAX_BATCH_SIZE": 1}),
        }

    def test_every_answer_is_the_models_own_for_its_rows(self):
        server = self.servers["forest"]
        rng = numpy.random.default_rng(7)
        requests = []
        for i in range(400):
            count = 1 + i % 3  # requests of one to three rows, each row distinct
            rows = [
                {"a": float(rng.normal()), "b": float(rng.normal()), "c": int(rng.integers(0, 9))} for _ in range(count)
            ]
            requests.append((f"req-{i}", rows))

        def call(request_id, rows):
            def run():
                status, answer, headers = server.post({"dataframe_records": rows}, headers={"X-Request-Id": request_id})
                return status, answer, headers["X-Request-Id"]

            return run

        answers = in_parallel([call(request_id, rows) for request_id, rows in requests], 32)
        for (request_id, rows), (status, answer, echoed) in zip(requests, answers):
            self.assertEqual((status, echoed), (200, request_id))
            expected = self.model.predict(pandas.DataFrame(rows, columns=["a", "b", "c"])).tolist()
            self.assertEqual(answer["predictions"], expected, request_id)

        metrics = server.metrics()
        calls = metrics.get("mlops_batch_requests_count")
        self.assertEqual(metrics.get("mlops_batch_requests_sum"), 400)
        self.assertLess(calls, 400, "no two requests were ever predicted together")
        self.assertEqual(metrics.get("mlops_batch_rows_sum"), sum(len(rows) for _, rows in requests))
        self.assertEqual(metrics.get("mlops_requests_total"), 400)
        self.assertEqual(metrics.get("mlops_predictions_total"), sum(len(rows) for _, rows in requests))

        lines = {line["request_id"]: line for line in read_log(os.path.join(self.root, "logs", "requests.jsonl"))}
        self.assertEqual(len(lines), 400)
        for (request_id, rows), (_, answer, _) in zip(requests, answers):
            self.assertEqual(lines[request_id]["inputs"], rows)
            self.assertEqual(lines[request_id]["predictions"], answer["predictions"])

    def test_a_bad_request_in_a_batch_fails_alone(self):
        server = self.servers["picky"]

        def post(rows, request_id):
            return lambda: server.post({"dataframe_records": rows}, headers={"X-Request-Id": request_id})

        def row(a):
            return {"a": a, "b": 0, "c": 0}

        blocker = concurrent.futures.ThreadPoolExecutor(1).submit(post([row(999)], "blocker"))
        time.sleep(0.1)  # the model sleeps on the blocker while the others queue into one batch
        before = server.metrics()
        calls = [post([row(i), row(i + 0.5)], f"good-{i}") for i in range(6)]
        calls[2] = post([row(-1)], "refused-by-the-model")
        calls[4] = post([{"a": 1, "b": 0}], "missing-column")
        calls.append(post([{"a": 1, "b": 0, "c": "seven"}], "bad-value"))
        answers = in_parallel(calls, len(calls))
        self.assertEqual(blocker.result()[0], 200)

        by_id = {headers["X-Request-Id"]: (status, answer) for status, answer, headers in answers}
        self.assertEqual(by_id["refused-by-the-model"][0], 500)
        self.assertIn("refuses negative values", by_id["refused-by-the-model"][1]["message"])
        self.assertEqual(by_id["missing-column"][0], 400)
        self.assertIn("missing columns: 'c'", by_id["missing-column"][1]["message"])
        self.assertEqual(by_id["bad-value"][0], 400)
        self.assertIn("'c'", by_id["bad-value"][1]["message"])
        for i in (0, 1, 3, 5):
            self.assertEqual(by_id[f"good-{i}"], (200, {"predictions": [i * 2, i * 2 + 1]}))
        # After the blocker, the five requests that passed the checks went to the model in one
        # call, which failed; each was then predicted alone.
        after = server.metrics()
        self.assertEqual(
            [after.get(name) - before.get(name) for name in ("mlops_batch_requests_count", "mlops_batch_requests_sum")],
            [1, 5],
        )

    def test_a_lone_request_does_not_wait_for_a_batch(self):
        row = {"dataframe_records": [{"a": 0.5, "b": -1.0, "c": 3}]}
        lone, unbatched = self.servers["lone"], self.servers["unbatched"]
        timings = {}
        for name, server in (("lone", lone), ("unbatched", unbatched)):
            connection = server.connection()
            seconds = []
            for _ in range(30):
                started = time.perf_counter()
                status, _, _ = server.request(
                    "POST", "/invocations", json.dumps(row), {"Content-Type": "application/json"}, connection
                )
                seconds.append(time.perf_counter() - started)
                self.assertEqual(status, 200)
            connection.close()
            timings[name] = statistics.median(seconds)
        # A batch may wait 200 ms on that server; alone, a request never does.
        self.assertLess(timings["lone"], timings["unbatched"] + 0.02, timings)
