"""Adaptive batching: the rows of requests that arrive together are predicted in one model call.

One thread calls the model. A request that finds nothing else queued and no other request on its
way is predicted at once; while other requests are arriving (their bodies being read), the batch
waits for them up to max_wait seconds or max_rows rows. Under steady load the requests of the next
batch are not all visible yet when it opens (their threads wait for the interpreter while the model
runs), so a batch also waits, up to max_wait, until it has as many requests as the last call had.
Each request's rows are parsed and checked before they are queued, so a bad request fails alone; if a batched call raises, each request of
the batch is predicted alone, so that only the culprit fails.
"""

import collections
import contextlib
import logging
import threading
import time

log = logging.getLogger("mlops_runtime")


def batch_key(rows, model):
    """What requests must share for their rows to go to the model in one call: with the model's
    features every row holds them in order; without, the same columns, or the same row length."""
    if model.names is not None:
        return "features"
    if isinstance(rows[0], dict):
        return ("columns", tuple(dict.fromkeys(key for row in rows for key in row)))
    lengths = {len(row) if isinstance(row, list) else -1 for row in rows}
    return ("positions", lengths.pop()) if len(lengths) == 1 else object()  # ragged rows: alone


class _Item:
    def __init__(self, rows, scores, key):
        self.rows, self.scores, self.key = rows, scores, key
        self.done = threading.Event()
        self.result = self.error = None

    def settle(self, result=None, error=None):
        self.result, self.error = result, error
        self.done.set()


class _Ticket:
    def __init__(self, batcher):
        self._batcher, self._waited_for = batcher, True

    def predict(self, rows, scores=False):
        return self._batcher._submit(self, rows, scores)

    def arrived(self):
        """Called with the batcher's lock held; once per request."""
        if self._waited_for:
            self._waited_for = False
            self._batcher._arriving -= 1
            self._batcher._changed.notify_all()


class Batcher:
    """Calls the model for the scoring requests, with the rows of requests that arrive together
    in one call of at most max_rows rows (1: no batching)."""

    def __init__(self, model, max_rows, max_wait, observe_batch=None):
        self.model, self.max_rows, self.max_wait = model, max_rows, max_wait
        self._observe_batch = observe_batch or (lambda requests, rows: None)
        self._changed = threading.Condition()
        self._queue = collections.deque()
        self._arriving = 0  # requests whose bodies are being read: a batch may wait for them
        self._last_size = 1  # requests in the last model call: what the next batch expects under load
        if max_rows > 1:
            threading.Thread(target=self._run, name="mlops-batcher", daemon=True).start()

    @contextlib.contextmanager
    def arriving(self):
        """Around reading, parsing and predicting a scoring request: a forming batch waits for
        the requests being read. Yields a ticket whose predict(rows, scores) gives
        (predictions, scores or None)."""
        ticket = _Ticket(self)
        with self._changed:
            self._arriving += 1
        try:
            yield ticket
        finally:
            with self._changed:
                ticket.arrived()

    def _submit(self, ticket, rows, scores):
        if self.max_rows <= 1:  # batching off: the model is called in the request's thread
            with self._changed:
                ticket.arrived()
            self._observe_batch(1, len(rows))
            return self._predict(rows, scores)
        item = _Item(rows, scores, batch_key(rows, self.model))
        with self._changed:
            ticket.arrived()  # in the same step as queueing, so no batch closes between the two
            self._queue.append(item)
        item.done.wait()
        if item.error is not None:
            raise item.error
        return item.result

    def _predict(self, rows, scores):
        return self.model.predict(rows), (self.model.scores(rows) if scores else None)

    def _run(self):
        while True:
            batch = self._next_batch()
            try:
                self._call(batch)
            except BaseException as error:  # never leave a request waiting for ever
                log.exception("the batcher failed")
                for item in batch:
                    if not item.done.is_set():
                        item.settle(error=error)

    def _next_batch(self):
        with self._changed:
            self._changed.wait_for(lambda: self._queue)
            first = self._queue.popleft()
            batch, rows = [first], len(first.rows)
            deadline = time.monotonic() + self.max_wait
            while True:
                for item in list(self._queue):
                    if item.key == first.key and rows + len(item.rows) <= self.max_rows:
                        self._queue.remove(item)
                        batch.append(item)
                        rows += len(item.rows)
                left = deadline - time.monotonic()
                # Wait only for requests on their way or expected as the last call had them, so a
                # lone request after a lone request never waits.
                expected = self._arriving > 0 or len(batch) < self._last_size
                if rows >= self.max_rows or not expected or left <= 0:
                    self._last_size = len(batch)
                    return batch
                self._changed.wait(left)

    def _call(self, batch):
        self._observe_batch(len(batch), sum(len(item.rows) for item in batch))
        if len(batch) == 1:
            self._alone(batch[0])
            return
        rows = [row for item in batch for row in item.rows]
        scored = [row for item in batch if item.scores for row in item.rows]
        try:
            predictions = self.model.predict(rows)
            scores = self.model.scores(scored) if scored else []
        except Exception:
            for item in batch:  # one request's rows may be what the model refuses: find it
                self._alone(item)
            return
        start = scored_start = 0
        for item in batch:
            end = start + len(item.rows)
            item_scores = None
            if item.scores:
                item_scores = scores[scored_start : scored_start + len(item.rows)]
                scored_start += len(item.rows)
            item.settle((predictions[start:end], item_scores))
            start = end

    def _alone(self, item):
        try:
            item.settle(self._predict(item.rows, item.scores))
        except Exception as error:
            item.settle(error=error)
