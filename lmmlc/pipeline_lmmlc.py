"""`MultiLabelClassificationPipeline`: texts -> labels with scores, for lmmlc models (travels to the Hub).

Saved models name it in `config.custom_pipelines`, so
`transformers.pipeline(model=folder_or_hub_id, trust_remote_code=True)` builds it. Imports only
torch, transformers and `configuration_lmmlc.py` (transformers 4.x copies only a remote-code file's own imports, so
evidence weights come from the model's `label_evidence`).
"""

from __future__ import annotations

from typing import Any

import torch
from transformers import Pipeline
from transformers.utils import logging
from transformers.utils.logging import tqdm

from .configuration_lmmlc import check_tokenizer, max_text_length, resolve_thresholds, untuned_thresholds_note

logger = logging.get_logger(__name__)

PIPELINE_TASK = "multi-label-classification"


class MultiLabelClassificationPipeline(Pipeline):
    """Per text, labels with their probabilities, decided by the model's thresholds (and decoding strategy).

    Call options:
        top_k: None: every label, most probable first; an int: the k most probable; unset (default):
            the predicted labels (probability at or above their threshold).
        threshold: a float overriding the config's thresholds (global and per label).
        strategy / labels_per_round / margin: decoding of label-mask models (default: the config's).
        progress: show a progress bar over a list of texts (default: for more than one batch).
        evidence: an int K: each returned label also gets `"evidence"`, the K spans of the text that most support
            it (`evidence_lmmlc.py`: gradient x input of its one-pass logit; torch models, batch_size 1).

    Each result is a list of `{"label", "score"}` dicts, sorted by score.
    """

    _load_processor = False
    _load_image_processor = False
    _load_feature_extractor = False
    _load_tokenizer = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.tokenizer is not None:  # transformers loads it from the model folder when not given
            check_tokenizer(self.tokenizer, self.model.config, self.model.name_or_path)
        note = untuned_thresholds_note(self.model.config, self.model.name_or_path or "this model")
        if note is not None:
            logger.warning(note)

    def _sanitize_parameters(
        self,
        top_k: int | str | None = "",
        threshold: float | None = None,
        strategy: str | None = None,
        labels_per_round: int | None = None,
        margin: float | None = None,
        evidence: int | None = None,
        **kwargs: Any,
    ) -> tuple[dict, dict, dict]:
        if kwargs:
            raise TypeError(
                f"Unknown option(s) {sorted(kwargs)}: use top_k, threshold, strategy, labels_per_round, margin, "
                "evidence."
            )
        self._check_evidence(evidence)
        if threshold is not None:
            resolve_thresholds(self.model.config, threshold)  # checked before any text is read
        decode = {"strategy": strategy, "labels_per_round": labels_per_round, "margin": margin}
        forward = {"threshold": threshold, **{k: v for k, v in decode.items() if v is not None}}
        postprocess = {"threshold": threshold}
        if top_k != "":
            if top_k is not None and (not isinstance(top_k, int) or top_k < 1):
                raise ValueError(f"top_k={top_k!r}: give a positive int, or None for every label.")
            postprocess["top_k"] = top_k
        if evidence is not None:
            forward["evidence"] = {"top_k": top_k}
            postprocess["evidence"] = evidence
        return {"evidence": evidence is not None}, forward, postprocess

    def _check_evidence(self, evidence: int | None) -> None:
        """Refuse an evidence request that cannot be served, before any text is read."""
        if evidence is None:
            return
        if isinstance(evidence, bool) or not isinstance(evidence, int) or evidence < 1:
            raise ValueError(f"evidence={evidence!r}: give the number of spans per label, a positive int.")
        if not hasattr(self.model, "label_evidence"):
            raise ValueError("evidence needs an lmmlc torch model (gradients); this one has no label_evidence.")
        if not getattr(self.tokenizer, "is_fast", False):
            raise ValueError("evidence maps tokens back to the text with a fast tokenizer's offsets; load a fast one.")

    def __call__(self, inputs: Any, progress: bool | None = None, **kwargs: Any) -> Any:
        if isinstance(inputs, dict):
            raise TypeError("Got a dict: pass a text (str) or a list of texts, e.g. classifier(row['text']).")
        if isinstance(inputs, (bytes, bytearray)):
            raise TypeError("Got bytes: decode them into a text first, e.g. classifier(data.decode('utf-8')).")
        if isinstance(inputs, str) or not hasattr(inputs, "__len__"):
            return super().__call__(inputs, **kwargs)
        batch = kwargs.get("batch_size") or self._batch_size or 1
        if kwargs.get("evidence") is not None and batch > 1:
            raise ValueError("evidence explains one text at a time: leave batch_size at 1.")
        show = len(inputs) > batch if progress is None else progress
        results = super().__call__((text for text in inputs), **kwargs)
        return list(tqdm(results, total=len(inputs), desc="Classifying", disable=not show))

    def preprocess(self, inputs: str, evidence: bool = False) -> dict[str, Any]:
        if not isinstance(inputs, str):
            raise TypeError(f"Expected a text (str), got {type(inputs).__name__}.")
        if not inputs.strip():  # the rule of lmmlc-predict and the data files: a blank text has nothing to classify
            raise ValueError("Got an empty or blank text: there is nothing to classify; leave it out of the inputs.")
        max_length = max_text_length(self.model.config, self.tokenizer.model_max_length)
        encoded = self.tokenizer(
            inputs, truncation=True, max_length=max_length, return_tensors="pt", return_offsets_mapping=evidence
        )
        if not evidence:
            return encoded
        words = [-1 if word is None else word for word in encoded.word_ids()]
        offsets = encoded.pop("offset_mapping")
        return {**encoded, "evidence_text": inputs, "evidence_offsets": offsets, "evidence_words": words}

    def _thresholds(self, threshold: float | None) -> torch.Tensor:
        return torch.tensor(resolve_thresholds(self.model.config, threshold))

    def _forward(
        self,
        model_inputs: dict[str, Any],
        threshold: float | None = None,
        evidence: dict | None = None,
        **decode: Any,
    ) -> dict:
        context = {
            k: model_inputs.pop(k) for k in ("evidence_text", "evidence_offsets", "evidence_words") if k in model_inputs
        }
        probs = self._probabilities(model_inputs, threshold, **decode)
        if evidence is None:
            return {"probs": probs}
        chosen = self._chosen(probs.float().reshape(-1), evidence["top_k"], threshold)
        ids = torch.tensor([chosen], dtype=torch.long, device=probs.device)
        weights = self.model.label_evidence(model_inputs["input_ids"], model_inputs["attention_mask"], ids)
        return {"probs": probs, "evidence_weights": weights[0], "evidence_labels": chosen, **context}

    def _probabilities(self, model_inputs: dict[str, Any], threshold: float | None, **decode: Any) -> torch.Tensor:
        if hasattr(self.model, "decode"):
            thresholds = self._thresholds(threshold).tolist()
            probs = self.model.decode(**model_inputs, thresholds=thresholds, **decode).probs
        else:
            if decode:
                raise ValueError(f"{sorted(decode)} need a label-mask model; this one decodes in one pass.")
            probs = torch.sigmoid(self.model(**model_inputs).logits.float())
        return probs

    def _chosen(self, probs: torch.Tensor, top_k: int | str | None, threshold: float | None) -> list[int]:
        """The labels returned for one text's `probs` `(num_labels,)`, most probable first."""
        ranked = sorted(range(len(probs)), key=lambda i: -float(probs[i]))
        if top_k == "":
            thresholds = self._thresholds(threshold)
            return [i for i in ranked if probs[i] >= thresholds[i]]
        return ranked if top_k is None else ranked[:top_k]

    def postprocess(
        self,
        model_outputs: dict,
        top_k: int | str | None = "",
        threshold: float | None = None,
        evidence: int | None = None,
    ) -> list:
        probs = model_outputs["probs"].float().reshape(-1)
        names = self.model.config.label_names
        results = [{"label": names[i], "score": float(probs[i])} for i in self._chosen(probs, top_k, threshold)]
        if evidence is None:
            return results
        offsets = [tuple(pair) for pair in model_outputs["evidence_offsets"].reshape(-1, 2).tolist()]
        words = [None if word < 0 else word for word in model_outputs["evidence_words"]]
        for result, weights in zip(results, model_outputs["evidence_weights"], strict=True):
            result["evidence"] = evidence_spans(weights, offsets, words, model_outputs["evidence_text"], evidence)
        return results


