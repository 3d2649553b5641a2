"""`python3 -m mlops_runtime`: serves the model of the image (see server.py)."""

import sys

from .server import main

sys.exit(main())
