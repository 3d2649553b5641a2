"""The Open Inference Protocol (KServe V2) over REST: health, metadata and inference requests read
into the rows that /invocations predicts, and their answers.

Inputs are named tensors, one per feature (shape [n] or [n, 1]), or one tensor [n, features];
their data come as JSON or, with the binary tensor extension that Triton's clients use, as
little-endian bytes after the JSON header. runtime/README.md describes the endpoints.
"""

import json
import math
import re
import struct
from urllib.parse import unquote

from . import scoring

# struct formats of the datatypes, little-endian as the binary tensor extension sends them
BINARY = {
    "BOOL": "?",
    "UINT8": "B",
    "UINT16": "H",
    "UINT32": "I",
    "UINT64": "Q",
    "INT8": "b",
    "INT16": "h",
    "INT32": "i",
    "INT64": "q",
    "FP16": "e",
    "FP32": "f",
    "FP64": "d",
}
DATATYPES = (*BINARY, "BYTES")
PREDICT, PREDICT_PROBA = "predict", "predict_proba"
ROUTE = re.compile(r"/v2/models/([^/]+)(?:/versions/([^/]+))?(/ready|/infer)?")
MAX_ELEMENTS = 50_000_000  # more than any body under MLOPS_MAX_REQUEST_BYTES can hold


class ProtocolError(Exception):
    """Answered with this status and {"error": message}, as the protocol says."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


class InferRequest:
    def __init__(self, request_id, rows, outputs):
        self.id, self.rows, self.outputs = request_id, rows, outputs


def route(path):
    """(endpoint, model name, version) of a /v2 path: endpoint is "live", "ready", "server",
    "model", "model_ready" or "infer"; None for another path."""
    fixed = {"/v2": "server", "/v2/health/live": "live", "/v2/health/ready": "ready"}
    if path.rstrip("/") in fixed:
        return fixed[path.rstrip("/")], None, None
    match = ROUTE.fullmatch(path)
    if match is None:
        return None
    endpoint = {None: "model", "/ready": "model_ready", "/infer": "infer"}[match.group(3)]
    return endpoint, unquote(match.group(1)), unquote(match.group(2)) if match.group(2) else None


def model_name(configured, labels, model):
    """The name the model answers to: MLOPS_MODEL_NAME, else the image's title, else its variable."""
    return configured or labels.get("org.opencontainers.image.title") or model.variable or "model"


def check_model(name, version, served_name, served_version):
    if name != served_name:
        raise ProtocolError(404, f"no model {name!r}; this server serves {served_name!r}")
    if version is not None and version != served_version:
        raise ProtocolError(404, f"model {name!r} has no version {version!r}; this server serves {served_version!r}")


def datatype(dtype):
    """The tensor datatype of a pandas dtype name: int64 -> INT64, float32 -> FP32, bool -> BOOL, others BYTES."""
    name = str(dtype).lower()
    for prefix, kind in (("uint", "UINT"), ("int", "INT"), ("float", "FP")):
        if name.startswith(prefix):
            bits = name[len(prefix) :]
            return f"{kind}{bits}" if f"{kind}{bits}" in BINARY else f"{kind}64"
    return "BOOL" if name in ("bool", "boolean") else "BYTES"


def server_metadata(version):
    return {"name": "mlops-runtime", "version": version, "extensions": ["binary_tensor_data"]}


def model_metadata(name, version, model):
    if model.features is None:
        inputs = [{"name": "input-0", "datatype": "FP64", "shape": [-1, -1]}]
    else:
        inputs = [{"name": f["name"], "datatype": datatype(f.get("dtype")), "shape": [-1]} for f in model.features]
    outputs = [{"name": PREDICT, "datatype": _output_datatype(model), "shape": [-1]}]
    if model.score_classes is not None:
        outputs.append({"name": PREDICT_PROBA, "datatype": "FP64", "shape": [-1, len(model.score_classes)]})
    return {
        "name": name,
        "versions": [version],
        "platform": f"mlops-runtime-{model.mode}",
        "inputs": inputs,
        "outputs": outputs,
    }


def _output_datatype(model):
    if model.task == "regression":
        return "FP64"
    classes = model.classes or []
    if classes and all(isinstance(c, bool) for c in classes):
        return "BOOL"
    if classes and all(isinstance(c, int) and not isinstance(c, bool) for c in classes):
        return "INT64"
    return "BYTES"


