"""What the training doctor reports: a Diagnosis (cause, evidence, where) and its Remedies.

Plain frozen data, so the CLI prints it, summary.json stores it and the app pins it to a
curve region or a node and applies a remedy as one undo step.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Remedy:
    """One fix. `settings` are training settings to change ({"lr": 0.01}); `retype` turns
    nodes into another layer type ((node_id, "relu"), ...); `init` sets per-node
    initialisation ((node_id, "kaiming_normal"), ...). A remedy with none of them is advice."""

    title: str
    settings: dict = field(default_factory=dict, hash=False)
    retype: tuple[tuple[str, str], ...] = ()
    init: tuple[tuple[str, str], ...] = ()

    @property
    def actionable(self) -> bool:
        return bool(self.settings or self.retype or self.init)

    @property
    def cli_flag(self) -> str | None:
        """The `netcanvas train` flags that apply the settings part ("--set lr=0.01")."""
        if not self.settings:
            return None
        return " ".join(f"--set {k}={_flag_value(v)}" for k, v in self.settings.items())

    def to_dict(self) -> dict:
        out: dict = {"title": self.title}
        if self.settings:
            out["settings"] = dict(self.settings)
        if self.cli_flag:
            out["flag"] = self.cli_flag
        if self.retype:
            out["retype"] = {n: t for n, t in self.retype}
        if self.init:
            out["init"] = {n: s for n, s in self.init}
        return out


@dataclass(frozen=True)
class Diagnosis:
    """`key` is stable ("lr_too_high"); `title` the cause in plain words; `message` the whole
    sentence with the evidence; `first_epoch..epoch` the plot region showing the symptom
    (1-based, `epoch` is when it was raised); `node_id` pins it to a node (None: the curves)."""

    key: str
    title: str
    message: str
    epoch: int
    first_epoch: int
    evidence: dict = field(default_factory=dict, hash=False)
    remedies: tuple[Remedy, ...] = ()
    node_id: str | None = None
    layer: str | None = None

    def __str__(self) -> str:
        return self.message

    def to_dict(self) -> dict:
        out = {
            "key": self.key,
            "title": self.title,
            "message": self.message,
            "epoch": self.epoch,
            "epochs": [self.first_epoch, self.epoch],
            "evidence": dict(self.evidence),
            "remedies": [r.to_dict() for r in self.remedies],
        }
        if self.node_id is not None:
            out["node_id"] = self.node_id
        if self.layer is not None:
            out["layer"] = self.layer
        flags = [r.cli_flag for r in self.remedies if r.cli_flag]
        if flags:
            out["suggested_flag"] = flags[0]
        return out


def _flag_value(value: object) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)
