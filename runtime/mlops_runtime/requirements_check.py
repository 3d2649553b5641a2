"""Installs what requirements.txt asks for and the base image lacks, during the image build.

    python3 requirements_check.py requirements.txt

A requirement the image already satisfies is left alone, so an offline base image with the
packages preinstalled builds without pip or a network. When a pinned version differs from the
one installed and pip cannot install it, the installed one is kept with a warning. A package
that is missing and cannot be installed fails the build with "MLOPS-ERROR: ...".
"""

import importlib.metadata as metadata
import importlib.util
import re
import subprocess
import sys

REQUIREMENT = re.compile(
    r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*((?:[<>=!~]=?|===)\s*[^;#\s]+(?:\s*,\s*(?:[<>=!~]=?)\s*[^;#\s,]+)*)?"
)


def parse(line):
    """(name, [(operator, version)]) or None for comments, options and blank lines."""
    line = line.split("#", 1)[0].strip()
    if not line or line.startswith("-"):
        return None
    match = REQUIREMENT.match(line)
    if not match:
        return None
    specs = []
    for part in (match.group(3) or "").split(","):
        part = part.strip()
        if part:
            op = re.match(r"(===|==|!=|<=|>=|~=|<|>)", part).group(1)
            specs.append((op, part[len(op) :].strip()))
    return match.group(1), specs


def version_key(version):
    return tuple(
        int(p) if p.isdigit() else 0 for p in re.split(r"[.+-]", version.split("rc")[0].split("a")[0].split("b")[0])[:4]
    )


def satisfies(installed, specs):
    have = version_key(installed)
    for op, wanted in specs:
        want = version_key(wanted.rstrip(".*"))
        if wanted.endswith(".*"):
            ok = have[: len(want)] == want
        elif op == "~=":
            ok = have >= want and have[: max(len(want) - 1, 1)] == want[: max(len(want) - 1, 1)]
        else:
            ok = {
                "==": have == want,
                "===": installed == wanted,
                "!=": have != want,
                ">=": have >= want,
                "<=": have <= want,
                ">": have > want,
                "<": have < want,
            }[op]
        if not ok:
            return False
    return True


def installed_version(name):
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def main(argv):
    with open(argv[1]) as f:
        wanted = [r for r in (parse(line) for line in f) if r]
    todo = []
    for name, specs in wanted:
        have = installed_version(name)
        if have is not None and satisfies(have, specs):
            print(f"{name} {have} is in the base image")
        else:
            todo.append((name, specs, have))
    if not todo:
        return 0
    if importlib.util.find_spec("pip") is not None:
        args = [n + ",".join(op + v for op, v in s) for n, s, _ in todo]
        print(f"pip install {' '.join(args)}", flush=True)
        if (
            subprocess.call(
                [sys.executable, "-m", "pip", "install", "--no-cache-dir", "--retries", "1", "--timeout", "20", *args]
            )
            == 0
        ):
            return 0
        print("pip could not install them; checking what the base image has", flush=True)
    missing = []
    for name, specs, have in todo:
        if have is None:
            missing.append(name)
        else:
            print(
                f"warning: {name} {have} is in the base image, the notebook asked for {','.join(o + v for o, v in specs)}; keeping {have}"
            )
    if missing:
        print(
            f"MLOPS-ERROR: the notebook imports {', '.join(missing)}, which the base image lacks and pip cannot install here. "
            "Use a base image that has it (mlops.baseImage), or make pip able to reach a package index.",
            flush=True,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
