"""The model server over HTTP: every input format, the errors it answers, and its endpoints.

Each test class starts the real server (`python -m mlops_runtime`) in a subprocess over a
temporary model directory.
"""

import json
import os
import unittest
import uuid

from mlops_runtime.server import model_version

from . import toy_models
from .serving import ServerTestCase, features, write_model

try:
    import pandas
except ImportError:
    pandas = None

FEATURES = features(("age", "int64"), ("income", "float64"), ("city", "object"), ("member", "bool"))
NAMES = [f["name"] for f in FEATURES]


class InputFormats(ServerTestCase):
    @classmethod
    def model_dirs(cls, root):
        return {"echo": (write_model(os.path.join(root, "echo"), model=toy_models.Echo(), features=FEATURES), {})}

    def setUp(self):
        self.server = self.servers["echo"]

    def assert_echo(self, predictions, rows):
        self.assertEqual([p["values"] for p in predictions], rows)
        if pandas is not None:  # the estimator gets a DataFrame with the columns in the features' order
            self.assertEqual({tuple(p["columns"]) for p in predictions}, {tuple(NAMES)})

    def test_every_format_gives_the_model_the_same_rows(self):
        rows = [[42, 50000.5, "Paris", True], [17, 0.0, "Lyon", False]]
        records = [dict(zip(reversed(NAMES), reversed(row))) for row in rows]  # keys in another order
        columns = ["city", "member", "income", "age"]
        payloads = {
            "dataframe_records": {"dataframe_records": records},
            "dataframe_split": {
                "dataframe_split": {"columns": columns, "data": [[r[c] for c in columns] for r in records]}
            },
            "dataframe_split without columns": {"dataframe_split": {"data": rows}},
            "dataframe_split with index": {"dataframe_split": {"index": [7, 8], "columns": NAMES, "data": rows}},
            "instances of objects": {"instances": records},
            "instances of lists": {"instances": rows},
            "inputs as columns": {"inputs": {name: [row[i] for row in rows] for i, name in enumerate(NAMES)}},
            "inputs as rows": {"inputs": records},
        }
        for name, payload in payloads.items():
            with self.subTest(name):
                self.assert_echo(self.server.predict(payload), rows)

    def test_inputs_of_scalars_are_one_row(self):
        self.assert_echo(
            self.server.predict({"inputs": {"age": 1, "income": 2.5, "city": "Nice", "member": False}}),
            [[1, 2.5, "Nice", False]],
        )

    def test_csv_with_a_header_row_is_typed_from_the_features(self):
        body = 'member,city,age,income\r\ntrue,"Paris, France",42,50000.5\n0,Lyon,17,0\n'
        self.assert_echo(
            self.server.predict(body, "text/csv"), [[42, 50000.5, "Paris, France", True], [17, 0.0, "Lyon", False]]
        )
        status, answer, _ = self.server.post(body, "text/csv; charset=utf-8")
        self.assertEqual(status, 200, answer)

    def test_strings_are_typed_and_missing_values_become_null(self):
        records = [
            {"age": "42", "income": "1e3", "city": None, "member": "TRUE"},
            {"age": None, "income": "", "city": "", "member": None},
        ]
        self.assert_echo(
            self.server.predict({"dataframe_records": records}), [[42, 1000.0, None, True], [None, None, "", None]]
        )
        body = "age,income,city,member\n,NA,,\n"
        self.assert_echo(self.server.predict(body, "text/csv"), [[None, None, None, None]])

    def test_a_nan_from_json_dumps_is_a_missing_value(self):
        body = '{"dataframe_records": [{"age": 1, "income": NaN, "city": "Paris", "member": true}]}'
        self.assert_echo(self.server.predict(body), [[1, None, "Paris", True]])

    def test_a_content_type_parameter_and_json_suffix_are_accepted(self):
        for content_type in ("application/json; charset=utf-8", "application/vnd.example+json"):
            status, _, _ = self.server.post({"instances": [[1, 2.0, "a", True]]}, content_type)
            self.assertEqual(status, 200, content_type)


