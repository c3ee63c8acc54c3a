"""The training engine trains for real (small data, CPU) and honours every setting."""

from __future__ import annotations

import math
import queue
import threading

import pytest
import torch

from designer.core.training.engine import notes, prepare, train, train_project
from designer.core.training.events import BatchEnd, Control, EpochEnd, Finished, Started
from tests.core.helpers import example


def run(project, **kw) -> tuple[list[EpochEnd], Finished]:
    events = list(train_project(project, **kw))
    assert isinstance(events[-1], Finished), events[-1]
    return [e for e in events if isinstance(e, EpochEnd)], events[-1]


# NOTE: split_seed 0 puts three of the overlapping versicolor/virginica flowers in iris'
# 30-flower test set, which caps any model at 0.90 there; split 1 is an ordinary split.
IRIS_SPLIT = {"split_seed": 1}


def test_iris_mlp_learns_to_classify():
    epochs, finished = run(example("iris_mlp", IRIS_SPLIT, epochs=40))
    assert finished.final["test_accuracy"] >= 0.93
    assert epochs[-1].metrics["train_loss"] < epochs[0].metrics["train_loss"] / 3
    assert finished.epochs_run == 40 and not finished.stopped_early


def test_spiral_mlp_separates_the_spirals():
    # NOTE: with the example's constant learning rate (Adam, 0.01) the last epochs still
    # swing: over seeds 0-4 the final test accuracy on the 80 held-out points was 0.9125-0.9625
    # while the best epoch reached 0.975-0.9875. Which side of 0.95 the last epoch lands on
    # depends on float rounding, not on the model: seed 0 ended at 0.9125 with PyTorch's
    # per-tensor Adam and at 0.975 with the fused Adam (the same update, other rounding), and
    # CPU kernels differ between machines too; the old bar (0.95 at the last epoch) passed or
    # failed by that chance. A cosine schedule lets the weights settle: the last ten epochs
    # give the same accuracies, identical with either Adam, and over seeds 0-4 the settled
    # model separates the training spirals (0.956-0.984) and generalises to 0.925-0.9625.
    # The bars below hold with a margin of two test points or more.
    _, finished = run(example("spiral_mlp", epochs=200, scheduler="cosine"))
    assert finished.final["train_accuracy"] >= 0.95
    assert finished.final["test_accuracy"] >= 0.9


def test_digits_cnn_reshapes_flat_digits_and_learns():
    project = example("digits_cnn", epochs=5, lr=0.003)
    model, _, data = prepare(project)
    assert data.x_train.shape[1:] == (1, 8, 8)  # 64 features -> the Input's 1×8×8
    events = list(train(model, data, project.training))
    finished = events[-1]
    assert finished.final["test_accuracy"] >= 0.95
    # BatchEnd is throttled: a few per second, with the global step increasing.
    batches = [e for e in events if isinstance(e, BatchEnd)]
    steps = [b.step for b in batches]
    assert steps == sorted(set(steps))
    elapsed = [e for e in events if isinstance(e, EpochEnd)][-1].elapsed
    assert len(batches) <= 12 * elapsed + 5


def test_coffee_regression_fits_within_the_documented_mse():
    # The documented bound (docs/BENCHMARKS.md): test MSE below 0.06 cups² after 60 epochs;
    # the noise alone is 0.2² = 0.04, and predicting the mean gives about 0.5.
    epochs, finished = run(example("coffee_regression", epochs=60))
    assert finished.final["test_loss"] < 0.06
    assert "test_accuracy" not in epochs[-1].metrics and "test_accuracy" not in finished.final


def test_same_seed_same_curve_and_another_seed_another():
    def curve(seed):
        epochs, _ = run(example("iris_mlp", epochs=4, seed=seed))
        return [
            (e.metrics["train_loss"], e.metrics["test_loss"], e.metrics["train_accuracy"])
            for e in epochs
        ]

    first = curve(7)
    assert curve(7) == first
    assert curve(8) != first


