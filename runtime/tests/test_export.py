"""The notebook side of the build: analyze.py (conversion and detection), train.py (running the
script and writing the model directory) and requirements_check.py, on notebooks written here."""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

TESTS_DIR = os.path.dirname(os.path.abspath(__file__))
PACKAGE_DIR = os.path.join(os.path.dirname(TESTS_DIR), "mlops_runtime")
sys.path.insert(0, PACKAGE_DIR)

import analyze  # noqa: E402
import requirements_check  # noqa: E402
from notebook_source import convert_magics  # noqa: E402

try:
    import pandas  # noqa: F401
    import sklearn  # noqa: F401

    HAVE_SKLEARN = True
except ImportError:
    HAVE_SKLEARN = False


def notebook(path, *cells):
    """Writes an nbformat 4 notebook; a cell is source text or (source, [tags])."""
    out = []
    for cell in cells:
        source, tags = (cell, []) if isinstance(cell, str) else cell
        out.append(
            {"cell_type": "code", "metadata": {"tags": tags}, "source": source, "outputs": [], "execution_count": None}
        )
    with open(path, "w") as f:
        json.dump({"cells": out, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}, f)
    return path


class ConvertMagics(unittest.TestCase):
    def test_line_magics_shell_and_help_keep_the_line_count(self):
        source = "%matplotlib inline\n%pip install xgboost==2.0\n!pip install lightgbm\n!ls\nfiles = !ls\n%time x = 1\ndf?\nif True:\n    %env A=1\n"
        cell = convert_magics(1, source)
        self.assertEqual(len(cell.lines), len(source.split("\n")))
        self.assertEqual(cell.pip_installs, ["xgboost==2.0", "lightgbm"])
        self.assertEqual(cell.lines[5], "x = 1")
        self.assertEqual(cell.lines[4], "files = []  # mlops: !ls left out")
        self.assertTrue(cell.lines[8].startswith("    pass"))
        compile(cell.text, "cell", "exec")

    def test_cell_magics(self):
        self.assertEqual(
            convert_magics(1, "%%time\nx = 1").lines, ["# mlops: %%time left out, the body runs once", "x = 1"]
        )
        self.assertIn("%%bash", convert_magics(1, "%%bash\nls").dropped_reason)
        written = convert_magics(1, "%%writefile helper.py\ndef f():\n    return 1")
        namespace = {}
        cwd = os.getcwd()
        with tempfile.TemporaryDirectory() as tmp:
            os.chdir(tmp)
            try:
                exec(written.text, namespace)
                with open("helper.py") as f:
                    self.assertEqual(f.read(), "def f():\n    return 1\n")
            finally:
                os.chdir(cwd)


