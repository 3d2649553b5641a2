"""Runs an exported notebook, or loads an MLflow model, inside the image build, and writes the
model the server loads.

    python3 -m mlops_runtime.train /opt/mlops

reads /opt/mlops/build.json and /opt/mlops/notebook.py, runs the cells in
/opt/mlops/workdir/<notebookDir> (or loads build.json's modelFile), and writes /opt/mlops/model (runtime/README.md describes it).
A failure prints one line "MLOPS-ERROR: cell N, line L: ..." and exits 1; success prints
"MLOPS-RESULT: {json}".
"""

import ast
import builtins
import json
import os
import pickle
import re
import sys
import traceback
import types

MARKER = re.compile(r"^# %% \[cell (\d+)\](?: (\S+))?$", re.M)


class BuildError(Exception):
    pass


def split_cells(script):
    """[(cell index, role, source)] from the markers of notebook.py."""
    marks = list(MARKER.finditer(script))
    cells = []
    for i, mark in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(script)
        cells.append((int(mark.group(1)), mark.group(2) or "train", script[mark.end() + 1 : end]))
    return cells


def run_cells(cells, namespace):
    """Runs the training cells; returns the value of the sample-input cell's last expression."""
    sample = None
    for index, role, source in cells:
        if role == "serve":
            continue
        tree = ast.parse(source, filename=f"cell {index}")
        last = tree.body[-1] if role == "sample-input" and tree.body and isinstance(tree.body[-1], ast.Expr) else None
        if last is not None:
            tree.body.pop()
        try:
            exec(compile(tree, f"cell {index}", "exec"), namespace)
            if last is not None:
                sample = eval(compile(ast.Expression(last.value), f"cell {index}", "eval"), namespace)
        except Exception as error:
            raise BuildError(_located(error, index)) from error
    return sample


def _located(error, index):
    line = next(
        (f.lineno for f in reversed(traceback.extract_tb(error.__traceback__)) if f.filename == f"cell {index}"), None
    )
    return f"cell {index}, line {line}: {type(error).__name__}: {error}"


def to_records(value, limit=5):
    """JSON-ready records from a DataFrame, a dict of columns, or a list."""
    if value is None:
        return None
    if hasattr(value, "head") and hasattr(value, "to_dict"):
        frame = value.head(limit)
        if hasattr(frame, "to_frame") and not hasattr(frame, "columns"):
            frame = frame.to_frame()
        return json.loads(frame.to_json(orient="records", date_format="iso"))
    if isinstance(value, dict):
        keys = list(value)
        return [{k: _plain(value[k][i]) for k in keys} for i in range(min(limit, len(value[keys[0]])))] if keys else []
    if hasattr(value, "tolist"):
        value = value.tolist()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in list(value)[:limit]]
    raise BuildError(
        f"the sample input is a {type(value).__name__}; give a DataFrame, a dict of columns or a list of records"
    )


def _plain(value):
    if hasattr(value, "tolist"):
        return value.tolist()
    if hasattr(value, "item"):
        return value.item()
    return value


def describe_features(x):
    if x is not None and hasattr(x, "columns") and hasattr(x, "dtypes"):
        return [{"name": str(name), "dtype": str(dtype)} for name, dtype in x.dtypes.items()]
    return None


def describe_task(model, predictions):
    classes = getattr(model, "classes_", None)
    if classes is not None:
        return "classification", [_plain(c) for c in classes]
    try:
        from sklearn.base import is_regressor

        if is_regressor(model):
            return "regression", None
    except ImportError:
        pass
    if predictions and all(isinstance(p, float) for p in predictions):
        return "regression", None
    return "unknown", None