def test_started_describes_the_run_and_the_model_ends_on_the_cpu():
    project = example("iris_mlp", epochs=2)
    model, _, data = prepare(project)
    events = list(train(model, data, project.training))
    started = events[0]
    assert isinstance(started, Started)
    assert started.device == "cpu" and started.epochs == 2
    assert started.train_size == len(data.x_train) and started.test_size == len(data.x_test)
    assert started.steps_per_epoch == math.ceil(len(data.x_train) / 16)
    assert started.num_params == 4 * 16 + 16 + 16 * 3 + 3
    assert all(p.device.type == "cpu" for p in model.parameters())


def test_stop_ends_the_run_after_the_current_batch():
    project = example("iris_mlp", epochs=50)
    model, _, data = prepare(project)
    control = Control()
    events = []
    for event in train(model, data, project.training, control):
        events.append(event)
        if isinstance(event, EpochEnd) and event.epoch == 2:
            control.stop()
    finished = events[-1]
    assert finished.stopped_by_user and finished.epochs_run == 2
    assert max(e.epoch for e in events if isinstance(e, EpochEnd)) == 2
    assert "test_loss" in finished.final


def test_pause_blocks_between_batches_until_resumed():
    project = example("iris_mlp", epochs=4)
    model, _, data = prepare(project)
    control = Control()
    got: queue.Queue = queue.Queue()

    def worker():
        for event in train(model, data, project.training, control):
            if isinstance(event, EpochEnd) and event.epoch == 1:
                control.pause()
            got.put(event)

    thread = threading.Thread(target=worker, daemon=True)
    thread.start()
    while not (isinstance(e := got.get(timeout=30), EpochEnd) and e.epoch == 1):
        pass
    assert control.paused
    with pytest.raises(queue.Empty):  # nothing happens while paused
        got.get(timeout=0.4)
    control.resume()
    thread.join(timeout=30)
    rest = []
    while not got.empty():
        rest.append(got.get())
    assert isinstance(rest[-1], Finished) and rest[-1].epochs_run == 4


def test_early_stopping_keeps_the_best_epoch():
    project = example("iris_mlp", IRIS_SPLIT, epochs=200, lr=0.05, early_stopping=5)
    model, _, data = prepare(project)
    events = list(train(model, data, project.training))
    finished = events[-1]
    assert finished.stopped_early and finished.epochs_run < 200
    assert finished.epochs_run - finished.best_epoch == 5
    losses = [e.metrics["test_loss"] for e in events if isinstance(e, EpochEnd)]
    assert min(losses) == losses[finished.best_epoch - 1] == finished.best["test_loss"]
    # The best weights are restored: evaluating the model gives the best epoch's test loss.
    with torch.no_grad():
        out = model(torch.from_numpy(data.x_test))
        loss = torch.nn.functional.cross_entropy(out, torch.from_numpy(data.y_test))
    assert float(loss) == pytest.approx(finished.best["test_loss"], rel=1e-5)
    assert finished.final == finished.best


@pytest.mark.parametrize("scheduler", ["step", "cosine", "onecycle"])
def test_schedulers_shape_the_learning_rate(scheduler):
    epochs, _ = run(example("iris_mlp", epochs=6, lr=0.01, scheduler=scheduler))
    lrs = [e.metrics["lr"] for e in epochs]
    if scheduler == "step":  # divided by 10 every epochs // 3 = 2 epochs
        assert lrs == pytest.approx([0.01, 0.01, 0.001, 0.001, 0.0001, 0.0001])
    elif scheduler == "cosine":
        assert lrs[0] == 0.01 and all(a > b for a, b in zip(lrs, lrs[1:], strict=False))
    else:  # onecycle warms up, then anneals far below the peak
        peak = lrs.index(max(lrs))
        assert 0 < peak < 5 and lrs[-1] < lrs[peak] / 100


