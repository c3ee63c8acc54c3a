"""The training recipe shared by the app and exported scripts: device, optimiser, schedule,
loss, targets, the epoch loop and evaluation.

`settings` is TrainingConfig.to_dict() (plain values), so a script can hold it as a literal.
The epoch loop keeps data on the device, shuffles with one gather per epoch, slices batches as
views and records each step's loss into a device buffer: nothing is read back per step.

NOTE: exported training scripts embed this module's source verbatim (see script.py), so it
needs only torch and keeps lines within 88 columns.
"""

import contextlib
import math
import os
import time

import torch
from torch import nn


def pick_device(name: str = "auto") -> torch.device:
    """Device by name; "auto" picks CUDA, then Apple MPS, then the CPU. ValueError if the
    named device is missing."""
    has_mps = torch.backends.mps.is_available()
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        return torch.device("mps" if has_mps else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            "device 'cuda' was asked for but PyTorch sees no CUDA GPU here: "
            "choose device 'auto' or 'cpu'"
        )
    if name == "mps" and not has_mps:
        raise ValueError(
            "device 'mps' was asked for but this machine has no Apple GPU: "
            "choose device 'auto' or 'cpu'"
        )
    return torch.device(name)


def amp_dtype(settings: dict, device: torch.device) -> torch.dtype | None:
    """The autocast dtype, or None when mixed precision is off (it runs on CUDA only)."""
    if device.type != "cuda" or settings["amp"] == "off":
        return None
    return torch.bfloat16 if settings["amp"] == "bf16" else torch.float16


def autocast(device_type: str, amp: torch.dtype | None):
    """Mixed precision when `amp` is a dtype; otherwise a context that does nothing."""
    if amp is None:
        return contextlib.nullcontext()
    return torch.autocast(device_type, dtype=amp)


def param_groups(model: nn.Module, settings: dict) -> list[dict]:
    """The trainable parameters (frozen ones, requires_grad off, are left out), grouped by
    learning rate: settings["lr_multipliers"] maps a layer or block name (a module path)
    to a factor of the learning rate; the longest matching name wins."""
    factors = settings.get("lr_multipliers") or {}
    groups: dict[float, list] = {}
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        best = max(
            (k for k in factors if name == k or name.startswith(k + ".")),
            key=len,
            default=None,
        )
        factor = factors[best] if best is not None else 1.0
        groups.setdefault(factor, []).append(p)
    lr = settings["lr"]
    return [{"params": ps, "lr": lr * f} for f, ps in groups.items()]


def train_mode(model: nn.Module, settings: dict) -> None:
    """model.train(), except that BatchNorm layers whose parameters are all frozen stay in
    eval mode (their running statistics are kept) when settings["freeze_batchnorm"]."""
    model.train()
    if not settings.get("freeze_batchnorm", True):
        return
    for m in model.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            params = list(m.parameters())
            if params and not any(p.requires_grad for p in params):
                m.eval()


def make_optimizer(model: nn.Module, settings: dict) -> torch.optim.Optimizer:
    """The optimiser named in `settings`, for the model's parameters (on their device).

    NOTE on speed: on the CPU and CUDA, SGD, Adam and AdamW run fused (one kernel updates
    every parameter) and RMSprop runs foreach; the default per-tensor loop was a quarter
    of a small model's step on the CPU (bench/bench_training.py, digits MLP)."""
    name, lr, wd = settings["optimizer"], settings["lr"], settings["weight_decay"]
    params = param_groups(model, settings)
    if not params:
        raise ValueError("every layer is frozen: unfreeze at least one layer to train")
    first = params[0]["params"][0]
    native = first.device.type in ("cpu", "cuda")
    if name == "sgd":
        momentum = settings["momentum"]
        nesterov = settings["nesterov"] and momentum > 0
        return torch.optim.SGD(
            params,
            lr=lr,
            momentum=momentum,
            nesterov=nesterov,
            weight_decay=wd,
            fused=native or None,
        )
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=wd, fused=native or None)
    if name == "adamw":
        return torch.optim.AdamW(params, lr=lr, weight_decay=wd, fused=native or None)
    if name == "rmsprop":
        momentum = settings["momentum"]
        return torch.optim.RMSprop(
            params, lr=lr, momentum=momentum, weight_decay=wd, foreach=native or None
        )
    raise ValueError(f"unknown optimizer {name!r}")


