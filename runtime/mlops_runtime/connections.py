"""The HTTP connections of the model server and the router: each one on a thread of its own, at
most max_connections threads at once, and a time limit on reading each request, so that clients
that send slowly, or send half a request and wait, cannot hold the threads for ever.

A request has read_seconds to arrive from its first byte (the first request of a connection, from
the connection's opening), and one second more for every READ_RATE bytes received, so that a large
body on a slow link still arrives. Between two requests, a kept-alive connection waits for the next
one up to the handler's `timeout`. When every thread is taken, the kept-alive connection that has
waited longest for its next request, if that is more than IDLE_BEFORE_CLOSING, is closed to make
room for a new one. Errors found before a handler runs (a request line or header
too long, too many headers, an unknown method) and requests cut off by the time limit are answered
`{"error_code", "message"}`, like the handlers' own.
"""

import http
import http.server
import io
import json
import logging
import math
import re
import socket
import threading
import time

log = logging.getLogger("mlops_runtime")
MAX_REQUEST_BYTES = 50 * 1024 * 1024  # the default of MLOPS_MAX_REQUEST_BYTES
MAX_CONNECTIONS = 256  # the default of MLOPS_MAX_CONNECTIONS
READ_SECONDS = 20.0  # the default of MLOPS_REQUEST_READ_SECONDS
CONTENT_LENGTH = re.compile(r"\s*[0-9]{1,18}\s*")  # a whole number of bytes: no sign, no underscores
READ_RATE = 64 * 1024  # bytes a second that extend a request's time limit
SLOT_WAIT = 0.1  # seconds the accepting thread waits for a free thread before it looks for a stop
IDLE_BEFORE_CLOSING = 1.0  # seconds: a client between two requests of its own is left alone
FULL_WARNING_SECONDS = 60  # how often "every thread is taken" is logged at most
LIMITS = {  # what the standard library refuses before a handler runs
    414: "the request line is longer than 65536 bytes",
    431: "a request has at most 100 headers of at most 65536 bytes each",
}
# error_code of the statuses answered here, as the handlers' own answers name them (the names of
# http.HTTPStatus change with Python versions)
ERROR_CODES = {
    400: "BAD_REQUEST",
    408: "REQUEST_TIMEOUT",
    414: "REQUEST_URI_TOO_LONG",
    431: "REQUEST_HEADER_FIELDS_TOO_LARGE",
    500: "INTERNAL_ERROR",
    501: "NOT_IMPLEMENTED",
    505: "HTTP_VERSION_NOT_SUPPORTED",
}


class RequestTimeout(Exception):
    """A request that did not arrive within its time limit."""

    def __init__(self, message, received):
        super().__init__(message)
        self.received = received


class RequestReader(io.RawIOBase):
    """The connection's socket as its handler reads it, under the time limit of each request."""

    def __init__(self, sock, server, idle_seconds):
        self._sock, self._server, self._idle_seconds = sock, server, idle_seconds
        self._started, self._received = time.monotonic(), 0  # the first request counts from the opening

    def readable(self):
        return True

    def next_request(self):
        """The connection now waits for its next request, as long as the idle time."""
        self._started, self._received = None, 0

    def readinto(self, buffer):
        if self._started is None:
            limit, timeout = None, self._idle_seconds
        else:
            limit = self._server.read_seconds + self._received / READ_RATE
            timeout = self._started + limit - time.monotonic()
            if timeout <= 0:
                raise self._timeout(limit)
        if limit is None:  # idle: the connection may be closed to make room
            self._server.idle.add(self)
        self._sock.settimeout(timeout)
        try:
            count = self._sock.recv_into(buffer)
        except socket.timeout:
            if limit is None:
                raise  # idle too long: the handler closes the connection
            raise self._timeout(limit) from None
        finally:
            self._sock.settimeout(self._idle_seconds)  # the time to send the answer
            if limit is None:
                self._server.idle.discard(self)
        if self._started is None:
            self._started = time.monotonic()
        self._received += count
        return count

    def _timeout(self, limit):
        message = f"the request did not arrive within {limit:.3g} s (MLOPS_REQUEST_READ_SECONDS, and 1 s more per 64 KiB): {self._received} bytes came"
        return RequestTimeout(message, self._received)

    def close_idle(self):
        """Ends the wait for the next request: the read returns as if the client had closed."""
        try:
            self._sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass  # already closed


