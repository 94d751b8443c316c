"""`MultiLabelClassificationPipeline`: texts -> labels with scores, for lmmlc models (travels to the Hub).

Saved models name it in `config.custom_pipelines`, so
`transformers.pipeline(model=folder_or_hub_id, trust_remote_code=True)` builds it. Imports only
torch, transformers and `configuration_lmmlc.py`.
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
        **kwargs: Any,
    ) -> tuple[dict, dict, dict]:
        if kwargs:
            raise TypeError(
                f"Unknown option(s) {sorted(kwargs)}: use top_k, threshold, strategy, labels_per_round, margin."
            )
        if threshold is not None:
            resolve_thresholds(self.model.config, threshold)  # checked before any text is read
        decode = {"strategy": strategy, "labels_per_round": labels_per_round, "margin": margin}
        forward = {"threshold": threshold, **{k: v for k, v in decode.items() if v is not None}}
        postprocess = {"threshold": threshold}
        if top_k != "":
            if top_k is not None and (not isinstance(top_k, int) or top_k < 1):
                raise ValueError(f"top_k={top_k!r}: give a positive int, or None for every label.")
            postprocess["top_k"] = top_k
        return {}, forward, postprocess

    def __call__(self, inputs: Any, progress: bool | None = None, **kwargs: Any) -> Any:
        if isinstance(inputs, dict):
            raise TypeError("Got a dict: pass a text (str) or a list of texts, e.g. classifier(row['text']).")
        if isinstance(inputs, (bytes, bytearray)):
            raise TypeError("Got bytes: decode them into a text first, e.g. classifier(data.decode('utf-8')).")
        if isinstance(inputs, str) or not hasattr(inputs, "__len__"):
            return super().__call__(inputs, **kwargs)
        batch = kwargs.get("batch_size") or self._batch_size or 1
        show = len(inputs) > batch if progress is None else progress
        results = super().__call__((text for text in inputs), **kwargs)
        return list(tqdm(results, total=len(inputs), desc="Classifying", disable=not show))

    def preprocess(self, inputs: str) -> dict[str, torch.Tensor]:
        if not isinstance(inputs, str):
            raise TypeError(f"Expected a text (str), got {type(inputs).__name__}.")
        if not inputs.strip():  # the rule of lmmlc-predict and the data files: a blank text has nothing to classify
            raise ValueError("Got an empty or blank text: there is nothing to classify; leave it out of the inputs.")
        max_length = max_text_length(self.model.config, self.tokenizer.model_max_length)
        return self.tokenizer(inputs, truncation=True, max_length=max_length, return_tensors="pt")

    def _thresholds(self, threshold: float | None) -> torch.Tensor:
        return torch.tensor(resolve_thresholds(self.model.config, threshold))

    def _forward(self, model_inputs: dict[str, torch.Tensor], threshold: float | None = None, **decode: Any) -> dict:
        if hasattr(self.model, "decode"):
            thresholds = self._thresholds(threshold).tolist()
            probs = self.model.decode(**model_inputs, thresholds=thresholds, **decode).probs
        else:
            if decode:
                raise ValueError(f"{sorted(decode)} need a label-mask model; this one decodes in one pass.")
            probs = torch.sigmoid(self.model(**model_inputs).logits.float())
        return {"probs": probs}

    def postprocess(self, model_outputs: dict, top_k: int | str | None = "", threshold: float | None = None) -> list:
        probs = model_outputs["probs"].float().reshape(-1)
        names = self.model.config.label_names
        ranked = sorted(range(len(names)), key=lambda i: -float(probs[i]))
        if top_k == "":
            thresholds = self._thresholds(threshold)
            ranked = [i for i in ranked if probs[i] >= thresholds[i]]
        elif top_k is not None:
            ranked = ranked[:top_k]
        return [{"label": names[i], "score": float(probs[i])} for i in ranked]