def make_scheduler(optimizer, settings: dict, steps_per_epoch: int):
    """(scheduler or None, "step" | "epoch" | "metric": when to call scheduler.step)."""
    name, epochs = settings["scheduler"], settings["epochs"]
    sched = torch.optim.lr_scheduler
    if name == "step":
        every = max(1, epochs // 3)
        return sched.StepLR(optimizer, every, gamma=0.1), "epoch"
    if name == "cosine":
        return sched.CosineAnnealingLR(optimizer, T_max=epochs), "epoch"
    if name == "onecycle":
        total = max(1, epochs * steps_per_epoch)
        top = [g["lr"] for g in optimizer.param_groups]
        return sched.OneCycleLR(optimizer, top, total_steps=total), "step"
    if name == "plateau":
        return sched.ReduceLROnPlateau(optimizer, factor=0.5, patience=3), "metric"
    return None, "epoch"


def make_loss(name: str) -> nn.Module:
    losses = {
        "cross_entropy": nn.CrossEntropyLoss,
        "bce_with_logits": nn.BCEWithLogitsLoss,
        "mse": nn.MSELoss,
        "l1": nn.L1Loss,
        "huber": nn.HuberLoss,
    }
    return losses[name]()


def make_targets(y: torch.Tensor, loss: str, width: int) -> torch.Tensor:
    """What the loss compares the output with. Class labels (integer `y`) stay indices for
    cross entropy and become one-hot (or 0/1 for one output) for the other losses."""
    if loss == "cross_entropy":
        return y.long()
    if y.dtype.is_floating_point:
        return y.float() if y.dim() > 1 else y.float()[:, None]
    if width == 1:
        return y.float()[:, None]
    return nn.functional.one_hot(y.long(), width).float()


def predict(out: torch.Tensor, loss: str) -> torch.Tensor:
    """Class indices from the model output (one output: a 0/1 decision)."""
    if out.dim() == 2 and out.shape[1] == 1:
        threshold = 0.0 if loss == "bce_with_logits" else 0.5
        return (out[:, 0] > threshold).long()
    return out.argmax(1)


def probe(model: nn.Module, x: torch.Tensor, batch_size: int) -> tuple[int, int]:
    """(values per sample of the output, multiply-accumulates of one batch's forward pass
    in the Linear and conv layers), from a dry run on two samples. The dry run also surfaces
    shape errors before the first step."""
    macs = 0

    def count(layer, inputs, out):
        nonlocal macs
        macs += out.numel() * layer.weight[0].numel()

    kinds = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d)
    layers = [m for m in model.modules() if isinstance(m, kinds)]
    hooks = [m.register_forward_hook(count) for m in layers]
    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode():
            out = model(x[:2])
    finally:
        model.train(was_training)
        for hook in hooks:
            hook.remove()
    width = int(out.shape[1]) if out.dim() > 1 else 1
    return width, macs * batch_size // max(1, min(2, len(x)))


def cpu_threads(step_macs: int) -> int:
    """Intra-op threads for a CPU step of this size. NOTE: small steps run fastest on one
    thread (worker threads cost more than they share, and far more on a busy machine)."""
    return 1 if step_macs < 50_000_000 else torch.get_num_threads()


def epoch_order(n: int, generator: torch.Generator, rank: int = 0, world: int = 1):
    """This rank's share of a fresh permutation. Every rank draws the same permutation
    (same seed) and takes every world-th index, so the shares never overlap."""
    order = torch.randperm(n, generator=generator)
    if world > 1:
        order = order[: n - n % world][rank::world]
    return order


def num_steps(n: int, batch_size: int) -> int:
    # A last batch of one sample is skipped: BatchNorm can't train on a single sample.
    steps = math.ceil(n / batch_size)
    return steps - 1 if steps > 1 and n % batch_size == 1 else steps


