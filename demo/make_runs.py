"""Logs the demo's MLflow runs with the real MLflow client into mlflow.db beside this script.

Synthetic but realistic training curves for the churn notebook: a random-forest sweep (a parent
run with nested child runs), a logistic-regression baseline, a boosted model and a failed run.
The baseline and the best forest are real models, trained on data/customers.csv the way
notebooks/churn.ipynb trains, logged with mlflow.sklearn.log_model and registered as versions 1
and 2 of "churn-classifier", so Containerise Model has logged models to build. The baseline is
the @champion, the model in production; the forest is the challenger a release would promote.
Usage: python make_runs.py WORKSPACE [GIT_COMMIT]
"""

import logging
import math
import os
import random
import sys
import warnings

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
import mlflow  # noqa: E402
import numpy  # noqa: E402
import pandas as pd  # noqa: E402
import sklearn  # noqa: E402
from mlflow.entities import Metric  # noqa: E402
from mlflow.tracking import MlflowClient  # noqa: E402
from sklearn.ensemble import RandomForestClassifier  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402

# The demo's console shows what the demo does, not MLflow's advice on pickles and schemas.
logging.getLogger("mlflow").setLevel(logging.ERROR)
warnings.filterwarnings("ignore", category=UserWarning)

workspace = os.path.abspath(sys.argv[1])
commit = sys.argv[2] if len(sys.argv) > 2 else None
mlflow.set_tracking_uri(f"sqlite:///{os.path.join(workspace, 'mlflow.db')}")
client = MlflowClient()
experiment_id = client.create_experiment("churn-model", artifact_location=os.path.join(workspace, "mlartifacts"))
client.create_experiment("feature-selection", artifact_location=os.path.join(workspace, "mlartifacts"))
random.seed(3)
T0 = 1764230400000  # 2025-11-27, so the demo looks the same every time


def log_curves(run_id, start, steps, final_acc, noise):
    metrics = []
    for step in range(steps):
        progress = 1 - math.exp(-step / (steps / 5))
        loss = 0.69 * (1 - progress) + (1 - final_acc) * 0.9 + random.gauss(0, noise)
        acc = 0.5 + (final_acc - 0.5) * progress + random.gauss(0, noise / 2)
        ts = start + step * 1500
        metrics.append(Metric("train/loss", max(loss, 0.01), ts, step))
        metrics.append(Metric("val/accuracy", min(acc, 1.0), ts, step))
    client.log_batch(run_id, metrics=metrics)
    return start + steps * 1500


def run(name, params, final_acc, steps=120, parent=None, status="FINISHED", start=T0):
    tags = {"mlflow.runName": name, "mlflow.source.name": "notebooks/churn.ipynb", "mlflow.user": "demo"}
    if commit:
        tags["mlflow.source.git.commit"] = commit
    if parent:
        tags["mlflow.parentRunId"] = parent
    created = client.create_run(experiment_id, start_time=start, tags=tags, run_name=name)
    run_id = created.info.run_id
    for key, value in params.items():
        client.log_param(run_id, key, value)
    end = log_curves(run_id, start, steps, final_acc, 0.01)
    client.log_metric(run_id, "val/f1", final_acc - 0.07, timestamp=end, step=steps)
    client.set_terminated(run_id, status, end_time=end)
    return run_id


baseline = run("logreg-baseline", {"model": "logreg", "C": "1.0"}, 0.78, start=T0)
sweep = client.create_run(
    experiment_id,
    start_time=T0 + 600_000,
    run_name="rf-sweep",
    tags={"mlflow.runName": "rf-sweep", "mlflow.user": "demo"},
).info.run_id
client.log_param(sweep, "model", "rf")
best = None
for i, trees in enumerate([100, 200, 400]):
    child = run(
        f"rf-{trees}-trees",
        {"model": "rf", "n_estimators": str(trees), "max_depth": "6"},
        0.83 + i * 0.015,
        parent=sweep,
        start=T0 + 600_000 + i * 200_000,
    )
    best = child
client.log_metric(sweep, "val/accuracy", 0.86, timestamp=T0 + 1_400_000, step=0)
client.set_terminated(sweep, "FINISHED", end_time=T0 + 1_400_000)
run("gbm-tuned", {"model": "gbm", "learning_rate": "0.05", "max_depth": "4"}, 0.88, start=T0 + 2_000_000)
run(
    "gbm-lr-0.5",
    {"model": "gbm", "learning_rate": "0.5", "max_depth": "4"},
    0.61,
    steps=30,
    status="FAILED",
    start=T0 + 2_600_000,
)

# The notebook's features and split, so the logged models are the ones its cells train.
df = pd.read_csv(os.path.join(workspace, "data", "customers.csv"))
X = pd.get_dummies(df[["tenure_months", "monthly_charges", "contract", "support_calls"]], columns=["contract"])
X_train, X_test, y_train, y_test = train_test_split(
    X, df["churned"], test_size=0.25, random_state=42, stratify=df["churned"]
)
# Pinned here rather than inferred (which loads each model in a new interpreter): the same pins.
pins = [f"scikit-learn=={sklearn.__version__}", f"pandas=={pd.__version__}", f"numpy=={numpy.__version__}"]
client.create_registered_model("churn-classifier", description="Predicts customer churn from the notebook's features.")
mlflow.set_experiment(experiment_id=experiment_id)  # the logged models go beside their runs, into mlartifacts/
for run_id, model in [
    (baseline, LogisticRegression(C=1.0, max_iter=1000)),
    (best, RandomForestClassifier(n_estimators=400, max_depth=6, random_state=42)),
]:
    model.fit(X_train, y_train)
    mlflow.sklearn.log_model(
        model,
        name="model",
        run_id=run_id,
        input_example=X_test.head(5),
        pip_requirements=pins,
        serialization_format="cloudpickle",
        registered_model_name="churn-classifier",
    )
client.set_registered_model_alias("churn-classifier", "champion", "1")
print(os.path.join(workspace, "mlflow.db"))