def evidence_spans(
    weights: torch.Tensor, offsets: list[tuple[int, int]], word_ids: list[int | None], text: str, top: int
) -> list[dict[str, Any]]:
    """The `top` spans of `text` that most support a label: token `weights` `(seq_len,)` summed per word (`word_ids`
    from the tokenizer; special tokens have None), the positive words among the 2 x `top` heaviest merged with their
    chosen neighbours, ranked by summed weight. Each span: `{"text", "start", "end", "weight"}` (character offsets;
    weight as a share of the text's total absolute weight)."""
    words: dict[int, list] = {}
    for token, word in enumerate(word_ids):
        if word is None or token >= len(weights):
            continue
        start, end = offsets[token]
        entry = words.setdefault(word, [start, end, 0.0])
        entry[0], entry[1], entry[2] = min(entry[0], start), max(entry[1], end), entry[2] + float(weights[token])
    total = sum(abs(w) for _, _, w in words.values()) or 1.0
    chosen = sorted((w for w in words if words[w][2] > 0), key=lambda w: -words[w][2])[: 2 * top]
    spans: list[list] = []
    for word in sorted(chosen):
        if spans and spans[-1][3] == word - 1:
            spans[-1][1], spans[-1][2], spans[-1][3] = words[word][1], spans[-1][2] + words[word][2], word
        else:
            spans.append([words[word][0], words[word][1], words[word][2], word])
    spans.sort(key=lambda s: -s[2])
    return [{"text": text[s:e], "start": s, "end": e, "weight": round(w / total, 4)} for s, e, w, _ in spans[:top]]
