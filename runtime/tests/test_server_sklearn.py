"""Real scikit-learn pipelines, trained on a pandas DataFrame as in a notebook, answer over HTTP
exactly as they do in the process that trained them."""

import json
import os
import unittest

from .serving import ServerTestCase, write_model

try:
    import numpy
    import pandas
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler
except ImportError:
    numpy = None


def training_frame():
    rng = numpy.random.default_rng(0)
    n = 300
    frame = pandas.DataFrame(
        {
            "age": rng.integers(18, 80, n),
            "income": rng.normal(50000, 15000, n).round(2),
            "city": rng.choice(["Paris", "Lyon", "Nice"], n),
            "member": rng.choice([True, False], n),
        }
    )
    frame.loc[::17, "income"] = numpy.nan
    return frame


def preprocessing():
    return ColumnTransformer(
        [
            ("numbers", make_pipeline(SimpleImputer(), StandardScaler()), ["age", "income"]),
            ("city", OneHotEncoder(handle_unknown="ignore"), ["city"]),
            ("member", "passthrough", ["member"]),
        ]
    )


@unittest.skipIf(numpy is None, "scikit-learn, pandas and numpy are not installed")
class ScikitLearn(ServerTestCase):
    @classmethod
    def model_dirs(cls, root):
        cls.frame = frame = training_frame()
        churn = numpy.where((frame.age > 45) ^ (frame.city == "Paris"), "churn", "stay")
        cls.classifier = make_pipeline(preprocessing(), LogisticRegression(max_iter=1000)).fit(frame, churn)
        cls.regressor = make_pipeline(preprocessing(), Ridge()).fit(
            frame, frame.age * 3 + frame.income.fillna(0) / 1000
        )
        features = [{"name": str(name), "dtype": str(dtype)} for name, dtype in frame.dtypes.items()]
        classes = cls.classifier.classes_.tolist()
        return {
            "classifier": (
                write_model(
                    os.path.join(root, "classifier"),
                    model=cls.classifier,
                    task="classification",
                    classes=classes,
                    features=features,
                ),
                {},
            ),
            "regressor": (
                write_model(os.path.join(root, "regressor"), model=cls.regressor, task="regression", features=features),
                {},
            ),
        }

    def setUp(self):
        self.batch = self.frame.head(40)

    def test_a_classifier_answers_as_in_the_notebook(self):
        server = self.servers["classifier"]
        expected = self.classifier.predict(self.batch).tolist()
        records = json.loads(self.batch.to_json(orient="records"))  # NaN income becomes null
        self.assertIn(None, [r["income"] for r in records])
        self.assertEqual(server.predict({"dataframe_records": records}), expected)
        self.assertEqual(server.predict({"dataframe_split": json.loads(self.batch.to_json(orient="split"))}), expected)
        self.assertEqual(server.predict(self.batch.to_csv(index=False), "text/csv"), expected)
        metrics = server.metrics()
        for label in ("churn", "stay"):
            self.assertEqual(metrics.get("mlops_predicted_class_total", **{"class": label}), 3 * expected.count(label))
        self.assertEqual(
            metrics.get("mlops_feature_missing_total", feature="income"), 3 * int(self.batch.income.isna().sum())
        )
        self.assertNotIn("Warning", server.stderr(), "the frame has the names and types the model was fitted with")

    def test_a_regressor_answers_as_in_the_notebook(self):
        expected = self.regressor.predict(self.batch).tolist()
        answer = self.servers["regressor"].predict({"instances": json.loads(self.batch.to_json(orient="values"))})
        self.assertEqual(len(answer), len(expected))
        for got, want in zip(answer, expected):
            self.assertAlmostEqual(got, want, places=6)

    def test_an_unseen_category_and_a_wrong_type(self):
        server = self.servers["classifier"]
        self.assertIn(
            server.predict({"instances": [{"age": 30, "income": None, "city": "Marseille", "member": False}]})[0],
            ("churn", "stay"),
        )
        status, answer, _ = server.post(
            {"instances": [{"age": "thirty", "income": 1.0, "city": "Paris", "member": False}]}
        )
        self.assertEqual(status, 400)
        self.assertIn("column 'age': \"thirty\" is not a number", answer["message"])


if __name__ == "__main__":
    unittest.main()
