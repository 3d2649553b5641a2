"""The model server that runs in MLOps images (server.py) and the steps of the image build.

`python3 -m mlops_runtime` starts the server; runtime/README.md describes it.
"""
