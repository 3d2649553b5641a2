"""Reads a notebook and reports, as JSON, what a model image needs from it.

Run by the extension with the workspace's interpreter before a build:

    python3 analyze.py NOTEBOOK.ipynb

It prints {"script", "cells", "models", "predict", "serveCells", "sampleInputCell",
"dataFiles", "missingDataFiles", "localModules", "requirements", "syntaxErrors", "error"}.
Paths in the report are relative to the notebook's folder, the folder a notebook runs in.
"""

import ast
import glob
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from notebook_source import convert_magics, plotting_names, strip_plotting  # noqa: E402

READERS = {
    "read_csv",
    "read_table",
    "read_parquet",
    "read_json",
    "read_excel",
    "read_feather",
    "read_pickle",
    "read_orc",
    "read_fwf",
    "read_stata",
    "read_sas",
    "read_spss",
    "read_hdf",
    "read_xml",
    "open",
    "load",
    "loadtxt",
    "genfromtxt",
    "fromfile",
    "read_text",
    "read_bytes",
    "imread",
}
WRITERS = {
    "to_csv",
    "to_parquet",
    "to_json",
    "to_excel",
    "to_feather",
    "to_pickle",
    "savetxt",
    "save",
    "dump",
    "write_text",
    "imsave",
}
PATH_KEYWORDS = {"filepath_or_buffer", "path", "io", "fname", "file", "path_or_buf", "filename"}
TRANSFORMER_SUFFIXES = (
    "Scaler",
    "Encoder",
    "Imputer",
    "Vectorizer",
    "Transformer",
    "PCA",
    "SVD",
    "Binarizer",
    "Discretizer",
    "Selector",
    "Tokenizer",
    "Normalizer",
)
# Import names whose distribution has another name, for interpreters without the package installed.
DISTRIBUTIONS = {
    "sklearn": "scikit-learn",
    "PIL": "Pillow",
    "cv2": "opencv-python",
    "yaml": "PyYAML",
    "bs4": "beautifulsoup4",
    "skimage": "scikit-image",
    "dateutil": "python-dateutil",
    "Crypto": "pycryptodome",
    "dotenv": "python-dotenv",
    "jwt": "PyJWT",
    "google": "protobuf",
    "lightgbm": "lightgbm",
    "xgboost": "xgboost",
    "catboost": "catboost",
    "torch": "torch",
    "tensorflow": "tensorflow",
    "statsmodels": "statsmodels",
    "scipy": "scipy",
}


class NotebookError(Exception):
    pass


def read_cells(path):
    try:
        with open(path, encoding="utf-8") as f:
            notebook = json.load(f)
    except json.JSONDecodeError as e:
        raise NotebookError(f"{path} is not valid notebook JSON: {e.msg} at line {e.lineno}, column {e.colno}") from e
    except UnicodeDecodeError as e:
        raise NotebookError(f"{path} is not UTF-8 text: {e}") from e
    if not isinstance(notebook, dict) or not isinstance(notebook.get("cells", notebook.get("worksheets")), list):
        raise NotebookError(f"{path} is not a Jupyter notebook: it has no list of cells")
    major = notebook.get("nbformat")
    if major != 4:
        raise NotebookError(
            f"{path} is nbformat {major}; only nbformat 4 is read. Open and save it in Jupyter or VS Code to upgrade it."
        )
    cells = []
    for index, cell in enumerate(notebook["cells"], start=1):
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else str(source)
        tags = (cell.get("metadata") or {}).get("tags") or []
        cells.append({"index": index, "type": cell.get("cell_type"), "source": source, "tags": [str(t) for t in tags]})
    return cells


