"""Builds a big MLflow store for the benchmarks, fast: make_big_store.py OUT_DIR [--runs N] [--mlruns N]

Default: OUT_DIR/mlflow.db. MLflow creates the database (its migrations give the real schema and
the experiment), then rows are bulk-inserted with sqlite3's executemany, filled the way MLflow's
SqlAlchemyStore fills them: runs (32-hex run_uuid, status and lifecycle strings), tags (with
mlflow.runName), params, metrics (NaN as value 0 with is_nan 1) and latest_metrics (one row per
run and key: the max by step, timestamp, value).

--mlruns N: OUT_DIR/mlruns instead, a file store with N runs written as files in MLflow's layout
(MLflow creates the store and the experiment; runs are written directly).

Both hold, in one experiment "big", N runs x 10 metrics (one point each), 3 params, the run-name
tag and 2 more tags, plus one run "long-history" with 1,000,000 points of `loss`.
OUT_DIR/big-store.json says where: {tracking_uri, experiment_id, history_run_id, key, runs}.
"""

import argparse
import json
import math
import os
import random
import sqlite3
import time
import uuid
from pathlib import Path

os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")

BASE = 1_700_000_000_000
KEYS = ["loss", "accuracy", "val_loss", "val_accuracy", "precision", "recall", "f1", "auc", "train/loss", "lr"]
MODELS = ["rf", "xgboost", "logreg", "svm"]
HISTORY_POINTS = 1_000_000
STATUS_CODES = {"RUNNING": 1, "SCHEDULED": 2, "FINISHED": 3, "FAILED": 4, "KILLED": 5}


def new_run_id(rnd):
    """A uuid4 hex like MLflow's run ids, but from a seeded generator."""
    return uuid.UUID(int=rnd.getrandbits(128), version=4).hex


def make_runs(n, rnd):
    """Yields (run_uuid, name, start, status, params, tags, metrics) for n runs, deterministically."""
    for i in range(n):
        run_id = new_run_id(rnd)
        start = BASE + i * 1000
        status = "FAILED" if i % 50 == 7 else "FINISHED"
        params = {"model": MODELS[i % 4], "lr": str(round(0.001 * (1 + i % 100), 6)), "max_depth": str(2 + i % 12)}
        tags = {"mlflow.runName": f"run-{i:06d}", "mlflow.user": "alice", "mlflow.source.name": "train.py"}
        metrics = {k: round(rnd.random(), 6) for k in KEYS}
        if i % 1000 == 3:
            metrics["auc"] = math.nan
        yield run_id, f"run-{i:06d}", start, status, params, tags, metrics


def create_with_mlflow(uri):
    from mlflow.tracking import MlflowClient

    return MlflowClient(tracking_uri=uri).create_experiment("big")


def build_sqlite(out, n):
    db = out / "mlflow.db"
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    exp = create_with_mlflow(f"sqlite:///{db}")
    con = sqlite3.connect(db)
    (artifact_location,) = con.execute(
        "select artifact_location from experiments where experiment_id = ?", (exp,)
    ).fetchone()
    con.execute("pragma journal_mode = off")
    con.execute("pragma synchronous = off")
    con.execute("pragma cache_size = -500000")
    rnd = random.Random(42)
    runs, tags, params, metrics = [], [], [], []
    for run_id, name, start, status, p, t, m in make_runs(n, rnd):
        runs.append(
            (
                run_id,
                name,
                "UNKNOWN",
                "",
                "",
                "alice",
                status,
                start,
                start + 60_000,
                "",
                "active",
                f"{artifact_location}/{run_id}/artifacts",
                int(exp),
            )
        )
        tags.extend((k, v, run_id) for k, v in t.items())
        params.extend((k, v, run_id) for k, v in p.items())
        for step_time, (k, v) in enumerate(m.items()):
            nan = math.isnan(v)
            metrics.append((k, 0.0 if nan else v, start + 1000 + step_time, run_id, 0, int(nan)))
    history_id = new_run_id(rnd)
    start = BASE + n * 1000
    runs.append(
        (
            history_id,
            "long-history",
            "UNKNOWN",
            "",
            "",
            "alice",
            "FINISHED",
            start,
            start + HISTORY_POINTS * 10,
            "",
            "active",
            f"{artifact_location}/{history_id}/artifacts",
            int(exp),
        )
    )
    tags.extend(
        [
            ("mlflow.runName", "long-history", history_id),
            ("mlflow.user", "alice", history_id),
            ("mlflow.source.name", "train.py", history_id),
        ]
    )
    params.extend([("model", "cnn", history_id), ("lr", "0.001", history_id), ("max_depth", "0", history_id)])

    con.executemany(
        "insert into runs (run_uuid, name, source_type, source_name, entry_point_name, user_id, status, start_time,"
        " end_time, source_version, lifecycle_stage, artifact_uri, experiment_id) values (?,?,?,?,?,?,?,?,?,?,?,?,?)",
        runs,
    )
    con.executemany("insert into tags (key, value, run_uuid) values (?,?,?)", tags)
    con.executemany("insert into params (key, value, run_uuid) values (?,?,?)", params)
    sql_metric = "insert into metrics (key, value, timestamp, run_uuid, step, is_nan) values (?,?,?,?,?,?)"
    con.executemany(sql_metric, metrics)
    con.executemany(
        sql_metric,
        (("loss", round(2.0 / (1 + s / 1000), 6), start + s * 10, history_id, s, 0) for s in range(HISTORY_POINTS)),
    )
    # latest_metrics as MLflow maintains it: per (run, key) the max by (step, timestamp, value).
    # Every run above has one point per key, except the history run whose max step is the last.
    con.execute(
        "insert into latest_metrics (key, value, timestamp, step, is_nan, run_uuid)"
        " select key, value, timestamp, step, is_nan, run_uuid from metrics where run_uuid in"
        " (select run_uuid from runs where experiment_id = ?) and (run_uuid != ? or step = ?)",
        (int(exp), history_id, HISTORY_POINTS - 1),
    )
    con.commit()
    con.execute("pragma journal_mode = delete")  # what MLflow leaves; no ANALYZE, MLflow never runs it
    con.close()
    return {"tracking_uri": f"sqlite:///{db}", "experiment_id": exp}, history_id


