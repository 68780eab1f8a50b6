"""synthfaces factors: specs, sampling, determinism, built-in correlations, validation."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from faceedit.synthfaces import (
    BACKGROUNDS,
    FACTOR_NAMES,
    FACTORS,
    HAIR_COLORS,
    NUISANCE_NAMES,
    FactorSpec,
    appearance,
    sample_factors,
)
from faceedit.synthfaces.factors import check_params
from faceedit.synthfaces.stats import correlations_markdown, measure_correlations, pearson

EXPECTED = (
    ("age", "continuous", 0, 1), ("gender", "continuous", 0, 1), ("smile", "continuous", 0, 1),
    ("glasses", "binary", 0, 1), ("beard", "continuous", 0, 1), ("skin_tone", "continuous", 0, 1),
    ("hair_color", "categorical", 0, 3), ("yaw", "continuous", -1, 1), ("roll", "continuous", -1, 1),
    ("light", "continuous", -1, 1), ("background", "categorical", 0, 5),
)


@pytest.fixture(scope="module")
def many():
    return sample_factors(10_000, seed=0)


def test_factor_specs_follow_the_contract():
    assert FACTOR_NAMES == tuple(name for name, *_ in EXPECTED)
    for spec, (name, kind, low, high) in zip(FACTORS, EXPECTED):
        assert isinstance(spec, FactorSpec)
        assert (spec.name, spec.kind, spec.low, spec.high) == (name, kind, low, high)
        assert spec.description
    assert FACTORS[FACTOR_NAMES.index("hair_color")].classes == HAIR_COLORS == ("black", "brown", "blonde", "red")
    assert len(FACTORS[FACTOR_NAMES.index("background")].classes) == len(BACKGROUNDS) == 6
    with pytest.raises(dataclasses.FrozenInstanceError):
        FACTORS[0].name = "x"
    assert all(name.startswith("_") for name in NUISANCE_NAMES)


def test_sample_keys_dtypes_and_ranges(many):
    assert set(many) == set(FACTOR_NAMES) | set(NUISANCE_NAMES)
    for name, value in many.items():
        assert value.dtype == torch.float32 and value.shape == (10_000,), name
    for spec in FACTORS:
        value = many[spec.name]
        assert float(value.min()) >= spec.low and float(value.max()) <= spec.high, spec.name
        if spec.kind != "continuous":
            assert torch.equal(value, value.round()), spec.name
        if spec.kind == "categorical":  # every class occurs
            assert set(value.long().tolist()) == set(range(len(spec.classes))), spec.name
    assert set(many["glasses"].tolist()) == {0.0, 1.0}
    for name in NUISANCE_NAMES:
        assert float(many[name].min()) >= -1.0 and float(many[name].max()) <= 1.0, name


def test_sampling_is_deterministic():
    a, b, c = sample_factors(64, seed=5), sample_factors(64, seed=5), sample_factors(64, seed=6)
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not torch.equal(a["age"], c["age"])
    gen = torch.Generator().manual_seed(5)
    from_generator = sample_factors(64, generator=gen)
    assert all(torch.equal(a[k], from_generator[k]) for k in a)
    assert not torch.equal(sample_factors(64, generator=gen)["age"], a["age"])  # the generator advanced
    assert sample_factors(3, seed=1, device="cpu")["age"].device.type == "cpu"


def test_beards_only_on_masculine_faces(many):
    assert bool((many["beard"][many["gender"] < 0.6] == 0).all())
    masculine = many["gender"] > 0.8
    assert 0.3 < float((many["beard"][masculine] > 0).float().mean()) < 0.7


def test_glasses_grey_and_baldness_come_with_age(many):
    age, glasses = many["age"], many["glasses"]
    young, old = age < 0.3, age > 0.7
    assert float(glasses[old].mean()) > 3 * float(glasses[young].mean())
    look = appearance(many)
    assert pearson(age, look["grey"]) > 0.8
    assert float(look["grey"][young].max()) == 0.0
    feminine, masculine = many["gender"] < 0.4, many["gender"] > 0.6
    assert float(look["baldness"][feminine].max()) < 0.05
    assert float((look["baldness"][masculine & old] > 0.5).float().mean()) > 0.4
    assert pearson(many["gender"], look["hair_length"]) < -0.7


def test_hair_colour_depends_on_skin_tone(many):
    light = many["skin_tone"] < 0.3
    dark = many["skin_tone"] > 0.7
    fair_hair = many["hair_color"] >= 2
    assert float(fair_hair[light].float().mean()) > 3 * float(fair_hair[dark].float().mean())


def test_appearance_is_monotone_in_age():
    params = {k: v.repeat(11) for k, v in sample_factors(1, seed=2).items()}
    params["age"] = torch.linspace(0, 1, 11)
    params["gender"] = torch.full((11,), 0.95)
    look = appearance(params)
    for name in ("grey", "baldness", "wrinkles"):
        assert bool((look[name].diff() >= 0).all()), name
        assert float(look[name][0]) == 0.0 and float(look[name][-1]) > 0.5, name


def test_measured_correlations_table():
    rows = {measure: value for _, measure, value in measure_correlations(n=3000, seed=1)}
    assert rows["P(beard > 0 | gender < 0.6)"] == 0.0
    assert rows["P(glasses | age > 0.7)"] > rows["P(glasses | age < 0.3)"]
    assert 0.2 < rows["corr(age, gender)"] < 0.4  # older faces more often masculine, as in FFHQ
    assert rows["P(gender > 0.5 | age > 0.7)"] > rows["P(gender > 0.5 | age < 0.3)"] + 0.3
    assert abs(rows["corr(smile, age)"]) < 0.1 and abs(rows["corr(smile, gender)"]) < 0.1
    table = correlations_markdown(n=500)
    assert "\\|" in table and table.count("\n") > 20


@pytest.mark.parametrize("bad", [0, -3, 2.5, True, "8"])
def test_bad_n_is_refused(bad):
    with pytest.raises(ValueError, match="n must be an? (positive )?integer"):
        sample_factors(bad)
    with pytest.raises(ValueError, match="seed must be an integer"):
        sample_factors(2, seed=0.5)


def test_numpy_integers_are_accepted():
    numpy = pytest.importorskip("numpy")
    a, b = sample_factors(numpy.int64(3), seed=numpy.int32(5)), sample_factors(3, seed=5)
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_check_params_names_the_problem():
    params = sample_factors(4, seed=0)
    assert check_params(params) == 4
    with pytest.raises(ValueError, match="lack 1 key.*age.*sample_factors"):
        check_params({k: v for k, v in params.items() if k != "age"})
    with pytest.raises(ValueError, match="batch size"):
        check_params({**params, "smile": torch.zeros(5)})
    with pytest.raises(ValueError, match="1-D tensor"):
        check_params({**params, "smile": torch.zeros(4, 1)})
    with pytest.raises(ValueError, match="float"):
        check_params({**params, "background": torch.zeros(4, dtype=torch.long)})
    with pytest.raises(ValueError, match="dict"):
        check_params([params])
