"""What the model server keeps for safe releases: POST /feedback lines in the request log, the
variant and shadow flag a router sends with a request, and class probabilities when asked."""

import json
import os
import unittest

from . import toy_models
from .serving import ServerTestCase, features, write_model
from .test_server_request_log import read_lines
from .test_server_sklearn import numpy, preprocessing, training_frame

if numpy is not None:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

ECHO = "def predict(records):\n    return [r['x'] for r in records]\n"
REQUEST_KEYS = {"ts", "request_id", "version", "inputs", "predictions", "latency_ms", "status"}


class Outcomes(ServerTestCase):
    @classmethod
    def model_dirs(cls, root):
        model = write_model(os.path.join(root, "echo"), "function", source=ECHO)
        cls.log_path = os.path.join(root, "logs", "requests.jsonl")
        return {
            "logged": (model, {"MLOPS_REQUEST_LOG_DIR": os.path.join(root, "logs"), "MLOPS_MODEL_VERSION": "v7"}),
            "no log": (model, {}),
            # A variant of a split that an HTTPRoute mirrors to: no router headers come with its requests.
            "shadow variant": (
                model,
                {
                    "MLOPS_REQUEST_LOG_DIR": os.path.join(root, "variant-logs"),
                    "MLOPS_VARIANT": "candidate",
                    "MLOPS_SHADOW": "1",
                },
            ),
        }

    def feedback(self, body, server="logged"):
        """(status, decoded answer) of POST /feedback."""
        text = body if isinstance(body, str) else json.dumps(body)
        status, _, answer = self.servers[server].request(
            "POST", "/feedback", text, {"Content-Type": "application/json"}
        )
        return status, json.loads(answer)

    def logged(self, request_id):
        if not os.path.exists(self.log_path):
            return []
        return [entry for entry in read_lines(self.log_path) if entry["request_id"] == request_id]

    def test_feedback_is_one_line_per_outcome(self):
        for request_id in ("fb-1", "fb-2", "fb-3", "fb-4"):
            self.assertEqual(
                self.servers["logged"].post({"instances": [{"x": 1}]}, headers={"X-Request-Id": request_id})[0], 200
            )
        before = self.servers["logged"].metrics().get("mlops_requests_total")
        self.assertEqual(
            self.feedback({"request_id": "fb-1", "label": "churn"}), (202, {"status": "recorded", "request_id": "fb-1"})
        )
        batch = [{"request_id": "fb-2", "reward": 0.5}, {"request_id": "fb-3", "label": True, "reward": -1}]
        self.assertEqual(self.feedback(batch), (202, {"status": "recorded", "count": 2}))
        self.assertEqual(self.feedback([{"request_id": "fb-4", "label": 3}]), (202, {"status": "recorded", "count": 1}))
        (line,) = [e for e in self.logged("fb-1") if e.get("kind") == "feedback"]
        self.assertEqual(list(line), ["ts", "kind", "request_id", "label", "reward", "version"])
        self.assertEqual(
            {k: v for k, v in line.items() if k != "ts"},
            {"kind": "feedback", "request_id": "fb-1", "label": "churn", "reward": None, "version": "v7"},
        )
        outcomes = [
            e for e in self.logged("fb-2") + self.logged("fb-3") + self.logged("fb-4") if e.get("kind") == "feedback"
        ]
        self.assertEqual([(e["label"], e["reward"]) for e in outcomes], [(None, 0.5), (True, -1), (3, None)])
        self.assertEqual(
            self.servers["logged"].metrics().get("mlops_requests_total"), before, "feedback is not a scoring request"
        )

    def test_bad_feedback_is_400_naming_what_is_wrong_and_records_nothing(self):
        cases = {
            "{oops": "the feedback is not JSON",
            '"fb"': "must be an object",
            "[]": "a non-empty list of them",
            '{"request_id": "r", "label": 1, "score": 2, "note": "x"}': "the feedback has unknown key 'score', 'note'; it takes request_id, label and reward",
            '{"label": 1}': "request_id must be the X-Request-Id of a request",
            '{"request_id": "has space", "label": 1}': 'request_id must be the X-Request-Id of a request (1 to 200 printable ASCII characters), not "has space"',
            '{"request_id": "r"}': "the feedback needs a label or a reward",
            '{"request_id": "r", "label": null}': "needs a label or a reward",
            '{"request_id": "r", "label": [1]}': "label must be a string, a number or a boolean, not [1]",
            '{"request_id": "r", "reward": "1"}': 'reward must be a number, not "1"',
            '{"request_id": "r", "reward": true}': "reward must be a number, not true",
            '{"request_id": "r", "reward": 1e999}': "reward must be a number",
            '{"request_id": "r", "reward": NaN}': "NaN is not a number JSON allows",
            '[{"request_id": "r", "label": 1}, {"request_id": "r", "labels": 1}]': "feedback[1] has unknown key 'labels'",
        }
        for body, message in cases.items():
            with self.subTest(body):
                status, answer = self.feedback(body)
                self.assertEqual((status, answer["error_code"]), (400, "BAD_REQUEST"))
                self.assertIn(message, answer["message"])
        self.assertEqual(self.logged("r"), [], "a batch with one bad outcome records none")

    def test_feedback_needs_a_request_log(self):
        status, answer = self.feedback({"request_id": "fb-x", "label": 1}, "no log")
        self.assertEqual((status, answer["error_code"]), (404, "REQUEST_LOG_DISABLED"))
        status, headers, _ = self.servers["logged"].request("GET", "/feedback")
        self.assertEqual((status, headers["Allow"]), (405, "POST"))

    def test_the_variant_and_the_shadow_flag_of_the_router_are_logged(self):
        server = self.servers["logged"]
        before = server.metrics().get("mlops_requests_total")
        server.post(
            {"instances": [{"x": 1}]},
            headers={"X-Request-Id": "mirrored", "X-Mlops-Variant": "churn-b.2", "X-Mlops-Shadow": "1"},
        )
        server.post(
            {"instances": [{"x": 1}]},
            headers={"X-Request-Id": "odd-headers", "X-Mlops-Variant": "no/such group", "X-Mlops-Shadow": "yes"},
        )
        server.post({"instances": [{"x": 1}]}, headers={"X-Request-Id": "direct"})
        (mirrored,) = self.logged("mirrored")
        self.assertEqual(set(mirrored), REQUEST_KEYS | {"variant", "shadow"})
        self.assertEqual((mirrored["variant"], mirrored["shadow"], mirrored["predictions"]), ("churn-b.2", True, [1]))
        self.assertEqual(
            set(self.logged("odd-headers")[0]),
            REQUEST_KEYS,
            "a variant that is not a group name, and a shadow flag other than 1, are left out",
        )
        self.assertEqual(set(self.logged("direct")[0]), REQUEST_KEYS)
        self.assertEqual(
            server.metrics().get("mlops_requests_total"), before + 3, "shadow requests are counted as any other"
        )

    def test_a_variant_without_a_router_logs_its_own_variant_and_shadow_flag(self):
        server = self.servers["shadow variant"]
        server.post({"instances": [{"x": 2}]}, headers={"X-Request-Id": "mirrored-by-gateway"})
        server.post({"instances": [{"x": 2}]}, headers={"X-Request-Id": "routed", "X-Mlops-Variant": "b"})
        lines = {
            entry["request_id"]: entry
            for entry in read_lines(os.path.join(self.root, "variant-logs", "requests.jsonl"))
        }
        self.assertEqual(
            (lines["mirrored-by-gateway"]["variant"], lines["mirrored-by-gateway"]["shadow"]), ("candidate", True)
        )
        self.assertEqual(lines["routed"]["variant"], "b", "a router's header wins over the setting")