def eval_batch_size(x: torch.Tensor, batch_size: int) -> int:
    """Large evaluation batches, bounded to about 16M input values per batch."""
    per_sample = max(1, math.prod(x.shape[1:])) if len(x) else 1
    return max(batch_size, min(8192, (1 << 24) // per_sample))


def evaluate(model, loss_fn, x, t, y, settings: dict, amp=None):
    """(mean loss, accuracy or None) over a whole split; one read-back at the end."""
    if len(x) == 0:
        return math.nan, None
    model.eval()
    size = eval_batch_size(x, settings["batch_size"])
    total = torch.zeros((), device=x.device)
    correct = torch.zeros((), device=x.device, dtype=torch.long)
    steps = math.ceil(len(x) / size)
    inputs = batches(x, torch.arange(len(x)), size, steps, settings)
    with torch.inference_mode():
        for lo, xb in zip(range(0, len(x), size), inputs, strict=True):
            tb = t[lo : lo + size]
            with autocast(x.device.type, amp):
                out = model(xb)
            total += loss_fn(out.float(), tb) * len(xb)
            if y is not None:
                correct += (predict(out, settings["loss"]) == y[lo : lo + size]).sum()
    train_mode(model, settings)
    loss = total.item() / len(x)
    return loss, (correct.item() / len(x) if y is not None else None)


class LossNotFinite(Exception):
    """The loss became NaN or infinite. `step` counts from 1 within `epoch`."""

    def __init__(self, epoch: int, step: int, value: float, split: str = "training"):
        super().__init__(f"{split} loss {value} at epoch {epoch}, step {step}")
        self.epoch, self.step, self.value, self.split = epoch, step, value, split


def to_float(xb: torch.Tensor) -> torch.Tensor:
    """uint8 pixels become floats in [0, 1], batch by batch on the device."""
    return xb.float().div_(255) if xb.dtype == torch.uint8 else xb


IMAGENET = ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))  # mean, std per channel


def augment(xb: torch.Tensor, settings: dict, training: bool) -> torch.Tensor:
    """settings["augment"] on an image batch (N×C×H×W), on its device: while training, a
    random resized crop (a side share from "crop" to "crop_max" kept), a horizontal flip
    ("flip"), a rotation ("rotation": degrees either way) and a colour jitter ("brightness",
    "contrast", "saturation": factors within 1 ± that share; "jitter" is brightness and
    contrast together), each per sample; always, "normalize": "imagenet" (3 channels)."""
    aug = settings.get("augment") or {}
    if not aug or xb.dim() != 4:
        return xb
    n, dev = len(xb), xb.device
    crop, turn = aug.get("crop", 1.0), math.radians(aug.get("rotation", 0.0))
    top = aug.get("crop_max", 1.0)
    if training and (crop < 1 or top < 1 or turn or aug.get("flip")):
        scale = crop + (top - crop) * torch.rand(n, device=dev)
        angle = (torch.rand(n, device=dev) * 2 - 1) * turn
        flip = torch.ones(n, device=dev)
        if aug.get("flip"):
            flip = torch.where(torch.rand(n, device=dev) < 0.5, -1.0, 1.0)
        shift = (1 - scale)[:, None] * (torch.rand(n, 2, device=dev) * 2 - 1)
        cos, sin = torch.cos(angle) * scale, torch.sin(angle) * scale
        row1 = torch.stack([cos * flip, -sin, shift[:, 0]], 1)
        row2 = torch.stack([sin * flip, cos, shift[:, 1]], 1)
        theta = torch.stack([row1, row2], 1)
        grid = nn.functional.affine_grid(theta, list(xb.shape), align_corners=False)
        sample = nn.functional.grid_sample
        xb = sample(xb, grid, padding_mode="reflection", align_corners=False)
    jitter = aug.get("jitter", 0.0)
    if training and jitter:
        gain = 1 + jitter * (torch.rand(n, 1, 1, 1, device=dev) * 2 - 1)
        bias = jitter * (torch.rand(n, 1, 1, 1, device=dev) - 0.5)
        xb = (xb * gain + bias).clamp_(0, 1)
    if training:
        xb = colour_jitter(xb, aug)
    if aug.get("normalize") == "imagenet" and xb.shape[1] == 3:
        mean = torch.tensor(IMAGENET[0], device=dev).view(1, 3, 1, 1)
        std = torch.tensor(IMAGENET[1], device=dev).view(1, 3, 1, 1)
        xb = (xb - mean) / std
    return xb


def colour_jitter(xb: torch.Tensor, aug: dict) -> torch.Tensor:
    """Brightness (scale), contrast (blend with the mean grey) and saturation (blend with
    the grey picture) by a factor within 1 ± the setting, per sample, as torchvision's
    ColorJitter does; values stay in [0, 1]."""

    def factor(key):
        share = aug.get(key, 0.0)
        return 1 + share * (torch.rand(len(xb), 1, 1, 1, device=xb.device) * 2 - 1)

    def grey(x):
        if x.shape[1] != 3:
            return x.mean(1, keepdim=True)
        weights = torch.tensor((0.299, 0.587, 0.114), device=x.device).view(1, 3, 1, 1)
        return (x * weights).sum(1, keepdim=True)

    if aug.get("brightness"):
        xb = (xb * factor("brightness")).clamp(0, 1)
    if aug.get("contrast"):
        mean = grey(xb).mean((1, 2, 3), keepdim=True)
        xb = (mean + (xb - mean) * factor("contrast")).clamp(0, 1)
    if aug.get("saturation") and xb.shape[1] == 3:
        g = grey(xb)
        xb = (g + (xb - g) * factor("saturation")).clamp(0, 1)
    return xb


