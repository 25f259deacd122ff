"""The assessment's fitting: sign constraints hold, the unconstrained fit matches sklearn, and a model whose
factors the service cannot compute is refused."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray
from sklearn.linear_model import LogisticRegression

from service.config import REPO_ROOT
from service.nlp.models.assessment import BAR_SIGNS, CANDIDATE_FACTORS, AssessmentModel
from training.train_assessment import (
    VARIANTS,
    Fitted,
    Split,
    Variant,
    count_insensitive,
    fit,
    fit_logistic,
    length_free,
    load_tier_probes,
    may_ship,
    nexus_free,
    passed_probes,
    probe_documents,
)

# The range of a 0/1 factor, for fitted models built by hand.
UNIT_RANGE = (np.zeros(1), np.ones(1))


def _data() -> tuple[NDArray[np.float64], NDArray[np.int8]]:
    rng = np.random.default_rng(0)
    z = rng.normal(size=(400, 3))
    # The label falls with the first column and rises with the second; the third is noise.
    y = (rng.random(400) < 1.0 / (1.0 + np.exp(1.5 * z[:, 0] - 2.0 * z[:, 1]))).astype(np.int8)
    return z, y


def test_unconstrained_fit_matches_sklearn() -> None:
    z, y = _data()
    w, b = fit_logistic(z, y, 0.5, [0, 0, 0], balanced=False)
    reference = LogisticRegression(C=0.5, max_iter=2000).fit(z, y)
    assert np.allclose(w, reference.coef_[0], atol=1e-3)
    assert abs(b - reference.intercept_[0]) < 1e-3


def test_sign_constraints_hold() -> None:
    z, y = _data()
    free, _ = fit_logistic(z, y, 1.0, [0, 0, 0], balanced=False)
    assert free[0] < -0.5 and free[1] > 0.5
    signed, _ = fit_logistic(z, y, 1.0, [1, -1, 0], balanced=False)
    assert signed[0] >= 0.0 and signed[1] <= 0.0
    assert signed[0] == pytest.approx(0.0, abs=1e-8) and signed[1] == pytest.approx(0.0, abs=1e-8)


def test_every_factor_has_a_sign() -> None:
    assert set(CANDIDATE_FACTORS) <= set(BAR_SIGNS)
    for name in ("order_in_text", "finding_cue", "producer_named", "us_nexus_score"):
        assert BAR_SIGNS[name] == 1
    for name in ("lifted_or_remediated", "company_voice", "trade_news"):
        assert BAR_SIGNS[name] == -1


def test_shipped_model_is_the_variant_it_names() -> None:
    folder = REPO_ROOT / "models" / "assessment"
    model = AssessmentModel.load(folder)
    meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    variant = next(v for v in VARIANTS if v.name == meta["variant"])
    assert model.factors == variant.factors
    assert may_ship(variant), "the shipped variant breaks a shipping rule (additive, count-free, nexus-free)"
    assert (meta["sign_constraints"] is not None) == variant.constrained
    for name, weight in zip(model.factors, model.bar_weights, strict=True):
        if variant.constrained:
            assert weight * BAR_SIGNS[name] >= -1e-9, name


def test_shipped_model_clips_factors_to_its_training_range() -> None:
    model = AssessmentModel.load(REPO_ROOT / "models" / "assessment")
    assert model.lower is not None and model.upper is not None
    assert np.all(model.lower <= model.upper)
    inside = {name: float(high) for name, high in zip(model.factors, model.upper, strict=True)}
    outside = {name: value * 10 + 5 for name, value in inside.items()}
    assert np.allclose(model.vector(inside), model.vector(outside))


def test_bounds_that_do_not_match_the_factors_are_refused() -> None:
    model = AssessmentModel.load(REPO_ROOT / "models" / "assessment")
    with pytest.raises(ValueError, match="bounds"):
        replace(model, lower=np.zeros(len(model.factors) + 1))


def test_raw_count_variants_are_comparison_only() -> None:
    by_name = {v.name: v for v in VARIANTS}
    assert not count_insensitive(by_name["logistic-1"])
    assert not count_insensitive(by_name["logcount-signed"])
    assert count_insensitive(by_name["count-free"])
    assert count_insensitive(by_name["hybrid-signed-findingcue"])


def test_twins_drop_the_nexus_then_the_length() -> None:
    by_name = {v.name: v for v in VARIANTS}
    base = by_name["count-free-signed-findingcue-govspecific"]
    assert not may_ship(base) and not nexus_free(base) and not length_free(base)
    nonexus = by_name["count-free-signed-findingcue-govspecific-nonexus"]
    assert may_ship(nonexus) and not length_free(nonexus)
    twin = by_name["count-free-signed-findingcue-govspecific-nonexus-nolength"]
    assert may_ship(twin) and length_free(twin)
    assert set(base.factors) - set(twin.factors) == {"us_nexus_score", "length_log_sentences"}
    assert twin.constrained == base.constrained and twin.conclusive_factors == base.conclusive_factors
    assert not any(may_ship(v) for v in VARIANTS if v.kind != "logistic")


def test_inputs_beyond_the_training_range_are_clipped() -> None:
    """A document far longer than any the model was fitted on scores as the longest one did, not beyond."""
    z, y = _data()
    labels = np.where(y == 1, "reasonable", "insufficient")
    names = ("max_indicator_score", "producer_named", "length_log_sentences")
    matrix = np.zeros((len(y), len(CANDIDATE_FACTORS)))
    for column, name in enumerate(names):
        matrix[:, CANDIDATE_FACTORS.index(name)] = z[:, column]
    falses = np.zeros(len(y), dtype=bool)
    train = Split(matrix, labels, falses, falses, falses)
    fitted = fit(Variant("clip", names), train, 1.0)
    assert fitted.bar_weights[0] < 0  # the label falls with the first column
    edge, beyond = np.zeros((2, len(CANDIDATE_FACTORS)))
    column = CANDIDATE_FACTORS.index("max_indicator_score")
    edge[column], beyond[column] = fitted.upper[0], fitted.upper[0] + 10.0
    probe = Split(np.vstack([edge, beyond]), np.array(["reasonable"] * 2), *(np.zeros(2, dtype=bool),) * 3)
    bar, _ = fitted.predict(probe)
    assert bar[0] == pytest.approx(bar[1])


def test_model_trained_on_other_factors_is_refused(tmp_path: Path) -> None:
    source = REPO_ROOT / "models" / "assessment"
    for name in ("meta.json", "weights.npz"):
        (tmp_path / name).write_bytes((source / name).read_bytes())
    meta = json.loads((tmp_path / "meta.json").read_text(encoding="utf-8"))
    factors = list(meta["factors"])
    for wrong in (["not_a_factor", *factors[1:]], factors[1:]):
        meta["factors"] = wrong
        (tmp_path / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
        with pytest.raises(ValueError, match="do not match"):
            AssessmentModel.load(tmp_path)


def test_tier_probes_cover_domain_tiers_and_read_as_documents() -> None:
    probes = load_tier_probes()
    assert len({p.name for p in probes}) == len(probes)
    assert {p.tier for p in probes} == {"insufficient", "reasonable", "conclusive"}
    documents = probe_documents(probes)
    assert [d["text"] for d in documents] == [p.text for p in probes]
    assert all(d["tier"] in ("insufficient", "reasonable", "conclusive") for d in documents)


def test_passed_probes_names_the_probes_a_fitted_variant_gets_right() -> None:
    probes = load_tier_probes()[:3]  # a Finding, a revocation, a modification
    variant = Variant("one-factor", ("finding_cue",))
    factors = np.zeros((3, len(CANDIDATE_FACTORS)))
    factors[0, CANDIDATE_FACTORS.index("finding_cue")] = 1.0
    split = Split(
        factors,
        np.array([p.tier for p in probes]),
        np.zeros(3, dtype=bool),
        np.zeros(3, dtype=bool),
        np.zeros(3, dtype=bool),
    )
    # A model in which the Finding cue alone lifts a text over both bars.
    fitted = Fitted(
        variant, np.zeros(1), np.ones(1), np.array([6.0]), -3.0, np.array([6.0]), -3.0, *UNIT_RANGE
    )
    assert passed_probes(fitted, split, probes) == ["finding", "revocation", "modification"]
    lenient = Fitted(
        variant, np.zeros(1), np.ones(1), np.array([6.0]), 3.0, np.array([0.0]), -3.0, *UNIT_RANGE
    )
    assert passed_probes(lenient, split, probes) == []
