"""Prometheus metrics of the model server, in the text exposition format 0.0.4.

Every series carries version="<model version>", so the series of two versions behind one
service (A/B, canary) stay apart. The inputs are summarised for drift monitoring without the
request log: per numeric feature a count, sum and sum of squares (mean and variance) and a
histogram (shape), per categorical feature a count per value, and missing values per feature.
"""

import bisect
import math
import threading
import time

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
OTHER = "__other__"
MAX_CATEGORIES = 50  # distinct values counted per categorical feature (and classes); the rest is OTHER
COMMON_ERROR_CODES = ("400", "413", "415", "500")
MAX_FEATURES = 200  # features summarised when model.json does not list them and requests choose the names


def symmetric_buckets(multipliers, exponents):
    """Bucket bounds on a log scale mirrored around 0, e.g. -10, -1, 0, 1, 10."""
    positive = sorted(float(f"{m}e{e}") for e in exponents for m in multipliers)
    return [-b for b in reversed(positive)] + [0.0] + positive


BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512]
LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0]
# Predictions and features have no range known in advance, and buckets must not change between
# versions for their histograms to be compared: 1, 2.5 and 5 per decade from 0.01 to 500,000 for
# predictions, one per decade from 0.001 to 1,000,000 for features, each of either sign.
PREDICTION_BUCKETS = symmetric_buckets((1, 2.5, 5), range(-2, 6))
FEATURE_BUCKETS = symmetric_buckets((1,), range(-3, 7))


class Counter:
    kind = "counter"

    def __init__(self, name, help_text, labels=()):
        self.name, self.help, self.labels = name, help_text, labels
        self.values = {} if labels else {(): 0}

    def inc(self, *label_values, amount=1):
        self.values[label_values] = self.values.get(label_values, 0) + amount

    def samples(self):
        for key, value in self.values.items():
            yield self.name, tuple(zip(self.labels, key)), value


class Gauge(Counter):
    kind = "gauge"

    def set(self, value, *label_values):
        self.values[label_values] = value

    def extreme(self, pick, value, *label_values):
        """Keeps pick(current, value), pick being min or max."""
        self.values[label_values] = pick(self.values.get(label_values, value), value)


class Histogram:
    kind = "histogram"

    def __init__(self, name, help_text, bounds, labels=()):
        self.name, self.help, self.labels, self.bounds = name, help_text, labels, bounds
        self.values = {}  # label values -> [count per bucket (not cumulative)..., above the last, sum]
        if not labels:
            self.values[()] = self._empty()

    def _empty(self):
        return [0] * (len(self.bounds) + 1) + [0.0]

    def observe(self, value, *label_values):
        state = self.values.get(label_values)
        if state is None:
            state = self.values[label_values] = self._empty()
        state[bisect.bisect_left(self.bounds, value)] += 1  # le: a value on a bound is in that bucket
        state[-1] += value

    def samples(self):
        for key, state in self.values.items():
            labels = tuple(zip(self.labels, key))
            total = 0
            for bound, count in zip(self.bounds + [math.inf], state):
                total += count
                yield f"{self.name}_bucket", labels + (("le", _number(bound)),), total
            yield f"{self.name}_sum", labels, state[-1]
            yield f"{self.name}_count", labels, total