def test_the_plateau_schedule_halves_the_rate_when_the_loss_stalls():
    # lr 1e-7 barely moves the weights: the test loss improves by less than the scheduler's
    # threshold (1e-4, relative), so every epoch after the first is a bad one. Patience 3:
    # the fourth bad epoch halves the rate, and so on.
    epochs, _ = run(example("iris_mlp", epochs=10, lr=1e-7, scheduler="plateau"))
    lrs = [e.metrics["lr"] for e in epochs]
    assert lrs == pytest.approx([1e-7] * 5 + [5e-8] * 4 + [2.5e-8], rel=1e-9)
    # With a rate that learns, the loss keeps improving and the plateau schedule waits.
    epochs, _ = run(example("iris_mlp", epochs=6, lr=0.01, scheduler="plateau"))
    assert [e.metrics["lr"] for e in epochs] == [0.01] * 6


@pytest.mark.parametrize(
    "optimizer,extra",
    [("sgd", {"lr": 0.1, "nesterov": True}), ("adam", {}), ("adamw", {"weight_decay": 0.01}),
     ("rmsprop", {"lr": 0.003, "momentum": 0.0})],
)  # fmt: skip
def test_every_optimizer_trains(optimizer, extra):
    epochs, _ = run(example("iris_mlp", epochs=8, optimizer=optimizer, **extra))
    assert epochs[-1].metrics["train_loss"] < 0.7 * epochs[0].metrics["train_loss"]


@pytest.mark.parametrize("loss", ["mse", "l1", "huber"])
def test_regression_losses_train(loss):
    epochs, _ = run(example("coffee_regression", epochs=8, loss=loss))
    assert epochs[-1].metrics["test_loss"] < epochs[0].metrics["test_loss"]


def test_bce_with_logits_trains_on_one_hot_classes():
    epochs, finished = run(example("iris_mlp", IRIS_SPLIT, epochs=30, loss="bce_with_logits"))
    assert finished.final["test_accuracy"] >= 0.9
    assert epochs[-1].metrics["train_loss"] < epochs[0].metrics["train_loss"]


def test_gradient_clipping_tames_a_learning_rate_that_diverges():
    settings = {"epochs": 3, "optimizer": "sgd", "lr": 5.0, "momentum": 0.0}
    diverged = list(train_project(example("coffee_regression", **settings)))[-1]
    assert diverged.kind == "nan"
    _, clipped = run(example("coffee_regression", grad_clip=0.05, **settings))
    assert math.isfinite(clipped.final["train_loss"])


def test_amp_on_the_cpu_is_ignored_with_a_note():
    project = example("iris_mlp", epochs=2, amp="bf16")
    assert notes(project.training, "cpu") == [
        "mixed precision (bf16) runs on CUDA only; training in float32"
    ]
    _, finished = run(project)
    assert finished.epochs_run == 2


def _weights(project, attr):
    model, source, _ = prepare(project)
    return getattr(model, attr).weight.detach(), getattr(model, attr).bias.detach()


def test_orthogonal_init_gives_orthonormal_columns_and_zero_bias():
    w, b = _weights(example("iris_mlp", init="orthogonal"), "hidden")  # 16×4
    assert torch.allclose(w.T @ w, torch.eye(4), atol=1e-5)
    assert torch.count_nonzero(b) == 0


@pytest.mark.parametrize(
    "scheme,std",
    [("default", 1 / 8 / 3**0.5), ("xavier_uniform", (2 / 128) ** 0.5),
     ("xavier_normal", (2 / 128) ** 0.5), ("kaiming_uniform", (2 / 64) ** 0.5),
     ("kaiming_normal", (2 / 64) ** 0.5)],
)  # fmt: skip
def test_init_schemes_set_the_weight_spread(scheme, std):
    w, b = _weights(example("residual_net", init=scheme), "block1_fc1")  # 64×64
    assert w.std().item() == pytest.approx(std, rel=0.08)
    assert (torch.count_nonzero(b) == 0) == (scheme != "default")


