"""The declared readings of the hypothesis: what each computes, checked against the equilibrium module."""
import numpy as np
import pytest

from eqhyp_utils.equilibrium import equilibrium_layer, predict_equilibrium
from eqhyp_utils.experiments.config import RunConfig
from eqhyp_utils.experiments.readings import DEFAULT_C0, READINGS, input_geometry


def test_the_primary_reading_is_the_crossing_of_docs_science_5():
    for L, expected in zip((6, 10, 16, 24, 32, 64), (5, 6, 8, 11, 13, 21)):
        assert READINGS["EH"].layer(RunConfig(depth=L)) == expected


def test_normalised_reading_divides_the_forward_information_by_its_start():
    plain = predict_equilibrium("relu", 2.0, 0.0, 20, c0=DEFAULT_C0)
    normalised = predict_equilibrium("relu", 2.0, 0.0, 20, c0=DEFAULT_C0, normalised=True)
    np.testing.assert_allclose(normalised.forward, plain.forward / (1 - DEFAULT_C0), rtol=1e-15)
    np.testing.assert_array_equal(normalised.backward, plain.backward)
    assert normalised.forward[0] == pytest.approx(1.0)
    assert normalised.layer >= plain.layer          # F̂ ≥ F: the crossing is never shallower
    assert READINGS["EH normalised"].layer(RunConfig(depth=20)) == normalised.layer


def test_input_geometry_by_hand():
    x = np.array([[1.0, 0.0], [0.0, 2.0], [1.0, 1.0]])
    y = np.array([0, 1, 1])
    q0, c0 = input_geometry(x, y)
    assert q0 == pytest.approx((1 + 4 + 2) / 3 / 2)
    # different-class pairs: (0,1) cos 0, (0,2) cos 1/√2 (each counted twice in the symmetric matrix)
    assert c0 == pytest.approx(np.mean([0.0, 1 / np.sqrt(2)]))


def test_data_reading_uses_the_measured_input_geometry(monkeypatch):
    from eqhyp_utils.experiments import readings

    monkeypatch.setattr(readings, "data_input_geometry", lambda *a: (1.0, 0.6))
    config = RunConfig(depth=16)
    assert READINGS["EH data c0"].layer(config) == equilibrium_layer("relu", 2.0, 0.0, 16, c0=0.6)


def test_readings_accept_configuration_dictionaries():
    config = RunConfig(depth=12)
    assert READINGS["EH"].layer(config.to_dict()) == READINGS["EH"].layer(config)
