"""Training settings: checked like layer parameters, and in step with the engine's choices."""

import pytest

from designer.core.errors import ParamError
from designer.core.training import config, init


def test_round_trip_and_defaults():
    cfg = config.TrainingConfig.from_dict(
        {"lr": 0.1, "data": {"name": "moons", "options": {"n": 200}}}
    )
    assert cfg.lr == 0.1 and cfg.optimizer == "adam" and cfg.data.options == {"n": 200}
    assert config.TrainingConfig.from_dict(cfg.to_dict()) == cfg


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"lr": -1}, "lr: expected a number ≥ 0, got -1"),
        (
            {"optimizer": "adamx"},
            "optimizer: expected one of 'adam', 'adamw', 'sgd', 'rmsprop', got 'adamx'",
        ),
        ({"batch_size": 0}, "batch_size: expected an integer ≥ 1"),
        ({"data": {"test_fraction": 2}}, "test_fraction: expected a number ≥ 0 and ≤ 0.9, got 2"),
        ({"speed": 3}, "speed: is not a known setting"),
    ],
)
def test_bad_settings_name_the_field(raw, message):
    with pytest.raises(ParamError, match=message.replace("(", r"\(")):
        config.TrainingConfig.from_dict(raw)


def test_init_choices_match_the_engine():
    # init.py is embedded in exported scripts (torch only), so it keeps its own tuple.
    assert init.INIT_SCHEMES == config.INITS