def analyze(path):
    notebook_dir = os.path.dirname(os.path.abspath(path))
    cells = read_cells(path)
    report = {
        "cells": [],
        "syntaxErrors": [],
        "models": [],
        "predict": None,
        "serveCells": [],
        "sampleInputCell": None,
        "dataFiles": [],
        "missingDataFiles": [],
        "localModules": [],
        "requirements": [],
        "script": "",
    }
    trees, pip_installs, script, plotting = [], [], [], plotting_names()
    for cell in cells:
        if cell["type"] != "code":
            continue
        entry = {"index": cell["index"], "role": "train", "notes": []}
        report["cells"].append(entry)
        if "skip-export" in cell["tags"]:
            entry.update(role="dropped", notes=["tagged skip-export"])
            continue
        converted = convert_magics(cell["index"], cell["source"])
        pip_installs.extend(converted.pip_installs)
        if converted.dropped_reason:
            entry.update(role="dropped", notes=[converted.dropped_reason])
            continue
        try:
            tree = ast.parse(converted.text, filename=f"cell {cell['index']}")
        except SyntaxError as e:
            report["syntaxErrors"].append(
                {
                    "cell": cell["index"],
                    "line": e.lineno,
                    "column": e.offset,
                    "message": e.msg,
                    "text": (e.text or "").rstrip(),
                }
            )
            continue
        if strip_plotting(converted, tree, plotting):
            tree = ast.parse(converted.text)
        entry["notes"] = converted.notes
        if "serve" in cell["tags"]:
            entry["role"] = "serve"
            report["serveCells"].append(cell["index"])
        elif "sample-input" in cell["tags"]:
            entry["role"] = "sample-input"
            report["sampleInputCell"] = cell["index"]
        trees.append((cell["index"], entry["role"], tree))
        marker = f"# %% [cell {cell['index']}]" + ("" if entry["role"] == "train" else f" {entry['role']}")
        script.append(marker + "\n" + converted.text.rstrip() + "\n")

    report["script"] = (
        "# Exported by MLOps. Each '# %% [cell N]' marker starts the code of notebook cell N; lines that\n"
        "# cannot run headless are replaced in place, so line numbers match the notebook.\n" + "\n".join(script)
    )
    report["models"] = find_models(trees)
    report["predict"] = find_predict(trees)
    data, missing = find_data_files(trees, notebook_dir)
    report["dataFiles"], report["missingDataFiles"] = data, missing
    imports = find_imports(trees)
    report["localModules"] = sorted(m for m in imports if _local_module(notebook_dir, m))
    report["requirements"] = requirements(sorted(m for m in imports if m not in report["localModules"]), pip_installs)
    return report


def find_models(trees):
    constructors, fits = {}, []
    for cell, role, tree in trees:
        if role == "serve":
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                name = node.targets[0].id
                call = node.value
                if isinstance(call, ast.Call) and _attr(call.func) == "fit" and isinstance(call.func.value, ast.Call):
                    fits.append(_fit(cell, name, call, _callee(call.func.value)))
                elif isinstance(call, ast.Call) and _callee(call):
                    constructors[name] = _callee(call)
            elif isinstance(node, ast.Call) and _attr(node.func) == "fit" and isinstance(node.func.value, ast.Name):
                name = node.func.value.id
                fits.append(_fit(cell, name, node, constructors.get(name)))
    latest = {}
    for fit in fits:
        latest.pop(fit["variable"], None)
        latest[fit["variable"]] = fit
    return list(latest.values())


def _fit(cell, variable, call, estimator):
    kind = "transformer" if estimator and estimator.endswith(TRANSFORMER_SUFFIXES) else "model"
    return {
        "variable": variable,
        "cell": cell,
        "line": call.lineno,
        "estimator": estimator,
        "kind": kind,
        "x": ast.unparse(call.args[0]) if call.args else None,
        "y": ast.unparse(call.args[1]) if len(call.args) > 1 else None,
    }


def _attr(func):
    return func.attr if isinstance(func, ast.Attribute) else None


def _callee(call):
    func = call.func
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute) and func.attr not in (
        "fit",
        "copy",
        "head",
        "drop",
        "dropna",
        "fillna",
        "astype",
    ):
        return func.attr
    return None


