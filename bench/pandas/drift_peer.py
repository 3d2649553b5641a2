"""Input drift with pandas, numpy and scipy, as the peer of `mlops drift`: drift_peer.py BASELINE CURRENT

Reads two Parquet files with pandas, then per numeric feature the PSI over the baseline's deciles
(numpy) and scipy.stats.ks_2samp, and per categorical feature the PSI over its categories: what
our DuckDB queries compute. Importing the libraries is not timed, as loading our modules is not.
Prints JSON: {seconds, read_seconds, features: {name: {psi, ks}}}.
"""

import json
import sys
import time

import numpy as np
import pandas as pd
from scipy import stats


def psi(pb, pc):
    pb, pc = np.maximum(pb, 1e-6), np.maximum(pc, 1e-6)
    return float(np.sum((pc - pb) * np.log(pc / pb)))


def measure(baseline, current):
    """{feature: {psi, ks}} for every column of the baseline."""
    features = {}
    for column in baseline.columns:
        b, c = baseline[column].dropna(), current[column].dropna()
        if pd.api.types.is_numeric_dtype(b):
            b, c = b.to_numpy(float), c.to_numpy(float)
            edges = np.quantile(b, np.arange(1, 10) / 10)
            pb = np.bincount(np.searchsorted(edges, b, side="left"), minlength=10) / len(b)
            pc = np.bincount(np.searchsorted(edges, c, side="left"), minlength=10) / len(c)
            features[column] = {"psi": psi(pb, pc), "ks": float(stats.ks_2samp(b, c).statistic)}
        else:
            shares_b, shares_c = b.value_counts(normalize=True), c.value_counts(normalize=True)
            categories = shares_b.index.union(shares_c.index)
            features[column] = {
                "psi": psi(
                    shares_b.reindex(categories, fill_value=0).to_numpy(),
                    shares_c.reindex(categories, fill_value=0).to_numpy(),
                ),
                "ks": None,
            }
    return features


def main():
    started = time.perf_counter()
    baseline, current = pd.read_parquet(sys.argv[1]), pd.read_parquet(sys.argv[2])
    read = time.perf_counter() - started
    features = measure(baseline, current)
    print(json.dumps({"seconds": time.perf_counter() - started, "read_seconds": read, "features": features}))


if __name__ == "__main__":
    main()
