"""GET /requests: the request log's lines after a time, oldest first across the rotated files,
at most a limit of them but never some of those sharing a ts, so that a client that asks again
from the last ts it got receives every line once."""

import json
import os
import shutil
import tempfile
import threading
import time
import unittest
from urllib.parse import quote

from mlops_runtime.request_log import TIMESTAMP, RequestLog, parse_query

from .serving import ServerTestCase, write_model

ECHO = "def predict(records):\n    return [r.get('x') for r in records]\n"
# Requests that overlap and end in another order than they began.
JITTER = "import random, time\n\ndef predict(records):\n    time.sleep(random.random() * 0.004)\n    return [1 for r in records]\n"


def ts(milliseconds):
    return f"2025-06-01T10:00:00.{milliseconds:03d}Z"


def line(milliseconds, request_id):
    return json.dumps({"ts": ts(milliseconds), "request_id": request_id, "status": 200}, separators=(",", ":")) + "\n"


# The files of a log with two backups, oldest first, with lines to skip; ids are in ts order.
PREPARED = {
    "requests.jsonl.2": line(1, "r1") + line(2, "r2") + line(2, "r3"),
    "requests.jsonl.1": (
        "not JSON\n[1, 2]\n"
        + '{"ts": 5}\n'
        + line(3, "r4")
        + line(3, "r5")
        + line(3, "r6")
        + "\n"
        + json.dumps({"request_id": "r7", "ts": ts(4)})
        + "\n"  # ts not first: read by parsing the line
    ),
    "requests.jsonl": line(5, "r8") + line(6, "r9") + line(7, "r10")[:30],  # r10 is still being written
}


def write_files(directory, files):
    os.makedirs(directory, exist_ok=True)
    for name, text in files.items():
        with open(os.path.join(directory, name), "w") as f:
            f.write(text)


