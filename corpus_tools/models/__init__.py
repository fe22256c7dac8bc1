"""Models in the loop: suggestions learned from the corpus's own gold (nothing downloaded).

The stage `corpus model` (the records module `corpus_tools.model` is another thing):

- `data`      the training set: adjudicated gold joined with the articles' texts, sentences and
              stories, from `build/gold.jsonl` or from a release folder; open disputes and
              dropped ties are kept apart as *missing*, never as negatives.
- `gazetteer` the learned gazetteer: every adjudicated surface form with its label counts.
- `ner`       a spaCy pipeline (blank English + a beam NER component) trained on the gold spans.
- `classify`  scikit-learn classifiers with calibrated probabilities: stance per target,
              check-worthiness, and a sentence-level claim detector.
- `project`   annotations carried across a story's outlets: surface forms from siblings' gold,
              and spans and claims projected through reprinted sentences.
- `bundle`    a trained model as a versioned folder under `build/models/` with its card.
- `evaluate`  story-grouped cross-validation against the gazetteer+dates baseline, and the
              learning curve.
- `suggest`   the merge rule that turns a bundle's outputs into Label Studio predictions, and the
              uncertainty measure that orders tasks.
- `uptake`    what suggestions did to annotators: accepted, edited or deleted.
"""