class Scores(ServerTestCase):
    @classmethod
    def model_dirs(cls, root):
        numbers = features(("x", "float64"))
        cls.log_path = os.path.join(root, "logs", "requests.jsonl")
        return {
            "probabilities": (
                write_model(os.path.join(root, "probabilities"), model=toy_models.Probabilities(5), features=numbers),
                {"MLOPS_REQUEST_LOG_DIR": os.path.join(root, "logs")},
            ),
            "threshold": (
                write_model(os.path.join(root, "threshold"), model=toy_models.Threshold(5), features=numbers),
                {},
            ),
            "function": (write_model(os.path.join(root, "function"), "function", source=ECHO), {}),
        }

    def test_scores_and_classes_only_when_asked(self):
        server = self.servers["probabilities"]
        rows = {"dataframe_records": [{"x": 3}, {"x": 5.5}, {"x": 9}]}
        status, answer, _ = server.post(rows, headers={"X-Mlops-Scores": "1", "X-Request-Id": "scored"})
        self.assertEqual(status, 200)
        self.assertEqual(
            answer,
            {
                "predictions": ["no", "yes", "yes"],
                "scores": [[1.0, 0.0], [0.25, 0.75], [0.0, 1.0]],
                "classes": ["no", "yes"],
            },
        )
        self.assertEqual(server.post(rows)[1], {"predictions": ["no", "yes", "yes"]})
        self.assertEqual(server.post(rows, headers={"X-Mlops-Scores": "0"})[1], {"predictions": ["no", "yes", "yes"]})
        (line,) = [entry for entry in read_lines(self.log_path) if entry["request_id"] == "scored"]
        self.assertEqual(
            (line["predictions"], set(line)), (["no", "yes", "yes"], REQUEST_KEYS), "scores are not logged"
        )

    def test_models_without_probabilities_answer_as_usual(self):
        for name, expected in (("threshold", ["yes"]), ("function", [9])):
            with self.subTest(name):
                status, answer, _ = self.servers[name].post({"instances": [{"x": 9}]}, headers={"X-Mlops-Scores": "1"})
                self.assertEqual((status, answer), (200, {"predictions": expected}))


@unittest.skipIf(numpy is None, "scikit-learn, pandas and numpy are not installed")
class ScikitLearnScores(ServerTestCase):
    @classmethod
    def model_dirs(cls, root):
        cls.frame = frame = training_frame()
        cls.classifier = make_pipeline(preprocessing(), LogisticRegression(max_iter=1000)).fit(
            frame, (frame.age > 45).astype(int)
        )
        features = [{"name": str(name), "dtype": str(dtype)} for name, dtype in frame.dtypes.items()]
        return {
            "classifier": (
                write_model(
                    os.path.join(root, "classifier"),
                    model=cls.classifier,
                    task="classification",
                    classes=[0, 1],
                    features=features,
                ),
                {},
            )
        }

    def test_the_scores_are_predict_proba_and_the_classes_classes_(self):
        batch = self.frame.head(30)
        records = json.loads(batch.to_json(orient="records"))
        status, answer, _ = self.servers["classifier"].post(
            {"dataframe_records": records}, headers={"X-Mlops-Scores": "1"}
        )
        self.assertEqual(status, 200)
        self.assertEqual((answer["classes"], answer["predictions"]), ([0, 1], self.classifier.predict(batch).tolist()))
        expected = self.classifier.predict_proba(batch).tolist()
        self.assertEqual(len(answer["scores"]), len(expected))
        for got, want in zip(answer["scores"], expected):
            self.assertEqual(len(got), 2)
            for g, w in zip(got, want):
                self.assertAlmostEqual(g, w, places=9)


if __name__ == "__main__":
    unittest.main()