class IdleConnections:
    """The readers of kept-alive connections waiting for their next request, longest first."""

    def __init__(self):
        self._lock = threading.Lock()
        self._since = {}  # reader -> when it began to wait; dicts keep the order of insertion

    def add(self, reader):
        with self._lock:
            self._since[reader] = time.monotonic()

    def discard(self, reader):
        with self._lock:
            self._since.pop(reader, None)

    def close_longest(self):
        """Closes the connection idle longest, if for IDLE_BEFORE_CLOSING; False when none is."""
        with self._lock:
            reader, since = next(iter(self._since.items()), (None, math.inf))
            if time.monotonic() - since < IDLE_BEFORE_CLOSING:
                return False
            del self._since[reader]
        reader.close_idle()
        return True


class Server(http.server.ThreadingHTTPServer):
    """The HTTP server of the model server and the router; `state` becomes its attributes
    (runtime=..., router=...), which their handlers read."""

    daemon_threads = True  # idle keep-alive connections must not keep the process from exiting
    request_queue_size = 128  # the listen backlog; socketserver's 5 refuses bursts of clients

    def __init__(self, address, handler, max_connections, read_seconds, **state):
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        self.__dict__.update(state)
        self.max_connections, self.read_seconds = max_connections, read_seconds
        self.idle = IdleConnections()
        self._threads_free = threading.BoundedSemaphore(max_connections)
        self._warned_full = -FULL_WARNING_SECONDS
        super().__init__(address, handler)

    def get_request(self):
        """Accepts a connection once a thread is free for it; until then it waits in the listen
        backlog. socketserver takes the OSError for "nothing accepted this time"."""
        if not self._threads_free.acquire(blocking=False):
            if not self.idle.close_longest():
                self._warn_full()
            if not self._threads_free.acquire(timeout=SLOT_WAIT):
                raise OSError("every thread is taken")
        try:
            return super().get_request()
        except BaseException:
            self._threads_free.release()
            raise

    def _warn_full(self):
        now = time.monotonic()
        if now - self._warned_full >= FULL_WARNING_SECONDS:
            self._warned_full = now
            log.warning(
                "all %d connections are taken by requests; new connections wait (MLOPS_MAX_CONNECTIONS)",
                self.max_connections,
            )

    def process_request(self, request, client_address):
        try:
            super().process_request(request, client_address)
        except BaseException:  # no thread started to release it
            self._threads_free.release()
            raise

    def process_request_thread(self, request, client_address):
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._threads_free.release()


class RequestHandler(http.server.BaseHTTPRequestHandler):
    """Reads requests through a RequestReader, and answers in JSON the errors found before a
    handler runs and the failures a handler did not answer, so that a request is never met by a
    closed connection: a router would take that for a backend gone and send the request again."""

    default_request_version = "HTTP/1.1"  # a request line that cannot be read is answered with a status line

    def setup(self):
        super().setup()
        self.rfile.close()  # the file made by the socket: its reference would keep the socket open
        self.reader = RequestReader(self.connection, self.server, self.timeout)
        self.rfile = io.BufferedReader(self.reader)

    def handle(self):
        self.close_connection = True
        self.handle_one_request()
        while not self.close_connection:
            self.reader.next_request()
            self.handle_one_request()

    def handle_one_request(self):
        # What send_error needs when the request line itself is cut off.
        self.command, self.request_version, self.requestline = "", self.protocol_version, ""
        self.answering = False
        try:
            super().handle_one_request()
        except RequestTimeout as timeout:
            self.close_connection = True
            if timeout.received:  # a request began: say why it gets no answer
                self.send_error(408, str(timeout))
        except ConnectionError:
            self.close_connection = True  # the client went away
        except Exception:
            log.exception("the request %r failed", self.requestline)
            self.close_connection = True
            if not self.answering:
                self.send_error(500, "the server failed on this request; its log has the traceback")

    def send_response_only(self, code, message=None):
        self.answering = self.answering or code >= 200  # a 100 Continue is no answer yet
        super().send_response_only(code, message)

    def send_error(self, code, message=None, explain=None):
        status = http.HTTPStatus(code)
        text = message or status.phrase
        if code in LIMITS:
            text = f"{text}: {LIMITS[code]}"
        self.log_error("code %d, message %s", code, text)
        body = json.dumps({"error_code": ERROR_CODES.get(code, status.name), "message": text}).encode("utf-8")
        self.close_connection = True
        try:
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)
        except OSError:
            pass  # the client went away