def parse_infer(body, header_length, model):
    """The InferRequest of a POST .../infer body; ProtocolError 400 naming what is wrong."""
    json_part, binary = body, b""
    if header_length is not None:
        if not header_length.strip().isdigit() or int(header_length) > len(body):
            raise ProtocolError(
                400, f"Inference-Header-Content-Length {header_length[:40]!r} is not a length within the body"
            )
        json_part, binary = body[: int(header_length)], body[int(header_length) :]
    try:
        payload = json.loads(json_part.decode("utf-8"), parse_constant=_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise ProtocolError(400, f"the inference request is not JSON: {error}") from None
    if not isinstance(payload, dict):
        raise ProtocolError(400, 'the inference request must be a JSON object {"inputs": [...]}')
    request_id = payload.get("id")
    if request_id is not None and not isinstance(request_id, str):
        raise ProtocolError(400, "id must be a string")
    inputs = payload.get("inputs")
    if not isinstance(inputs, list) or not inputs:
        raise ProtocolError(400, 'inputs must be a non-empty list of tensors {"name", "shape", "datatype", "data"}')
    tensors, offset = [], 0
    for index, tensor in enumerate(inputs):
        name, shape, values, offset = _tensor(tensor, index, binary, offset)
        tensors.append((name, shape, values))
    if offset != len(binary):
        raise ProtocolError(400, f"the body has {len(binary) - offset} bytes after the tensors' binary data")
    try:
        rows = scoring.rows_for(_rows(tensors, model), model)
    except scoring.BadRequest as error:
        raise ProtocolError(400, str(error)) from None
    return InferRequest(request_id, rows, _outputs(payload.get("outputs"), model))


def _tensor(tensor, index, binary, offset):
    """(name, shape, flat values, new offset in the binary data) of inputs[index]."""
    where = f"inputs[{index}]"
    if not isinstance(tensor, dict) or not isinstance(tensor.get("name"), str):
        raise ProtocolError(400, f'{where} must be a tensor {{"name", "shape", "datatype", "data"}}')
    where = f"{where} ({tensor['name']!r})"
    shape, kind = tensor.get("shape"), tensor.get("datatype")
    if not isinstance(shape, list) or not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape):
        raise ProtocolError(400, f"{where}: shape must be a list of sizes, not {json.dumps(shape)[:80]}")
    if kind not in DATATYPES:
        raise ProtocolError(
            400, f"{where}: datatype must be one of {', '.join(DATATYPES)}, not {json.dumps(kind)[:40]}"
        )
    count = math.prod(shape)
    if count > MAX_ELEMENTS:
        raise ProtocolError(400, f"{where}: shape {shape} has more elements than a request can carry")
    parameters = tensor.get("parameters") or {}
    size = parameters.get("binary_data_size") if isinstance(parameters, dict) else None
    if size is not None:
        if not isinstance(size, int) or size < 0 or offset + size > len(binary):
            raise ProtocolError(400, f"{where}: binary_data_size {size!r} goes past the end of the body")
        values = _from_binary(binary[offset : offset + size], kind, count, where)
        offset += size
    elif "data" in tensor:
        values = _flat(tensor["data"], where)
        for value in values:
            _check_value(value, kind, where)
    else:
        raise ProtocolError(400, f"{where} has no data (nor binary_data_size)")
    if len(values) != count:
        raise ProtocolError(400, f"{where}: shape {shape} holds {count} values, the data {len(values)}")
    return tensor["name"], shape, values, offset


def _flat(data, where):
    """Row-major values of data, which may nest as the shape does."""
    if not isinstance(data, list):
        raise ProtocolError(400, f"{where}: data must be a list")
    values, stack = [], [iter(data)]
    while stack:
        for value in stack[-1]:
            if isinstance(value, list):
                stack.append(iter(value))
                break
            values.append(value)
        else:
            stack.pop()
    return values


def _check_value(value, kind, where):
    if kind == "BYTES":
        ok = isinstance(value, str)
    elif kind == "BOOL":
        ok = isinstance(value, bool)
    elif kind.startswith(("INT", "UINT")):
        ok = isinstance(value, int) and not isinstance(value, bool)
    else:
        ok = value is None or (isinstance(value, (int, float)) and not isinstance(value, bool))
    if not ok:
        raise ProtocolError(400, f"{where}: {json.dumps(value)[:80]} is not a {kind} value")


