"""Input drift of logged requests with pandas, numpy and scipy, as the peer of `requestDrift`:
requests_drift_peer.py BASELINE_PARQUET REQUESTS_JSONL

Reads the model server's request log (JSON Lines, one request a line, `inputs` a list of row
objects) with pandas, flattens the inputs into one frame, reads the baseline, then measures PSI and
KS per feature as drift_peer.py does. Importing the libraries is not timed, as loading our modules
is not. Prints JSON: {seconds, read_seconds, flatten_seconds, drift_seconds, rows, features}.
"""

import json
import sys
import time

import pandas as pd
from drift_peer import measure


def main():
    started = time.perf_counter()
    log = pd.read_json(sys.argv[2], lines=True, precise_float=True, dtype=False, convert_dates=False)
    read = time.perf_counter() - started
    current = pd.DataFrame.from_records([row for rows in log["inputs"] if isinstance(rows, list) for row in rows])
    flattened = time.perf_counter()
    baseline = pd.read_parquet(sys.argv[1])
    features = measure(baseline, current[baseline.columns])
    done = time.perf_counter()
    print(
        json.dumps(
            {
                "seconds": done - started,
                "read_seconds": read,
                "flatten_seconds": flattened - started - read,
                "drift_seconds": done - flattened,
                "rows": len(current),
                "features": features,
            }
        )
    )


if __name__ == "__main__":
    main()
