"""Netcanvas data pipeline: built-in datasets, user files (CSV, npz, image folders, IDX), splits.

Entry point: load_arrays(source, name, path, target, options, test_fraction, val_fraction,
split_seed, base_dir) -> dict of numpy arrays and metadata.

NOTE: this module is self-contained on purpose (standard library, numpy, and Pillow for image
folders; the built-in tables are read from scikit-learn's bundled files). An exported train.py
embeds this very text, so the app and the script get bit-identical arrays. Keep it free of
`from __future__` and of imports from designer, except the one line below that imports the
source table (sources.py, itself import-free): an exported script has that module's text in its
place. User errors raise ValueError or OSError whose message names the file, and the row and
column where there is one.
"""

import csv
import gzip
import io
import math
import struct
import zipfile
import zlib
from importlib.util import find_spec
from pathlib import Path

import numpy as np

from designer.core.data.sources import CSV_DELIMITERS, SOURCES  # NOTE: inlined when embedded

_SYNTH = {"n": 400, "noise": 0.1, "seed": 0}
BUILTIN_DEFAULTS = {
    "iris": {},
    "wine": {},
    "breast_cancer": {},
    "digits": {},
    "moons": dict(_SYNTH),
    "circles": {**_SYNTH, "noise": 0.05},
    "spirals": {**_SYNTH, "noise": 0.05},
    "xor": {**_SYNTH, "noise": 0.05},
    "blobs": {**_SYNTH, "noise": 0.3, "centers": 3},
    "coffee": {"n": 300, "noise": 0.2, "seed": 0},
    "waves": {"n": 600, "noise": 0.2, "seed": 0},
}
SOURCE_DEFAULTS: dict[str, dict[str, object]] = {
    key: source["defaults"] for key, source in SOURCES.items() if source["reader"]
}
TASKS = ("auto", "classification", "regression")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")
_MISSING = {"", "na", "n/a", "nan", "null", "none", "?"}
_WINE = (
    "alcohol,malic_acid,ash,alcalinity_of_ash,magnesium,total_phenols,flavanoids,"
    "nonflavanoid_phenols,proanthocyanins,color_intensity,hue,od280/od315_of_diluted_wines,proline"
)
_CANCER = [
    "radius",
    "texture",
    "perimeter",
    "area",
    "smoothness",
    "compactness",
    "concavity",
    "concave points",
    "symmetry",
    "fractal dimension",
]


def load_arrays(
    source,
    name="",
    path="",
    target="",
    options=None,
    test_fraction=0.2,
    val_fraction=0.0,
    split_seed=0,
    base_dir=None,
):
    """Load and split a dataset. Relative paths are resolved against `base_dir`.

    Returns a dict: name, task ("classification" | "regression" | "sequence"), x_train, y_train,
    x_val, y_val (None without a validation split), x_test, y_test, input_shape, class_names,
    feature_names, notes, and mean/std (the standardisation, from training rows only; None if
    none was applied). x is float32; y is int64 class indices, or float32 N×k for regression.
    """
    if source == "builtin":
        data = _builtin(name, options, base_dir)
    elif source in _READERS:
        where = resolve_path(source, path, base_dir)
        opts = _options(source, options, SOURCE_DEFAULTS[source])
        data = _READERS[source](where, target, opts, base_dir)
    else:
        raise ValueError(
            f"unknown data source {source!r}; choose one of builtin, {', '.join(_READERS)}"
        )
    return _finish(data, test_fraction, val_fraction, split_seed)


def resolve_path(source, path, base_dir=None, also=None):
    """The user's file or folder as an absolute Path. A relative path is looked up in `base_dir`
    (default: the working folder), then in `also`; OSError names it when it does not exist."""
    if not isinstance(path, (str, Path)) or not str(path).strip():
        raise ValueError(f"{source}: no file chosen (data.path is empty)")
    given = Path(path).expanduser()
    where = given if given.is_absolute() else Path(base_dir or Path.cwd()) / given
    where = where.resolve()
    if not where.exists() and also is not None and not given.is_absolute():
        where = (Path(also) / given).resolve() if (Path(also) / given).exists() else where
    if not where.exists():
        raise FileNotFoundError(f"{where}: no such file or folder")
    return where


# --- options ------------------------------------------------------------------------------------