def find_predict(trees):
    found = None
    for cell, role, tree in trees:
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and node.name == "predict":
                found = {
                    "cell": cell,
                    "line": node.lineno,
                    "params": [a.arg for a in node.args.args],
                    "serve": role == "serve",
                }
    return found


def find_data_files(trees, notebook_dir):
    found, missing, written = [], [], set()
    for cell, _, tree in trees:
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", None)
            path = _path_argument(node)
            if path is None or "://" in path:
                continue
            if name in WRITERS or (name == "open" and _open_mode(node) not in ("r", "rb", "rt")):
                written.add(os.path.normpath(path))
                continue
            for match in _expand(notebook_dir, path):
                if match not in found:
                    found.append(match)
            if name in READERS and not _expand(notebook_dir, path) and os.path.normpath(path) not in written:
                missing.append({"path": path, "cell": cell, "line": node.lineno})
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and 0 < len(node.value) < 300
                and "\n" not in node.value
            ):
                for match in _expand(notebook_dir, node.value):
                    if match not in found:
                        found.append(match)
    return found, missing


def _path_argument(call):
    candidates = list(call.args[:1]) + [k.value for k in call.keywords if k.arg in PATH_KEYWORDS]
    for arg in candidates:
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
            return arg.value
        if (
            isinstance(arg, ast.Call)
            and all(isinstance(a, ast.Constant) and isinstance(a.value, str) for a in arg.args)
            and arg.args
        ):
            callee = arg.func.attr if isinstance(arg.func, ast.Attribute) else getattr(arg.func, "id", "")
            if callee in ("join", "Path", "PurePath"):
                return os.path.join(*[a.value for a in arg.args])
    return None


def _open_mode(call):
    mode = call.args[1] if len(call.args) > 1 else next((k.value for k in call.keywords if k.arg == "mode"), None)
    return mode.value if isinstance(mode, ast.Constant) else "r"


def _expand(notebook_dir, path):
    """Existing files the path names, relative to the notebook's folder (globs expanded)."""
    full = path if os.path.isabs(path) else os.path.join(notebook_dir, path)
    matches = glob.glob(full) if any(c in path for c in "*?[") else ([full] if os.path.isfile(full) else [])
    return sorted(os.path.relpath(m, notebook_dir) for m in matches if os.path.isfile(m))


def find_imports(trees):
    modules = set()
    for _, _, tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                modules.update(a.name.split(".")[0] for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules.add(node.module.split(".")[0])
    stdlib = getattr(sys, "stdlib_module_names", set())
    return {m for m in modules if m not in stdlib and m != "__future__"}


def _local_module(notebook_dir, module):
    return os.path.isfile(os.path.join(notebook_dir, module + ".py")) or os.path.isfile(
        os.path.join(notebook_dir, module, "__init__.py")
    )


def requirements(modules, pip_installs):
    """One entry per distribution, pinned to the version this interpreter has when it has one."""
    import importlib.metadata as metadata

    try:
        installed = metadata.packages_distributions()
    except AttributeError:
        installed = {}
    result, seen = [], set()
    for module in modules:
        distribution = (installed.get(module) or [DISTRIBUTIONS.get(module, module)])[0]
        if distribution.lower() in seen:
            continue
        seen.add(distribution.lower())
        try:
            version = metadata.version(distribution)
        except metadata.PackageNotFoundError:
            version = None
        result.append({"module": module, "distribution": distribution, "version": version})
    for spec in pip_installs:
        name = spec.split("=")[0].split("<")[0].split(">")[0].split("[")[0].strip()
        if name.lower() not in seen:
            seen.add(name.lower())
            result.append({"module": None, "distribution": name, "version": None, "spec": spec})
    return result


def main(argv):
    if len(argv) != 2:
        print("usage: analyze.py NOTEBOOK.ipynb", file=sys.stderr)
        return 2
    try:
        report = analyze(argv[1])
    except (NotebookError, OSError) as e:
        report = {"error": str(e)}
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
