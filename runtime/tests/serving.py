"""Helpers for the server tests: model directories, the real server in a subprocess, HTTP calls
and a strict reader of the Prometheus text format."""

import http.client
import json
import os
import pickle
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

TESTS_DIR = os.path.dirname(os.path.abspath(__file__))
RUNTIME_DIR = os.path.dirname(TESTS_DIR)


def features(*pairs):
    """model.json features from ("name", "dtype") pairs."""
    return [{"name": name, "dtype": dtype} for name, dtype in pairs]


def write_model(
    directory,
    mode="estimator",
    model=None,
    namespace=None,
    source=None,
    task="unknown",
    classes=None,
    features=None,
    sample=None,
):
    """Writes a model directory as the image build does and returns its path."""
    os.makedirs(directory, exist_ok=True)
    meta = {
        "format": 1,
        "mode": mode,
        "variable": "model" if mode == "estimator" else "predict",
        "task": task,
        "classes": classes,
        "features": features,
    }
    with open(os.path.join(directory, "model.json"), "w") as f:
        json.dump(meta, f)
    if mode == "estimator":
        with open(os.path.join(directory, "model.pkl"), "wb") as f:
            pickle.dump(model, f)
    else:
        with open(os.path.join(directory, "namespace.pkl"), "wb") as f:
            pickle.dump(namespace or {}, f)
        with open(os.path.join(directory, "serve.py"), "w") as f:
            f.write(source)
    if sample is not None:
        with open(os.path.join(directory, "sample.json"), "w") as f:
            json.dump(sample, f)
    return directory


def server_env(model_dir, **settings):
    """The environment of a server on a free loopback port, without the MLOPS_* settings of the caller."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLOPS_") and k != "PORT"}
    # tests.toy_models (discovered with -t runtime) or toy_models (started inside tests/) unpickle.
    env["PYTHONPATH"] = os.pathsep.join([RUNTIME_DIR, TESTS_DIR])
    env.update(
        {
            "MLOPS_MODEL_DIR": model_dir,
            "MLOPS_HOST": "127.0.0.1",
            "PORT": "0",
            "MLOPS_LABELS_FILE": os.path.join(model_dir, "no-labels.json"),
        }
    )
    env.update({k: str(v) for k, v in settings.items()})
    return env


def run_server(model_dir, timeout=30, **settings):
    """Runs a server that is expected to stop by itself; returns (exit code, stderr)."""
    result = subprocess.run(
        [sys.executable, "-m", "mlops_runtime"],
        env=server_env(model_dir, **settings),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return result.returncode, result.stderr


class Server:
    """The real server, `python -m mlops_runtime`, in a subprocess on a free port."""

    def __init__(self, model_dir, **settings):
        self.stderr_file = tempfile.NamedTemporaryFile(prefix="mlops-runtime-", suffix=".log", delete=False)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "mlops_runtime"],
            env=server_env(model_dir, **settings),
            stdout=subprocess.DEVNULL,
            stderr=self.stderr_file,
        )
        self.port = None

    def wait_ready(self):
        """Waits for the line that says the server listens, and reads the port from it."""
        deadline = time.monotonic() + 60
        while True:
            match = re.search(r" port (\d+)$", self.stderr(), re.M)
            if match:
                self.port = int(match.group(1))
                return self
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise AssertionError(f"the server did not start (exit {self.process.returncode}):\n{self.stderr()}")
            time.sleep(0.02)

    def stderr(self):
        with open(self.stderr_file.name, encoding="utf-8", errors="replace") as f:
            return f.read()

    def connection(self, timeout=30):
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def request(self, method, path, body=None, headers=None, connection=None):
        """(status, headers, body bytes), on a new connection unless one is given."""
        conn = connection or self.connection()
        try:
            if isinstance(body, str):
                body = body.encode("utf-8")
            conn.request(method, path, body=body, headers=headers or {})
            response = conn.getresponse()
            return response.status, response.headers, response.read()
        finally:
            if connection is None:
                conn.close()

    def post(self, payload, content_type="application/json", headers=None):
        """POST /invocations; returns (status, decoded JSON answer, headers)."""
        body = payload if isinstance(payload, (str, bytes)) else json.dumps(payload)
        status, answer_headers, answer = self.request(
            "POST", "/invocations", body, {"Content-Type": content_type, **(headers or {})}
        )
        return status, json.loads(answer), answer_headers

    def predict(self, payload, content_type="application/json"):
        status, answer, _ = self.post(payload, content_type)
        if status != 200:
            raise AssertionError(f"{status}: {answer}")
        return answer["predictions"]

    def get_json(self, path):
        status, _, body = self.request("GET", path)
        return status, json.loads(body)

    def metrics(self):
        status, headers, body = self.request("GET", "/metrics")
        assert status == 200, status
        assert headers["Content-Type"].startswith("text/plain; version=0.0.4"), headers["Content-Type"]
        return Exposition(body.decode("utf-8"))

    def signal(self, signum=signal.SIGTERM):
        self.process.send_signal(signum)

    def stop(self):
        """Stops the server if it still runs; returns its exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.stderr_file.close()
        return self.process.returncode

    def close(self):
        self.stop()
        os.unlink(self.stderr_file.name)


SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$")
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"(,|$)')
HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")


class Exposition:
    """Prometheus text format 0.0.4, read strictly: every sample belongs to a family with one HELP
    and one TYPE line before its samples, label values are escaped, histograms are consistent."""

    def __init__(self, text):
        assert text.endswith("\n"), "the exposition ends with a newline"
        self.types, self.helps, self.samples = {}, {}, []
        for line in text.splitlines():
            if line.startswith("# HELP "):
                name, _, help_text = line[7:].partition(" ")
                assert name not in self.helps, f"two HELP lines for {name}"
                self.helps[name] = help_text
            elif line.startswith("# TYPE "):
                name, _, kind = line[7:].partition(" ")
                assert name not in self.types, f"two TYPE lines for {name}"
                assert kind in ("counter", "gauge", "histogram", "summary", "untyped"), line
                self.types[name] = kind
            else:
                match = SAMPLE.match(line)
                assert match, f"not a sample line: {line!r}"
                name, labels, value = match.group(1), self._labels(match.group(2) or ""), float(match.group(3))
                family = self.family(name)
                assert family in self.types and family in self.helps, (
                    f"{name} comes before the HELP and TYPE of {family}"
                )
                self.samples.append((name, labels, value))
        for family, kind in self.types.items():
            if kind == "histogram":
                self._check_histogram(family)

    @staticmethod
    def _labels(text):
        labels, position = {}, 0
        while position < len(text):
            match = LABEL.match(text, position)
            assert match, f"bad labels at {text[position:]!r}"
            value = re.sub(r"\\(.)", lambda m: "\n" if m.group(1) == "n" else m.group(1), match.group(2))
            labels[match.group(1)] = value
            position = match.end()
        return labels

    def family(self, name):
        for suffix in HISTOGRAM_SUFFIXES:
            base = name[: -len(suffix)]
            if name.endswith(suffix) and self.types.get(base) == "histogram":
                return base
        return name

    def _check_histogram(self, family):
        series = {}
        for name, labels, value in self.samples:
            if self.family(name) == family:
                key = tuple(sorted((k, v) for k, v in labels.items() if k != "le"))
                series.setdefault(key, {"buckets": []})
                if name.endswith("_bucket"):
                    series[key]["buckets"].append((float(labels["le"]), value))
                else:
                    series[key][name[len(family) + 1 :]] = value
        for key, parts in series.items():
            bounds = [bound for bound, _ in parts["buckets"]]
            counts = [count for _, count in parts["buckets"]]
            assert bounds == sorted(bounds) and bounds[-1] == float("inf"), f"{family}{key}: buckets {bounds}"
            assert counts == sorted(counts), f"{family}{key}: buckets are not cumulative: {counts}"
            assert counts[-1] == parts["count"], f"{family}{key}: +Inf bucket {counts[-1]} != count {parts['count']}"

    def get(self, name, **labels):
        """The value of the one sample with this name and these labels (among others), or None."""
        found = [
            value
            for sample, have, value in self.samples
            if sample == name and all(have.get(k) == v for k, v in labels.items())
        ]
        assert len(found) <= 1, f"{len(found)} samples of {name} match {labels}"
        return found[0] if found else None

    def series(self, name):
        return [(labels, value) for sample, labels, value in self.samples if sample == name]


class ServerTestCase(unittest.TestCase):
    """Starts one server per model directory; stops them at the end. Each subclass defines the
    class method model_dirs(root) -> {name: (model directory written under root, environment settings)}.
    (This class has no tests of its own, so unittest never sets it up.)"""

    @classmethod
    def setUpClass(cls):
        cls.root = tempfile.mkdtemp(prefix="mlops-runtime-test-")
        cls.servers = {}
        try:
            for name, (model_dir, settings) in cls.model_dirs(cls.root).items():
                cls.servers[name] = Server(model_dir, **settings)
            for server in cls.servers.values():  # started together, they load their models in parallel
                server.wait_ready()
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        for server in cls.servers.values():
            server.signal()
        for server in cls.servers.values():
            server.close()
        shutil.rmtree(cls.root, ignore_errors=True)
