"""Loads the exported model and turns request bodies into predictions.

The model directory holds model.json, then model.pkl (mode "estimator") or namespace.pkl with
serve.py (mode "function"); runtime/README.md describes the contract. Requests follow MLflow's
scoring protocol: dataframe_records, dataframe_split, instances or inputs, or CSV with a header.
"""

import csv
import io
import json
import math
import os
import pickle
import re
import sys
import traceback

FORMATS = ("dataframe_records", "dataframe_split", "instances", "inputs")
# Cells that read_csv would also take as missing.
CSV_MISSING = {"", "NA", "N/A", "NaN", "nan", "null", "NULL", "None"}
BOOLEANS = {"true": True, "1": True, "false": False, "0": False}
MAX_DEPTH = 100  # JSON nesting; a row is an object or a list of values, a value may be a tensor
LARGEST = sys.float_info.max  # numbers must fit a float64, as in the frames models are trained on
NOT_STRUCTURE = bytes(byte for byte in range(256) if byte not in b'[]{}"')  # UTF-8 puts no ASCII byte in a character
BRACKETS = bytes.maketrans(b"{}", b"[]")
OPENINGS = b"[" * (MAX_DEPTH + 1)
# A number that may not fit a float64: checked one by one only then, as that halves parsing's speed.
LARGE_NUMBER = re.compile(rb"[eE][+-]?0*[0-9]{3}|[0-9]{300}")
SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")  # in JSON text, \ud800 to \udfff


class BadRequest(Exception):
    """Input the client has to fix: answered with 400 and this message."""


class ModelLoadError(Exception):
    """The model directory cannot be served; the message names the file."""


def feature_kind(dtype):
    """'number', 'bool' or 'text' for a pandas dtype name such as int64, Float64, bool or object."""
    name = str(dtype).lower()
    if name.startswith(("int", "uint", "float")):
        return "number"
    return "bool" if name in ("bool", "boolean") else "text"


class Model:
    """A loaded model: the fields of model.json and predict(rows) -> one prediction per row; an
    estimator with predict_proba also has scores(rows) -> one probability per class (score_classes,
    None for other models) per row."""

    def __init__(self, meta, predict_rows, score_rows=None, score_classes=None):
        self.mode = meta["mode"]
        self.variable = meta.get("variable")
        self.task = meta.get("task") or "unknown"
        self.classes = meta.get("classes")
        self.features = meta.get("features")
        self.names = [f["name"] for f in self.features] if self.features is not None else None
        self.kinds = {f["name"]: feature_kind(f.get("dtype")) for f in self.features or []}
        self._predict_rows = predict_rows
        self._score_rows = score_rows
        self.score_classes = score_classes

    def describe(self):
        return {
            "mode": self.mode,
            "variable": self.variable,
            "task": self.task,
            "classes": self.classes,
            "features": self.features,
        }

    def predict(self, rows):
        predictions = to_json_value(self._predict_rows(rows))
        if not isinstance(predictions, list) or len(predictions) != len(rows):
            got = (
                f"{len(predictions)} predictions"
                if isinstance(predictions, list)
                else f"a {type(predictions).__name__}"
            )
            raise ValueError(f"the model returned {got} for {len(rows)} rows; it must return one prediction per row")
        return predictions

    def scores(self, rows):
        scores = to_json_value(self._score_rows(rows))
        if not isinstance(scores, list) or len(scores) != len(rows):
            raise ValueError(f"predict_proba did not return one row of probabilities for each of the {len(rows)} rows")
        return scores


def load_model(model_dir):
    path = os.path.join(model_dir, "model.json")
    meta = _read_json(path)
    if not isinstance(meta, dict) or meta.get("format") != 1:
        raise ModelLoadError(f"{path} is not a format 1 model description: {json.dumps(meta)[:200]}")
    features = meta.get("features")
    named = isinstance(features, list) and all(isinstance(f, dict) and isinstance(f.get("name"), str) for f in features)
    if features is not None and not named:
        raise ModelLoadError(f'{path}: features must be null or a list of {{"name", "dtype"}} objects')
    if meta.get("mode") == "estimator":
        return Model(meta, *_estimator(model_dir, features))
    if meta.get("mode") == "function":
        return Model(meta, _function(model_dir))
    raise ModelLoadError(f'{path}: mode must be "estimator" or "function", not {meta.get("mode")!r}')


