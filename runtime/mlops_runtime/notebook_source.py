"""Turns the code cells of a notebook into Python that runs headless.

IPython syntax (magics, shell escapes, help) becomes `pass` or plain Python, and plotting or
display statements are dropped. Every replacement keeps the cell's line count, so a line number
in an error still points at the line the user sees in the notebook.
"""

import ast
import re
import shlex

KEEP_BODY_CELL_MAGICS = {"time", "timeit", "capture", "prun", "memit"}
PLOT_MODULES = {
    "matplotlib",
    "seaborn",
    "plotly",
    "bokeh",
    "altair",
    "IPython",
    "ipywidgets",
    "yellowbrick",
    "graphviz",
}
PLOT_METHODS = {
    "plot",
    "hist",
    "boxplot",
    "show",
    "savefig",
    "imshow",
    "scatter_matrix",
    "display",
    "from_estimator",
    "from_predictions",
}
NOTEBOOK_GLOBALS = {"display", "HTML", "Markdown", "Image"}


class CellSource:
    """The converted code of one cell, with what was changed and the packages it pip-installs."""

    def __init__(self, index, lines, notes, pip_installs, dropped_reason=None):
        self.index = index
        self.lines = lines
        self.notes = notes
        self.pip_installs = pip_installs
        self.dropped_reason = dropped_reason

    @property
    def text(self):
        return "\n".join(self.lines)


def convert_magics(index, source):
    """Replaces IPython-only lines; returns a CellSource (dropped when a cell magic cannot run)."""
    lines = source.split("\n")
    notes, pips = [], []
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is not None and lines[first].lstrip().startswith("%%"):
        magic = lines[first].strip()[2:].split()
        name = magic[0] if magic else ""
        if name in KEEP_BODY_CELL_MAGICS:
            lines[first] = f"# mlops: %%{name} left out, the body runs once"
        elif name == "writefile" and len(magic) > 1:
            body = "\n".join(lines[first + 1 :]) + "\n"
            lines = (
                lines[:first]
                + [f"with open({magic[-1]!r}, 'w') as _f: _f.write({body!r})"]
                + ["#"] * (len(lines) - first - 1)
            )
            notes.append(f"%%writefile {magic[-1]} became a Python write")
        else:
            return CellSource(index, [], [], [], dropped_reason=f"the cell magic %%{name} does not run in the image")
    for i, line in enumerate(lines):
        stripped = line.lstrip()
        indent = line[: len(line) - len(stripped)]
        replacement = _line_magic(stripped, notes, pips)
        if replacement is not None:
            lines[i] = indent + replacement
    return CellSource(index, lines, notes, pips)


def _line_magic(stripped, notes, pips):
    assignment = re.match(r"^([A-Za-z_][\w, ]*)=\s*([!%].*)$", stripped)
    if assignment:
        notes.append(f"'{stripped}' left out: shell and magic output is not available in the image")
        return f"{assignment.group(1).strip()} = []  # mlops: {assignment.group(2)[:40]} left out"
    if stripped.startswith("!"):
        words = _split(stripped[1:])
        if words[:2] == ["pip", "install"] or words[:3] in (["python", "-m", "pip"], ["python3", "-m", "pip"]):
            pips.extend(_packages(words))
            return "pass  # mlops: requirement noted"
        notes.append(f"shell command '{stripped[:60]}' left out")
        return "pass  # mlops: shell command left out"
    if stripped.startswith("%") and not stripped.startswith("%%"):
        words = _split(stripped[1:])
        name = words[0] if words else ""
        if name in ("pip", "conda") and "install" in words:
            pips.extend(_packages(words))
            return "pass  # mlops: requirement noted"
        if name == "time" and len(words) > 1:
            return stripped[len("%time") :].strip()
        if name not in ("matplotlib", "load_ext", "autoreload", "config", "reload_ext"):
            notes.append(f"magic %{name} left out")
        return f"pass  # mlops: %{name} left out"
    if stripped.endswith("?") and re.match(r"^[\w.]+\?{1,2}$", stripped) or re.match(r"^\?{1,2}[\w.]+$", stripped):
        return "pass  # mlops: help left out"
    return None


def _split(text):
    try:
        return shlex.split(text)
    except ValueError:
        return text.split()


def _packages(words):
    after = words[words.index("install") + 1 :] if "install" in words else []
    return [w for w in after if not w.startswith("-")]


def plotting_names():
    """The names that plot or display before any import: what IPython puts in a notebook."""
    return set(NOTEBOOK_GLOBALS)


def strip_plotting(cell, tree, tainted):
    """Drops statements that plot or display, and imports of plotting modules. `tainted` holds
    the names bound to plotting objects so far; it carries over from cell to cell."""
    dropped = []

    def is_plot_call(node):
        if not isinstance(node, ast.Call):
            return False
        func = node.func
        attrs = []
        while isinstance(func, (ast.Attribute, ast.Call, ast.Subscript)):
            if isinstance(func, ast.Attribute):
                attrs.append(func.attr)
                func = func.value
            elif isinstance(func, ast.Call):
                if is_plot_call(func):
                    return True
                func = func.func
            else:
                func = func.value
        root = func.id if isinstance(func, ast.Name) else None
        if root in tainted:
            return True
        if root and root.startswith("plot_") and not attrs:
            return True
        return any(attr in PLOT_METHODS for attr in attrs)

    def visit(body):
        for stmt in body:
            if isinstance(stmt, (ast.Import, ast.ImportFrom)):
                names = [a.name for a in stmt.names]
                module = stmt.module if isinstance(stmt, ast.ImportFrom) else None
                roots = {(module or n).split(".")[0] for n in names}
                if roots & PLOT_MODULES:
                    tainted.update((a.asname or a.name).split(".")[0] for a in stmt.names)
                    dropped.append(stmt)
                continue
            value = getattr(stmt, "value", None)
            if isinstance(stmt, ast.Expr) and is_plot_call(value):
                dropped.append(stmt)
                continue
            if isinstance(stmt, (ast.Assign, ast.AnnAssign)) and is_plot_call(value):
                targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
                for target in targets:
                    tainted.update(n.id for n in ast.walk(target) if isinstance(n, ast.Name))
                dropped.append(stmt)
                continue
            if isinstance(stmt, ast.With) and any(is_plot_call(item.context_expr) for item in stmt.items):
                dropped.append(stmt)
                continue
            for field in ("body", "orelse", "finalbody"):
                inner = getattr(stmt, field, None)
                if isinstance(inner, list) and not isinstance(
                    stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
                ):
                    visit(inner)
            for handler in getattr(stmt, "handlers", []):
                visit(handler.body)

    visit(tree.body)
    for stmt in dropped:
        first, last = stmt.lineno - 1, stmt.end_lineno - 1
        indent = cell.lines[first][: stmt.col_offset]
        cell.lines[first] = indent + "pass  # mlops: plot or display left out"
        for i in range(first + 1, last + 1):
            cell.lines[i] = "#"
    if dropped:
        cell.notes.append(f"{len(dropped)} plotting or display statement(s) left out")
    return len(dropped)
