"""The router's shadow traffic: requests sent again to shadow groups once the client has its
answer, by a few threads that read a bounded queue, so that a slow shadow group neither holds up
live requests nor piles them up in memory. A request that finds the queue full is dropped."""

import logging
import queue
import threading

log = logging.getLogger("mlops_runtime.router")


class MirrorPool:
    """Threads started once that call send(*job) for each job submitted."""

    def __init__(self, send, threads, capacity):
        self._send = send
        self._queue = queue.Queue(capacity)
        for index in range(threads):
            threading.Thread(target=self._work, name=f"mirror-{index}", daemon=True).start()

    def submit(self, *job):
        """Queues the job; False when the queue is full and it is dropped."""
        try:
            self._queue.put_nowait(job)
        except queue.Full:
            return False
        return True

    def _work(self):
        while True:
            job = self._queue.get()
            try:
                self._send(*job)
            except Exception:  # a thread that died would mirror nothing more
                log.exception("mirroring a request failed")