def export_estimator(build, namespace, sample, model_dir):
    variable = build["variable"]
    if variable not in namespace:
        raise BuildError(f"the notebook never assigned '{variable}', the model chosen to serve")
    model = namespace[variable]
    if not callable(getattr(model, "predict", None)):
        raise BuildError(
            f"'{variable}' is a {type(model).__name__} without a predict method; choose another variable or define predict(records)"
        )
    x = _evaluate(build.get("x"), namespace)
    records = to_records(sample) if sample is not None else to_records(x)
    try:
        with open(os.path.join(model_dir, "model.pkl"), "wb") as f:
            pickle.dump(model, f, protocol=4)
    except Exception as error:
        raise BuildError(
            f"'{variable}' cannot be pickled ({type(error).__name__}: {error}); classes defined in the notebook cannot be, "
            "so move them to a module beside the notebook or define predict(records) in a cell tagged serve"
        ) from error
    features = describe_features(x) or build.get("features")
    predictions = None
    if records:
        frame = _frame(records, features)
        predictions = [_plain(p) for p in _as_list(model.predict(frame))]
    task, classes = describe_task(model, predictions)
    return (
        {"mode": "estimator", "variable": variable, "task": task, "classes": classes, "features": features},
        records,
        predictions,
    )


def _frame(records, features):
    try:
        import pandas as pd
    except ImportError:
        return [[r[f["name"]] for f in features] for r in records] if features else records
    if records and isinstance(records[0], dict):
        frame = pd.DataFrame.from_records(records)
        return frame[[f["name"] for f in features]] if features else frame
    return records


def _as_list(predictions):
    return predictions.tolist() if hasattr(predictions, "tolist") else list(predictions)


def _evaluate(expression, namespace):
    if not expression:
        return None
    try:
        return eval(expression, namespace)
    except Exception:
        return None


def export_function(build, cells, namespace, sample, model_dir):
    serve_sources = [source for _, role, source in cells if role == "serve"]
    if serve_sources:
        body = "\n".join(serve_sources)
    else:
        body = _top_level_definitions(cells).get("predict")
    if body is None:
        raise BuildError("no predict(records) function was found in the notebook")
    definitions = _top_level_definitions(cells)
    imports, pickled, sources = _closure(body, namespace, definitions)
    serve_py = "\n".join(imports + sources + [body]) + "\n"
    with open(os.path.join(model_dir, "serve.py"), "w") as f:
        f.write(serve_py)
    with open(os.path.join(model_dir, "namespace.pkl"), "wb") as f:
        pickle.dump(pickled, f, protocol=4)
    records = to_records(sample) if sample is not None else to_records(_evaluate(build.get("x"), namespace))
    rebuilt = dict(pickle.loads(pickle.dumps(pickled)))
    rebuilt["__name__"] = "serve"
    exec(compile(serve_py, "serve.py", "exec"), rebuilt)
    if not callable(rebuilt.get("predict")):
        raise BuildError("the cells tagged serve do not define predict(records)")
    predictions = None
    if records:
        try:
            predictions = [_plain(p) for p in _as_list(rebuilt["predict"](records))]
        except Exception as error:
            raise BuildError(f"predict(records) failed on the sample input: {type(error).__name__}: {error}") from error
    task = "unknown"
    if predictions and all(isinstance(p, float) for p in predictions):
        task = "regression"
    elif predictions and all(isinstance(p, (str, int, bool)) for p in predictions):
        task = "classification"
    return (
        {"mode": "function", "variable": "predict", "task": task, "classes": None, "features": None},
        records,
        predictions,
    )


def _decorators(source, node):
    return [f"@{ast.get_source_segment(source, d)}" for d in node.decorator_list]


def _top_level_definitions(cells):
    definitions = {}
    for _, _role, source in cells:
        for node in ast.parse(source).body:
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                definitions[node.name] = "\n".join(_decorators(source, node) + [ast.get_source_segment(source, node)])
    return definitions


def _closure(body, namespace, definitions):
    """What serve.py needs besides its own code: imports, notebook definitions and pickled values."""
    imports, pickled, sources, seen = [], {}, [], set()
    pending = [body]
    while pending:
        source = pending.pop()
        for name in sorted(_free_names(source)):
            if name in seen or name not in namespace:
                continue
            seen.add(name)
            value = namespace[name]
            if isinstance(value, types.ModuleType):
                imports.append(f"import {value.__name__} as {name}" if value.__name__ != name else f"import {name}")
            elif name in definitions and getattr(value, "__module__", None) in ("__main__", "builtins", None):
                sources.insert(0, definitions[name])
                pending.append(definitions[name])
            elif (
                getattr(value, "__module__", "__main__") not in ("__main__",)
                and callable(value)
                and hasattr(value, "__qualname__")
            ):
                imports.append(f"from {value.__module__} import {value.__qualname__} as {name}")
            else:
                pickled[name] = value
    return sorted(set(imports)), pickled, sources


