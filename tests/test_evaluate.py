"""Evaluation against baselines, and the baselines themselves."""

from __future__ import annotations

import math

import numpy as np
import pytest

from improviser.training.baselines import NgramModel, UnigramModel, gaussian_pitch_probs
from improviser.training.evaluate import evaluate
from tests.model_fixtures import Trained


def test_ngram_distributions_are_normalised_and_learn_a_pattern() -> None:
    seq = [60, 62, 64, 65, 67] * 40
    for order in range(0, 5):
        model = NgramModel(order).fit([seq])
        for history in ([], [60], [60, 62], [99, 98, 97]):
            p = model.distribution(history)
            assert p.sum() == pytest.approx(1.0)
            assert (p > 0).all()
    p = NgramModel(2).fit([seq]).distribution([62, 64])
    assert int(np.argmax(p)) == 65 and p[65] > 0.9
    uni = UnigramModel().fit([seq]).distribution([])
    assert uni.sum() == pytest.approx(1.0) and uni[60] == pytest.approx(41 / 328)


def test_gaussian_pitch_probs_is_a_distribution_centred_on_the_mean() -> None:
    p = gaussian_pitch_probs(64.3, 2.0)
    assert p.sum() == pytest.approx(1.0) and int(np.argmax(p)) == 64


@pytest.mark.slow
def test_evaluate_reports_every_key_and_leaves_out_training_files(trained: Trained) -> None:
    result = evaluate(trained.model, [trained.corpus])
    for key in ("files", "notes", "bits_per_note", "accuracy", "top5", "ioi_bits", "baselines"):
        assert key in result
    assert result["excluded_files"] > 0 and result["files"] > 0
    assert result["files"] + result["excluded_files"] == 40
    network = result["network"]  # what was scored, from the model's metadata
    assert network["cell"] == "lstm" and network["units"] == [48, 24]
    assert network["epochs"] == 10 and network["seconds"] > 0
    for name in ("unigram", "ngram1", "ngram6"):
        row = result["baselines"][name]
        assert math.isfinite(row["bits_per_note"]) and 0 <= row["accuracy"] <= 1
    # Even a tiny model trained for seconds beats pitch frequencies on this corpus.
    assert result["bits_per_note"] < result["baselines"]["unigram"]["bits_per_note"]
    assert 0 < result["accuracy"] <= result["top5"] <= 1
    # With the short-term model: its own rows, the gain, and the model alone unchanged.
    with_stm = result["with_stm"]
    assert with_stm["gain_bits"] == pytest.approx(
        result["bits_per_note"] - with_stm["bits_per_note"]
    )
    assert 0 < with_stm["accuracy"] <= with_stm["top5"] <= 1
    assert math.isfinite(result["baselines"]["stm"]["bits_per_note"])
    without = evaluate(trained.model, [trained.corpus], stm=False)
    assert "with_stm" not in without and "stm" not in without["baselines"]
    assert without["bits_per_note"] == result["bits_per_note"]


def test_a_high_order_fit_given_k_notes_scores_as_an_order_k_fit() -> None:
    rng = np.random.default_rng(1)
    seqs = [list(rng.integers(55, 70, 60)) for _ in range(5)]
    high = NgramModel(6).fit(seqs)
    for k in (1, 3):
        low = NgramModel(k).fit(seqs)
        for history in ([60, 61, 62, 63], [55], []):
            h = history[-k:] if history else []
            assert np.allclose(high.distribution(h), low.distribution(h))