def _options(where, given, defaults):
    given = dict(given or {})
    unknown = sorted(set(given) - set(defaults))
    if unknown:
        known = ", ".join(defaults) or "none"
        raise ValueError(f"{where}: unknown option '{unknown[0]}' (options: {known})")
    return {**defaults, **given}


def _number(where, opts, key, lo, hi, whole=True):
    value = opts[key]
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or (whole and value != int(value)) or not lo <= value <= hi:
        kind = "a whole number" if whole else "a number"
        raise ValueError(f"{where}: option '{key}' must be {kind} from {lo} to {hi}, got {value!r}")
    return int(value) if whole else float(value)


def _choice(where, opts, key, choices):
    if opts[key] not in choices:
        raise ValueError(
            f"{where}: option '{key}' must be one of {', '.join(map(str, choices))}, got {opts[key]!r}"
        )
    return opts[key]


# --- built-in datasets --------------------------------------------------------------------------


def _builtin(name, options, base_dir=None):
    if name not in BUILTIN_DEFAULTS:
        raise ValueError(
            f"unknown built-in dataset {name!r}; choose one of {', '.join(BUILTIN_DEFAULTS)}"
        )
    opts = _options(name, options, BUILTIN_DEFAULTS[name])
    if name in SKLEARN_TABLES:
        return _sklearn_table(name, base_dir)
    n = _number(name, opts, "n", 10, 1_000_000)
    noise = _number(name, opts, "noise", 0.0, 10.0, whole=False)
    rng = np.random.default_rng(_number(name, opts, "seed", 0, 2**32 - 1))
    if name == "coffee":
        return _coffee(n, noise, rng)
    if name == "waves":
        return _waves(n, noise, rng)
    k = _number(name, opts, "centers", 2, 12) if name == "blobs" else 2
    sizes = [n // k + (c < n % k) for c in range(k)]
    y = np.repeat(np.arange(k), sizes)
    x, class_names = _PLANE[name](sizes, rng)
    x = x + rng.normal(0.0, noise, x.shape)
    return _data(name, "classification", x, y, class_names, ("x1", "x2"))


def _data(name, task, x, y, class_names=(), feature_names=(), scale=None, notes=()):
    return {
        "name": name,
        "task": task,
        "x": x,
        "y": y,
        "class_names": tuple(class_names),
        "feature_names": tuple(feature_names),
        "scale": scale,
        "notes": list(notes),
    }


SKLEARN_TABLES = ("iris", "wine", "breast_cancer", "digits")


def table_file(name):
    """Where an exported script looks for a built-in table when scikit-learn is missing."""
    return f"netcanvas_{name}.npz"


def save_table(name, path):
    """Write built-in table `name` as an npz that `_sklearn_table` reads without scikit-learn
    (plain arrays only: it loads with allow_pickle=False)."""
    data = _sklearn_table(name)
    arrays = {
        "x": data["x"],
        "y": data["y"],
        "class_names": np.array(data["class_names"], dtype=str),
        "feature_names": np.array(data["feature_names"], dtype=str),
    }
    if data["scale"] is not None:
        arrays["scale"] = data["scale"]
    np.savez_compressed(path, **arrays)


def _sklearn_table(name, base_dir=None):
    spec = find_spec("sklearn")
    if spec is None or not spec.submodule_search_locations:
        saved = Path(base_dir or ".") / table_file(name)
        if saved.is_file():
            with np.load(saved, allow_pickle=False) as f:
                scale = f["scale"] if "scale" in f.files else None
                return _data(
                    name,
                    "classification",
                    f["x"],
                    f["y"],
                    [str(c) for c in f["class_names"]],
                    [str(c) for c in f["feature_names"]],
                    scale,
                )
        raise OSError(
            f"{name}: the built-in tables come with scikit-learn; install scikit-learn, or "
            f"put {table_file(name)} (written beside an exported train.py) in {saved.parent}"
        )
    folder = Path(next(iter(spec.submodule_search_locations))) / "datasets" / "data"
    if name == "digits":
        with gzip.open(folder / "digits.csv.gz", "rt") as f:
            table = np.loadtxt(f, delimiter=",")
        features = [f"pixel_{r}_{c}" for r in range(8) for c in range(8)]
        x, y = table[:, :-1] / 16.0, table[:, -1].astype(np.int64)
        return _data(name, "classification", x, y, [str(d) for d in range(10)], features)
    with open(folder / f"{'wine_data' if name == 'wine' else name}.csv", encoding="utf-8") as f:
        class_names = next(csv.reader(f))[2:]
        table = np.loadtxt(f, delimiter=",")
    if name == "iris":
        features = [f"{p} {d} (cm)" for p in ("sepal", "petal") for d in ("length", "width")]
    elif name == "wine":
        features = _WINE.split(",")
    else:
        features = [f"mean {b}" for b in _CANCER] + [f"{b} error" for b in _CANCER]
        features += [f"worst {b}" for b in _CANCER]
    scale = np.ones(table.shape[1] - 1, bool)
    return _data(
        name,
        "classification",
        table[:, :-1],
        table[:, -1].astype(np.int64),
        class_names,
        features,
        scale,
    )


def _moons(sizes, rng):
    t = [rng.uniform(0.0, math.pi, s) for s in sizes]
    upper = np.stack([np.cos(t[0]), np.sin(t[0])], 1)
    lower = np.stack([1.0 - np.cos(t[1]), 0.5 - np.sin(t[1])], 1)
    return np.concatenate([upper, lower]) - [0.5, 0.25], ("upper moon", "lower moon")


def _circles(sizes, rng):
    radius = np.concatenate([rng.uniform(0.0, 0.5, sizes[0]), rng.uniform(0.7, 1.0, sizes[1])])
    angle = rng.uniform(0.0, 2 * math.pi, sum(sizes))
    return np.stack([radius * np.cos(angle), radius * np.sin(angle)], 1), ("inner", "outer")


def _spirals(sizes, rng):
    # Two interleaved arms as in TensorFlow Playground: radius grows with the turning angle.
    parts = []
    for c, s in enumerate(sizes):
        r = np.arange(s) / s
        t = 1.75 * r * 2 * math.pi + c * math.pi
        parts.append(np.stack([r * np.sin(t), r * np.cos(t)], 1))
    return np.concatenate(parts), ("spiral A", "spiral B")


def _xor(sizes, rng):
    parts = []
    for c, s in enumerate(sizes):
        sx = rng.choice([-1.0, 1.0], s)
        sy = sx if c == 1 else -sx
        parts.append(np.stack([sx * rng.uniform(0.1, 1, s), sy * rng.uniform(0.1, 1, s)], 1))
    return np.concatenate(parts), ("opposite signs", "same signs")


def _blobs(sizes, rng):
    angle = 2 * math.pi * np.arange(len(sizes)) / len(sizes) + math.pi / 2
    centers = np.stack([np.cos(angle), np.sin(angle)], 1)
    return np.repeat(centers, sizes, axis=0), tuple(f"blob {c + 1}" for c in range(len(sizes)))


_PLANE = {"moons": _moons, "circles": _circles, "spirals": _spirals, "xor": _xor, "blobs": _blobs}


def _coffee(n, noise, rng):
    hour = rng.uniform(0.0, 24.0, n)
    bump = lambda mid, width: np.exp(-0.5 * ((hour - mid) / width) ** 2)  # noqa: E731
    cups = 0.1 + 2.0 * bump(8.0, 1.2) + 1.3 * bump(14.0, 1.0) + rng.normal(0.0, noise, n)
    notes = ["x is the hour of day, standardised; y is cups of coffee"]
    return _data(
        "coffee",
        "regression",
        hour[:, None],
        np.maximum(cups, 0.0)[:, None],
        (),
        ("hour",),
        np.ones(1, bool),
        notes,
    )


def _waves(n, noise, rng, length=32):
    y = np.repeat(np.arange(3), [n // 3 + (c < n % 3) for c in range(3)])
    cycles = np.array([1.0, 2.0, 4.0])[y][:, None]
    phase = rng.uniform(0.0, 2 * math.pi, (n, 1))
    amp = rng.uniform(0.6, 1.2, (n, 1))
    t = np.arange(length)[None, :] / length
    x = amp * np.sin(2 * math.pi * cycles * t + phase) + rng.normal(0.0, noise, (n, length))
    return _data("waves", "sequence", x[:, :, None], y, ("slow", "medium", "fast"), ("value",))


# --- CSV ----------------------------------------------------------------------------------------


def _read_csv(path, target, opts, base_dir):
    task = _choice(path.name, opts, "task", TASKS)
    missing = _choice(path.name, opts, "missing", ("error", "drop"))
    max_cats = _number(path.name, opts, "max_categories", 1, 1000)
    ignore = opts["ignore"]
    ignore = [s.strip() for s in ignore.split(",")] if isinstance(ignore, str) else ignore
    if not isinstance(ignore, (list, tuple)) or not all(isinstance(c, str) for c in ignore):
        raise ValueError(f"{path.name}: option 'ignore' must be a list of column names")
    delimiter = opts["delimiter"]
    if delimiter != "auto" and not (isinstance(delimiter, str) and len(delimiter) == 1):
        raise ValueError(f"{path.name}: option 'delimiter' must be auto or one character")
    header, rows = _csv_rows(path, delimiter)
    notes = []
    if not target:
        target = header[-1]
        notes.append(f"target: the last column, '{target}'")
    for col in [target, *ignore]:
        if col and col not in header:
            raise ValueError(f"{path}: no column '{col}'; the columns are: {', '.join(header)}")
    used = [i for i, h in enumerate(header) if h != target and h not in ignore]
    t = header.index(target)
    if not used:
        raise ValueError(f"{path}: no feature columns left besides the target '{target}'")
    kept = []
    for number, cells in rows:
        bad = next((i for i in [*used, t] if cells[i].lower() in _MISSING), None)
        if bad is None:
            kept.append((number, cells))
        elif missing == "error":
            what = "empty cell" if not cells[bad] else f"missing value '{cells[bad]}'"
            raise ValueError(
                f"{path}: row {number}, column '{header[bad]}': {what} "
                "(fill it in, or set option missing='drop' to skip such rows)"
            )
    if not kept:
        raise ValueError(f"{path}: every row has a missing value")
    numbers = [number for number, _ in kept]
    columns, names, scale = [], [], []
    for i in used:
        cells = [c[i] for _, c in kept]
        values, first_text = _floats(cells)
        if first_text is None:
            columns.append(values[:, None])
            names.append(header[i])
            scale.append(True)
            continue
        cats = sorted(set(cells))
        if len(cats) > max_cats:
            raise ValueError(
                f"{path}: column '{header[i]}' holds text with {len(cats)} different values "
                f"(e.g. '{cells[first_text]}' in row {numbers[first_text]}); text columns are one-hot "
                f"encoded only up to {max_cats} values. Remove the column, list it in option "
                "'ignore', or write it as numbers"
            )
        columns.append((np.array(cells)[:, None] == np.array(cats)[None, :]).astype(np.float64))
        names += [f"{header[i]}={c}" for c in cats]
        scale += [False] * len(cats)
    x = np.concatenate(columns, axis=1)
    y, task, class_names = _target(
        path, f"column '{target}'", [c[t] for _, c in kept], task, numbers
    )
    return _data(path.name, task, x, y, class_names, names, np.array(scale), notes)


def detect_delimiter(first_line):
    """The column separator of a CSV file, from its first line outside quoted names: a comma
    if there is one, else the most frequent of ; tab | (the one detector the app, the picker
    and train.py use)."""
    unquoted = "".join(first_line.split('"')[0::2])
    if unquoted.count(",") or not any(d in unquoted for d in CSV_DELIMITERS):
        return ","
    return max(CSV_DELIMITERS, key=unquoted.count)


def csv_header(path):
    """The column names of a CSV file (its first row), or [] if it can't be read."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            first = fh.readline()
    except (OSError, UnicodeDecodeError):
        return []
    try:
        rows = list(csv.reader([first], delimiter=detect_delimiter(first)))
    except csv.Error:
        return []
    return [c.strip() for c in rows[0] if c.strip()] if rows else []


def _csv_rows(path, delimiter):
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as err:
        line = path.read_bytes()[: err.start].count(b"\n") + 1
        raise ValueError(
            f"{path}: line {line} is not UTF-8 text; save the file as UTF-8 CSV"
        ) from None
    except OSError as err:
        raise OSError(f"{path}: cannot read the file ({err.strerror or err})") from None
    if not text.strip():
        raise ValueError(f"{path}: the file is empty")
    if delimiter == "auto":
        delimiter = detect_delimiter(text.splitlines()[0])
    try:
        records = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as err:
        raise ValueError(f"{path}: not a readable CSV file ({err})") from None
    header = [h.strip() or f"column {i + 1}" for i, h in enumerate(records[0])]
    dup = next((h for i, h in enumerate(header) if h in header[:i]), None)
    if dup:
        raise ValueError(f"{path}: row 1: the column name '{dup}' appears twice")
    rows = []
    # Spreadsheet row numbers: the header is row 1 and blank lines count as rows.
    for number, cells in enumerate(records[1:], start=2):
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(header):
            raise ValueError(
                f"{path}: row {number} has {len(cells)} cells, but the header has "
                f"{len(header)} columns"
            )
        rows.append((number, [c.strip() for c in cells]))
    if not rows:
        raise ValueError(f"{path}: the file has a header but no data rows")
    return header, rows


def _floats(cells):
    """Cells as float64, and the index of the first cell that is not a number (None if all are)."""
    out = np.empty(len(cells))
    for i, cell in enumerate(cells):
        try:
            out[i] = float(cell)
        except ValueError:
            return out, i
        if not math.isfinite(out[i]):
            return out, i
    return out, None


def _target(where, what, labels, task, numbers=None):
    """Class indices (int64) or regression targets (float32 N×1) from a list of label cells."""
    values, first_text = _floats(labels)
    numeric = first_text is None
    unique = sorted(set(values.tolist())) if numeric else sorted(set(labels))
    if task == "auto":
        integral = numeric and all(v == int(v) for v in unique)
        task = "classification" if not numeric or (integral and len(unique) <= 20) else "regression"
    if task == "regression":
        if not numeric:
            row = f"row {numbers[first_text]}" if numbers else f"sample {first_text}"
            raise ValueError(
                f"{where}: {row}, {what}: '{labels[first_text]}' is not a number, "
                "but regression needs numeric targets"
            )
        return values[:, None], task, ()
    if len(unique) < 2:
        raise ValueError(
            f"{where}: {what} has a single value '{labels[0]}'; classification needs "
            "at least 2 classes"
        )
    index = {v: i for i, v in enumerate(unique)}
    y = np.array([index[v] for v in (values.tolist() if numeric else labels)], np.int64)
    names = [_label_text(v) for v in unique] if numeric else unique
    return y, task, names


def _label_text(value):
    return str(int(value)) if float(value) == int(value) else repr(float(value))


# --- npz ----------------------------------------------------------------------------------------


def _read_npz(path, target, opts, base_dir):
    task = _choice(path.name, opts, "task", TASKS)
    standardize = _choice(path.name, opts, "standardize", ("auto", True, False))
    try:
        archive = np.load(path, allow_pickle=False)
    except ValueError:  # numpy found no archive and refused to try unpickling
        raise ValueError(
            f"{path}: not an .npz archive of arrays (Netcanvas never loads pickled data); "
            "save X and y with np.savez(path, X=X, y=y)"
        ) from None
    except (OSError, EOFError, KeyError, zipfile.BadZipFile, zlib.error) as err:
        raise ValueError(f"{path}: not a readable .npz archive ({err})") from None
    if not hasattr(archive, "files"):
        raise ValueError(
            f"{path}: holds a single array; save X and y with np.savez(path, X=X, y=y)"
        )
    with archive:
        x, y = (_npz_pick(path, archive, key) for key in ("x", "y"))
    if x.dtype.kind not in "biuf":
        raise ValueError(f"{path}: X must be numeric, but its dtype is {x.dtype}")
    if len(x) != len(y):
        raise ValueError(f"{path}: X has {len(x)} samples but y has {len(y)}")
    x = x.astype(np.float64).reshape(len(x), -1) if x.ndim == 1 else x.astype(np.float64)
    bad = np.flatnonzero(~np.isfinite(x.reshape(len(x), -1)).all(axis=1))
    if bad.size:
        raise ValueError(f"{path}: X sample {bad[0]} holds NaN or infinity")
    if y.dtype.kind in "biuU":
        if y.ndim > 1 and y.shape[1:] != (1,):
            raise ValueError(f"{path}: class labels y must be one per sample, got shape {y.shape}")
        if task == "auto" and y.dtype.kind != "f":
            task = "classification"  # an integer or text dtype says these are labels
        labels = [str(v) for v in y.reshape(-1).tolist()]
        y, task, names = _target(path, "y", labels, task)
    elif y.dtype.kind == "f":
        y = y.reshape(len(y), -1).astype(np.float64)
        bad = np.flatnonzero(~np.isfinite(y).all(axis=1))
        if bad.size:
            raise ValueError(f"{path}: y sample {bad[0]} holds NaN or infinity")
        if y.shape[1] == 1:
            y, task, names = _target(path, "y", [repr(v) for v in y[:, 0].tolist()], task)
        elif task == "classification":
            raise ValueError(f"{path}: class labels y must be one per sample, got shape {y.shape}")
        else:
            task, names = "regression", ()
    else:
        raise ValueError(f"{path}: y must hold numbers or text labels, but its dtype is {y.dtype}")
    scale = None
    if standardize is True or (standardize == "auto" and x.ndim == 2):
        scale = np.ones(int(np.prod(x.shape[1:])), bool)
    features = [f"x{i + 1}" for i in range(x.shape[1])] if x.ndim == 2 else []
    return _data(path.name, task, x, y, names, features, scale)


def _npz_pick(path, archive, key):
    found = [k for k in archive.files if k.lower() == key]
    if len(found) != 1:
        held = ", ".join(archive.files) or "nothing"
        problem = (
            f"both {key} and {key.upper()}" if found else f"no array named {key} or {key.upper()}"
        )
        raise ValueError(f"{path}: {problem}; the archive holds: {held}")
    try:
        return archive[found[0]]
    except ValueError:
        raise ValueError(
            f"{path}: array '{found[0]}' holds Python objects, which Netcanvas never "
            "unpickles; save plain numeric arrays"
        ) from None
    except (OSError, EOFError, KeyError, zipfile.BadZipFile, zlib.error) as err:  # damaged
        raise ValueError(f"{path}: array '{found[0]}' cannot be read ({err})") from None


# --- image folders ------------------------------------------------------------------------------


def _read_images(path, target, opts, base_dir):
    files, labels, class_names, size, mode = image_files(path, opts)
    x = np.empty((len(files), 1 if mode == "L" else 3, size, size), np.uint8)
    for file, row in zip(files, x, strict=True):  # decoded into one array: no per-image copies
        decode_image(file, size, mode, row)
    return _data(path.name, "classification", x, np.array(labels, np.int64), class_names)


def image_files(path, opts):
    """(files, labels, class names, size, mode) of an image folder, one subfolder per class,
    without decoding any image (a streamed dataset decodes them batch by batch)."""
    size = _number(path.name, opts, "image_size", 4, 1024)
    mode = {"grayscale": "L", "rgb": "RGB"}[_choice(path.name, opts, "color", ("grayscale", "rgb"))]
    if not path.is_dir():
        raise ValueError(f"{path}: not a folder; choose a folder with one subfolder per class")
    classes = sorted(p for p in path.iterdir() if p.is_dir() and not p.name.startswith("."))
    if len(classes) < 2:
        raise ValueError(
            f"{path}: needs one subfolder per class (at least 2), e.g. cats/ and dogs/"
        )
    found, labels = [], []
    for c, folder in enumerate(classes):
        files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if not files:
            raise ValueError(
                f"{folder}: class folder '{folder.name}' holds no images "
                f"({', '.join(IMAGE_SUFFIXES)})"
            )
        found += files
        labels += [c] * len(files)
    return found, labels, [p.name for p in classes], size, mode


def decode_image(file, size, mode, out=None):
    """One image as uint8 pixels, channels first (1 or 3 × size × size), written into `out`
    when given (a C×size×size uint8 array) and returned. The training loop scales them to
    [0, 1] on the device, batch by batch (a quarter of float32's memory)."""
    from PIL import Image  # Pillow is only needed for image folders

    try:
        with Image.open(file) as img:
            # NOTE: convert and resize are skipped when they would change nothing (the same
            # pixels, without two copies of each image).
            if img.mode != mode:
                img = img.convert(mode)
            if img.size != (size, size):
                img = img.resize((size, size), Image.Resampling.BILINEAR)
            pixels = np.asarray(img, dtype=np.uint8)
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as err:
        raise ValueError(f"{file}: not a readable image ({err})") from None
    pixels = pixels[None] if pixels.ndim == 2 else pixels.transpose(2, 0, 1)
    if out is None:
        return pixels
    out[...] = pixels
    return out


# --- MNIST-format IDX files ---------------------------------------------------------------------

_IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


IDX_MAX_BYTES = 1 << 30  # an IDX array's data, as its dims declare it


def read_idx(path):
    """One IDX array (raw or gzipped) with its dims; ValueError names the file when it is bad.

    The size the dims declare is checked before the data is read or decompressed, so a small
    gzip that would expand to gigabytes is refused at once.
    """
    try:
        with open(path, "rb") as f:
            zipped = f.read(2) == b"\x1f\x8b"
        with gzip.open(path, "rb") if zipped else open(path, "rb") as f:
            head = f.read(4)
            if len(head) < 4 or head[:2] != b"\0\0" or head[2] not in _IDX_TYPES:
                raise ValueError(
                    f"{path}: not an IDX file (bad magic number {head.hex() or 'none'})"
                )
            dims_raw = f.read(4 * head[3])
            if len(dims_raw) < 4 * head[3]:
                raise ValueError(f"{path}: truncated IDX header")
            dims = struct.unpack(f">{head[3]}I", dims_raw)
            dtype = np.dtype(_IDX_TYPES[head[2]])
            need = math.prod(dims) * dtype.itemsize
            if need >= IDX_MAX_BYTES:
                raise ValueError(
                    f"{path}: too big: its dims {dims} declare {need:,} bytes of data; "
                    f"at most {IDX_MAX_BYTES:,} are read"
                )
            raw = f.read(need)
    except (EOFError, zlib.error, gzip.BadGzipFile) as err:
        raise ValueError(f"{path}: broken gzip data ({err})") from None
    except OSError as err:
        raise OSError(f"{path}: cannot read the file ({err.strerror or err})") from None
    if len(raw) < need:
        raise ValueError(
            f"{path}: truncated IDX file: dims {dims} need {need} bytes of data, found {len(raw)}"
        )
    return np.frombuffer(raw, dtype, math.prod(dims)).reshape(dims)


def _read_idx_set(path, target, opts, base_dir):
    if path.is_dir():
        wanted = [(part, kind) for part in ("train", "t10k") for kind in ("images", "labels")]
        files = [_idx_file(path, part, kind) for part, kind in wanted]
        missing = [
            f"{p}-{k}-idx{3 if k == 'images' else 1}-ubyte"
            for (p, k), f in zip(wanted[:2], files[:2], strict=True)
            if f is None
        ]
        if missing:
            raise ValueError(f"{path}: no {' or '.join(missing)} file (raw or .gz) in this folder")
    else:
        for key in ("labels", "test_images", "test_labels"):
            if type(opts[key]) is not str:  # option values come from JSON: exactly str
                raise ValueError(f"{path.name}: option '{key}' must be a file path")
        found = [
            resolve_path("idx", opts[key], base_dir, also=path.parent) if opts[key] else None
            for key in ("labels", "test_images", "test_labels")
        ]
        if found[0] is None:
            raise ValueError(f"{path}: set option 'labels' to the IDX labels file")
        files = [path, *found]
    if (files[2] is None) != (files[3] is None):
        raise ValueError(f"{path}: test images and test labels must be given together")
    parts = []
    for images, labels in ((files[0], files[1]), (files[2], files[3])):
        if images is None:
            continue
        x, y = read_idx(images), read_idx(labels)
        if y.ndim != 1 or y.dtype.kind not in "iu":
            raise ValueError(
                f"{labels}: labels must be a 1-D integer IDX array, got dims {y.shape}"
            )
        if len(x) != len(y):
            raise ValueError(f"{images}: {len(x)} images but {labels.name} has {len(y)} labels")
        if x.ndim < 2:
            raise ValueError(f"{images}: images must have at least 2 dims, got {x.shape}")
        if x.dtype != np.uint8:  # uint8 pixels stay so: scaled on the device per batch
            x = x.astype(np.float64)
        parts.append((x[:, None] if x.ndim == 3 else x, y.astype(np.int64)))
    k = max(int(y.max()) for _, y in parts) + 1
    data = _data(path.name, "classification", parts[0][0], parts[0][1], [str(i) for i in range(k)])
    if len(parts) == 2:
        data["x_test"], data["y_test"] = parts[1]
        data["notes"].append("test split: the t10k / test files (test_fraction is not used)")
    return data


def _idx_file(folder, part, kind):
    dims = 3 if kind == "images" else 1
    for stem in (f"{part}-{kind}-idx{dims}-ubyte", f"{part}-{kind}.idx{dims}-ubyte"):
        for name in (stem, stem + ".gz"):
            if (folder / name).is_file():
                return folder / name
    return None


_READERS = {key: globals()[source["reader"]] for key, source in SOURCES.items() if source["reader"]}


# --- splitting and standardisation --------------------------------------------------------------


def _finish(data, test_fraction, val_fraction, seed):
    if not (0 <= test_fraction < 1 and 0 <= val_fraction < 1 and test_fraction + val_fraction < 1):
        raise ValueError(
            f"test_fraction ({test_fraction}) + val_fraction ({val_fraction}) must "
            "leave data for training"
        )
    x, y, names = data["x"], data["y"], data["class_names"]
    given_test = "x_test" in data
    groups = [np.flatnonzero(y == c) for c in range(len(names))] if names else [np.arange(len(y))]
    sizes = np.array([len(g) for g in groups])
    test = np.zeros_like(sizes) if given_test else _allocate(sizes, _count(len(y), test_fraction))
    val = _allocate(sizes - test, _count(len(y), val_fraction))
    short = np.flatnonzero(sizes - test - val < 1)
    if short.size:
        what = f"class '{names[short[0]]}'" if names else "the data"
        count = sizes[short[0]]
        raise ValueError(
            f"{data['name']}: {what} has no samples"
            if count == 0
            else f"{data['name']}: {what} has {count} samples; test_fraction {test_fraction} and "
            f"val_fraction {val_fraction} leave it none for training (add samples or lower them)"
        )
    rng = np.random.default_rng(seed)
    picks = {"train": [], "val": [], "test": []}
    for group, t, v in zip(groups, test, val, strict=True):
        order = rng.permutation(group)
        picks["test"].append(order[:t])
        picks["val"].append(order[t : t + v])
        picks["train"].append(order[t + v :])
    idx = {k: rng.permutation(np.concatenate(v)) for k, v in picks.items()}
    splits = {"train": (x[idx["train"]], y[idx["train"]])}
    splits["test"] = (
        (data["x_test"], data["y_test"]) if given_test else (x[idx["test"]], y[idx["test"]])
    )
    if val_fraction > 0:
        splits["val"] = (x[idx["val"]], y[idx["val"]])
    out = {
        "name": data["name"],
        "task": data["task"],
        "class_names": names,
        "feature_names": data["feature_names"],
        "notes": data["notes"],
        "mean": None,
        "std": None,
        "input_shape": tuple(int(d) for d in x.shape[1:]),
    }
    if data["scale"] is not None:
        out["mean"], out["std"] = _scaling(splits["train"][0], data["scale"])
    for split in ("train", "val", "test"):
        xs, ys = splits.get(split, (None, None))
        if xs is not None and out["mean"] is not None:
            xs = (xs - out["mean"]) / out["std"]
        keep = xs is not None and xs.dtype == np.uint8  # pixels: scaled on the device
        if keep and not xs.flags.writeable:  # read from a file buffer: torch wants a copy
            xs = xs.copy()
        out[f"x_{split}"] = None if xs is None else xs if keep else xs.astype(np.float32)
        out[f"y_{split}"] = None if ys is None else ys.astype(np.int64 if names else np.float32)
    return out


def _count(n, fraction):
    return 0 if fraction <= 0 else max(1, math.floor(n * fraction + 0.5))


def _allocate(sizes, total):
    """Split `total` over groups in proportion to `sizes` (largest remainder), keeping one sample
    per group back when it can; what cannot be placed that way empties a group (refused later)."""
    if total <= 0 or sizes.sum() == 0:
        return np.zeros_like(sizes)
    quota = sizes * total / sizes.sum()
    order = np.argsort(-(quota - np.floor(quota)), kind="stable")
    keep_one = np.maximum(sizes - 1, 0)
    counts = np.minimum(np.floor(quota).astype(sizes.dtype), keep_one)
    for caps in (keep_one, sizes):
        while counts.sum() < total and (counts < caps).any():
            for i in order:
                if counts.sum() < total and counts[i] < caps[i]:
                    counts[i] += 1
    return counts


def _scaling(x_train, columns):
    """Per-feature mean and std of the training rows; columns not standardised keep 0 and 1."""
    flat = x_train.reshape(len(x_train), -1)
    mean, std = np.zeros(flat.shape[1]), np.ones(flat.shape[1])
    mean[columns] = flat[:, columns].mean(axis=0)
    std[columns] = flat[:, columns].std(axis=0)
    std[std == 0] = 1.0
    shape = x_train.shape[1:]
    return mean.reshape(shape), std.reshape(shape)
