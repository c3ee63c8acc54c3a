"""Datasets: built-in sets that work offline and the user's own files (CSV, npz, images, IDX)."""
