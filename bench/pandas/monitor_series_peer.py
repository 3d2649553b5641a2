"""The monitor panel's series with pandas: read the recorded counters (JSON lines), take each
instance's differences between consecutive records, sum them per version and second, and cut
the request rate, error rate and p95 latency into the same point budget (bucket means).
Prints {"seconds": ..., "points": {...}} on its last line; imports are not timed."""

import glob
import json
import sys
import time

import numpy as np
import pandas as pd

folder, budget = sys.argv[1], int(sys.argv[2])
started = time.perf_counter()
rows = []
for path in sorted(glob.glob(f"{folder}/counts-*.jsonl")):
    with open(path) as f:
        for line in f:
            record = json.loads(line)
            for i in record["instances"]:
                rows.append(
                    (record["at"], i["instance"], i["version"], i["requests"], i["errors"], *i["latency"]["cumulative"])
                )
bounds = None
with open(sorted(glob.glob(f"{folder}/counts-*.jsonl"))[0]) as f:
    bounds = [np.inf if b is None else b for b in json.loads(f.readline())["instances"][0]["latency"]["bounds"]]
buckets = [f"b{k}" for k in range(len(bounds))]
frame = pd.DataFrame(rows, columns=["at", "instance", "version", "requests", "errors", *buckets]).sort_values(
    ["instance", "at"]
)
deltas = frame.groupby("instance")[["requests", "errors", *buckets]].diff()
deltas["at"], deltas["version"] = frame["at"], frame["version"]
deltas["seconds"] = frame.groupby("instance")["at"].diff() / 1000
deltas = deltas.dropna()
per_second = deltas.groupby(["version", "at"]).sum(numeric_only=True).reset_index()
per_second["rate"] = per_second["requests"] / per_second["seconds"]
per_second["error_rate"] = per_second["errors"] / per_second["requests"].where(per_second["requests"] > 0)
cumulative = per_second[buckets].to_numpy()
rank = 0.95 * cumulative[:, -1:]
index = (cumulative < rank).sum(axis=1).clip(max=len(bounds) - 2)
upper = np.array(bounds)[index]
lower = np.where(index > 0, np.array([0.0, *bounds[:-1]])[index], 0.0)
below = np.where(index > 0, np.take_along_axis(cumulative, np.maximum(index - 1, 0)[:, None], 1)[:, 0], 0.0)
inside = np.take_along_axis(cumulative, index[:, None], 1)[:, 0] - below
per_second["p95"] = 1000 * (lower + (upper - lower) * (rank[:, 0] - below) / np.where(inside > 0, inside, np.nan))
points = {}
for version, group in per_second.groupby("version"):
    cut = pd.cut(group["at"], budget, labels=False)
    thinned = group.groupby(cut)[["at", "rate", "error_rate", "p95"]].mean()
    points[version] = len(thinned)
print(json.dumps({"seconds": time.perf_counter() - started, "points": points}))