def test_a_node_init_overrides_the_project_init():
    project = example("iris_mlp", init="default")
    hidden = project.graph.by_name("hidden")
    project.graph.set_init(hidden.id, "orthogonal")
    model, _, _ = prepare(project)
    w = model.hidden.weight.detach()
    assert torch.allclose(w.T @ w, torch.eye(4), atol=1e-5)
    assert torch.count_nonzero(model.hidden.bias) == 0
    logits = model.logits.weight.detach()  # 3×16, PyTorch's default: rows not orthonormal
    assert not torch.allclose(logits @ logits.T, torch.eye(3), atol=0.1)
    assert torch.count_nonzero(model.logits.bias) == 3


def test_a_validation_split_drives_best_epoch_and_early_stopping():
    project = example("iris_mlp", {"val_fraction": 0.2}, epochs=60, lr=0.05, early_stopping=4)
    epochs, finished = run(project)
    val = [e.metrics["val_loss"] for e in epochs]
    test = [e.metrics["test_loss"] for e in epochs]
    assert "val_loss" in finished.best and "val_loss" in finished.final
    # The best epoch is the one with the lowest validation loss; on this split the test loss
    # is lowest at another epoch, so choosing by test loss would fail here.
    assert finished.best_epoch == val.index(min(val)) + 1
    assert finished.best_epoch != test.index(min(test)) + 1
    # Early stopping counts epochs without a better validation loss.
    assert finished.stopped_early and finished.epochs_run - finished.best_epoch == 4
    assert all(v >= min(val) for v in val[finished.best_epoch :])
    assert finished.best["test_loss"] == test[finished.best_epoch - 1]
    assert finished.final == finished.best  # the best epoch's weights are restored


def test_lstm_learns_the_wave_frequencies():
    epochs, finished = run(example("lstm_sequence", epochs=4))
    assert epochs[-1].metrics["train_loss"] < epochs[0].metrics["train_loss"]
    assert finished.final["test_accuracy"] > 0.5  # three classes: chance is 1/3


def test_fast_epochs_still_feed_the_batch_loss_plot():
    # Iris epochs take milliseconds; the batch plot must still get points, a few per second.
    events = list(train_project(example("iris_mlp", epochs=60)))
    assert isinstance(events[-1], Finished)
    batches = [e for e in events if isinstance(e, BatchEnd)]
    assert len(batches) >= 2
    assert all(math.isfinite(b.loss) for b in batches)
    assert [b.step for b in batches] == sorted(b.step for b in batches)


def test_observers_see_every_step_and_can_add_epoch_metrics():
    class GradientWatch:
        """What a health check does: read the gradients after each step."""

        def __init__(self):
            self.steps, self.norms = [], []

        def on_step(self, loop, step, loss):
            self.steps.append((loop.epoch, step))
            grads = [p.grad for p in loop.model.parameters() if p.grad is not None]
            self.norms.append(float(torch.cat([g.flatten() for g in grads]).norm()))

        def on_epoch(self, loop, metrics):
            metrics["grad_norm"] = sum(self.norms[-loop.steps :]) / loop.steps

    project = example("iris_mlp", epochs=2)
    model, _, data = prepare(project)
    watch = GradientWatch()
    events = list(train(model, data, project.training, observers=[watch]))
    started = events[0]
    per_epoch = list(range(1, started.steps_per_epoch + 1))
    assert watch.steps == [(1, s) for s in per_epoch] + [(2, s) for s in per_epoch]
    assert all(n > 0 for n in watch.norms)
    epochs = [e for e in events if isinstance(e, EpochEnd)]
    assert [e.metrics["grad_norm"] for e in epochs] == pytest.approx(
        [sum(watch.norms[:8]) / 8, sum(watch.norms[8:]) / 8]
    )