class Analyze(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp()
        os.makedirs(os.path.join(self.dir, "data"))
        for name in ("train.csv", "part-1.csv", "part-2.csv"):
            with open(os.path.join(self.dir, "data", name), "w") as f:
                f.write("a,b,y\n1,2,0\n3,4,1\n")
        with open(os.path.join(self.dir, "helpers.py"), "w") as f:
            f.write("def clean(df):\n    return df\n")
        self.addCleanup(shutil.rmtree, self.dir)

    def test_plots_displays_and_plotting_imports_are_left_out_across_cells(self):
        path = notebook(
            os.path.join(self.dir, "n.ipynb"),
            "import matplotlib.pyplot as plt\nimport seaborn as sns\nimport pandas as pd",
            "fig, ax = plt.subplots()\nax.plot([1, 2])\nsns.histplot(\n    [1, 2],\n)\ndisplay(1)\nx = 1",
            "for i in range(2):\n    plt.figure()\ny = x + 1",
        )
        report = analyze.analyze(path)
        code = "\n".join(line for line in report["script"].split("\n") if not line.lstrip().startswith("#"))
        self.assertNotIn("plt", code)
        self.assertNotIn("sns", code)
        self.assertIn("x = 1", code)
        self.assertIn("y = x + 1", code)
        self.assertEqual([m["module"] for m in report["requirements"]], ["pandas"])
        compile(report["script"], "script", "exec")

    def test_models_data_files_local_modules_and_tags(self):
        path = notebook(
            os.path.join(self.dir, "n.ipynb"),
            "import glob\nimport pandas as pd\nfrom helpers import clean\nfrom sklearn.preprocessing import StandardScaler\nfrom sklearn.linear_model import LogisticRegression",
            "df = clean(pd.read_csv('data/train.csv'))\nparts = [pd.read_csv(p) for p in glob.glob('data/part-*.csv')]\ndf.to_csv('out.csv')\nagain = pd.read_csv('out.csv')",
            "scaler = StandardScaler()\nscaler.fit(df[['a']])\nclf = LogisticRegression()\nclf.fit(df[['a', 'b']], df['y'])",
            ("df.to_parquet('/tmp/x.parquet')", ["skip-export"]),
            ("df.head(2)", ["sample-input"]),
        )
        report = analyze.analyze(path)
        self.assertEqual(
            [(m["variable"], m["kind"], m["x"]) for m in report["models"]],
            [("scaler", "transformer", "df[['a']]"), ("clf", "model", "df[['a', 'b']]")],
        )
        self.assertEqual(report["dataFiles"], ["data/train.csv", "data/part-1.csv", "data/part-2.csv"])
        self.assertEqual(report["missingDataFiles"], [])
        self.assertEqual(report["localModules"], ["helpers"])
        self.assertEqual(report["sampleInputCell"], 5)
        self.assertEqual([c["role"] for c in report["cells"]], ["train", "train", "train", "dropped", "sample-input"])
        self.assertNotIn("to_parquet", report["script"])

    def test_problems_are_reported_with_cell_and_line(self):
        path = notebook(
            os.path.join(self.dir, "n.ipynb"),
            "import pandas as pd",
            "x = pd.read_csv('data/nope.csv')",
            "def f(:\n  pass",
        )
        report = analyze.analyze(path)
        self.assertEqual(report["missingDataFiles"], [{"path": "data/nope.csv", "cell": 2, "line": 1}])
        self.assertEqual((report["syntaxErrors"][0]["cell"], report["syntaxErrors"][0]["line"]), (3, 1))

    def test_broken_notebooks_are_named(self):
        path = os.path.join(self.dir, "broken.ipynb")
        with open(path, "w") as f:
            f.write('{"cells": [')
        with self.assertRaisesRegex(analyze.NotebookError, r"broken\.ipynb is not valid notebook JSON"):
            analyze.read_cells(path)
        with open(path, "w") as f:
            json.dump({"nbformat": 3, "worksheets": []}, f)
        with self.assertRaisesRegex(analyze.NotebookError, "nbformat 3"):
            analyze.read_cells(path)


class RequirementsCheck(unittest.TestCase):
    def test_parse_and_satisfy(self):
        self.assertEqual(requirements_check.parse("scikit-learn==1.2.1  # pinned"), ("scikit-learn", [("==", "1.2.1")]))
        self.assertEqual(requirements_check.parse("pandas[pyarrow]>=1.5,<3"), ("pandas", [(">=", "1.5"), ("<", "3")]))
        self.assertIsNone(requirements_check.parse("-r other.txt"))
        self.assertTrue(requirements_check.satisfies("1.5.3", [(">=", "1.5"), ("<", "3")]))
        self.assertFalse(requirements_check.satisfies("1.2.1", [("==", "1.9.1")]))
        self.assertTrue(requirements_check.satisfies("1.24.2", [("==", "1.24.*")]))
        self.assertTrue(requirements_check.satisfies("2.1.0", [("~=", "2.0")]))
        self.assertFalse(requirements_check.satisfies("3.0", [("~=", "2.0")]))


@unittest.skipUnless(HAVE_SKLEARN, "scikit-learn and pandas are not installed for this Python")
class Train(unittest.TestCase):
    """analyze.py then train.py, as the build runs them, in a temporary build root."""

    def build(self, cells, spec):
        root = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, root)
        work = os.path.join(root, "workdir")
        os.makedirs(work)
        with open(os.path.join(work, "data.csv"), "w") as f:
            f.write("a,b,y\n" + "".join(f"{i},{i % 3},{int(i % 3 > 0)}\n" for i in range(30)))
        report = analyze.analyze(notebook(os.path.join(work, "n.ipynb"), *cells))
        with open(os.path.join(root, "notebook.py"), "w") as f:
            f.write(report["script"])
        with open(os.path.join(root, "build.json"), "w") as f:
            json.dump({"notebookDir": "", **spec}, f)
        result = subprocess.run(
            [sys.executable, "-m", "mlops_runtime.train", root],
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONPATH": os.path.dirname(PACKAGE_DIR), "MPLBACKEND": "Agg"},
        )
        return root, result

    def test_an_estimator_is_pickled_with_its_features_sample_and_predictions(self):
        root, result = self.build(
            [
                "import pandas as pd\nfrom sklearn.tree import DecisionTreeClassifier",
                "df = pd.read_csv('data.csv')\nX = df[['a', 'b']]\nclf = DecisionTreeClassifier(random_state=0).fit(X, df['y'])",
            ],
            {"mode": "estimator", "variable": "clf", "x": "X"},
        )
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        with open(os.path.join(root, "model", "model.json")) as f:
            meta = json.load(f)
        self.assertEqual(
            (meta["task"], meta["classes"], [f["name"] for f in meta["features"]]),
            ("classification", [0, 1], ["a", "b"]),
        )
        with open(os.path.join(root, "model", "sample_predictions.json")) as f:
            self.assertEqual(json.load(f), [0, 1, 1, 0, 1])

    def test_a_predict_function_keeps_its_helpers_and_the_values_it_uses(self):
        root, result = self.build(
            [
                "import pandas as pd\nfrom sklearn.linear_model import LinearRegression",
                "df = pd.read_csv('data.csv')\nOFFSET = 10\nreg = LinearRegression().fit(df[['a']], df['b'])",
                "def shift(values):\n    return [float(v) + OFFSET for v in values]\n\ndef predict(records):\n    return shift(reg.predict(pd.DataFrame(records)[['a']]))",
                ("[{'a': 1}, {'a': 2}]", ["sample-input"]),
            ],
            {"mode": "function", "variable": "predict", "x": None},
        )
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        with open(os.path.join(root, "model", "serve.py")) as f:
            serve = f.read()
        self.assertIn("def shift", serve)
        self.assertIn("import pandas as pd", serve)
        with open(os.path.join(root, "model", "sample.json")) as f:
            self.assertEqual(json.load(f), [{"a": 1}, {"a": 2}])

    def test_a_failing_cell_is_named_with_its_line(self):
        _, result = self.build(
            ["x = 1", "y = 2\nz = undefined_name"], {"mode": "estimator", "variable": "x", "x": None}
        )
        self.assertEqual(result.returncode, 1)
        self.assertIn("MLOPS-ERROR: cell 2, line 2: NameError", result.stdout)

    def test_a_variable_without_predict_is_refused(self):
        _, result = self.build(["x = [1, 2]"], {"mode": "estimator", "variable": "x", "x": None})
        self.assertIn("MLOPS-ERROR: 'x' is a list without a predict method", result.stdout)


if __name__ == "__main__":
    unittest.main()