def _read_json(path):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except FileNotFoundError:
        raise ModelLoadError(f"{path} is missing") from None
    except (OSError, ValueError) as error:
        raise ModelLoadError(f"{path} cannot be read as JSON: {error}") from None


def _unpickle(path):
    try:
        with open(path, "rb") as f:
            return pickle.load(f)
    except FileNotFoundError:
        raise ModelLoadError(f"{path} is missing") from None
    except Exception as error:
        hint = ""
        if isinstance(error, (ImportError, AttributeError)):
            hint = "; the package or module that defines the model's classes must be installed in the image"
        raise ModelLoadError(f"{path} cannot be unpickled: {type(error).__name__}: {error}{hint}") from None


def _estimator(model_dir, features):
    path = os.path.join(model_dir, "model.pkl")
    estimator = _unpickle(path)
    if not callable(getattr(estimator, "predict", None)):
        raise ModelLoadError(f"{path} holds a {type(estimator).__name__}, which has no predict method")
    try:
        import numpy
        import pandas
    except ImportError:
        pandas = None
    names = [f["name"] for f in features] if features is not None else None
    # Built once: a frame's column index costs more to make than its values.
    index = pandas.Index(names) if pandas is not None and names else None
    # Features all trained as floats take one float64 array, which pandas wraps without looking at each value.
    floats = index is not None and all(str(f.get("dtype")).lower().startswith("float") for f in features)

    def model_input(rows):
        """X as the model takes it."""
        if not isinstance(rows[0], dict):
            return rows  # positional rows of a model trained without column names
        columns = names or list(dict.fromkeys(key for row in rows for key in row))
        if pandas is None:
            return [[row.get(c) for c in columns] for row in rows]
        # NaN, not None, marks a missing value, as in the frames the model was trained on.
        data = [[math.nan if row.get(c) is None else row[c] for c in columns] for row in rows]
        if floats:
            return pandas.DataFrame(numpy.array(data, dtype=numpy.float64), columns=index, copy=False)
        return pandas.DataFrame(data, columns=columns if index is None else index)

    def predict_rows(rows):
        return estimator.predict(model_input(rows))

    # A Pipeline has predict_proba only when its last step does; getattr() asks it.
    if not callable(getattr(estimator, "predict_proba", None)) or getattr(estimator, "classes_", None) is None:
        return predict_rows, None, None

    def score_rows(rows):
        return estimator.predict_proba(model_input(rows))

    return predict_rows, score_rows, to_json_value(estimator.classes_)


def _function(model_dir):
    namespace_path = os.path.join(model_dir, "namespace.pkl")
    source_path = os.path.join(model_dir, "serve.py")
    namespace = _unpickle(namespace_path)
    if not isinstance(namespace, dict):
        raise ModelLoadError(f"{namespace_path} holds a {type(namespace).__name__}, not a dict of globals")
    try:
        with open(source_path, encoding="utf-8") as f:
            source = f.read()
    except OSError as error:
        raise ModelLoadError(f"{source_path} cannot be read: {error}") from None
    namespace["__name__"] = "serve"
    try:
        exec(compile(source, "serve.py", "exec"), namespace)
    except Exception as error:
        if isinstance(error, SyntaxError):
            line, detail = error.lineno, error.msg
        else:
            frames = [f.lineno for f in traceback.extract_tb(error.__traceback__) if f.filename == "serve.py"]
            line, detail = (frames[-1] if frames else None), error
        where = f", line {line}" if line else ""
        raise ModelLoadError(f"{source_path}{where} failed: {type(error).__name__}: {detail}") from None
    predict = namespace.get("predict")
    if not callable(predict):
        raise ModelLoadError(f"{source_path} defines no predict(records) function")
    return predict


def to_json_value(value):
    """Plain JSON data from model output: arrays, pandas objects and numpy scalars; NaN becomes null."""
    if hasattr(value, "columns") and hasattr(value, "to_dict"):
        value = value.to_dict(orient="records")  # a DataFrame: one object per row, as MLflow answers
    elif hasattr(value, "tolist"):
        value = value.tolist()
    elif hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, dict):
        return {str(k): to_json_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json_value(v) for v in value]
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, (str, int, bool)):
        return value
    return str(value)


def parse_request(body, media, model):
    """The rows a request body holds (see rows_for), from JSON (media 'json') or CSV ('csv')."""
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise BadRequest(f"the body is not UTF-8: {error}") from None
    rows = _csv_rows(text, model.names is None) if media == "csv" else _json_rows(body, text, model.names)
    return rows_for(rows, model)