def build_mlruns(out, n):
    import shutil

    mlruns = out / "mlruns"
    shutil.rmtree(mlruns, ignore_errors=True)
    exp = create_with_mlflow(f"file:{mlruns}")
    exp_dir = mlruns / exp
    rnd = random.Random(42)

    def write_run(run_id, name, start, status, p, t, metric_lines):
        run_dir = exp_dir / run_id
        for sub in ("metrics", "params", "tags", "artifacts"):
            (run_dir / sub).mkdir(parents=True)
        # The keys MLflow's FileStore writes, in its (sorted) order.
        (run_dir / "meta.yaml").write_text(
            f"artifact_uri: file://{run_dir}/artifacts\nend_time: {start + 60_000}\nentry_point_name: ''\n"
            f"experiment_id: '{exp}'\nlifecycle_stage: active\nrun_id: {run_id}\nrun_name: {name}\n"
            f"source_name: ''\nsource_type: 4\nsource_version: ''\nstart_time: {start}\n"
            f"status: {STATUS_CODES[status]}\ntags: []\nuser_id: alice\n"
        )
        for k, v in p.items():
            (run_dir / "params" / k).write_text(v)
        for k, v in t.items():
            (run_dir / "tags" / k).write_text(v)
        for k, lines in metric_lines.items():
            path = run_dir / "metrics" / k  # `train/loss` is a folder `train` and a file `loss`
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(lines)

    for run_id, name, start, status, p, t, m in make_runs(n, rnd):
        # MLflow writes floats with str(): nan, inf; one line `timestamp value step` per point.
        write_run(
            run_id, name, start, status, p, t, {k: f"{start + 1000 + i} {v} 0\n" for i, (k, v) in enumerate(m.items())}
        )
    history_id = new_run_id(rnd)
    start = BASE + n * 1000
    history = "".join(f"{start + s * 10} {round(2.0 / (1 + s / 1000), 6)} {s}\n" for s in range(HISTORY_POINTS))
    write_run(
        history_id,
        "long-history",
        start,
        "FINISHED",
        {"model": "cnn", "lr": "0.001", "max_depth": "0"},
        {"mlflow.runName": "long-history", "mlflow.user": "alice", "mlflow.source.name": "train.py"},
        {"loss": history},
    )
    return {"tracking_uri": f"file:{mlruns}", "experiment_id": exp}, history_id


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out_dir")
    parser.add_argument("--runs", type=int, default=100_000, help="runs in mlflow.db (default 100,000)")
    parser.add_argument("--mlruns", type=int, metavar="N", help="write an mlruns/ file store with N runs instead")
    args = parser.parse_args()
    out = Path(args.out_dir).resolve()
    out.mkdir(parents=True, exist_ok=True)
    os.chdir(out)  # MLflow's default ./mlruns artifact root and ./mlflow.db stay inside OUT_DIR
    t0 = time.time()
    n = args.mlruns if args.mlruns is not None else args.runs
    store, history_id = build_mlruns(out, n) if args.mlruns is not None else build_sqlite(out, n)
    manifest = {
        **store,
        "history_run_id": history_id,
        "key": "loss",
        "history_points": HISTORY_POINTS,
        "runs": n + 1,
        "metrics_per_run": len(KEYS),
        "build_seconds": round(time.time() - t0, 1),
    }
    (out / ("big-mlruns.json" if args.mlruns is not None else "big-store.json")).write_text(
        json.dumps(manifest, indent=1)
    )
    print(json.dumps(manifest))


if __name__ == "__main__":
    main()