def _from_binary(data, kind, count, where):
    if kind != "BYTES":
        width = struct.calcsize("<" + BINARY[kind])
        if len(data) != width * count:
            raise ProtocolError(400, f"{where}: {len(data)} bytes of {kind} data for {count} values")
        values = list(struct.unpack(f"<{count}{BINARY[kind]}", data))
        return [None if isinstance(v, float) and math.isnan(v) else v for v in values]
    values, position = [], 0
    while position < len(data):  # each element: its length as 4 bytes, then its bytes
        if position + 4 > len(data):
            raise ProtocolError(400, f"{where}: the BYTES data end inside an element's length")
        (length,) = struct.unpack_from("<I", data, position)
        element = data[position + 4 : position + 4 + length]
        if len(element) != length:
            raise ProtocolError(400, f"{where}: the BYTES data end inside an element")
        try:
            values.append(element.decode("utf-8"))
        except UnicodeDecodeError:
            raise ProtocolError(400, f"{where}: element {len(values)} is not UTF-8 text") from None
        position += 4 + length
    return values


def _rows(tensors, model):
    """Rows from one tensor [n, features] (or [n] for a single feature), or from one tensor per feature."""
    names = model.names
    if len(tensors) == 1:
        name, shape, values = tensors[0]
        named = names is not None and name in names and (len(shape) == 1 or shape[1:] == [1])
        if not named and names is None and len(shape) == 1:
            return [[value] for value in values]  # one value per row, for a model fitted on arrays
        if not named:
            if len(shape) != 2:
                raise ProtocolError(
                    400, f"inputs[0] ({name!r}): a single tensor of rows has shape [rows, features], not {shape}"
                )
            width = shape[1]
            return [values[i * width : (i + 1) * width] for i in range(shape[0])]
    columns, count = {}, None
    for index, (name, shape, values) in enumerate(tensors):
        if len(shape) not in (1, 2) or shape[1:] not in ([], [1]):
            raise ProtocolError(
                400, f"inputs[{index}] ({name!r}): a feature's tensor has shape [rows] or [rows, 1], not {shape}"
            )
        if name in columns:
            raise ProtocolError(400, f"inputs[{index}]: {name!r} comes twice")
        if count is not None and shape[0] != count:
            raise ProtocolError(400, f"inputs[{index}] ({name!r}) has {shape[0]} rows, inputs[0] {count}")
        columns[name], count = values, shape[0]
    return [{name: values[i] for name, values in columns.items()} for i in range(count)]


def _outputs(requested, model):
    available = [PREDICT] + ([PREDICT_PROBA] if model.score_classes is not None else [])
    if requested is None:
        return [PREDICT]
    if not isinstance(requested, list) or not all(isinstance(o, dict) for o in requested):
        raise ProtocolError(400, 'outputs must be a list of {"name": ...}')
    names = [o.get("name") for o in requested]
    unknown = [n for n in names if n not in available]
    if unknown:
        raise ProtocolError(
            400, f"no output {', '.join(json.dumps(n) for n in unknown)}; the model has {', '.join(available)}"
        )
    return list(dict.fromkeys(names)) or [PREDICT]


def infer_response(name, version, request, predictions, scores):
    outputs = []
    for output in request.outputs:
        if output == PREDICT:
            outputs.append({"name": PREDICT, **_tensor_of(predictions)})
        else:
            width = len(scores[0]) if scores else 0
            data = [value for row in scores for value in row]
            outputs.append({"name": PREDICT_PROBA, "datatype": "FP64", "shape": [len(scores), width], "data": data})
    response = {"model_name": name, "model_version": version}
    if request.id is not None:
        response["id"] = request.id
    response["outputs"] = outputs
    return response


def _tensor_of(values):
    """shape, datatype and flat data of one prediction per row."""

    def number(v):
        return v is None or (isinstance(v, (int, float)) and not isinstance(v, bool))

    if all(isinstance(v, bool) for v in values):
        return {"datatype": "BOOL", "shape": [len(values)], "data": values}
    if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return {"datatype": "INT64", "shape": [len(values)], "data": values}
    if all(number(v) for v in values):
        return {"datatype": "FP64", "shape": [len(values)], "data": values}
    widths = {len(v) if isinstance(v, list) else -1 for v in values}
    if len(widths) == 1 and widths != {-1} and all(number(x) for v in values for x in v):
        return {"datatype": "FP64", "shape": [len(values), widths.pop()], "data": [x for v in values for x in v]}
    data = [v if isinstance(v, str) else json.dumps(v) for v in values]  # objects as their JSON text
    return {"datatype": "BYTES", "shape": [len(values)], "data": data}


def _constant(name):
    raise ValueError(f"{name} is not a value JSON allows")
