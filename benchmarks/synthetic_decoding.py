"""Does decoding in rounds beat one pass where one label copies another? Tiny BERTs on `synthetic.implication_data`.

python benchmarks/synthetic_decoding.py --seeds 0 1 2 --steps 600 --learning_rate 3e-3
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch
from transformers import AutoTokenizer

from benchmarks.synthetic import FILLER, implication_data
from lmmlc import BertForLabelMaskClassification, DataCollatorForLabelMask
from lmmlc.metrics import multilabel_metrics
from lmmlc.testing import write_tiny_bert


def run(seed: int, steps: int, learning_rate: float, folder: Path) -> dict[str, float]:
    tokenizer = AutoTokenizer.from_pretrained(folder)
    train, names = implication_data(2000, seed=1)
    test, _ = implication_data(1000, seed=2)

    def features(rows, labelled=True):
        hot = lambda r: {"labels": [int(n in r["labels"]) for n in names]} if labelled else {}  # noqa: E731
        return [{**tokenizer(r["text"]), **hot(r)} for r in rows]

    torch.manual_seed(seed)
    model = BertForLabelMaskClassification.from_pretrained(
        folder, label_names=names, mask_mode="per_label", prompt_tokens_before=0, prompt_tokens_after=0
    )
    collator = DataCollatorForLabelMask(tokenizer, model.config, reveal_example_prob=0.5, seed=seed)
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
    row = {"seed": seed}
    for strategy in ("one_shot", "confidence"):
        out = model.decode(**batch, strategy=strategy, margin=0.0)
        row[f"{strategy}_subset_accuracy"] = multilabel_metrics(out.predictions.numpy(), truth)["subset_accuracy"]
        row[f"{strategy}_a_b_disagree"] = float((out.predictions[:, 0] != out.predictions[:, 1]).float().mean())
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--learning_rate", type=float, default=3e-3)
    parser.add_argument("--output_file", default="docs/benchmarks/synthetic_decoding.json")
    args = parser.parse_args()
    folder = write_tiny_bert(Path(tempfile.mkdtemp()) / "bert", [*FILLER, "alpha", "beta", "gamma", "delta"], unused=20)
    rows = [run(seed, args.steps, args.learning_rate, folder) for seed in args.seeds]
    print("| seed | one_shot subset acc | confidence subset acc | a/b disagree (one_shot) |\n|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['seed']} | {r['one_shot_subset_accuracy']:.3f} | {r['confidence_subset_accuracy']:.3f} | "
            f"{r['one_shot_a_b_disagree']:.3f} |"
        )
    report = {"command": " ".join(["python", *sys.argv]), **vars(args), "rows": rows}
    Path(args.output_file).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output_file).write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