class BadRequests(ServerTestCase):
    @classmethod
    def model_dirs(cls, root):
        return {
            "echo": (
                write_model(os.path.join(root, "echo"), model=toy_models.Echo(), features=FEATURES),
                {"MLOPS_MAX_REQUEST_BYTES": 4096},
            ),
            "failing": (write_model(os.path.join(root, "failing"), model=toy_models.Failing(), features=FEATURES), {}),
        }

    def setUp(self):
        self.server = self.servers["echo"]

    def assert_bad(self, payload, *fragments, content_type="application/json"):
        code, answer, _ = self.server.post(payload, content_type)
        self.assertEqual((code, answer["error_code"]), (400, "BAD_REQUEST"), answer)
        for fragment in fragments:
            self.assertIn(fragment, answer["message"])
        return answer["message"]

    def test_missing_and_extra_columns_are_named(self):
        message = self.assert_bad(
            {"dataframe_records": [{"age": 1, "income": 2.0, "town": "Paris", "Member": True}]},
            "missing columns: 'city', 'member'",
            "extra columns: 'town', 'Member'",
        )
        self.assertIn("The model takes 'age', 'income', 'city', 'member'", message)
        self.assert_bad(
            {"dataframe_split": {"columns": ["age", "income", "city"], "data": [[1, 2.0, "x"]]}},
            "missing columns: 'member'",
        )
        self.assert_bad(
            {"instances": [{"age": 1, "income": 2, "city": "x", "member": True}, {"age": 1}]},
            "missing columns: 'income', 'city', 'member'",
        )
        message = self.assert_bad(
            "age,income,city,member,zip\n1,2,x,true,75001\n", "extra columns: 'zip'", content_type="text/csv"
        )
        self.assertNotIn("missing", message)

    def test_invalid_json_and_unknown_formats(self):
        self.assert_bad('{"dataframe_records": [', "invalid JSON")
        self.assert_bad(
            {"records": []}, "unknown key 'records'", "dataframe_records, dataframe_split, instances, inputs"
        )
        self.assert_bad({"instances": [], "inputs": []}, "exactly one of", "'instances', 'inputs'")
        self.assert_bad({}, "exactly one of")
        self.assert_bad([1, 2], "expected a JSON object")
        self.assert_bad({"dataframe_records": {"age": 1}}, "dataframe_records must be a list")
        self.assert_bad({"dataframe_split": [[1]]}, "dataframe_split must be an object")
        self.assert_bad(
            {"dataframe_split": {"columns": NAMES, "data": [[1]]}}, "dataframe_split.data[0] must be a list of 4 values"
        )
        self.assert_bad({"dataframe_split": {"columns": NAMES, "data": [], "orient": "split"}}, "unknown key 'orient'")
        self.assert_bad({"inputs": {"age": [1, 2], "income": [1]}}, "different lengths", "age: 2", "income: 1")

    def test_rows_that_do_not_fit_the_features(self):
        self.assert_bad({"dataframe_records": []}, "no rows")
        self.assert_bad({"instances": [[1, 2.0, "x"]]}, "row 0 has 3 values but the model takes 4 features")
        self.assert_bad({"instances": [5]}, "row 0 is the value 5")
        self.assert_bad(
            {"instances": [{"age": "old", "income": 1, "city": "x", "member": True}]},
            "row 0, column 'age': \"old\" is not a number",
        )
        self.assert_bad({"instances": [[1, 2.0, "x", "maybe"]]}, "column 'member': \"maybe\" is not true or false")
        self.assert_bad('{"instances": [[1, Infinity, "x", true]]}', "Infinity is not a value a model can take")

    def test_bad_csv(self):
        self.assert_bad("", "empty", content_type="text/csv")
        self.assert_bad(
            "age,income,city,member\n1,2,x\n", "CSV row 1 has 3 fields but the header has 4", content_type="text/csv"
        )
        self.assert_bad("age,age,city,member\n1,2,x,true\n", "repeats 'age'", content_type="text/csv")
        self.assert_bad(b"age,income,city,member\n1,2,\xff,true\n", "not UTF-8", content_type="text/csv")

    def test_other_content_types_are_415(self):
        code, answer, _ = self.server.post("age=1", "application/x-www-form-urlencoded")
        self.assertEqual((code, answer["error_code"]), (415, "UNSUPPORTED_MEDIA_TYPE"))
        self.assertIn("application/json or text/csv", answer["message"])

    def test_a_body_over_the_limit_is_413_and_the_connection_closed(self):
        conn = self.server.connection()
        status, headers, body = self.server.request(
            "POST",
            "/invocations",
            json.dumps({"instances": [[1, 2.0, "x" * 5000, True]]}),
            {"Content-Type": "application/json"},
            conn,
        )
        self.assertEqual(status, 413)
        self.assertEqual(json.loads(body)["error_code"], "REQUEST_TOO_LARGE")
        self.assertIn("MLOPS_MAX_REQUEST_BYTES", json.loads(body)["message"])
        self.assertEqual(headers["Connection"], "close")
        conn.close()

    def test_a_chunked_body_is_411(self):
        conn = self.server.connection()
        try:
            conn.request(
                "POST",
                "/invocations",
                body=iter([b'{"instances": [[1, 2.0, "x", true]]}']),
                headers={"Content-Type": "application/json"},
                encode_chunked=True,
            )
            response = conn.getresponse()
            self.assertEqual((response.status, json.loads(response.read())["error_code"]), (411, "LENGTH_REQUIRED"))
            self.assertEqual(response.headers["Connection"], "close", "the unread body cannot be taken for a request")
        finally:
            conn.close()

    def test_a_model_that_raises_is_500_with_its_message(self):
        code, answer, _ = self.servers["failing"].post({"instances": [[1, 2.0, "x", True]]})
        self.assertEqual(code, 500)
        self.assertEqual(answer["error_code"], "INTERNAL_ERROR")
        self.assertIn("ValueError: the toy model refuses to predict", answer["message"])
        self.assertIn("the toy model refuses to predict", self.servers["failing"].stderr(), "the traceback is logged")

    def test_unknown_paths_and_methods(self):
        status, _, body = self.server.request("GET", "/predict")
        self.assertEqual(status, 404)
        self.assertEqual(json.loads(body)["error_code"], "ENDPOINT_NOT_FOUND")
        self.assertIn("/invocations", json.loads(body)["message"])
        status, headers, _ = self.server.request("GET", "/invocations")
        self.assertEqual((status, headers["Allow"]), (405, "POST"))
        status, _, _ = self.server.request("DELETE", "/ping")
        self.assertEqual(status, 405)

    def test_a_connection_stays_usable_after_errors(self):
        conn = self.server.connection()
        try:
            for payload, expected in (({"bogus": 1}, 400), ({"instances": [[1, 2.0, "x", True]]}, 200)):
                status, _, _ = self.server.request(
                    "POST", "/invocations", json.dumps(payload), {"Content-Type": "application/json"}, conn
                )
                self.assertEqual(status, expected)
            status, _, _ = self.server.request("POST", "/nowhere", "a body nobody reads", {}, conn)
            self.assertEqual(status, 404)
        finally:
            conn.close()


