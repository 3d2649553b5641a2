"""The model in a process of its own, as MLServer's inference workers: the server's threads read,
parse and answer requests while the model predicts, instead of waiting for the interpreter's lock
that a model call holds. The worker loads the model (the server keeps only its description) and
answers one call at a time over a pipe; rows and predictions are plain JSON values, cheap to send.
"""

import logging
import multiprocessing
import signal
import threading

from . import scoring

log = logging.getLogger("mlops_runtime")


class ModelProcessError(RuntimeError):
    """The model's process ended without answering."""


def _serve(conn, model_dir):
    # Ctrl-C reaches the whole process group, but the server decides when to stop: the worker ends
    # when the server's end of the pipe closes, or on SIGTERM from the server as it exits.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        model = scoring.load_model(model_dir)
    except Exception as error:
        conn.send(("error", _portable(error)))
        return
    conn.send(("ready", (model.describe(), model.score_classes)))
    while True:
        try:
            kind, rows = conn.recv()
        except (EOFError, OSError):
            return
        try:
            conn.send(("ok", model.predict(rows) if kind == "predict" else model.scores(rows)))
        except Exception as error:
            conn.send(("error", _portable(error)))


def _portable(error):
    """The error itself when it survives pickling (so callers catch its class), else its text."""
    try:
        multiprocessing.reduction.ForkingPickler.loads(multiprocessing.reduction.ForkingPickler.dumps(error))
        return error
    except Exception:
        return RuntimeError(f"{type(error).__name__}: {error}")


class _Worker:
    def __init__(self, model_dir):
        self._model_dir = model_dir
        self._lock = threading.Lock()
        self.description = self._start()

    def _start(self):
        # spawn, not fork: the server's threads and the numeric libraries' own are not safe to fork.
        context = multiprocessing.get_context("spawn")
        self._conn, child = context.Pipe()
        self._process = context.Process(target=_serve, args=(child, self._model_dir), name="mlops-model", daemon=True)
        self._process.start()
        child.close()
        status, value = self._receive()
        if status != "ready":
            raise value if isinstance(value, scoring.ModelLoadError) else scoring.ModelLoadError(str(value))
        return value

    def _receive(self):
        try:
            return self._conn.recv()
        except (EOFError, OSError) as error:
            self._process.join(1)
            raise ModelProcessError(f"the model's process ended (exit code {self._process.exitcode})") from error

    def call(self, kind, rows):
        with self._lock:
            try:
                self._conn.send((kind, rows))
                status, value = self._receive()
            except (ModelProcessError, OSError) as error:
                log.error("%s; starting it again", error)
                self._start()
                raise ModelProcessError(str(error)) from error
        if status == "error":
            raise value
        return value


def load_model(model_dir):
    """A scoring.Model whose predictions and scores are made by a process of its own."""
    worker = _Worker(model_dir)
    meta, score_classes = worker.description
    scores = (lambda rows: worker.call("scores", rows)) if score_classes is not None else None
    return scoring.Model(meta, lambda rows: worker.call("predict", rows), scores, score_classes)
