"""Who may read the request log and send feedback: the holder of the deployment's data token.

GET /requests (and the router's /router/backends/requests) return every logged input and
prediction, and POST /feedback writes the labels that decide A/B results, so they take the token,
as `Authorization: Bearer TOKEN` or `X-Mlops-Token: TOKEN` (the Kubernetes API server's pod
proxy keeps Authorization for itself). It is compared in constant time. A server without a token
answers these endpoints on loopback only. Prediction, health and metrics stay open.

The request ids a server or router makes carry an HMAC of the token, so that any replica of the
deployment can tell an id it issued from one made up, without shared state. runtime/README.md
describes the settings.
"""

import hashlib
import hmac
import ipaddress
import re
import threading
import uuid

TOKEN = re.compile(r"[\x21-\x7e]{16,512}")  # printable ASCII without spaces, so it fits a header
SIGNATURE_HEX = 16  # 64 bits of the HMAC: guessing one takes 2**63 requests on average
PROTECTED_PATHS = ("/requests", "/feedback")
CONFIGURE = (
    "set MLOPS_DATA_TOKEN_FILE (a file holding it, as a Swarm secret) or MLOPS_DATA_TOKEN; deploys from MLOps set it"
)


class TokenError(Exception):
    """A token setting that cannot be used; the message names it."""


def read_token(env):
    """The data token of MLOPS_DATA_TOKEN_FILE, else of MLOPS_DATA_TOKEN; None when neither is set."""
    path = env.get("MLOPS_DATA_TOKEN_FILE")
    if path:
        try:
            with open(path, encoding="utf-8") as f:
                text = f.read().strip()
        except (OSError, UnicodeDecodeError) as error:
            raise TokenError(
                f"MLOPS_DATA_TOKEN_FILE {path} cannot be read: {getattr(error, 'strerror', None) or error}"
            ) from None
        where = f"MLOPS_DATA_TOKEN_FILE {path}"
    else:
        text = (env.get("MLOPS_DATA_TOKEN") or "").strip()
        if not text:
            return None
        where = "MLOPS_DATA_TOKEN"
    if not TOKEN.fullmatch(text):
        raise TokenError(
            f"{where} must hold a token of 16 to 512 printable ASCII characters without spaces (it has {len(text)} characters)"
        )
    return text


def is_loopback(host):
    """Whether a client address (IPv4, IPv6 or IPv4-mapped IPv6) is the machine's own."""
    try:
        address = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    return (mapped or address).is_loopback


class Denied(Exception):
    """Why a request to a protected endpoint is refused: its status, error code, message and headers."""

    def __init__(self, status, code, message, headers=()):
        super().__init__(message)
        self.status, self.code, self.headers = status, code, list(headers)


class DataAccess:
    """The token of a server or router, None when it has none."""

    def __init__(self, token):
        self.token = token
        self._key = hmac.new(token.encode("ascii"), b"mlops request id", hashlib.sha256).digest() if token else None

    def check(self, path, headers, client_host):
        """Raises Denied unless the request may read the log or send feedback."""
        if self.token is None:
            if is_loopback(client_host):
                return
            raise Denied(
                403, "FORBIDDEN", f"{path} answers on loopback only, as this server has no data token: {CONFIGURE}"
            )
        given = presented_token(headers)
        if given is None:
            message = f"{path} needs the deployment's data token, as Authorization: Bearer TOKEN or X-Mlops-Token: TOKEN (mlops token --target T --name NAME prints it)"
            raise Denied(401, "UNAUTHORIZED", message, [("WWW-Authenticate", 'Bearer realm="mlops"')])
        if not hmac.compare_digest(given.encode("utf-8", "replace"), self.token.encode("ascii")):
            message = (
                f"the data token sent to {path} is not this deployment's (mlops token --target T --name NAME prints it)"
            )
            raise Denied(
                401, "UNAUTHORIZED", message, [("WWW-Authenticate", 'Bearer realm="mlops", error="invalid_token"')]
            )

    def new_request_id(self):
        """A uuid4; with a token, followed by '.' and its signature."""
        random = str(uuid.uuid4())
        return f"{random}.{self._signature(random)}" if self._key else random

    def issued(self, request_id):
        """Whether request_id is one that a server or router with this token made."""
        if not self._key:
            return False
        random, dot, signature = request_id.rpartition(".")
        return bool(dot) and len(signature) == SIGNATURE_HEX and hmac.compare_digest(signature, self._signature(random))

    def headers(self):
        """The header that authorises the router's own calls to its backends."""
        return [("X-Mlops-Token", self.token)] if self.token else []

    def _signature(self, text):
        return hmac.new(self._key, text.encode("utf-8"), hashlib.sha256).hexdigest()[:SIGNATURE_HEX]


class KnownIds:
    """The request ids a server logged that it did not issue (a client's own X-Request-Id), the
    newest `limit` of them, to accept feedback for; issued ids are checked by their signature."""

    def __init__(self, limit):
        self.limit = limit
        self._ids = {}  # insertion-ordered: the oldest is dropped first
        self._lock = threading.Lock()

    def add(self, request_id):
        with self._lock:
            self._ids.pop(request_id, None)
            self._ids[request_id] = None
            while len(self._ids) > self.limit:
                del self._ids[next(iter(self._ids))]

    def __contains__(self, request_id):
        return request_id in self._ids


def presented_token(headers):
    """The token of X-Mlops-Token, else of Authorization: Bearer; None when neither is sent."""
    token = headers.get("X-Mlops-Token")
    if token:
        return token.strip()
    scheme, _, credentials = (headers.get("Authorization") or "").strip().partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return credentials.strip()
    return None