class FunctionMode(ServerTestCase):
    SOURCE = (
        "import math\n\n"
        "def score(record):\n"
        "    return round(math.fsum(weights[k] * record[k] for k in weights) + offset, 6)\n\n"
        "def predict(records):\n"
        "    assert __name__ == 'serve'\n"
        "    return tuple(score(r) for r in records)\n"
    )
    PANDAS_SOURCE = (
        "import pandas as pd\n\n"
        "def predict(records):\n"
        "    frame = pd.DataFrame(records)\n"
        "    if 'as_frame' in frame:  # a DataFrame answers one object per row\n"
        "        return pd.DataFrame({'label': ['a'] * len(frame), 'p': frame['x'] / 2})\n"
        "    return frame['x'] * 2\n"
    )

    @classmethod
    def model_dirs(cls, root):
        namespace = {"weights": {"x": 2.0, "y": -1.0}, "offset": 0.5}
        dirs = {
            "function": (
                write_model(
                    os.path.join(root, "function"),
                    "function",
                    namespace=namespace,
                    source=cls.SOURCE,
                    task="regression",
                ),
                {},
            )
        }
        if pandas is not None:
            dirs["pandas"] = (write_model(os.path.join(root, "pandas"), "function", source=cls.PANDAS_SOURCE), {})
        return dirs

    def test_predict_gets_records_and_the_pickled_namespace(self):
        server = self.servers["function"]
        self.assertEqual(server.predict({"dataframe_records": [{"x": 1, "y": 1}, {"x": 2.5, "y": 0}]}), [1.5, 5.5])
        self.assertEqual(server.predict("x,y\n1,1\n", "text/csv"), [1.5], "without dtypes, CSV numbers are numbers")
        self.assertEqual(server.predict({"inputs": {"x": [3], "y": [1]}}), [5.5])

    def test_without_features_any_columns_reach_predict(self):
        code, answer, _ = self.servers["function"].post({"dataframe_records": [{"x": 1}]})
        self.assertEqual(code, 500)
        self.assertIn("KeyError: 'y'", answer["message"])
        code, answer, _ = self.servers["function"].post({"instances": [{"x": 1, "y": 2}, [1, 2]]})
        self.assertEqual(code, 400)
        self.assertIn("mix objects and lists", answer["message"])

    def test_a_pandas_series_or_frame_becomes_a_list(self):
        if pandas is None:
            self.skipTest("pandas is not installed")
        self.assertEqual(self.servers["pandas"].predict({"dataframe_records": [{"x": 1}, {"x": 4}]}), [2, 8])
        self.assertEqual(
            self.servers["pandas"].predict({"dataframe_records": [{"x": 1, "as_frame": 1}]}), [{"label": "a", "p": 0.5}]
        )


