"""Where does decoding in rounds beat one pass? Tiny BERTs trained on `benchmarks.synthetic` data.

python -m benchmarks.synthetic_decoding --seeds 0 1 2
python -m benchmarks.synthetic_decoding --schemes all-masked reveal stream-all-masked stream-reveal stream-view \
    --dependencies exclusion --output_file docs/benchmarks/views/synthetic.json   # training schemes
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch
import transformers
from transformers import AutoTokenizer

from benchmarks.synthetic import DEPENDENCIES, synthetic_data, vocabulary
from lmmlc import BertForLabelMaskClassification, DataCollatorForLabelMask
from lmmlc.metrics import multilabel_metrics
from lmmlc.testing import write_tiny_bert

STRATEGIES = ("one_shot", "confidence")
ROUNDS = STRATEGIES[1:]
METRICS = ("subset_accuracy", "micro_f1")
COMPACT = {"mask_mode": "per_label", "prompt_tokens_before": 0, "prompt_tokens_after": 0}
SINGLE = {**COMPACT, "text_attends_labels": True, "label_stream": False}
CLOZE_STREAM = {**COMPACT, "label_stream": True, "pooled_text_head": False}  # cloze scores only: the schemes' setting
STREAM = {**CLOZE_STREAM, "prompt_tokens_before": 1}  # a prompt token names a revealed label
TYPES = {**CLOZE_STREAM, "token_type_strategy": "per_label"}
POSITIONS = {**CLOZE_STREAM, "label_stream_attention": "revealed_positions"}
REVEAL = {"reveal_strategy": "random", "reveal_example_prob": 0.5}
SCHEMES = {  # name: (model options, collator options)
    "reveal": (SINGLE, REVEAL),  # the single sequence, random reveal (this benchmark's first setting)
    "all-masked": (SINGLE, {"reveal_strategy": "none"}),
    "text-blind-reveal": ({**SINGLE, "text_attends_labels": False}, REVEAL),  # the text never sees the template
    "stream-all-masked": (STREAM, {"reveal_strategy": "none"}),
    "stream-reveal": (STREAM, REVEAL),
    "stream-types-reveal": (TYPES, REVEAL),  # revealed attention, a revealed label named by its own token type
    "stream-positions-reveal": (POSITIONS, REVEAL),  # revealed attention, a revealed label named by its position
    "stream-positions-all-masked": (POSITIONS, {"reveal_strategy": "none"}),
    "stream-view": ({**STREAM, "all_masked_loss_weight": 1.0}, REVEAL),
}
"""Training schemes (`all_masked_loss_weight`: `modeling_lmmlc.py`); an all-masked model decodes one pass only (its
rounds would show labels it never saw revealed: `decoders`)."""


def decoders(scheme: str) -> tuple[str, ...]:
    """The strategies a model trained by `scheme` is decoded with: what its training showed it."""
    return STRATEGIES if SCHEMES[scheme][1]["reveal_strategy"] != "none" else ("one_shot",)


def tiny_encoder(folder: Path) -> Path:
    """A random 2-layer BERT whose vocabulary holds every synthetic word."""
    return write_tiny_bert(folder, vocabulary(), unused=20)


def train_and_decode(
    encoder: Path,
    train: list[dict],
    test: list[dict],
    names: list[str],
    seed: int = 0,
    steps: int = 600,
    learning_rate: float = 3e-3,
    scheme: str = "reveal",
) -> dict[str, dict[str, float]]:
    """Train an LM-MLC model by `scheme` (default: compact template, text sees the template, random reveal) and
    score each of its `decoders` on `test`.

    Returns:
        per strategy, the metrics of `lmmlc.metrics.multilabel_metrics` at threshold 0.5.
    """
    tokenizer = AutoTokenizer.from_pretrained(encoder)

    def features(rows: list[dict], labelled: bool = True) -> list[dict]:
        hot = lambda r: {"labels": [int(n in r["labels"]) for n in names]} if labelled else {}  # noqa: E731
        return [{**tokenizer(r["text"]), **hot(r)} for r in rows]

    torch.manual_seed(seed)
    model_options, collator_options = SCHEMES[scheme]
    model = BertForLabelMaskClassification.from_encoder(encoder, label_names=names, **model_options)
    collator = DataCollatorForLabelMask(tokenizer, model.config, seed=seed, **collator_options)
    optimizer = torch.optim.AdamW(model.parameters(), lr=learning_rate)
    generator, train_features = torch.Generator().manual_seed(seed), features(train)
    model.train()
    for _ in range(steps):
        picked = torch.randint(len(train_features), (32,), generator=generator).tolist()
        model(**collator([train_features[i] for i in picked])).loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    model.eval()
    batch = DataCollatorForLabelMask(tokenizer, model.config, reveal_strategy="none")(features(test, False))
    truth = np.array([[int(n in r["labels"]) for n in names] for r in test])
    return {
        strategy: multilabel_metrics(
            model.decode(**batch, strategy=strategy, thresholds=0.5).predictions.numpy(), truth
        )
        for strategy in decoders(scheme)
    }


def run_setting(
    encoder: Path, dependency: str, visibility: float, seed: int, steps: int, lr: float, scheme: str = "reveal"
) -> dict:
    train, names = synthetic_data(2000, seed=1000 + seed, dependency=dependency, group_size=3, visibility=visibility)
    test, _ = synthetic_data(1000, seed=2000 + seed, dependency=dependency, group_size=3, visibility=visibility)
    scores = train_and_decode(encoder, train, test, names, seed=seed, steps=steps, learning_rate=lr, scheme=scheme)
    row = {"scheme": scheme, "dependency": dependency, "visibility": visibility, "seed": seed}
    for strategy, metrics in scores.items():
        for metric in METRICS:
            row[f"{strategy}_{metric}"] = metrics[metric]
    return row


def summarize(rows: list[dict]) -> list[dict]:
    """Mean and standard deviation over seeds of each strategy's scores and of its gain over one pass, per
    setting."""
    settings = list(dict.fromkeys((r.get("scheme", "reveal"), r["dependency"], r["visibility"]) for r in rows))
    table = []
    for scheme, dependency, visibility in sorted(settings, key=lambda x: (x[1], x[2])):
        runs = [
            r
            for r in rows
            if (r.get("scheme", "reveal"), r["dependency"], r["visibility"]) == (scheme, dependency, visibility)
        ]
        entry = {"scheme": scheme, "dependency": dependency, "visibility": visibility, "seeds": len(runs)}
        decoded = [s for s in STRATEGIES if f"{s}_{METRICS[0]}" in runs[0]]
        for metric in METRICS:
            for strategy in decoded:
                entry[f"{strategy}_{metric}"] = statistics.mean(r[f"{strategy}_{metric}"] for r in runs)
            for strategy in decoded[1:]:
                gains = [r[f"{strategy}_{metric}"] - r[f"one_shot_{metric}"] for r in runs]
                entry[f"{strategy}_gain_{metric}"] = statistics.mean(gains)
                entry[f"{strategy}_gain_{metric}_sd"] = statistics.stdev(gains) if len(gains) > 1 else 0.0
        table.append(entry)
    return table


def markdown(table: list[dict]) -> str:
    """Per setting and metric: one pass, then each round strategy with its gain over one pass (sd over seeds)."""
    header = ["scheme", "dependency", "visibility"]
    for metric in METRICS:
        header += [f"one_shot {metric}", *(f"{strategy} {metric} (gain, sd)" for strategy in ROUNDS)]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for e in table:
        cells = [e.get("scheme", "reveal"), e["dependency"], str(e["visibility"])]
        for metric in METRICS:
            cells.append(f"{e[f'one_shot_{metric}']:.3f}")
            cells += [
                f"{e[f'{s}_{metric}']:.3f} ({e[f'{s}_gain_{metric}']:+.3f}, {e[f'{s}_gain_{metric}_sd']:.3f})"
                if f"{s}_{metric}" in e
                else "n/a"
                for s in ROUNDS
            ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--schemes", nargs="+", choices=sorted(SCHEMES), default=["reveal"], help="Training schemes.")
    parser.add_argument("--dependencies", nargs="+", choices=DEPENDENCIES, default=list(DEPENDENCIES))
    parser.add_argument("--visibilities", type=float, nargs="+", default=[0.3, 0.6, 0.9])
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--learning_rate", type=float, default=3e-3)
    parser.add_argument("--output_file", default="docs/benchmarks/synthetic_decoding.json")
    args = parser.parse_args()
    transformers.logging.set_verbosity_error()
    encoder = tiny_encoder(Path(tempfile.mkdtemp()) / "bert")
    rows = [
        run_setting(encoder, dependency, visibility, seed, args.steps, args.learning_rate, scheme)
        for scheme in args.schemes
        for dependency in args.dependencies
        for visibility in args.visibilities
        for seed in args.seeds
    ]
    table = summarize(rows)
    print(markdown(table))
    report = {"command": " ".join(["python -m benchmarks.synthetic_decoding", *sys.argv[1:]]), **vars(args)}
    report.update(table=table, rows=rows)
    Path(args.output_file).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output_file).write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
