"""PSI as the tests check it with numpy: deciles of the baseline with linear interpolation, bins
by searchsorted (edges below the value), or the categories; proportions floored at 1e-6.
Imported by the test scripts through PYTHONPATH (test/support)."""

import numpy as np


def psi_numeric(b, c):
    edges = np.quantile(b, np.arange(1, 10) / 10)
    pb = np.bincount(np.searchsorted(edges, b, side="left"), minlength=10) / len(b)
    pc = np.bincount(np.searchsorted(edges, c, side="left"), minlength=10) / len(c)
    pb, pc = np.maximum(pb, 1e-6), np.maximum(pc, 1e-6)
    return float(np.sum((pc - pb) * np.log(pc / pb)))


def psi_categorical(b, c):
    cats = sorted(set(b) | set(c))
    pb = np.array([np.mean(b == x) for x in cats])
    pc = np.array([np.mean(c == x) for x in cats])
    pb, pc = np.maximum(pb, 1e-6), np.maximum(pc, 1e-6)
    return float(np.sum((pc - pb) * np.log(pc / pb)))
