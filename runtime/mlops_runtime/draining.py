"""The requests a server is handling, so that a stop can let them finish (draining)."""

import contextlib
import threading


class Draining:
    """Base of the model server's and the router's shared state: `draining` is set on SIGTERM,
    and `wait_idle` waits for the requests still in flight."""

    def __init__(self):
        self.draining = threading.Event()
        self._in_flight = 0
        self._idle = threading.Condition()

    @contextlib.contextmanager
    def handling(self):
        with self._idle:
            self._in_flight += 1
        try:
            yield
        finally:
            with self._idle:
                self._in_flight -= 1
                self._idle.notify_all()

    def in_flight(self):
        with self._idle:
            return self._in_flight

    def wait_idle(self, timeout):
        """Waits up to timeout seconds for the requests in flight; returns how many still are."""
        with self._idle:
            self._idle.wait_for(lambda: self._in_flight == 0, timeout)
            return self._in_flight
