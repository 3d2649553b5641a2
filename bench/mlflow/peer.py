"""Times MLflow's own client on a store, as the peer of our readers: peer.py TRACKING_URI RUN_ID KEY

Measures, each in a fresh Python process so peak memory is per measurement:
  search_runs      every active run of RUN_ID's experiment, paging with max_results=50000
  metric_history   client.get_metric_history(RUN_ID, KEY)
Prints JSON: {search_runs_seconds, runs, metric_history_seconds, points, peak_rss_mb, ...}.
Times exclude importing MLflow and opening the store (setup_seconds, setup_rss_mb). The experiment
is looked up in a process of its own: get_run reads every metric of the run, and on Linux a peak
RSS carries over from a parent into the processes it starts, so the parent stays small.

--sample N stops search_runs after N runs (a page boundary at or past N) and says so, for stores
where listing every run takes too long; runs_per_second then extrapolates.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import time

os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")

PAGE = 50_000  # the largest max_results MLflow accepts


def rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def measure(what, uri, experiment_id, run_id, key, sample):
    t0 = time.perf_counter()
    from mlflow.entities import ViewType
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=uri)
    client.get_experiment(experiment_id)  # opens the store (SQLite: connects, checks the schema)
    setup = time.perf_counter() - t0
    before = rss_mb()
    t0 = time.perf_counter()
    if what == "search_runs":
        count, pages, token = 0, 0, None
        while True:
            page = client.search_runs(
                [experiment_id], run_view_type=ViewType.ACTIVE_ONLY, max_results=PAGE, page_token=token
            )
            count += len(page)
            pages += 1
            token = page.token
            if not token or (sample and count >= sample):
                break
        result = {"runs": count, "pages": pages, "sampled": bool(sample and token)}
    else:
        result = {"points": len(client.get_metric_history(run_id, key))}
    seconds = time.perf_counter() - t0
    return {
        "seconds": round(seconds, 3),
        "setup_seconds": round(setup, 3),
        "setup_rss_mb": round(before, 1),
        "peak_rss_mb": round(rss_mb(), 1),
        **result,
    }


def in_fresh_process(what, args, experiment_id):
    command = [
        sys.executable,
        __file__,
        args.uri,
        args.run_id,
        args.key,
        "--only",
        what,
        "--experiment-id",
        experiment_id,
    ]
    if args.sample:
        command += ["--sample", str(args.sample)]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"{what} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("uri")
    parser.add_argument("run_id")
    parser.add_argument("key")
    parser.add_argument("--sample", type=int, metavar="N", help="stop search_runs after about N runs")
    parser.add_argument("--only", choices=["experiment", "search_runs", "metric_history"], help=argparse.SUPPRESS)
    parser.add_argument("--experiment-id", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.only == "experiment":
        from mlflow.tracking import MlflowClient

        print(json.dumps(MlflowClient(tracking_uri=args.uri).get_run(args.run_id).info.experiment_id))
    elif args.only:
        print(json.dumps(measure(args.only, args.uri, args.experiment_id, args.run_id, args.key, args.sample)))
    else:
        report(args)


def report(args):
    experiment_id = in_fresh_process("experiment", args, "")
    search = in_fresh_process("search_runs", args, experiment_id)
    history = in_fresh_process("metric_history", args, experiment_id)
    print(
        json.dumps(
            {
                "search_runs_seconds": search["seconds"],
                "runs": search["runs"],
                "sampled": search["sampled"],
                "runs_per_second": round(search["runs"] / search["seconds"]) if search["seconds"] else None,
                "metric_history_seconds": history["seconds"],
                "points": history["points"],
                "peak_rss_mb": max(search["peak_rss_mb"], history["peak_rss_mb"]),
                "search_runs_peak_rss_mb": search["peak_rss_mb"],
                "metric_history_peak_rss_mb": history["peak_rss_mb"],
                "setup_rss_mb": min(search["setup_rss_mb"], history["setup_rss_mb"]),
                "setup_seconds": max(search["setup_seconds"], history["setup_seconds"]),
            }
        )
    )


if __name__ == "__main__":
    main()