class Endpoints(ServerTestCase):
    LABELS = {
        "org.opencontainers.image.revision": "0123456789abcdef",
        "mlops.git.commit": "0123456789abcdef",
        "mlops.git.dirty": "false",
        "mlops.notebook": "notebooks/churn.ipynb",
        "mlops.context.hash": "sha256deadbeefcafe0011",
    }

    @classmethod
    def model_dirs(cls, root):
        labels_file = os.path.join(root, "labels.json")
        with open(labels_file, "w") as f:
            json.dump(cls.LABELS, f)
        model = write_model(
            os.path.join(root, "clf"),
            model=toy_models.Threshold(0.5),
            task="classification",
            classes=["no", "yes"],
            features=features(("score", "float64")),
        )
        return {
            "labelled": (model, {"MLOPS_LABELS_FILE": labels_file}),
            "pinned": (model, {"MLOPS_LABELS_FILE": labels_file, "MLOPS_MODEL_VERSION": "v7"}),
        }

    def test_ping_and_health(self):
        server = self.servers["labelled"]
        status, headers, body = server.request("GET", "/ping")
        self.assertEqual((status, body), (200, b"\n"))
        server.predict({"instances": [[0.9]]})
        status, health = server.get_json("/health")
        self.assertEqual(status, 200)
        self.assertEqual(health["status"], "ok")
        self.assertEqual(health["version"], "sha256deadbe")
        self.assertGreaterEqual(health["requests"], 1)
        self.assertEqual(health["in_flight"], 0)
        self.assertGreater(health["uptime_seconds"], 0)

    def test_version_names_the_model_and_the_image(self):
        status, answer = self.servers["labelled"].get_json("/version")
        self.assertEqual(status, 200)
        self.assertEqual(answer["version"], "sha256deadbe", "the first 12 characters of mlops.context.hash")
        self.assertEqual(answer["labels"], self.LABELS)
        self.assertEqual(answer["model"]["mode"], "estimator")
        self.assertEqual(answer["model"]["task"], "classification")
        self.assertEqual(answer["model"]["classes"], ["no", "yes"])
        self.assertEqual(answer["model"]["variable"], "model")
        self.assertEqual(self.servers["pinned"].get_json("/version")[1]["version"], "v7", "MLOPS_MODEL_VERSION wins")

    def test_the_version_comes_from_the_environment_then_the_labels(self):
        labels = {"mlops.version": "1.2.0", "mlops.context.hash": "abcdef0123456789"}
        self.assertEqual(model_version("v9", labels), "v9")
        self.assertEqual(model_version(None, labels), "1.2.0")
        self.assertEqual(model_version(None, {"mlops.context.hash": "abcdef0123456789"}), "abcdef012345")
        self.assertEqual(model_version(None, {}), "unknown")

    def test_the_startup_line_names_version_and_mode(self):
        self.assertRegex(
            self.servers["labelled"].stderr(),
            r"serving estimator 'model' \(classification\) version sha256deadbe on 127\.0\.0\.1 port \d+",
        )

    def test_request_ids_are_taken_or_made(self):
        server = self.servers["labelled"]
        _, _, headers = server.post({"instances": [[1]]}, headers={"X-Request-Id": "client-id-1"})
        self.assertEqual(headers["X-Request-Id"], "client-id-1")
        code, _, headers = server.post({"nope": 1}, headers={"X-Request-Id": "client-id-2"})
        self.assertEqual((code, headers["X-Request-Id"]), (400, "client-id-2"), "errors carry it too")
        _, _, headers = server.post({"instances": [[1]]})
        self.assertEqual(uuid.UUID(headers["X-Request-Id"]).version, 4)
        status, headers, _ = server.request("GET", "/ping", headers={"X-Request-Id": "ping-1"})
        self.assertEqual(headers["X-Request-Id"], "ping-1")
        _, _, headers = server.post({"instances": [[1]]}, headers={"X-Request-Id": "x" * 300})
        self.assertEqual(uuid.UUID(headers["X-Request-Id"]).version, 4, "an id too long to echo is replaced")

    def test_a_connection_is_kept_alive(self):
        conn = self.servers["labelled"].connection()
        try:
            for _ in range(3):
                status, headers, _ = self.servers["labelled"].request("GET", "/ping", connection=conn)
                self.assertEqual(status, 200)
                self.assertNotEqual(headers.get("Connection"), "close")
        finally:
            conn.close()


if __name__ == "__main__":
    unittest.main()
