"""The request log: one JSON line per scoring request in MLOPS_REQUEST_LOG_DIR, rotated by size,
and a log that cannot be written never fails a request."""

import datetime
import json
import os
import shutil
import tempfile
import unittest

from mlops_runtime.request_log import RequestLog

from .serving import ServerTestCase, write_model

INVERSE = "def predict(records):\n    return [1 / r['x'] for r in records]\n"


def read_lines(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f]


class RequestLogOfTheServer(ServerTestCase):
    @classmethod
    def model_dirs(cls, root):
        model = write_model(os.path.join(root, "inverse"), "function", source=INVERSE, task="regression")
        not_a_dir = os.path.join(root, "not-a-dir")
        with open(not_a_dir, "w") as f:
            f.write("a file where the log directory should be\n")
        return {
            "logged": (
                model,
                {"MLOPS_REQUEST_LOG_DIR": os.path.join(root, "logs", "new"), "MLOPS_MODEL_VERSION": "v3"},
            ),
            "rotating": (
                model,
                {
                    "MLOPS_REQUEST_LOG_DIR": os.path.join(root, "rotating"),
                    "MLOPS_REQUEST_LOG_MAX_BYTES": 1500,
                    "MLOPS_REQUEST_LOG_BACKUPS": 2,
                },
            ),
            "unwritable": (model, {"MLOPS_REQUEST_LOG_DIR": not_a_dir}),
        }

    def test_each_request_is_one_line_errors_included(self):
        server = self.servers["logged"]
        server.post({"dataframe_records": [{"x": 2}, {"x": 4}]}, headers={"X-Request-Id": "good-1"})
        server.post({"dataframe_records": [{"x": 0}]}, headers={"X-Request-Id": "model-error"})
        server.post("{oops", headers={"X-Request-Id": "bad-json"})
        server.post("x\n8\n", "text/csv")
        good, failed, bad, csv = read_lines(os.path.join(self.root, "logs", "new", "requests.jsonl"))

        self.assertEqual(set(good), {"ts", "request_id", "version", "inputs", "predictions", "latency_ms", "status"})
        self.assertEqual((good["request_id"], good["version"], good["status"]), ("good-1", "v3", 200))
        self.assertEqual((good["inputs"], good["predictions"]), ([{"x": 2}, {"x": 4}], [0.5, 0.25]))
        self.assertGreaterEqual(good["latency_ms"], 0)
        logged_at = datetime.datetime.fromisoformat(good["ts"].replace("Z", "+00:00"))
        self.assertLess(abs((datetime.datetime.now(datetime.timezone.utc) - logged_at).total_seconds()), 60)

        self.assertEqual((failed["status"], failed["inputs"], failed["predictions"]), (500, [{"x": 0}], None))
        self.assertIn("ZeroDivisionError", failed["error"])
        self.assertEqual((bad["status"], bad["inputs"], bad["request_id"]), (400, None, "bad-json"))
        self.assertIn("invalid JSON", bad["error"])
        self.assertEqual((csv["inputs"], csv["predictions"]), ([{"x": 8}], [0.125]))
        self.assertEqual(len(csv["request_id"]), 36, "a generated uuid")

    def test_the_log_rotates_by_size_and_keeps_the_newest_lines(self):
        server = self.servers["rotating"]
        sent = [f"rotation-{i:03d}" for i in range(40)]
        for request_id in sent:
            status, _, _ = server.post({"instances": [{"x": 1}, {"x": 2}]}, headers={"X-Request-Id": request_id})
            self.assertEqual(status, 200)
        directory = os.path.join(self.root, "rotating")
        self.assertEqual(
            sorted(os.listdir(directory)),
            ["requests.jsonl", "requests.jsonl.1", "requests.jsonl.2"],
            "two backups are kept",
        )
        kept = []
        for name in ("requests.jsonl.2", "requests.jsonl.1", "requests.jsonl"):
            path = os.path.join(directory, name)
            self.assertLessEqual(os.path.getsize(path), 1500)
            kept += [entry["request_id"] for entry in read_lines(path)]
        self.assertGreater(len(kept), 10)
        self.assertEqual(kept, sent[-len(kept) :], "the oldest lines are dropped, the newest kept in order")

    def test_a_log_that_cannot_be_written_does_not_fail_requests(self):
        server = self.servers["unwritable"]
        for _ in range(3):
            self.assertEqual(server.predict({"instances": [{"x": 4}]}), [0.25])
        self.assertEqual(server.metrics().get("mlops_request_log_errors_total"), 3)
        self.assertEqual(server.stderr().count("cannot write the request log"), 1, "warned once, then counted")


class RotationWithoutBackups(unittest.TestCase):
    def test_no_backups_starts_the_file_again_and_a_long_line_stands_alone(self):
        directory = tempfile.mkdtemp(prefix="mlops-runtime-test-")
        self.addCleanup(shutil.rmtree, directory)
        log = RequestLog(directory, max_bytes=100, backups=0)
        log.write({"n": 1})
        log.write({"n": 2, "padding": "x" * 200})
        self.assertEqual(
            [{k: v for k, v in line.items() if k != "ts"} for line in read_lines(log.path)],
            [{"n": 2, "padding": "x" * 200}],
        )
        log.write({"n": 3})
        self.assertEqual([line["n"] for line in read_lines(log.path)], [3])
        self.assertEqual(os.listdir(directory), ["requests.jsonl"])


if __name__ == "__main__":
    unittest.main()
