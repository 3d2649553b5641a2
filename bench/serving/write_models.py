"""The model server benchmark's models: a 100-tree random forest and a logistic regression on the
churn fixture's three features, each fitted once and saved once as an MLflow model whose model.pkl
(plain pickle) MLServer's scikit-learn runtime also loads; prints the rows and each model's own
predictions on them, as JSON."""

import json
import os
import sys

import mlflow
import pandas as pd
import sklearn
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression

FEATURES = ["tenure_months", "monthly_charges", "support_calls"]


def main(csv_path, out_dir):
    data = pd.read_csv(csv_path)
    X = data[FEATURES].astype(float)
    y = data["churned"]
    models = {
        "forest": RandomForestClassifier(n_estimators=100, max_depth=8, random_state=0),
        "logistic": LogisticRegression(max_iter=1000),
    }
    written = {}
    for name, model in models.items():
        model.fit(X, y)
        path = os.path.join(out_dir, name)
        mlflow.sklearn.save_model(model, path, input_example=X.head(3), serialization_format="pickle")
        written[name] = {
            "mlflow": path,
            "pickle": os.path.join(path, "model.pkl"),
            "predictions": model.predict(X).tolist(),
        }
    print(
        json.dumps({"sklearn": sklearn.__version__, "features": FEATURES, "rows": X.values.tolist(), "models": written})
    )


if __name__ == "__main__":
    main(*sys.argv[1:])
