"""Training and data settings: plain dataclasses, stored in the project file.

Every field is checked by a ParamSpec, so a bad value in a file or a form gets the same message
("training.lr: expected a number ≥ 0, got -1") as a bad layer parameter.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields

from designer.core.data.sources import SOURCES as DATA_SOURCES
from designer.core.errors import ParamError
from designer.core.layers.spec import ParamSpec

OPTIMIZERS = ("adam", "adamw", "sgd", "rmsprop")
SCHEDULERS = ("none", "step", "cosine", "onecycle", "plateau")
LOSSES = ("cross_entropy", "bce_with_logits", "mse", "l1", "huber")
INITS = (
    "default",
    "xavier_uniform",
    "xavier_normal",
    "kaiming_uniform",
    "kaiming_normal",
    "orthogonal",
)
DEVICES = ("auto", "cpu", "cuda", "mps")
AMP = ("off", "bf16", "fp16")
SOURCES = tuple(DATA_SOURCES)  # the one source table, core/data/sources.py
LR_TYPICAL = (1e-7, 10.0)  # outside this a learning rate is accepted with a warning


@dataclass
class DataConfig:
    """Where the data comes from. `name` is a built-in dataset; `path` a user file or folder."""

    source: str = "builtin"
    name: str = "iris"
    path: str = ""
    target: str = ""  # CSV target column
    options: dict = field(default_factory=dict)  # per-source options: n, noise, image_size, ...
    test_fraction: float = 0.2
    val_fraction: float = 0.0
    split_seed: int = 0


@dataclass
class TrainingConfig:
    optimizer: str = "adam"
    lr: float = 0.01
    momentum: float = 0.9
    nesterov: bool = False
    weight_decay: float = 0.0
    batch_size: int = 32
    epochs: int = 50
    scheduler: str = "none"
    loss: str = "cross_entropy"
    init: str = "default"
    seed: int = 0
    device: str = "auto"
    amp: str = "off"
    grad_clip: float = 0.0  # 0 = off
    early_stopping: int = 0  # patience in epochs; 0 = off
    # Transfer learning: frozen BatchNorm layers keep their statistics (eval mode); learning
    # rate factors per layer or block (module path -> factor); a weights file to start from.
    freeze_batchnorm: bool = True
    lr_multipliers: dict = field(default_factory=dict)
    init_from: str = ""
    # Image augmentation on the device: crop..crop_max (side share), flip, rotation (degrees),
    # brightness/contrast/saturation, normalize ("imagenet"); see recipe.augment.
    augment: dict = field(default_factory=dict)
    memory_budget_mb: int = 0  # data larger than this streams from disk; 0 = automatic
    data: DataConfig = field(default_factory=DataConfig)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: object) -> TrainingConfig:
        """Build from file data. Missing keys take defaults; ParamError names the bad field."""
        if not isinstance(raw, dict):
            raise ParamError("training", f"expected an object, got {type(raw).__name__}")
        data = raw.get("data", {})
        if not isinstance(data, dict):
            raise ParamError("data", f"expected an object, got {type(data).__name__}")
        values = _checked(raw, TRAINING_SPECS, "training", skip=frozenset({"data"}))
        return cls(**values, data=DataConfig(**_checked(data, DATA_SPECS, "data")))


def _checked(
    raw: dict, specs: dict[str, ParamSpec], where: str, skip: frozenset[str] = frozenset()
) -> dict:
    unknown = set(raw) - set(specs) - skip
    if unknown:
        name = sorted(unknown)[0]
        raise ParamError(name, "is not a known setting")
    out: dict[str, object] = {}
    for name, spec in specs.items():
        if name in raw:
            out[name] = spec.check(raw[name])
    if "options" in out:
        options = out["options"]
        assert isinstance(options, dict)  # ParamSpec(kind=dict) checked it
        out["options"] = dict(options)
    if "augment" in out:
        out["augment"] = check_augment(out["augment"])
    if "lr_multipliers" in out:
        out["lr_multipliers"] = _multipliers(out["lr_multipliers"])
    return out


# The one definition of the augmentation limits (the app's form reads them): the random
# resized crop keeps a side share from "crop" to "crop_max" of the picture; rotation is in
# degrees either way; brightness, contrast and saturation vary by up to that share
# ("jitter" is brightness and contrast together, kept for older files).
AUGMENT_LIMITS = {
    "crop": (0.05, 1.0),
    "crop_max": (0.05, 1.0),
    "rotation": (0.0, 180.0),
    "jitter": (0.0, 1.0),
    "brightness": (0.0, 1.0),
    "contrast": (0.0, 1.0),
    "saturation": (0.0, 1.0),
}
AUGMENT_KEYS: tuple[str, ...] = ("crop", "crop_max", "flip", "rotation", "brightness")
AUGMENT_KEYS += ("contrast", "saturation", "jitter", "normalize")
LR_FACTOR_MAX = 1000.0  # learning-rate factors per layer: above 0, at most this


def check_augment(raw) -> dict:
    """{"crop": 0.6, "crop_max": 1, "flip": true, "rotation": 15, "brightness": 0.2,
    "contrast": 0.2, "saturation": 0.2, "normalize": "imagenet"}."""
    out: dict = {}
    for key, value in dict(raw).items():
        where = f"augment.{key}"
        if key == "flip":
            if not isinstance(value, bool):
                raise ParamError(where, f"expected true or false, got {value!r}")
        elif key == "normalize":
            if value not in ("none", "imagenet"):
                raise ParamError(where, f"expected none or imagenet, got {value!r}")
        elif key in AUGMENT_LIMITS:
            lo, hi = AUGMENT_LIMITS[key]
            number = isinstance(value, int | float) and not isinstance(value, bool)
            if not number or not lo <= value <= hi:
                raise ParamError(where, f"expected a number from {lo} to {hi}, got {value!r}")
            value = float(value)
        else:
            raise ParamError(where, f"is not an augmentation ({', '.join(AUGMENT_KEYS)})")
        out[key] = value
    if out.get("crop", 0.0) > out.get("crop_max", 1.0):
        raise ParamError(
            "augment.crop",
            f"the smallest crop {out['crop']:g} exceeds the largest {out.get('crop_max', 1.0):g}",
        )
    return out


def _multipliers(raw) -> dict[str, float]:
    """{"backbone": 0.1, "head": 1}: layer or block names to positive learning-rate factors."""
    out = {}
    for name, factor in dict(raw).items():
        ok = isinstance(factor, int | float) and not isinstance(factor, bool)
        if not ok or not 0 < factor <= LR_FACTOR_MAX:
            raise ParamError(
                f"lr_multipliers.{name}",
                f"expected a number above 0 and ≤ {LR_FACTOR_MAX:g}, got {factor!r}",
            )
        out[str(name)] = float(factor)
    return out


TRAINING_SPECS: dict[str, ParamSpec] = {
    "optimizer": ParamSpec("optimizer", str, "adam", "Optimisation algorithm", choices=OPTIMIZERS),
    "lr": ParamSpec("lr", float, 0.01, "Learning rate (any positive number)", minimum=0.0),
    "momentum": ParamSpec("momentum", float, 0.9, "SGD momentum", minimum=0.0, maximum=1.0),
    "nesterov": ParamSpec("nesterov", bool, False, "Nesterov momentum (SGD)"),
    "weight_decay": ParamSpec("weight_decay", float, 0.0, "L2 penalty", minimum=0.0),
    "batch_size": ParamSpec("batch_size", int, 32, "Samples per step", minimum=1, maximum=1 << 20),
    "epochs": ParamSpec(
        "epochs", int, 50, "Passes over the training set", minimum=1, maximum=100_000
    ),
    "scheduler": ParamSpec("scheduler", str, "none", "Learning-rate schedule", choices=SCHEDULERS),
    "loss": ParamSpec("loss", str, "cross_entropy", "Loss function", choices=LOSSES),
    "init": ParamSpec("init", str, "default", "Weight initialisation", choices=INITS),
    "seed": ParamSpec("seed", int, 0, "Random seed", minimum=0, maximum=2**32 - 1),
    "device": ParamSpec("device", str, "auto", "Where to train", choices=DEVICES),
    "amp": ParamSpec("amp", str, "off", "Mixed precision on CUDA", choices=AMP),
    "grad_clip": ParamSpec("grad_clip", float, 0.0, "Max gradient norm; 0 = off", minimum=0.0),
    "early_stopping": ParamSpec("early_stopping", int, 0, "Patience in epochs; 0 = off", minimum=0),
    "freeze_batchnorm": ParamSpec(
        "freeze_batchnorm", bool, True, "Frozen BatchNorm layers keep their statistics"
    ),
    "lr_multipliers": ParamSpec(
        "lr_multipliers", dict, {}, "Learning-rate factor per layer or block, by name"
    ),
    "init_from": ParamSpec("init_from", str, "", "Weights file to start from (warm start)"),
    "augment": ParamSpec("augment", dict, {}, "Image augmentation: crop, flip, rotation, ..."),
    "memory_budget_mb": ParamSpec(
        "memory_budget_mb",
        int,
        0,
        "Data larger than this (MB) streams from disk; 0 = automatic",
        minimum=0,
        maximum=1 << 24,
    ),
}

DATA_SPECS: dict[str, ParamSpec] = {
    "source": ParamSpec("source", str, "builtin", "Kind of dataset", choices=SOURCES),
    "name": ParamSpec("name", str, "iris", "Built-in dataset name"),
    "path": ParamSpec("path", str, "", "File or folder of user data"),
    "target": ParamSpec("target", str, "", "CSV target column"),
    "options": ParamSpec("options", dict, {}, "Source-specific options"),
    "test_fraction": ParamSpec(
        "test_fraction", float, 0.2, "Share held out for testing", minimum=0.0, maximum=0.9
    ),
    "val_fraction": ParamSpec(
        "val_fraction", float, 0.0, "Share held out for validation", minimum=0.0, maximum=0.9
    ),
    "split_seed": ParamSpec(
        "split_seed", int, 0, "Seed of the train/test split", minimum=0, maximum=2**32 - 1
    ),
}

assert {f.name for f in fields(TrainingConfig)} == set(TRAINING_SPECS) | {"data"}
assert {f.name for f in fields(DataConfig)} == set(DATA_SPECS)