def batches(x, order, batch_size: int, steps: int, settings=None, training=False):
    """The float inputs of each step: slices of x[order] for data held in memory (one
    gather, views after), the batches a streamed dataset delivers (anything with a
    `batches` method: images decoded from disk while training); augmented as the
    settings say."""
    settings = settings or {}
    if hasattr(x, "batches"):
        for xb in x.batches(order.cpu(), batch_size, steps):
            yield augment(to_float(xb), settings, training)
        return
    xs = x[order.to(x.device, non_blocking=True)]
    for i in range(steps):
        xb = to_float(xs[i * batch_size : (i + 1) * batch_size])
        yield augment(xb, settings, training)


def as_inputs(x, device) -> torch.Tensor:
    """An array of samples as a tensor on `device` (float64 becomes float32); streamed
    images stay on disk and deliver their batches to `device`."""
    if hasattr(x, "batches"):
        x.device = torch.device(device)
        return x  # indexed and sliced like a tensor
    xt = torch.as_tensor(x)
    return (xt.float() if xt.dtype == torch.float64 else xt).contiguous().to(device)


def split_tensors(x, y, loss: str, width: int, device):
    """(inputs, loss targets, class labels or None) of one split's arrays, on `device`.
    Integer targets are class labels."""
    xt, yt = as_inputs(x, device), torch.as_tensor(y).to(device)
    labels = None if yt.dtype.is_floating_point else yt.long()
    return xt, make_targets(yt, loss, width), labels


def place_model(model: nn.Module, x_train, settings: dict, device) -> int:
    """Move `model` to `device`, tune the backend for it and return its output width (from
    a dry run on two training samples). On the CPU this sets torch's thread count (see
    cpu_threads): callers restore it."""
    model.to(device)
    convs = (nn.Conv1d, nn.Conv2d, nn.Conv3d)
    if device.type == "cuda" and any(isinstance(m, convs) for m in model.modules()):
        torch.backends.cudnn.benchmark = True
    x_two = to_float(torch.as_tensor(x_train[:2]).to(device))
    width, step_macs = probe(model, x_two, settings["batch_size"])
    if device.type == "cpu":
        threads = cpu_threads(step_macs)
        workers = getattr(x_train, "workers", 0)  # streamed: cores left to its decoders
        if workers:
            threads = min(threads, max(1, (os.cpu_count() or 1) - workers))
        torch.set_num_threads(threads)
    return width


# The per-epoch metrics, in column order: (name, computation). A computation reads the run
# (a Loop, after its epoch's steps) and returns a float, or None where the metric does not
# apply (no validation split, a regression). Adding a metric is one line here; the app's
# plots, metrics.csv, summary.json, the CLI line and the script's log all iterate over them.
METRICS = [
    ("train_loss", lambda run: run.train_stats()[0]),
    ("test_loss", lambda run: run.evaluated("test")[0]),
    ("val_loss", lambda run: run.evaluated("val")[0]),
    ("train_accuracy", lambda run: run.train_stats()[1]),
    ("test_accuracy", lambda run: run.evaluated("test")[1]),
    ("val_accuracy", lambda run: run.evaluated("val")[1]),
    ("lr", lambda run: run.optimizer.param_groups[0]["lr"]),
]