def _free_names(source):
    tree = ast.parse(source)
    assigned = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    assigned |= {n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
    assigned |= {
        a.arg for n in ast.walk(tree) if isinstance(n, ast.arguments) for a in n.args + n.kwonlyargs + n.posonlyargs
    }
    loaded = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    return {name for name in loaded - assigned if not hasattr(builtins, name)}


def load_logged_model(path, serialization):
    """An MLflow scikit-learn model file: pickle and cloudpickle load with pickle, skops with skops."""
    try:
        if serialization == "skops":
            import skops.io

            return skops.io.load(path, trusted=skops.io.get_untrusted_types(file=path))
        try:
            with open(path, "rb") as f:
                return pickle.load(f)
        except ModuleNotFoundError as error:
            if not (error.name or "").startswith("numpy._core") or not _alias_numpy_core():
                raise
            with open(path, "rb") as f:
                return pickle.load(f)
    except Exception as error:
        raise BuildError(
            f"the MLflow model file {os.path.basename(path)} ({serialization}) did not load: {type(error).__name__}: {error}. "
            "The base image's packages may be older than the ones the model was saved with (its requirements.txt)"
        ) from error


def _alias_numpy_core():
    """NumPy 2 pickles name numpy._core, which NumPy 1 calls numpy.core: point one at the other."""
    import importlib

    import numpy

    if numpy.__version__.startswith("2"):
        return False
    print(f"warning: the model was pickled with NumPy 2; loading it with NumPy {numpy.__version__}", flush=True)
    for name in ("", ".multiarray", ".umath", ".numeric", "._multiarray_umath", ".fromnumeric", "._dtype"):
        try:
            sys.modules[f"numpy._core{name}"] = importlib.import_module(f"numpy.core{name}")
        except ImportError:
            pass
    return True


def build(root):
    with open(os.path.join(root, "build.json")) as f:
        spec = json.load(f)
    with open(os.path.join(root, "notebook.py")) as f:
        cells = split_cells(f.read())
    workdir = os.path.join(root, "workdir", spec.get("notebookDir") or "")
    model_dir = os.path.join(root, "model")
    os.makedirs(model_dir, exist_ok=True)
    os.chdir(workdir)
    sys.path.insert(0, workdir)
    namespace = {"__name__": "__main__"}
    if spec["mode"] == "mlflow":
        namespace["model"] = load_logged_model(spec["modelFile"], spec.get("serialization", "pickle"))
        spec = {**spec, "mode": "estimator", "variable": "model"}
        sample = spec.get("sample")
    else:
        sample = run_cells(cells, namespace)
    if spec["mode"] == "estimator":
        info, records, predictions = export_estimator(spec, namespace, sample, model_dir)
    else:
        info, records, predictions = export_function(spec, cells, namespace, sample, model_dir)
    with open(os.path.join(model_dir, "model.json"), "w") as f:
        json.dump({"format": 1, **info}, f, indent=2)
    if records:
        with open(os.path.join(model_dir, "sample.json"), "w") as f:
            json.dump(records, f)
        with open(os.path.join(model_dir, "sample_predictions.json"), "w") as f:
            json.dump(predictions, f)
    return {**info, "sampleSize": len(records or [])}


def main(argv):
    if len(argv) != 2:
        print("usage: python3 -m mlops_runtime.train ROOT", file=sys.stderr)
        return 2
    try:
        result = build(argv[1])
    except BuildError as error:
        print(f"MLOPS-ERROR: {error}", flush=True)
        return 1
    print(f"MLOPS-RESULT: {json.dumps(result)}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
