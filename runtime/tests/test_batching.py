"""The batcher on its own, with models that record their calls: what goes together into one
call, and what never does."""

import threading
import time
import unittest

from mlops_runtime.batching import Batcher
from mlops_runtime.scoring import Model


class Recording:
    """A model function that records the rows of each call; the first call waits for `release`,
    so that the requests sent meanwhile queue up."""

    def __init__(self):
        self.calls, self.release = [], threading.Event()

    def __call__(self, rows):
        self.calls.append(list(rows))
        self.release.wait(10)
        return [sum(v for v in (row.values() if isinstance(row, dict) else row)) for row in rows]


def model(predict, names=None):
    features = [{"name": n, "dtype": "float64"} for n in names] if names else None
    return Model({"mode": "function", "features": features}, predict)


def in_threads(batcher, requests):
    """Sends each request's rows from a thread of its own; returns the answers, or the errors, in order."""
    answers = [None] * len(requests)

    def send(i, rows):
        with batcher.arriving() as ticket:
            try:
                answers[i] = ticket.predict(rows)[0]
            except Exception as error:
                answers[i] = error

    threads = [threading.Thread(target=send, args=(i, rows)) for i, rows in enumerate(requests)]
    for thread in threads:
        thread.start()
        time.sleep(0.01)
    return threads, answers


def in_threads_apart(batcher, requests, seconds):
    """As in_threads, `seconds` apart."""
    answers = [None] * len(requests)

    def send(i, rows):
        with batcher.arriving() as ticket:
            answers[i] = ticket.predict(rows)[0]

    threads = [threading.Thread(target=send, args=(i, rows)) for i, rows in enumerate(requests)]
    for thread in threads:
        thread.start()
        time.sleep(seconds)
    return threads, answers


class BatcherTest(unittest.TestCase):
    def run_behind_a_first_call(self, predict, requests, max_rows=64, names=None):
        """The first request holds the model while the others queue; then all are answered."""
        batcher = Batcher(model(predict, names), max_rows, 0.05)
        threads, answers = in_threads(batcher, [[{"x": 0}]] + requests)
        time.sleep(0.2)
        predict.release.set()
        for thread in threads:
            thread.join(10)
        return answers[1:]

    def test_rows_of_other_columns_or_lengths_go_to_other_calls(self):
        predict = Recording()
        requests = [[{"x": 1}], [{"y": 2}], [{"x": 3}], [[4, 5]], [[6, 7]], [[8], [9, 10]]]
        answers = self.run_behind_a_first_call(predict, requests)
        self.assertEqual(answers, [[1], [2], [3], [9], [13], [8, 19]])
        shapes = sorted(str(call) for call in predict.calls[1:])
        self.assertEqual(shapes, sorted(["[{'x': 1}, {'x': 3}]", "[{'y': 2}]", "[[4, 5], [6, 7]]", "[[8], [9, 10]]"]))

    def test_a_call_never_takes_more_than_max_rows(self):
        predict = Recording()
        requests = [[{"x": i}] * (1 + i % 3) for i in range(20)]
        answers = self.run_behind_a_first_call(predict, requests, max_rows=5)
        self.assertEqual(answers, [[i] * (1 + i % 3) for i in range(20)])
        self.assertTrue(all(len(call) <= 5 for call in predict.calls), [len(call) for call in predict.calls])
        self.assertLess(len(predict.calls), 21)

    def test_a_failed_batch_is_predicted_request_by_request(self):
        predict = Recording()

        def picky(rows):
            if any(row["x"] < 0 for row in rows):
                raise ValueError("negative")
            return predict(rows)

        picky.release = predict.release
        answers = self.run_behind_a_first_call(picky, [[{"x": 1}], [{"x": -1}], [{"x": 2}, {"x": 3}]], names=["x"])
        self.assertEqual((answers[0], answers[2]), ([1], [2, 3]))
        self.assertIsInstance(answers[1], ValueError)

    def test_under_load_a_batch_waits_for_as_many_requests_as_the_last_call_had(self):
        predict = Recording()
        batcher = Batcher(model(predict), 64, 0.5)
        threads, _ = in_threads(batcher, [[{"x": 0}], [{"x": 1}], [{"x": 2}], [{"x": 3}]])
        time.sleep(0.1)
        predict.release.set()  # the three behind the first went together: the load is three
        for thread in threads:
            thread.join(10)
        # Three more, 50 ms apart, none on its way when the first is queued: one call still.
        threads, answers = in_threads_apart(batcher, [[{"x": 4}], [{"x": 5}], [{"x": 6}]], 0.05)
        for thread in threads:
            thread.join(10)
        self.assertEqual(answers, [[4], [5], [6]])
        self.assertEqual(predict.calls[-1], [{"x": 4}, {"x": 5}, {"x": 6}])
        # A lone request after a lone one is predicted at once.
        for x in (7, 8):
            started = time.monotonic()
            with batcher.arriving() as ticket:
                self.assertEqual(ticket.predict([{"x": x}])[0], [x])
        self.assertLess(time.monotonic() - started, 0.25)

    def test_batching_off_calls_the_model_in_each_thread(self):
        names = []

        def predict(rows):
            names.append(threading.current_thread().name)
            return [0 for _ in rows]

        batcher = Batcher(model(predict), 1, 0.05)
        with batcher.arriving() as ticket:
            self.assertEqual(ticket.predict([{"x": 1}], False), ([0], None))
        self.assertEqual(names, [threading.current_thread().name])