class Requests(ServerTestCase):
    @classmethod
    def model_dirs(cls, root):
        model = write_model(os.path.join(root, "echo"), "function", source=ECHO)
        jitter = write_model(os.path.join(root, "jitter"), "function", source=JITTER)
        write_files(os.path.join(root, "prepared"), PREPARED)
        write_files(os.path.join(root, "growing"), {"requests.jsonl": line(1, "g1") + line(2, "g2")[:20]})
        return {
            "prepared": (
                model,
                {"MLOPS_REQUEST_LOG_DIR": os.path.join(root, "prepared"), "MLOPS_REQUEST_LOG_BACKUPS": 2},
            ),
            "growing": (model, {"MLOPS_REQUEST_LOG_DIR": os.path.join(root, "growing")}),
            "busy": (
                jitter,
                {
                    "MLOPS_REQUEST_LOG_DIR": os.path.join(root, "busy"),
                    "MLOPS_REQUEST_LOG_MAX_BYTES": 3000,
                    "MLOPS_REQUEST_LOG_BACKUPS": 100,
                },
            ),
            "no log": (model, {}),
        }

    def read(self, server, since=None, limit=None):
        """(request ids, headers) of GET /requests."""
        query = "&".join(
            f"{name}={quote(str(value))}" for name, value in (("since", since), ("limit", limit)) if value is not None
        )
        status, headers, body = server.request("GET", "/requests?" + query)
        self.assertEqual(status, 200, body)
        self.assertEqual(headers["Content-Type"], "application/x-ndjson")
        self.assertTrue(body == b"" or body.endswith(b"\n"), body)
        return [json.loads(text)["request_id"] for text in body.decode("utf-8").splitlines()], headers

    def test_all_lines_oldest_first_across_the_rotated_files_skipping_what_is_not_a_line(self):
        server = self.servers["prepared"]
        ids, headers = self.read(server)
        self.assertEqual(ids, [f"r{n}" for n in range(1, 10)], "r10 has no newline yet")
        self.assertIsNone(headers["X-Mlops-More"])
        self.assertRegex(headers["X-Mlops-Complete-Before"], TIMESTAMP)
        status, _, body = server.request("GET", "/requests")
        backup_1 = PREPARED["requests.jsonl.1"].splitlines(True)
        expected = PREPARED["requests.jsonl.2"] + "".join(backup_1[3:6] + backup_1[7:]) + line(5, "r8") + line(6, "r9")
        self.assertEqual(body.decode("utf-8"), expected, "the lines go out as they are written")

    def test_since_is_exclusive_and_takes_any_iso_time(self):
        server = self.servers["prepared"]
        for since in (
            ts(2),
            "2025-06-01T10:00:00.002+00:00",
            "2025-06-01T12:00:00.002+02:00",
            "2025-06-01T10:00:00.002",
        ):
            with self.subTest(since):
                self.assertEqual(self.read(server, since)[0], ["r4", "r5", "r6", "r7", "r8", "r9"])
        self.assertEqual(self.read(server, ts(6))[0], [])
        self.assertEqual(self.read(server, "2025-06-01")[0], [f"r{n}" for n in range(1, 10)])

    def test_the_limit_keeps_lines_of_one_ts_together_and_says_there_are_more(self):
        server = self.servers["prepared"]
        pages, since = [], None
        while True:
            ids, headers = self.read(server, since, limit=2)
            pages.append(ids)
            if headers["X-Mlops-More"] is None:
                break
            self.assertEqual(headers["X-Mlops-More"], "1")
            since = {"r1": ts(1), "r3": ts(2), "r6": ts(3), "r7": ts(4), "r8": ts(5), "r9": ts(6)}[ids[-1]]
        self.assertEqual(pages, [["r1", "r2", "r3"], ["r4", "r5", "r6"], ["r7", "r8"], ["r9"]])
        ids, headers = self.read(server, limit=1)
        self.assertEqual((ids, headers["X-Mlops-More"]), (["r1"], "1"))
        self.assertIsNone(self.read(server, limit=9)[1]["X-Mlops-More"], "exactly the lines there are")

    def test_a_line_still_being_written_comes_once_it_is_whole(self):
        server = self.servers["growing"]
        self.assertEqual(self.read(server)[0], ["g1"])
        with open(os.path.join(self.root, "growing", "requests.jsonl"), "a") as f:
            f.write(line(2, "g2")[20:])
        self.assertEqual(self.read(server, ts(1))[0], ["g2"])

    def test_bad_parameters_are_400_naming_them(self):
        cases = {
            "limit=0": "limit must be a whole number from 1 to 100000, not '0'",
            "limit=100001": "not '100001'",
            "limit=ten": "not 'ten'",
            "limit=-1": "not '-1'",
            "since=yesterday": "since must be an ISO 8601 time such as 2026-11-27T21:45:32.123Z",
            "since=2025-06-01T10:00:00.002+02:00": "not '2025-06-01T10:00:00.002 02:00'",  # a + left unencoded is a space
            "sinse=2025-06-01": "unknown parameter 'sinse'; /requests takes since and limit",
            "limit=1&limit=2": "limit is given 2 times",
        }
        for query, message in cases.items():
            with self.subTest(query):
                status, _, body = self.servers["prepared"].request("GET", "/requests?" + query)
                self.assertEqual((status, json.loads(body)["error_code"]), (400, "BAD_REQUEST"))
                self.assertIn(message, json.loads(body)["message"])
        self.assertEqual(self.read(self.servers["prepared"], limit=100000)[0][-1], "r9")

    def test_without_a_log_directory_it_is_404_saying_how_to_keep_one(self):
        status, answer = self.servers["no log"].get_json("/requests")
        self.assertEqual((status, answer["error_code"]), (404, "REQUEST_LOG_DISABLED"))
        self.assertIn("set MLOPS_REQUEST_LOG_DIR", answer["message"])
        status, answer = self.servers["no log"].get_json("/nowhere")
        self.assertIn("/requests", answer["message"], "listed among the endpoints")
        status, headers, _ = self.servers["no log"].request("POST", "/requests", "{}")
        self.assertEqual((status, headers["Allow"]), (405, "GET"))

    def test_a_reader_keeping_up_with_a_busy_rotating_log_gets_every_line_once(self):
        server = self.servers["busy"]
        sent = [f"busy-{client}-{n}" for client in range(4) for n in range(40)]

        def send(client):
            connection = server.connection()
            for n in range(40):
                server.request(
                    "POST",
                    "/invocations",
                    '{"instances": [{"x": 1}]}',
                    {"Content-Type": "application/json", "X-Request-Id": f"busy-{client}-{n}"},
                    connection,
                )
            connection.close()

        clients = [threading.Thread(target=send, args=(client,)) for client in range(4)]
        for client in clients:
            client.start()
        received, times = [], []

        def poll():
            """Reads the lines after the last ts received; True when there are more."""
            since = f"&since={quote(times[-1])}" if times else ""
            status, headers, body = server.request("GET", "/requests?limit=7" + since)
            self.assertEqual(status, 200)
            entries = [json.loads(text) for text in body.decode("utf-8").splitlines()]
            received.extend(entry["request_id"] for entry in entries)
            times.extend(entry["ts"] for entry in entries)
            return headers["X-Mlops-More"] == "1"

        while any(client.is_alive() for client in clients):
            if not poll():
                time.sleep(0.005)
        time.sleep(0.01)  # past the millisecond of the last line
        while poll():
            pass
        self.assertEqual(sorted(received), sorted(sent))
        self.assertEqual(times, sorted(times), "oldest first")
        self.assertGreater(len(os.listdir(os.path.join(self.root, "busy"))), 3, "the log rotated meanwhile")
        self.assertEqual(
            server.metrics().get("mlops_requests_total"), len(sent), "reading the log is not a scoring request"
        )
        self.assertEqual(len(self.read(server)[0]), len(sent), "nor a line of it")


class Reading(unittest.TestCase):
    def test_the_query_string(self):
        self.assertEqual(parse_query(""), (None, 10000))
        self.assertEqual(parse_query("since=&limit="), (None, 10000), "empty is absent")
        self.assertEqual(
            parse_query("since=2025-06-01T12:00:00.123456%2B02:00&limit=5"), (ts(123), 5), "in UTC, to the millisecond"
        )

    def test_each_line_gets_a_later_ts_than_the_line_before(self):
        directory = tempfile.mkdtemp(prefix="mlops-runtime-test-")
        self.addCleanup(shutil.rmtree, directory)
        log = RequestLog(directory, max_bytes=10000, backups=1)
        for n in range(200):
            log.write({"n": n})
        with open(log.path, encoding="utf-8") as f:
            texts = f.read().splitlines()
        self.assertTrue(texts[0].startswith('{"ts":"') and texts[0].endswith(',"n":0}'), texts[0])
        times = [json.loads(text)["ts"] for text in texts]
        self.assertEqual(times, sorted(times))
        log._last_ts = "2999-01-01T00:00:00.000Z"  # as if the clock had been set back since
        log.write({})
        with open(log.path, encoding="utf-8") as f:
            self.assertEqual(f.read().splitlines()[-1], '{"ts":"2999-01-01T00:00:00.000Z"}')
        selection = log.read(None, 1000)
        self.addCleanup(selection.close)
        self.assertEqual(selection.complete_before, "2999-01-01T00:00:00.000Z", "a line of that ts may still come")
        self.assertEqual(b"".join(selection.chunks()).decode("utf-8").splitlines(), texts, "the lines before it")


if __name__ == "__main__":
    unittest.main()
