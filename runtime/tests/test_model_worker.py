"""The model in a process of its own (MLOPS_MODEL_PROCESS=1): predictions are made there, the
server keeps answering, and a worker that dies is started again."""

import shutil
import tempfile
import unittest

from .serving import Server, write_model

SOURCE = """
import os

def predict(records):
    if any(r.get("x") == -1 for r in records):
        os._exit(3)
    return [os.getpid() for r in records]
"""


class ModelProcess(unittest.TestCase):
    def setUp(self):
        self.root = tempfile.mkdtemp(prefix="mlops-worker-test-")
        self.addCleanup(shutil.rmtree, self.root, ignore_errors=True)
        self.model = write_model(self.root, "function", source=SOURCE, task="regression")

    def serve(self, **settings):
        server = Server(self.model, **settings).wait_ready()
        self.addCleanup(server.close)
        return server

    def test_the_model_predicts_in_another_process_when_turned_on(self):
        apart = self.serve(MLOPS_MODEL_PROCESS="1")
        [pid] = apart.predict({"instances": [{"x": 1}]})
        self.assertNotEqual(pid, apart.process.pid)
        inside = self.serve()
        self.assertEqual(inside.predict({"instances": [{"x": 1}]}), [inside.process.pid])

    def test_a_worker_that_dies_fails_its_request_and_is_started_again(self):
        server = self.serve(MLOPS_MODEL_PROCESS="1")
        [before] = server.predict({"instances": [{"x": 1}]})
        status, answer, _ = server.post({"instances": [{"x": -1}]})
        self.assertGreaterEqual(status, 500, answer)
        self.assertIn("the model's process ended (exit code 3)", answer["message"] + server.stderr())
        [after] = server.predict({"instances": [{"x": 2}]})
        self.assertNotEqual(after, before, "a new process")
        self.assertIsNone(server.process.poll(), "the server runs on")


if __name__ == "__main__":
    unittest.main()
