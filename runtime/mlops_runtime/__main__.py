"""`python3 -m mlops_runtime`: serves the model of the image (see server.py)."""

import sys

from .server import main

if __name__ == "__main__":  # the model's process (model_worker.py) imports this module too
    sys.exit(main())