class Loop:
    """The epoch loop of one run: steps, evaluation, metrics, scheduler steps, best epoch and
    early stopping. The app's engine and exported scripts both drive it through `run()`.

    `train`, `test` and `val` are split_tensors() triples (`val` may be None). With `world`
    > 1 (DDP), `net` is the wrapped model, each rank trains on its share of every epoch and
    the training metrics are averaged over the ranks. `keep_best` keeps a copy of the best
    epoch's weights for restore_best(). The best epoch has the lowest validation loss, else
    test loss, else training loss; that score also drives the plateau scheduler.

    Observers (the hook for health checks): objects in `observers` with either method
      - on_step(loop, step, loss): after each optimiser step, with gradients still in place;
        `step` counts from 1 within `loop.epoch`; `loss` is the step's loss tensor (reading
        it back with float() costs a device sync);
      - on_epoch(loop, metrics): after each epoch's metrics are measured, before the best
        epoch and early stopping are decided; it may add entries to `metrics`.
    With no observers, the step loop does no extra work.
    """

    def __init__(self, model, settings, train, test, val=None, *, net=None, rank=0,
                 world=1, keep_best=False, observers=(), metrics=None):  # fmt: skip
        self.model, self.net = model, net if net is not None else model
        self.settings, self.rank, self.world = settings, rank, world
        self.splits = {"train": train, "test": test, "val": val}
        self.device = train[0].device
        self.share = len(train[0]) // world if world > 1 else len(train[0])
        self.steps = num_steps(self.share, settings["batch_size"])
        self.metrics = METRICS if metrics is None else metrics
        self.observers = list(observers)
        self.keep_best = keep_best
        torch.manual_seed(settings["seed"])
        self.generator = torch.Generator().manual_seed(settings["seed"])
        self.loss_fn = make_loss(settings["loss"])
        self.optimizer = make_optimizer(self.net, settings)
        self.scheduler, self.when = make_scheduler(self.optimizer, settings, self.steps)
        self.amp = amp_dtype(settings, self.device)
        fp16 = self.amp == torch.float16
        self.scaler = torch.amp.GradScaler("cuda") if fp16 else None
        labels = train[2]
        self.preds = None if labels is None else torch.empty_like(labels[: self.share])
        self.score_name = (
            "val_loss" if val is not None and len(val[0])
            else "test_loss" if len(test[0]) else "train_loss"
        )  # fmt: skip
        self.epoch = self.done = self.global_step = 0
        self.history: list[dict] = []
        self.best_score, self.best_epoch, self.best = math.inf, 0, {}
        self.best_state = None
        self.stopped_early = False
        self.began = self.seconds = self.train_seconds = self.elapsed = 0.0
        self.step_losses: list = []
        self._labels = None
        self._cache: dict = {}

    def run(self, epochs: int):
        """Train up to `epochs` epochs. Yields the count of steps done (an int) after every
        step and each epoch's metrics (a dict) after it; ends early when early stopping
        says so. Closing the generator mid-epoch leaves measure() describing the weights
        as they are then."""
        while self.epoch < epochs and not self.stopped_early:
            yield from self.train_epoch()
            yield self.end_epoch()

    def train_epoch(self):
        """One pass over this rank's share of a fresh permutation, yielding after each step.
        Nothing is read back: step losses stay on the device, predictions go into a buffer
        that end_epoch() compares with the labels once."""
        s = self.settings
        batch_size, clip, amp = s["batch_size"], s["grad_clip"], self.amp
        x, t, y = self.splits["train"]
        self.epoch += 1
        order = epoch_order(len(x), self.generator, self.rank, self.world)
        inputs = batches(x, order, batch_size, self.steps, s, training=True)
        order = order.to(self.device, non_blocking=True)
        ts = t[order]
        self._labels = None if y is None else y[order]
        self.step_losses = losses = []
        self.done, self._cache = 0, {}
        self.began = time.perf_counter()
        net, optimizer, loss_fn = self.net, self.optimizer, self.loss_fn
        scaler = self.scaler
        per_step = self.scheduler if self.when == "step" else None
        params = list(net.parameters()) if clip > 0 else None
        # NOTE: dropping the gradients directly does what zero_grad(set_to_none=True) does
        # without its per-call profiler scope (a tenth of a small CPU step).
        trained = [p for group in optimizer.param_groups for p in group["params"]]
        preds, threshold = self.preds, self._threshold()
        hooks = [o.on_step for o in self.observers if hasattr(o, "on_step")]
        train_mode(net, s)
        for i, xb in zip(range(self.steps), inputs, strict=True):
            lo = i * batch_size
            tb = ts[lo : lo + batch_size]
            for p in trained:
                p.grad = None
            if amp is None:
                out = net(xb)
                loss = loss_fn(out, tb)
            else:
                with torch.autocast(self.device.type, dtype=amp):
                    out = net(xb)
                    loss = loss_fn(out.float(), tb)
            if scaler is not None:
                scaler.scale(loss).backward()
                scaler.unscale_(optimizer)
            else:
                loss.backward()
            if params is not None:
                nn.utils.clip_grad_norm_(params, clip)
            if scaler is not None:
                scaler.step(optimizer)
                scaler.update()
            else:
                optimizer.step()
            if per_step is not None:
                per_step.step()
            losses.append(loss.detach())
            if preds is not None:
                slot = preds[lo : lo + len(xb)]
                if threshold is None:
                    torch.argmax(out, 1, out=slot)
                else:
                    torch.gt(out.detach()[:, 0], threshold, out=slot)
            self.done = i + 1
            self.global_step += 1
            for hook in hooks:
                hook(self, i + 1, loss)
            yield i + 1
        self.train_seconds = time.perf_counter() - self.began

    def end_epoch(self) -> dict:
        """Measure the epoch, step the scheduler, track the best epoch, decide early
        stopping. Returns the epoch's metrics."""
        metrics = self.measure()
        for observer in self.observers:
            if hasattr(observer, "on_epoch"):
                observer.on_epoch(self, metrics)
        score = metrics[self.score_name]
        if self.when == "epoch" and self.scheduler is not None:
            self.scheduler.step()
        elif self.when == "metric":
            self.scheduler.step(score)
        self.history.append(metrics)
        patience = self.settings["early_stopping"]
        if score < self.best_score:
            self.best_score, self.best_epoch = score, self.epoch
            self.best = dict(metrics)
            if self.keep_best:
                state = self.model.state_dict().items()
                self.best_state = {k: v.detach().clone() for k, v in state}
        elif patience and self.epoch - self.best_epoch >= patience:
            self.stopped_early = True
        self.seconds = time.perf_counter() - self.began
        self.elapsed += self.seconds
        return metrics

    def measure(self) -> dict:
        """The metrics of the current weights and this epoch's steps so far (METRICS)."""
        self._cache = {}
        values = ((name, compute(self)) for name, compute in self.metrics)
        return {name: float(v) for name, v in values if v is not None}

    def restore_best(self) -> bool:
        """Put the best epoch's weights back (kept with keep_best) unless the last epoch
        run was the best. True if it did."""
        if self.best_state is None or self.best_epoch == len(self.history):
            return False
        self.model.load_state_dict(self.best_state)
        return True

    @property
    def used(self) -> int:
        """Training samples seen so far this epoch (a last single sample is skipped)."""
        return min(self.share, self.done * self.settings["batch_size"])

    def losses(self, lo: int, hi: int) -> torch.Tensor:
        """Step losses lo..hi-1 of this epoch, read back once (on the CPU); LossNotFinite
        names the first bad step."""
        if hi <= lo:
            return torch.zeros(0)
        values = torch.stack(self.step_losses[lo:hi]).float().cpu()
        bad = ~torch.isfinite(values)
        if bool(bad.any()):
            first = int(bad.nonzero()[0, 0])
            raise LossNotFinite(self.epoch, lo + first + 1, float(values[first]))
        return values

    def train_stats(self) -> tuple[float, float | None]:
        """(mean step loss, accuracy or None) of this epoch so far, averaged over ranks."""
        if "train" not in self._cache:
            done = self.done
            mean = math.nan
            if done:
                mean = float(torch.stack(self.step_losses).float().mean())
            hits = None
            if self._labels is not None and done:
                n = self.used
                hits = (self.preds[:n] == self._labels[:n]).sum()
            stats = [mean, float(hits) if hits is not None else 0.0]
            if self.world > 1:
                import torch.distributed as dist

                reduced = torch.tensor(stats, dtype=torch.float64, device=self.device)
                dist.all_reduce(reduced)
                stats = (reduced / self.world).tolist()
            loss = stats[0]
            if done and not math.isfinite(loss):
                self.losses(0, done)  # names the first bad step on this rank
                raise LossNotFinite(self.epoch, done, loss)
            accuracy = stats[1] / self.used if hits is not None else None
            self._cache["train"] = (loss, accuracy)
        return self._cache["train"]

    def evaluated(self, split: str) -> tuple[float | None, float | None]:
        """(mean loss, accuracy or None) over a whole split; (None, None) without it."""
        if split not in self._cache:
            data, result = self.splits[split], (None, None)
            if data is not None and len(data[0]):
                args = (self.loss_fn, *data, self.settings, self.amp)
                result = evaluate(self.model, *args)
                if not math.isfinite(result[0]):
                    name = "validation" if split == "val" else split
                    raise LossNotFinite(self.epoch, self.done, result[0], name)
            self._cache[split] = result
        return self._cache[split]

    def _threshold(self) -> float | None:
        """None when predictions are the argmax; else the 0/1 cut of a single output."""
        if self.preds is None or self.splits["train"][1].dim() != 2:
            return None
        if self.splits["train"][1].shape[1] != 1:
            return None
        return 0.0 if self.settings["loss"] == "bce_with_logits" else 0.5