def _json_rows(body, text, names):
    expected = ", ".join(FORMATS)
    if not text.strip():
        raise BadRequest(f"the body is empty; send a JSON object with one of the keys {expected}")
    if _too_deep(body):
        raise BadRequest(
            f"the JSON nests more than {MAX_DEPTH} levels of lists and objects; a row is an object or a list of values"
        )
    numbers = {"parse_float": _float, "parse_int": _integer} if LARGE_NUMBER.search(body) else {}
    try:
        payload = json.loads(text, parse_constant=_constant, **numbers)
    except json.JSONDecodeError as error:
        raise BadRequest(f"invalid JSON: {error}") from None
    if SURROGATE_ESCAPE.search(text):
        _check_characters(payload)
    if not isinstance(payload, dict):
        raise BadRequest(f"expected a JSON object with one of the keys {expected}")
    unknown = [key for key in payload if key not in FORMATS]
    if unknown:
        raise BadRequest(f"unknown key {_names(unknown)}; expected one of {expected}")
    if len(payload) != 1:
        raise BadRequest(f"expected exactly one of {expected}, got {_names(payload) or 'none'}")
    key, value = next(iter(payload.items()))
    if key == "dataframe_split":
        return _split_rows(value, names)
    if key == "inputs" and isinstance(value, dict):
        return _column_rows(value)
    if not isinstance(value, list):
        raise BadRequest(f"{key} must be a list of rows, not {_json_type(value)}")
    return value


def _too_deep(body):
    """Whether the lists and objects of a JSON body nest more than MAX_DEPTH levels (or leave
    more than that open), found without recursion, so that json.loads never recurses into 100,000
    brackets. Bytes, as they are faster to sift than text."""
    if b"\\" in body:
        body = body.replace(b"\\\\", b"").replace(b'\\"', b"")  # escapes first: what remains of them is no quote
    structure = body.translate(None, NOT_STRUCTURE).replace(b'""', b"")  # the strings without brackets go
    brackets = b"".join(structure.split(b'"')[0::2]).translate(BRACKETS)  # the brackets outside strings
    for _ in range(MAX_DEPTH):  # each turn takes away the innermost pairs: one level
        if OPENINGS in brackets:
            return True
        fewer = brackets.replace(b"[]", b"")
        if len(fewer) == len(brackets):
            return False
        brackets = fewer
    return b"[]" in brackets or OPENINGS in brackets


def _constant(name):
    if name == "NaN":
        return None  # what json.dumps writes for a pandas NaN: a missing value
    raise BadRequest(f"{name} is not a value a model can take; send null for a missing value")


def _float(text):
    value = float(text)
    if math.isinf(value):
        raise BadRequest(f"{_shortened(text)} is too large a number: numbers must be within ±{LARGEST:.4g}")
    return value


def _integer(text):
    # Past 4300 digits int() itself refuses; long before that, the number is no float64.
    value = int(text) if len(text) < 400 else math.inf
    if abs(value) > LARGEST:
        raise BadRequest(f"{_shortened(text)} is too large a number: numbers must be within ±{LARGEST:.4g}")
    return value


def _shortened(text):
    return text if len(text) <= 40 else f"{text[:20]}...{text[-10:]} ({len(text)} characters)"


