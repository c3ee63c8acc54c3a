"""The one table of data sources: for each, its title, whether its path is a file or a folder
(and the file dialog's filter), its reader in pipeline.py and its options with their defaults.

The training config's list of sources, the dataset picker and the pipeline (so every exported
train.py too) all read this table: adding a source is one entry here plus its reader.

NOTE: self-contained and import-free on purpose: pipeline.py imports it, and an exported train.py
embeds this very text in place of that import (see `loaders.pipeline_source`). Importing it is
cheap (no numpy), so the config can validate against it.
"""

# key -> title, path ("" none, "file" or "folder"), filter (file dialog), reader (the function's
# name in pipeline.py; "" for the built-in datasets, which pipeline.py loads by name), defaults.
SOURCES: "dict[str, dict]" = {
    "builtin": {
        "title": "Built-in dataset",
        "path": "",
        "filter": "",
        "reader": "",
        "defaults": {},
    },
    "csv": {
        "title": "CSV file",
        "path": "file",
        "filter": "CSV files (*.csv *.tsv *.txt)",
        "reader": "_read_csv",
        "defaults": {
            "task": "auto",
            "delimiter": "auto",
            "missing": "error",
            "max_categories": 20,
            "ignore": [],
        },
    },
    "images": {
        "title": "Image folder (one subfolder per class)",
        "path": "folder",
        "filter": "",
        "reader": "_read_images",
        "defaults": {"image_size": 28, "color": "grayscale"},
    },
    "idx": {
        "title": "IDX folder (MNIST format)",
        "path": "folder",
        "filter": "",
        "reader": "_read_idx_set",
        "defaults": {"labels": "", "test_images": "", "test_labels": ""},
    },
    "npz": {
        "title": "NumPy .npz archive",
        "path": "file",
        "filter": "NumPy archives (*.npz)",
        "reader": "_read_npz",
        "defaults": {"task": "auto", "standardize": "auto"},
    },
}
# Column separators a CSV file may use; `delimiter: auto` picks one of them (pipeline.py).
CSV_DELIMITERS = ",;\t|"
