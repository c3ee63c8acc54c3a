"""The training doctor on real (small) runs: each seed mistake is named, early, with a fix."""

from __future__ import annotations

import pytest

from designer.core.training.doctor import Diagnosis
from designer.core.training.doctor.remedy import apply_remedy
from designer.core.training.doctor.watch import Diagnosed, HealthSampled, train_doctored
from designer.core.training.events import EpochEnd, Failed, Finished
from tests.core.helpers import deep_sigmoid, example, overfitting_mlp


def run(project, **overrides):
    """(EpochEnd list, Diagnosis list, the epochs seen when each diagnosis arrived, last)."""
    epochs, found, last = [], [], None
    for event in train_doctored(project, device="cpu", **overrides):
        if isinstance(event, EpochEnd):
            epochs.append(event)
        elif isinstance(event, Diagnosed):
            found.append(event.diagnosis)
        elif isinstance(event, Finished | Failed):
            last = event
    return epochs, found, last


def only(found: list[Diagnosis], key: str) -> Diagnosis:
    matches = [d for d in found if d.key == key]
    assert matches, f"no {key} among {[d.message for d in found]}"
    return matches[0]


def first_spike(epochs: list[EpochEnd]) -> int:
    """The first epoch whose loss is ≥ 2× the lowest before it (or the first epoch, when it
    is already far above guessing): the symptom a learner sees on the plot."""
    for i, e in enumerate(epochs):
        if i == 0 and e.metrics["train_loss"] > 3.3:
            return e.epoch
        if i and e.metrics["train_loss"] >= 2 * min(x.metrics["train_loss"] for x in epochs[:i]):
            return e.epoch
    raise AssertionError("no spike in the curve")


@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_iris_lr_2_is_too_high_within_a_few_epochs_of_the_first_spike(optimizer):
    epochs, found, last = run(example("iris_mlp", lr=2.0, optimizer=optimizer), epochs=20)
    high = only(found, "lr_too_high")
    assert high.message.startswith("learning rate too high: ")
    assert high.epoch <= first_spike(epochs) + 2 and high.epoch < 20  # before the run ends
    suggested = high.evidence["suggested_lr"]
    assert suggested < 2.0 and f"lower it to {suggested:g}" in high.message
    assert high.remedies[0].settings == {"lr": suggested}
    assert high.remedies[0].cli_flag == f"--set lr={suggested:g}"
    # The suggestion is a real fix: the same run at that rate is healthy and accurate.
    epochs, found, last = run(
        apply_remedy(example("iris_mlp", optimizer=optimizer), high.remedies[0]), epochs=20
    )
    assert "lr_too_high" not in {d.key for d in found}
    assert last.final["test_accuracy"] >= 0.9


def test_iris_lr_1e6_is_too_low():
    epochs, found, _ = run(example("iris_mlp", lr=1e-6), epochs=6)
    low = only(found, "lr_too_low")
    assert low.message.startswith("learning rate too low: the loss fell by only 0 % over 4 epochs")
    assert low.remedies[0].settings["lr"] > 1e-6


def test_iris_at_a_good_rate_raises_nothing():
    epochs, found, last = run(example("iris_mlp"), epochs=30)
    assert found == [] and last.final["test_accuracy"] > 0.9


def test_deep_sigmoid_mlp_has_vanishing_gradients_at_its_first_layer_and_the_fix_trains():
    project = deep_sigmoid()
    epochs, found, last = run(project, epochs=3)
    vanishing = only(found, "vanishing_gradients")
    first = project.graph.by_name("linear1")
    assert vanishing.node_id == first.id and vanishing.layer == "linear1"
    assert (
        vanishing.message.startswith("vanishing gradients: 'linear1' gets a gradient ")
        and "through 9 sigmoid layers" in vanishing.message
    )
    assert vanishing.epoch == 1  # from the first epoch's health, not after the run
    fix = vanishing.remedies[0]
    assert fix.title == "Use ReLU instead of sigmoid/tanh, with He initialisation"
    fixed = apply_remedy(project, fix)
    kinds = [n.type_id for n in fixed.graph.nodes.values()]
    assert "sigmoid" not in kinds and kinds.count("relu") == 8
    assert all(
        n.init == "kaiming_normal" for n in fixed.graph.nodes.values() if n.type_id == "linear"
    )
    _, found, last = run(fixed, epochs=6)
    assert "vanishing_gradients" not in {d.key for d in found}
    assert last.final["test_accuracy"] > 0.9


def test_over_parameterised_mlp_on_a_tiny_split_overfits_and_early_stopping_is_offered():
    epochs, found, _ = run(overfitting_mlp())
    over = only(found, "overfitting")
    best = over.evidence["best_epoch"]
    assert over.message.startswith("overfitting: the test loss rose from ")
    assert f"Stop early at epoch {best}" in over.message
    stop = over.remedies[0]
    assert stop.title.startswith(f"Stop early: keep the best epoch ({best})")
    assert stop.settings["early_stopping"] >= 3
    assert any(r.settings == {"weight_decay": 1e-4} for r in over.remedies)


def test_nan_names_the_first_layer_that_went_non_finite():
    project = example("iris_mlp", lr=10.0, optimizer="sgd")
    _, _, last = run(project, epochs=30)
    assert isinstance(last, Failed) and last.kind == "nan"
    assert (
        "learning rate 10 is probably too high; the first non-finite values were the "
        in last.message
    )
    layer = last.message.split("of '")[1].split("'")[0]
    assert last.node_id == project.graph.by_name(layer).id


def test_health_is_reported_per_layer_in_depth_order():
    events = list(train_doctored(example("iris_mlp"), device="cpu", epochs=2, every=5))
    reports = [e.report for e in events if isinstance(e, HealthSampled)]
    assert [r.epoch for r in reports] == [1, 2] and all(r.samples >= 1 for r in reports)
    layers = reports[0].layers
    assert [h.layer for h in layers] == ["hidden", "relu", "logits"]
    assert layers[0].grad_norm > 0 and layers[0].update_ratio > 0 and layers[1].grad_norm is None


def test_summary_of_a_diagnosis_is_plain_json():
    _, found, _ = run(example("iris_mlp", lr=2.0), epochs=4)
    data = only(found, "lr_too_high").to_dict()
    assert data["key"] == "lr_too_high" and data["suggested_flag"].startswith("--set lr=")
    assert data["epochs"][0] <= data["epochs"][1]
