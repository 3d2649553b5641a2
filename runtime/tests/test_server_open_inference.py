"""The Open Inference Protocol (KServe V2) beside /invocations: the same model, rows and answers,
the same request log and metrics, named tensors or one 2-D tensor, JSON or binary data, and
errors as the protocol says."""

import concurrent.futures
import json
import os
import struct

from .serving import ServerTestCase, features, write_model
from .toy_models import Echo, Probabilities

FEATURES = features(("x", "float64"), ("n", "int32"), ("flag", "bool"), ("city", "object"))
ROWS = [
    {"x": 0.25, "n": 3, "flag": True, "city": "Paris"},
    {"x": 2.5, "n": -1, "flag": False, "city": "Lyon"},
    {"x": 1.0, "n": 0, "flag": True, "city": "Nice"},
]


def named_tensors(rows, column_shape=lambda n: [n]):
    kinds = {"x": "FP64", "n": "INT32", "flag": "BOOL", "city": "BYTES"}
    return [
        {"name": name, "shape": column_shape(len(rows)), "datatype": kind, "data": [row[name] for row in rows]}
        for name, kind in kinds.items()
    ]


def read_log(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f]


class OpenInference(ServerTestCase):
    @classmethod
    def model_dirs(cls, root):
        scored = write_model(
            os.path.join(root, "scored"),
            model=Probabilities(1.0),
            task="classification",
            classes=["no", "yes"],
            features=FEATURES,
        )
        echo = write_model(os.path.join(root, "echo"), model=Echo(), features=FEATURES)
        arrays = write_model(os.path.join(root, "arrays"), model=Echo())
        labels = os.path.join(root, "labels.json")
        with open(labels, "w") as f:
            json.dump({"org.opencontainers.image.title": "churn", "mlops.version": "v7"}, f)
        return {
            "scored": (scored, {"MLOPS_LABELS_FILE": labels, "MLOPS_REQUEST_LOG_DIR": os.path.join(root, "logs")}),
            "echo": (echo, {"MLOPS_MODEL_NAME": "echo"}),
            "arrays": (arrays, {}),
        }

    def infer(self, server, payload, name=None, headers=None, path=None):
        path = path or f"/v2/models/{name}/infer"
        body = payload if isinstance(payload, bytes) else json.dumps(payload)
        status, answer_headers, answer = server.request(
            "POST", path, body, {"Content-Type": "application/json", **(headers or {})}
        )
        return status, json.loads(answer), answer_headers

    def test_health_and_metadata(self):
        server = self.servers["scored"]
        self.assertEqual(server.get_json("/v2/health/live"), (200, {"live": True}))
        self.assertEqual(server.get_json("/v2/health/ready"), (200, {"ready": True}))
        self.assertEqual(server.get_json("/v2/models/churn/ready")[0], 200)
        self.assertEqual(server.get_json("/v2/models/churn/versions/v7/ready")[0], 200)
        status, meta = server.get_json("/v2")
        self.assertEqual((status, meta["name"], meta["version"]), (200, "mlops-runtime", "v7"))
        status, meta = server.get_json("/v2/models/churn")
        self.assertEqual(status, 200)
        self.assertEqual((meta["name"], meta["versions"]), ("churn", ["v7"]))
        self.assertEqual(
            meta["inputs"],
            [
                {"name": "x", "datatype": "FP64", "shape": [-1]},
                {"name": "n", "datatype": "INT32", "shape": [-1]},
                {"name": "flag", "datatype": "BOOL", "shape": [-1]},
                {"name": "city", "datatype": "BYTES", "shape": [-1]},
            ],
        )
        self.assertEqual(
            meta["outputs"],
            [
                {"name": "predict", "datatype": "BYTES", "shape": [-1]},
                {"name": "predict_proba", "datatype": "FP64", "shape": [-1, 2]},
            ],
        )
        self.assertEqual(server.get_json("/v2/models/churn/versions/v7")[1], meta)
        self.assertEqual(self.servers["echo"].get_json("/v2/models/echo")[1]["name"], "echo")
        self.assertEqual(self.servers["arrays"].get_json("/v2/models/model")[1]["inputs"][0]["shape"], [-1, -1])

    def test_errors_as_the_protocol_says(self):
        server = self.servers["scored"]
        for path, status, words in (
            ("/v2/models/other", 404, "no model 'other'; this server serves 'churn'"),
            ("/v2/models/churn/versions/v1/ready", 404, "has no version 'v1'; this server serves 'v7'"),
            ("/v2/models/churn/explain", 404, "no endpoint /v2/models/churn/explain"),
        ):
            got, answer = server.get_json(path)
            self.assertEqual(got, status, path)
            self.assertIn(words, answer["error"])
        status, headers, _ = server.request("GET", "/v2/models/churn/infer")
        self.assertEqual((status, headers["Allow"]), (405, "POST"))

        bad = [
            (b"{oops", "not JSON"),
            ({"inputs": []}, "inputs must be a non-empty list"),
            ({"inputs": [{"name": "x", "shape": [2], "datatype": "FP64", "data": [1.0]}]}, "shape [2] holds 2 values"),
            ({"inputs": [{"name": "x", "shape": [1], "datatype": "FP99", "data": [1]}]}, "datatype must be one of"),
            ({"inputs": [{"name": "n", "shape": [1], "datatype": "INT32", "data": [1.5]}]}, "1.5 is not a INT32"),
            ({"inputs": named_tensors(ROWS)[:3]}, "missing columns: 'city'"),
            ({"inputs": named_tensors(ROWS), "outputs": [{"name": "explain"}]}, 'no output "explain"'),
            (
                {"inputs": [{"name": "rows", "shape": [1, 3], "datatype": "FP64", "data": [1, 2, 3]}]},
                "row 0 has 3 values but the model takes 4 features",
            ),
        ]
        for payload, words in bad:
            status, answer, _ = self.infer(server, payload, "churn")
            self.assertEqual(status, 400, payload)
            self.assertEqual(list(answer), ["error"])
            self.assertIn(words, answer["error"])
        status, answer, _ = self.infer(server, {"inputs": named_tensors(ROWS)}, "other")
        self.assertEqual((status, answer), (404, {"error": "no model 'other'; this server serves 'churn'"}))

    def test_named_tensors_give_the_answers_of_invocations(self):
        server = self.servers["scored"]
        expected = server.post({"dataframe_records": ROWS}, headers={"X-Mlops-Scores": "1"})[1]
        payload = {
            "id": "v2-request-1",
            "inputs": named_tensors(ROWS, lambda n: [n, 1]),
            "outputs": [{"name": "predict"}, {"name": "predict_proba"}],
        }
        status, answer, headers = self.infer(
            server, payload, path="/v2/models/churn/versions/v7/infer", headers={"X-Mlops-Variant": "blue"}
        )
        self.assertEqual((status, headers["X-Request-Id"]), (200, "v2-request-1"))
        self.assertEqual(
            answer,
            {
                "model_name": "churn",
                "model_version": "v7",
                "id": "v2-request-1",
                "outputs": [
                    {"name": "predict", "datatype": "BYTES", "shape": [3], "data": expected["predictions"]},
                    {
                        "name": "predict_proba",
                        "datatype": "FP64",
                        "shape": [3, 2],
                        "data": [p for row in expected["scores"] for p in row],
                    },
                ],
            },
        )
        status, answer, _ = self.infer(server, {"inputs": named_tensors(ROWS)}, "churn")
        self.assertEqual([o["name"] for o in answer["outputs"]], ["predict"])  # predict_proba when asked
        line = next(
            e for e in read_log(os.path.join(self.root, "logs", "requests.jsonl")) if e["request_id"] == "v2-request-1"
        )
        self.assertEqual(
            (line["variant"], line["inputs"], line["predictions"], line["status"]),
            ("blue", ROWS, expected["predictions"], 200),
        )
        self.assertEqual(server.metrics().get("mlops_predictions_total"), 9)

    def test_the_model_sees_the_same_rows(self):
        server = self.servers["echo"]
        seen = server.predict({"dataframe_records": ROWS})
        status, answer, _ = self.infer(server, {"inputs": named_tensors(ROWS)}, "echo")
        self.assertEqual(status, 200)
        self.assertEqual(answer["outputs"][0]["datatype"], "BYTES")
        self.assertEqual([json.loads(value) for value in answer["outputs"][0]["data"]], seen)
        table = {
            "inputs": [
                {
                    "name": "input-0",
                    "shape": [3, 4],
                    "datatype": "BYTES",
                    "data": [[str(v) for v in r.values()] for r in ROWS],
                }
            ]
        }
        status, answer, _ = self.infer(server, table, "echo")
        self.assertEqual(status, 200, answer)
        self.assertEqual([json.loads(value) for value in answer["outputs"][0]["data"]], seen)

    def test_binary_tensor_data(self):
        server = self.servers["echo"]
        header = {"inputs": [], "outputs": [{"name": "predict", "parameters": {"binary_data": True}}]}
        chunks = []
        for name, kind, fmt in (("x", "FP64", "d"), ("n", "INT32", "i"), ("flag", "BOOL", "?")):
            data = struct.pack(f"<{len(ROWS)}{fmt}", *(row[name] for row in ROWS))
            header["inputs"].append(
                {"name": name, "shape": [len(ROWS)], "datatype": kind, "parameters": {"binary_data_size": len(data)}}
            )
            chunks.append(data)
        text = b"".join(struct.pack("<I", len(row["city"])) + row["city"].encode() for row in ROWS)
        header["inputs"].append(
            {"name": "city", "shape": [len(ROWS)], "datatype": "BYTES", "parameters": {"binary_data_size": len(text)}}
        )
        chunks.append(text)
        head = json.dumps(header).encode()
        status, answer, _ = self.infer(
            server, head + b"".join(chunks), "echo", {"Inference-Header-Content-Length": str(len(head))}
        )
        self.assertEqual(status, 200, answer)
        self.assertEqual(
            [json.loads(value) for value in answer["outputs"][0]["data"]], server.predict({"dataframe_records": ROWS})
        )
        status, answer, _ = self.infer(
            server, head + b"".join(chunks)[:-2], "echo", {"Inference-Header-Content-Length": str(len(head))}
        )
        self.assertEqual(status, 400)
        self.assertIn("inputs[3] ('city'): binary_data_size", answer["error"])

    def test_models_without_features_take_rows_of_values(self):
        server = self.servers["arrays"]
        payload = {"inputs": [{"name": "anything", "shape": [2, 2], "datatype": "INT64", "data": [1, 2, 3, 4]}]}
        status, answer, _ = self.infer(server, payload, "model")
        self.assertEqual(status, 200, answer)
        self.assertEqual(
            answer["outputs"][0]["data"], [json.dumps(r) for r in server.predict({"instances": [[1, 2], [3, 4]]})]
        )

    def test_v2_and_mlflow_requests_share_batches_and_keep_their_answers(self):
        server = self.servers["echo"]
        rows = [{"x": i / 4, "n": i, "flag": i % 2 == 0, "city": f"c{i}"} for i in range(120)]

        def call(i):
            if i % 2:
                status, answer, _ = self.infer(server, {"id": f"r{i}", "inputs": named_tensors([rows[i]])}, "echo")
                return status, [json.loads(v) for v in answer["outputs"][0]["data"]]
            status, answer, _ = server.post({"dataframe_records": [rows[i]]})
            return status, answer["predictions"]

        with concurrent.futures.ThreadPoolExecutor(24) as pool:
            answers = list(pool.map(call, range(len(rows))))
        for i, (status, seen) in enumerate(answers):
            self.assertEqual(status, 200)
            self.assertEqual(seen, [{"columns": ["x", "n", "flag", "city"], "values": list(rows[i].values())}], i)
