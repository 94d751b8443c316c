"""`benchmarks/synthetic_decoding.py`: schemes in the summary and its table (no training)."""

import pytest

from benchmarks.synthetic_decoding import SCHEMES, markdown, summarize


def row(scheme, seed, one_shot, confidence=None):
    r = {"scheme": scheme, "dependency": "exclusion", "visibility": 0.3, "seed": seed}
    for metric in ("subset_accuracy", "micro_f1"):
        r[f"one_shot_{metric}"] = one_shot
        if confidence is not None:
            r[f"confidence_{metric}"] = confidence
    return r


def test_each_scheme_is_summarized_alone_and_an_all_masked_one_decodes_one_pass_only():
    rows = [row("stream-view", 0, 0.2, 0.3), row("stream-view", 1, 0.4, 0.3), row("all-masked", 0, 0.5)]
    table = {e["scheme"]: e for e in summarize(rows)}
    assert table["stream-view"]["one_shot_subset_accuracy"] == pytest.approx(0.3)
    assert table["stream-view"]["confidence_gain_subset_accuracy"] == pytest.approx(0.0)
    assert table["stream-view"]["confidence_gain_micro_f1_sd"] == pytest.approx(0.2 / 2**0.5)  # gains 0.1 and -0.1
    assert "confidence_subset_accuracy" not in table["all-masked"] and table["all-masked"]["seeds"] == 1
    assert "| all-masked | exclusion | 0.3 | 0.500 | n/a | 0.500 | n/a |" in markdown(summarize(rows))


def test_all_masked_scheme_reveals_nothing_and_views_need_the_stream():
    assert SCHEMES["all-masked"][1]["reveal_strategy"] == "none"
    options, _ = SCHEMES["stream-view"]
    assert options["label_stream"] and options["all_masked_loss_weight"] > 0


def test_positions_scheme_names_a_revealed_label_by_its_position_not_a_prompt_token():
    options, collator = SCHEMES["stream-positions-reveal"]
    assert options["label_stream_attention"] == "revealed_positions" and options["prompt_tokens_before"] == 0
    assert collator["reveal_strategy"] == "random"


def test_each_scheme_decodes_what_its_training_showed_it():
    from benchmarks.synthetic_decoding import decoders

    assert decoders("all-masked") == ("one_shot",)
    assert decoders("stream-positions-all-masked") == ("one_shot",)
    assert decoders("stream-view") == ("one_shot", "confidence")
