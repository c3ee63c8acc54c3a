"""Experiments: every training run remembered (store, record), compared (diff) and searched
(search, on Optuna). Nothing here imports Qt; optuna and tensorboardX are imported only by the
modules that need them."""
