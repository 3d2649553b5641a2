"""GET /metrics: the Prometheus text the server exposes, read strictly, and how it moves."""

import os
import unittest

from mlops_runtime.metrics import FEATURE_BUCKETS, MAX_CATEGORIES, PREDICTION_BUCKETS

from . import toy_models
from .serving import ServerTestCase, features, write_model

FEATURES = features(("x", "float64"), ("n", "int64"), ("color", "object"), ("member", "bool"))


class Metrics(ServerTestCase):
    @classmethod
    def model_dirs(cls, root):
        regressor = write_model(
            os.path.join(root, "regressor"), model=toy_models.Linear([1, 10]), task="regression", features=FEATURES
        )
        classifier = write_model(
            os.path.join(root, "classifier"),
            model=toy_models.Threshold(0.5),
            task="classification",
            classes=["no", "yes"],
            features=features(("score", "float64")),
        )
        echo = write_model(
            os.path.join(root, "echo"),
            "function",
            source="def predict(records):\n    return [r.get('label') for r in records]\n",
        )
        return {
            "regressor": (regressor, {"MLOPS_MODEL_VERSION": "v1"}),
            "classifier": (classifier, {"MLOPS_MODEL_VERSION": "v2"}),
            "echo": (echo, {}),
        }

    def test_a_fresh_server_exposes_zeroed_counters_labelled_with_the_version(self):
        metrics = self.servers["classifier"].metrics()
        self.assertEqual(metrics.get("mlops_requests_total"), 0)
        self.assertEqual(metrics.get("mlops_predicted_class_total", **{"class": "yes"}), 0, "known classes start at 0")
        self.assertEqual(metrics.get("mlops_model_info", mode="estimator", task="classification", variable="model"), 1)
        self.assertEqual(metrics.get("mlops_feature_missing_total", feature="score"), 0)
        self.assertEqual({labels["version"] for _, labels, _ in metrics.samples}, {"v2"})
        self.assertNotIn("mlops_prediction_value", metrics.types, "a classifier has no numeric predictions")
        self.assertEqual(metrics.types["mlops_request_latency_seconds"], "histogram")

    def test_requests_errors_latency_and_classes_move(self):
        server = self.servers["classifier"]
        before = server.metrics()
        self.assertEqual(server.predict({"instances": [[0.1], [0.9], [0.7]]}), ["no", "yes", "yes"])
        server.post({"instances": [[0.1, 2]]})
        server.post({"instances": [[0.1]]}, "text/plain")
        after = server.metrics()

        def moved(name, **labels):
            return after.get(name, **labels) - (before.get(name, **labels) or 0)

        self.assertEqual(moved("mlops_requests_total"), 3)
        self.assertEqual(moved("mlops_request_errors_total", code="400"), 1)
        self.assertEqual(moved("mlops_request_errors_total", code="415"), 1)
        self.assertEqual(moved("mlops_request_latency_seconds_count"), 3)
        self.assertEqual(moved("mlops_request_latency_seconds_bucket", le="10"), 3)
        self.assertGreater(moved("mlops_request_latency_seconds_sum"), 0)
        self.assertEqual(moved("mlops_predictions_total"), 3)
        self.assertEqual(moved("mlops_predicted_class_total", **{"class": "no"}), 1)
        self.assertEqual(moved("mlops_predicted_class_total", **{"class": "yes"}), 2)
        self.assertEqual(
            moved("mlops_feature_value_count", feature="score"), 3, "only the request that succeeded is summarised"
        )

    def test_regression_predictions_and_features_are_summarised(self):
        server = self.servers["regressor"]
        server.predict(
            {
                "dataframe_records": [
                    {"x": 1.5, "n": 2, "color": "red", "member": True},
                    {"x": -0.5, "n": 0, "color": "blue", "member": False},
                ]
            }
        )
        server.predict("x,n,color,member\n,3,,true\n", "text/csv")
        metrics = server.metrics()
        predictions = [21.5, -0.5, 30]
        self.assertEqual(metrics.get("mlops_prediction_value_count"), 3)
        self.assertEqual(metrics.get("mlops_prediction_value_sum"), sum(predictions))
        self.assertEqual(metrics.get("mlops_prediction_value_squares_total"), sum(p * p for p in predictions))
        self.assertEqual(metrics.get("mlops_prediction_value_bucket", le="0"), 1)
        self.assertEqual(metrics.get("mlops_prediction_value_bucket", le="25"), 2)
        bounds = [float(labels["le"]) for labels, _ in metrics.series("mlops_prediction_value_bucket")]
        self.assertEqual(bounds, PREDICTION_BUCKETS + [float("inf")])

        def feature(name, feature_name):
            return metrics.get(name, feature=feature_name)

        # x: 1.5, -0.5 and one missing; n: 2, 0, 3
        self.assertEqual(
            [feature(f"mlops_feature_value_{part}", "x") for part in ("count", "sum", "min", "max")],
            [2, 1.0, -0.5, 1.5],
        )
        self.assertEqual(feature("mlops_feature_value_squares_total", "x"), 2.5)
        self.assertEqual(
            [feature(f"mlops_feature_value_{part}", "n") for part in ("count", "sum", "min", "max")], [3, 5, 0, 3]
        )
        self.assertEqual(feature("mlops_feature_value_squares_total", "n"), 13)
        self.assertEqual(metrics.get("mlops_feature_value_bucket", feature="x", le="1"), 1)
        self.assertEqual(metrics.get("mlops_feature_value_bucket", feature="x", le="10"), 2)
        self.assertEqual(
            len(metrics.series("mlops_feature_value_bucket")),
            2 * (len(FEATURE_BUCKETS) + 1),
            "histograms for x and n only",
        )
        self.assertEqual(
            {f: feature("mlops_feature_missing_total", f) for f in ("x", "n", "color", "member")},
            {"x": 1, "n": 0, "color": 1, "member": 0},
        )
        categories = {
            (labels["feature"], labels["value"]): value
            for labels, value in metrics.series("mlops_feature_category_total")
        }
        self.assertEqual(
            categories, {("color", "red"): 1, ("color", "blue"): 1, ("member", "true"): 2, ("member", "false"): 1}
        )

    def test_category_values_are_capped_and_escaped(self):
        server = self.servers["echo"]
        awkward = 'say "hi" \\ to\nme'
        records = [{"label": awkward, "size": 3}] + [
            {"label": f"value {i}", "size": i} for i in range(MAX_CATEGORIES + 10)
        ]
        server.predict({"dataframe_records": records})
        metrics = server.metrics()
        label_values = {
            labels["value"]: value
            for labels, value in metrics.series("mlops_feature_category_total")
            if labels["feature"] == "label"
        }
        self.assertEqual(len(label_values), MAX_CATEGORIES + 1)
        self.assertEqual(label_values[awkward], 1, "the label value reads back as it was sent")
        self.assertEqual(label_values["__other__"], 11)
        self.assertEqual(
            metrics.get("mlops_feature_value_count", feature="size"),
            len(records),
            "numbers of a model without dtypes are numeric",
        )
        classes = {labels["class"]: value for labels, value in metrics.series("mlops_predicted_class_total")}
        self.assertEqual(
            (len(classes), classes["__other__"]),
            (MAX_CATEGORIES + 1, 11),
            "string predictions of an unknown task count as classes",
        )
        self.assertEqual(metrics.get("mlops_prediction_value_count"), 0)


if __name__ == "__main__":
    unittest.main()