def _check_characters(payload):
    """Refuses strings holding half of a UTF-16 surrogate pair (\\ud800 alone), which no UTF-8
    text can hold: the answer and the request log could not be written."""
    try:
        json.dumps(payload, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError as error:
        code = ord(error.object[error.start])
        raise BadRequest(
            f"the JSON holds \\u{code:04x}, half of a UTF-16 surrogate pair without its other half, which is not a character"
        ) from None


def _split_rows(value, names):
    if not isinstance(value, dict) or not isinstance(value.get("data"), list):
        raise BadRequest('dataframe_split must be an object {"columns": [...], "data": [[...], ...]}')
    unknown = [key for key in value if key not in ("columns", "data", "index")]
    if unknown:
        raise BadRequest(f"dataframe_split has unknown key {_names(unknown)}; it takes columns, data and index")
    columns = value.get("columns")
    if columns is None:
        return value["data"]  # positional rows, mapped to the features like instances
    if not isinstance(columns, list) or not all(isinstance(c, str) for c in columns):
        raise BadRequest("dataframe_split.columns must be a list of column names")
    rows = []
    for i, row in enumerate(value["data"]):
        if not isinstance(row, list) or len(row) != len(columns):
            raise BadRequest(f"dataframe_split.data[{i}] must be a list of {len(columns)} values, one per column")
        rows.append(dict(zip(columns, row)))
    return rows


def _column_rows(columns):
    """Rows from {"inputs": {column: [values...]}}; a column of one scalar makes one row."""
    lists = {name: v if isinstance(v, list) else [v] for name, v in columns.items()}
    lengths = {len(v) for v in lists.values()}
    if len(lengths) > 1:
        sizes = ", ".join(f"{name}: {len(v)}" for name, v in lists.items())
        raise BadRequest(f"the columns of inputs have different lengths ({sizes})")
    count = lengths.pop() if lengths else 0
    return [{name: v[i] for name, v in lists.items()} for i in range(count)]


def _csv_rows(text, infer_types):
    try:
        lines = [row for row in csv.reader(io.StringIO(text)) if row]
    except csv.Error as error:
        raise BadRequest(f"invalid CSV: {error}") from None
    if not lines:
        raise BadRequest("the CSV body is empty; it needs a header row with the column names")
    header = lines[0]
    duplicates = sorted({name for name in header if header.count(name) > 1})
    if duplicates:
        raise BadRequest(f"the CSV header repeats {_names(duplicates)}")
    rows = []
    for i, line in enumerate(lines[1:], start=1):
        if len(line) != len(header):
            raise BadRequest(f"CSV row {i} has {len(line)} fields but the header has {len(header)}")
        rows.append({name: _csv_value(cell, infer_types) for name, cell in zip(header, line)})
    return rows


def _csv_value(cell, infer_types):
    if cell in CSV_MISSING:
        return None
    if infer_types:  # without dtypes in model.json, a cell that reads as a number is one
        try:
            return _number(cell)
        except ValueError:
            return cell
    return cell  # typed by rows_for from the feature's dtype


def _number(text):
    text = text.strip()
    try:
        value = int(text)
    except ValueError:
        value = float(text)
    if not abs(value) <= LARGEST:  # NaN fails this too
        raise ValueError(f"{text} is not a finite number")
    return value


def rows_for(rows, model):
    """Checks rows against the model's features.

    With features, each row becomes an object holding exactly the features, in their order, with
    numbers and booleans typed from the dtypes; a list row is mapped to the features by position.
    Without, rows go to the model as given: all objects, or all positional rows.
    """
    if not rows:
        raise BadRequest("the request holds no rows to predict")
    if model.names is None:
        if len({isinstance(row, dict) for row in rows}) > 1:
            raise BadRequest("rows mix objects and lists; send one kind")
        return rows
    names = model.names
    records = []
    for i, row in enumerate(rows):
        if isinstance(row, list):
            if len(row) != len(names):
                raise BadRequest(
                    f"row {i} has {len(row)} values but the model takes {len(names)} features: {_names(names)}"
                )
            row = dict(zip(names, row))
        elif not isinstance(row, dict):
            raise BadRequest(f"row {i} is {_json_type(row)}; send an object or a list of values")
        records.append(row)
    missing = [name for name in names if any(name not in record for record in records)]
    extra = [key for key in dict.fromkeys(key for record in records for key in record) if key not in model.kinds]
    if missing or extra:
        problems = ([f"missing columns: {_names(missing)}"] if missing else []) + (
            [f"extra columns: {_names(extra)}"] if extra else []
        )
        raise BadRequest(f"{'; '.join(problems)}. The model takes {_names(names)}")
    return [
        {name: _typed(record[name], name, model.kinds[name], i) for name in names} for i, record in enumerate(records)
    ]


def _typed(value, name, kind, index):
    if value is None or kind == "text":
        return value
    if isinstance(value, str):
        if value.strip() in CSV_MISSING:
            return None
        try:
            return _number(value) if kind == "number" else BOOLEANS[value.strip().lower()]
        except (ValueError, KeyError):
            pass
    elif kind == "number" and isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    elif kind == "bool" and value in (0, 1) and not isinstance(value, float):
        return bool(value)
    expected = "a number" if kind == "number" else "true or false"
    raise BadRequest(f"row {index}, column {name!r}: {json.dumps(value)[:80]} is not {expected}")


def _names(names):
    return ", ".join(repr(str(name)) for name in names)


def _json_type(value):
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "a string"
    return "null" if value is None else f"the value {json.dumps(value)}"
