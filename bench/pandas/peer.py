"""Profiles a CSV with pandas, as the peer of our DuckDB profile: peer.py CSV_PATH

Times pandas.read_csv(path) followed by DataFrame.describe(include='all'), in this process,
which the benchmark starts fresh so that its peak memory is this measurement's alone.
Importing pandas is not timed, as loading our modules is not.
Prints JSON: {seconds, read_seconds, describe_seconds, rows, columns, peak_rss_mb, pandas}.
"""

import json
import resource
import sys
import time


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def main():
    path = sys.argv[1]
    import pandas as pd

    started = time.perf_counter()
    frame = pd.read_csv(path)
    read = time.perf_counter()
    summary = frame.describe(include="all")
    done = time.perf_counter()
    print(
        json.dumps(
            {
                "seconds": round(done - started, 3),
                "read_seconds": round(read - started, 3),
                "describe_seconds": round(done - read, 3),
                "rows": len(frame),
                "columns": len(summary.columns),
                "peak_rss_mb": round(peak_rss_mb(), 1),
                "pandas": pd.__version__,
            }
        )
    )


if __name__ == "__main__":
    main()