class Metrics:
    """The server's metrics; thread-safe."""

    def __init__(self, version, model):
        self.version = version
        self.task = model.task
        self.kinds = model.kinds
        self._lock = threading.Lock()
        self._seen = {}  # group -> the label values admitted so far, for the caps
        self.requests = Counter(
            "mlops_requests_total", "Scoring requests (POST /invocations, Open Inference Protocol infer) answered."
        )
        self.errors = Counter(
            "mlops_request_errors_total", "Scoring requests answered with an error, by HTTP status code.", ("code",)
        )
        # Present from the start, so rate() over the first errors sees them rise from 0.
        for code in COMMON_ERROR_CODES:
            self.errors.inc(code, amount=0)
        self.started = Gauge(
            "mlops_server_start_time_seconds",
            "When the server started, in seconds since the epoch: counters count from then.",
        )
        self.started.set(time.time())
        self.latency = Histogram(
            "mlops_request_latency_seconds",
            "Time to answer a scoring request, from its headers to its response.",
            LATENCY_BUCKETS,
        )
        self.predictions = Counter("mlops_predictions_total", "Predictions returned, one per input row.")
        self.batch_requests = Histogram(
            "mlops_batch_requests", "Scoring requests predicted together in one model call.", BATCH_BUCKETS
        )
        self.batch_rows = Histogram("mlops_batch_rows", "Rows predicted in one model call.", BATCH_BUCKETS)
        self.log_errors = Counter("mlops_request_log_errors_total", "Request log lines that could not be written.")
        self.info = Gauge(
            "mlops_model_info", "The model served: always 1, its description in labels.", ("mode", "task", "variable")
        )
        self.info.set(1, model.mode, model.task, model.variable or "")
        self.prediction_value = Histogram(
            "mlops_prediction_value", "Numeric predictions (regression).", PREDICTION_BUCKETS
        )
        self.prediction_squares = Counter(
            "mlops_prediction_value_squares_total", "Sum of the squared numeric predictions, for their variance."
        )
        self.predicted_class = Counter(
            "mlops_predicted_class_total", "Predictions per predicted class (classification).", ("class",)
        )
        for label in model.classes or []:
            if self._admit(("class",), _label(label), MAX_CATEGORIES):
                self.predicted_class.inc(_label(label), amount=0)
        self.feature_value = Histogram(
            "mlops_feature_value", "Values of the numeric input features.", FEATURE_BUCKETS, ("feature",)
        )
        self.feature_squares = Counter(
            "mlops_feature_value_squares_total",
            "Sum of the squared values of a numeric feature, for its variance.",
            ("feature",),
        )
        self.feature_min = Gauge(
            "mlops_feature_value_min", "Smallest value of a numeric feature since the server started.", ("feature",)
        )
        self.feature_max = Gauge(
            "mlops_feature_value_max", "Largest value of a numeric feature since the server started.", ("feature",)
        )
        self.feature_missing = Counter(
            "mlops_feature_missing_total", "Input rows where a feature is null or NaN.", ("feature",)
        )
        self.feature_category = Counter(
            "mlops_feature_category_total",
            f"Input rows per value of a categorical feature; past {MAX_CATEGORIES} distinct values the rest count as {OTHER}.",
            ("feature", "value"),
        )
        for name in self.kinds:
            self.feature_missing.inc(name, amount=0)
        self._families = [
            self.requests,
            self.errors,
            self.latency,
            self.predictions,
            self.batch_requests,
            self.batch_rows,
            self.log_errors,
            self.info,
            self.started,
        ]
        if self.task != "classification":
            self._families += [self.prediction_value, self.prediction_squares]
        if self.task != "regression":
            self._families.append(self.predicted_class)
        self._families += [
            self.feature_value,
            self.feature_squares,
            self.feature_min,
            self.feature_max,
            self.feature_missing,
            self.feature_category,
        ]

    @property
    def request_count(self):
        with self._lock:
            return self.requests.values[()]

    def observe_request(self, status, seconds, predictions):
        with self._lock:
            self.requests.inc()
            self.latency.observe(seconds)
            if status >= 400:
                self.errors.inc(str(status))
            self.predictions.inc(amount=predictions)

    def observe_batch(self, requests, rows):
        with self._lock:
            self.batch_requests.observe(requests)
            self.batch_rows.observe(rows)

    def observe_log_error(self):
        with self._lock:
            self.log_errors.inc()

    def observe_inputs(self, rows):
        """Summarises each feature of the rows; a positional row's features are named by position."""
        with self._lock:
            for row in rows:
                items = (
                    row.items() if isinstance(row, dict) else enumerate(row) if isinstance(row, list) else [(0, row)]
                )
                for name, value in items:
                    name = str(name)
                    if name in self.kinds or self._admit(("features",), name, MAX_FEATURES):
                        self._observe_feature(name, value, self.kinds.get(name))

    def _observe_feature(self, name, value, kind):
        numeric = kind == "number" or (kind is None and isinstance(value, (int, float)) and not isinstance(value, bool))
        number = _finite(value)
        if value is None or (
            number is None and (numeric or isinstance(value, float))
        ):  # null, NaN, or too large a number
            self.feature_missing.inc(name)
        elif numeric:
            self.feature_value.observe(number, name)
            self.feature_squares.inc(name, amount=number * number)
            self.feature_min.extreme(min, number, name)
            self.feature_max.extreme(max, number, name)
        elif isinstance(value, (str, bool, int, float)):
            self.feature_category.inc(name, self._capped(("category", name), _label(value)))
        # nested values (lists, objects) are not summarised

    def observe_predictions(self, predictions):
        with self._lock:
            for prediction in predictions:
                number = None if isinstance(prediction, bool) else _finite(prediction)
                if self.task == "regression" or (self.task == "unknown" and number is not None):
                    if number is not None:
                        self.prediction_value.observe(number)
                        self.prediction_squares.inc(amount=number * number)
                elif isinstance(prediction, (str, bool, int, float)):
                    self.predicted_class.inc(self._capped(("class",), _label(prediction)))

    def _admit(self, group, value, limit):
        seen = self._seen.setdefault(group, set())
        if value in seen or len(seen) < limit:
            seen.add(value)
            return True
        return False

    def _capped(self, group, value):
        return value if self._admit(group, value, MAX_CATEGORIES) else OTHER

    def render(self):
        constant = (("version", self.version),)
        lines = []
        with self._lock:
            for family in self._families:
                lines.append(f"# HELP {family.name} {_escape(family.help, quote=False)}")
                lines.append(f"# TYPE {family.name} {family.kind}")
                for name, labels, value in family.samples():
                    pairs = ",".join(f'{key}="{_escape(str(v))}"' for key, v in constant + labels)
                    lines.append(f"{name}{{{pairs}}} {_number(value)}")
        return "\n".join(lines) + "\n"


def _finite(value):
    """value as a finite float, or None when it is not a number or not finite."""
    if not isinstance(value, (int, float)):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


def _label(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _escape(text, quote=True):
    text = text.replace("\\", "\\\\").replace("\n", "\\n")
    return text.replace('"', '\\"') if quote else text


def _number(value):
    if isinstance(value, float):
        if math.isinf(value):
            return "+Inf" if value > 0 else "-Inf"
        if math.isnan(value):
            return "NaN"
        return repr(value) if not value.is_integer() or abs(value) >= 1e15 else str(int(value))
    return str(value)
