"""Tiny picklable models for the server tests. They take what the server builds as X: a pandas
DataFrame when pandas is importable, else a list of row lists."""

import time


def rows_of(X):
    if hasattr(X, "columns"):
        return X.to_numpy().tolist()
    return X


class Column:
    """An array-like result with tolist(), as numpy's arrays have."""

    def __init__(self, values):
        self.values = values

    def tolist(self):
        return list(self.values)


class Linear:
    """Regression: bias + the weighted sum of the row's first values, missing ones left out."""

    def __init__(self, weights, bias=0.0):
        self.weights, self.bias = weights, bias

    def predict(self, X):
        return Column(
            self.bias + sum(w * x for w, x in zip(self.weights, row) if x is not None and x == x) for row in rows_of(X)
        )


class Threshold:
    """Classification: "yes" when the first value is above the threshold."""

    classes_ = ["no", "yes"]

    def __init__(self, threshold):
        self.threshold = threshold

    def predict(self, X):
        return ["yes" if row[0] > self.threshold else "no" for row in rows_of(X)]


class Probabilities(Threshold):
    """Threshold with predict_proba: the chance of "yes" rises from 0 to 1 between threshold - 1 and threshold + 1."""

    def predict_proba(self, X):
        chances = [min(1.0, max(0.0, (row[0] - self.threshold + 1) / 2)) for row in rows_of(X)]
        return [[1 - chance, chance] for chance in chances]


class Echo:
    """Answers each row with the columns and values it was given, to show what the model sees."""

    def predict(self, X):
        columns = [str(c) for c in X.columns] if hasattr(X, "columns") else None
        return [
            {"columns": columns, "values": [None if v != v else v for v in row]} for row in rows_of(X)
        ]  # NaN -> None


class Slow:
    """Sleeps as many seconds as the first value of the first row says, then echoes it."""

    def predict(self, X):
        rows = rows_of(X)
        time.sleep(rows[0][0])
        return [row[0] for row in rows]


class Failing:
    def predict(self, X):
        raise ValueError("the toy model refuses to predict")


class NoPredict:
    pass


class Picky:
    """Doubles the first value of each row; refuses negative ones, and sleeps half a second on a
    row holding 999, so that requests pile up behind it and form a batch."""

    def predict(self, X):
        rows = rows_of(X)
        if any(row[0] < 0 for row in rows):
            raise ValueError("the toy model refuses negative values")
        if any(row[0] == 999 for row in rows):
            time.sleep(0.5)
        return [row[0] * 2 for row in rows]
