"""Test helpers for model authors: a tiny offline tokenizer and randomly
initialised encoder config, a toy corpus, and :class:`ModelContract`, the test
class every biorel model must pass::

    from biorel.models.testing import ModelContract

    class TestMyModel(ModelContract):
        architecture = "biorel.MyModel.v1"

Nothing here touches the network.
"""

from __future__ import annotations

import random
import string
from pathlib import Path
from typing import Any

from ..types import Document, Mention, Passage, Relation

CHEMICALS = ["famotidine", "cisplatin", "lithium", "haloperidol", "nicotine", "aspirin", "caffeine", "morphine", "digoxin", "warfarin"]
DISEASES = ["delirium", "nephrotoxicity", "seizures", "hypotension", "bradycardia", "hepatitis", "anemia", "migraine", "psychosis", "ulcers"]
FILLER = "the patients were treated with doses of and in a study of this report we describe case elderly rats showed no effect after".split()
CAUSE = ["induced", "caused", "triggered"]


def tiny_vocab() -> list[str]:
    chars = string.ascii_lowercase + string.digits
    words = sorted(set(CHEMICALS + DISEASES + FILLER + CAUSE + ["-", "associated", "was", "given", "had", "developed", "after"]))
    toks = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    toks += list(chars) + list(string.punctuation) + [f"##{c}" for c in chars]
    toks += [w for w in words if w not in toks]
    return toks


def make_tiny_tokenizer(folder: str | Path) -> Path:
    """Write a small lower-casing WordPiece fast tokenizer to ``folder``."""
    from transformers import BertTokenizerFast

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    vocab = folder / "vocab.txt"
    vocab.write_text("\n".join(tiny_vocab()) + "\n", "utf-8")
    tok = BertTokenizerFast(vocab_file=str(vocab), do_lower_case=True)
    tok.save_pretrained(str(folder))
    return folder


def tiny_encoder_config(tokenizer_folder: str | Path, **overrides: Any) -> dict[str, Any]:
    """An ``encoder`` config section for a random 2-layer BERT."""
    n_vocab = len(tiny_vocab())
    random_init = dict(
        model_type="bert",
        vocab_size=n_vocab,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=128,
    )
    random_init.update(overrides)
    return {"name": str(tokenizer_folder), "tokenizer": str(tokenizer_folder), "random_init": random_init, "local_files_only": True}


def tiny_model_config(tokenizer_folder: str | Path, **model: Any) -> dict[str, Any]:
    cfg = {
        "encoder": tiny_encoder_config(tokenizer_folder),
        "max_length": 32,
        "stride": 8,
        "pair_dim": 32,
        "block_size": 8,
        "type_dim": 8,
        "dropout": 0.0,
    }
    cfg.update(model)
    return cfg


def toy_document(doc_id: str, rng: random.Random) -> Document:
    """A two-passage abstract about drugs and diseases. A drug 'induced' a
    disease in a sentence means CID; other pairs are unrelated. Some relations
    are stated across sentences ("X was given. Patients developed Y.")."""
    chem, other = rng.sample(CHEMICALS, 2)
    dis, dis2 = rng.sample(DISEASES, 2)
    title = f"{chem.capitalize()}-associated {dis}."
    parts: list[tuple[str, str | None]] = []  # (text, type or None)

    def add(text: str, typ: str | None = None) -> None:
        parts.append((text, typ))

    add("In this report we describe ")
    add(dis, "Disease")
    add(" " + rng.choice(CAUSE) + " by ")
    add(chem, "Chemical")
    add(". ")
    if rng.random() < 0.5:
        add(other.capitalize(), "Chemical")
        add(" was given. Patients developed ")
        add(dis2, "Disease")
        add(" after it. ")
        cross = True
    else:
        add("The elderly rats treated with ")
        add(other, "Chemical")
        add(" showed no ")
        add(dis2, "Disease")
        add(". ")
        cross = False
    abstract = "".join(t for t, _ in parts).rstrip()
    a_off = len(title) + 1
    mentions = [
        Mention("t0", ((0, len(chem)),), title[: len(chem)], "Chemical", (chem.upper(),)),
        Mention("t1", ((len(chem) + 12, len(chem) + 12 + len(dis)),), dis, "Disease", (dis.upper(),)),
    ]
    pos = a_off
    for text, typ in parts:
        if typ is not None:
            mentions.append(Mention(f"a{len(mentions)}", ((pos, pos + len(text)),), text, typ, (text.lower().upper(),)))
        pos += len(text)
    doc = Document(doc_id, [Passage(0, title, "title"), Passage(a_off, abstract, "abstract")], mentions)
    doc.entities = doc.entities_from_mentions()
    doc.relations = [Relation("r0", "CID", chem.upper(), dis.upper(), directed=True)]
    if cross:
        doc.relations.append(Relation("r1", "CID", other.upper(), dis2.upper(), directed=True))
    return doc


def toy_corpus(n: int, seed: int = 0, prefix: str = "doc") -> list[Document]:
    rng = random.Random(seed)
    return [toy_document(f"{prefix}{i}", rng) for i in range(n)]


def long_document(doc_id: str = "long", n_sentences: int = 200) -> Document:
    rng = random.Random(1)
    sents = []
    for _ in range(n_sentences):
        sents.append(f"{rng.choice(CHEMICALS).capitalize()} {rng.choice(CAUSE)} {rng.choice(DISEASES)} in the elderly rats.")
    text = " ".join(sents)
    return Document(doc_id, [Passage(0, text, "abstract")])


def empty_document(doc_id: str = "empty") -> Document:
    return Document(doc_id, [Passage(0, "", "title")])


# --------------------------------------------------------------------------
class ModelContract:
    """Subclass with ``architecture = "<registered name>"``; override
    :meth:`model_config` for models that need more than the tiny encoder. What
    is tested follows the model's declared :class:`~biorel.models.base.Capabilities`
    (its prediction modes, precisions and loss parts)."""

    architecture = "biorel.JointNERRE.v1"
    train_steps = 3
    #: steps of the overfitting test, and its learning rate
    overfit_steps = 25
    overfit_lr = 1e-3
    #: ``training.loss_weights`` for the contract's training (``None``: the model's defaults)
    loss_weights: dict[str, float] | None = None

    def model_config(self, tokenizer_folder: Path) -> dict[str, Any]:
        return {"architecture": self.architecture, **tiny_model_config(tokenizer_folder)}

    def corpus(self) -> list[Document]:
        return toy_corpus(6)

    # fixtures ---------------------------------------------------------------
    def _build(self, tmp_path: Path):
        import torch

        from . import build_model

        torch.manual_seed(0)
        tok = make_tiny_tokenizer(tmp_path / "tok")
        docs = self.corpus()
        return build_model(self.model_config(tok), docs), docs

    def _train(self, model, docs, steps: int, lr: float = 1e-3):
        import torch

        opt = torch.optim.AdamW(model.parameter_groups(lr, lr, 0.0), lr=lr)
        items = [model.prepare(d) for d in docs]
        model.net.train()
        losses = []
        for step in range(steps):
            batch = items[(2 * step) % len(items) :][:2] or items[:2]
            loss, parts = model.loss(batch, self.loss_weights)
            assert set(parts) == set(model.capabilities.loss_parts)
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(float(loss.detach()))
        return losses

    def _modes(self, model) -> tuple[str, ...]:
        return model.capabilities.modes

    # the contract -------------------------------------------------------------
    def test_registered(self):
        from ..config import model_config_class
        from ..registry import registry

        assert self.architecture in registry.models
        cls = registry.models.get(self.architecture)
        caps = cls.capabilities
        assert caps.modes and set(caps.modes) <= {"extract", "relate"}
        assert "fp32" in caps.precisions and caps.loss_parts
        assert model_config_class(self.architecture) is cls.config_class

    def test_config_rejects_unknown_keys(self, tmp_path):
        import pytest

        from ..config import validate_config
        from ..errors import BiorelError

        tok = make_tiny_tokenizer(tmp_path / "tok")
        with pytest.raises(BiorelError) as e:
            validate_config({"model": {**self.model_config(tok), "no_such_key": 1}})
        assert e.value.code == "E402" and "model.no_such_key" in str(e.value)

    def test_train_save_load_same_predictions(self, tmp_path):
        from . import load_model

        model, docs = self._build(tmp_path)
        losses = self._train(model, docs, self.train_steps)
        assert all(l == l and l >= 0 for l in losses)  # finite, non-negative
        before = {m: model.predict(docs, m) for m in self._modes(model)}
        model.save(tmp_path / "model")
        loaded = load_model(tmp_path / "model")
        assert type(loaded) is type(model)
        for m in self._modes(model):
            after = loaded.predict(docs, m)
            assert [d.to_dict() for d in after] == [d.to_dict() for d in before[m]]

    def test_loss_decreases_when_overfitting(self, tmp_path):
        model, docs = self._build(tmp_path)
        losses = self._train(model, docs[:2], self.overfit_steps, self.overfit_lr)
        assert losses[-1] < losses[0]

    def test_predictions_are_valid_documents(self, tmp_path):
        from ..validate import check_document

        model, docs = self._build(tmp_path)
        self._train(model, docs, self.train_steps)
        for m in self._modes(model):
            for pred, gold in zip(model.predict(docs, m), docs):
                assert pred.id == gold.id and pred.text == gold.text
                assert check_document(pred) == []
                for mention in pred.mentions:
                    assert [pred.text[s:e] for s, e in mention.spans] == [mention.text]
                if m == "relate":  # the given entities are kept
                    assert [e.id for e in pred.entities] == [e.id for e in (gold.entities or gold.entities_from_mentions())]

    def test_unknown_mode_is_refused(self, tmp_path):
        import pytest

        from ..errors import BiorelError

        model, docs = self._build(tmp_path)
        with pytest.raises(BiorelError) as e:
            model.predict(docs[:1], "no-such-mode")
        assert e.value.code == "E412" and all(m in str(e.value) for m in model.capabilities.modes)

    def test_empty_document(self, tmp_path):
        model, docs = self._build(tmp_path)
        empty = empty_document()
        for m in self._modes(model):
            (pred,) = model.predict([empty], m)
            assert pred.id == empty.id and pred.mentions == [] and pred.relations == []
        item = model.prepare(empty)
        loss, _ = model.loss([item])
        value = float(loss.detach())
        assert value == value and value >= 0.0  # finite: an empty document never gives NaN

    def test_very_long_document(self, tmp_path):
        model, docs = self._build(tmp_path)
        long = long_document(n_sentences=60)
        assert model.cost(long) > model.cfg.max_length * 4
        for m in self._modes(model):
            (pred,) = model.predict([long], m)
            assert pred.text == long.text
            for mention in pred.mentions:
                assert long.text[mention.start : mention.end] == mention.text
            # the same document alone and in a batch gives the same annotations
            (again,) = model.predict([docs[0], long], m)[1:]
            assert again.to_dict() == pred.to_dict()

    def test_batch_independence(self, tmp_path):
        model, docs = self._build(tmp_path)
        self._train(model, docs, self.train_steps)
        for m in self._modes(model):
            one = [model.predict([d], m)[0] for d in docs[:3]]
            many = model.predict(docs[:3], m)
            assert [d.to_dict() for d in one] == [d.to_dict() for d in many]

    def test_precision_switch(self, tmp_path):
        """Every declared precision gives valid documents; fp32 afterwards gives
        exactly the fp32 predictions again, and a model saved while in another
        precision is saved in fp32. Undeclared precisions are refused (E412)."""
        import pytest
        import torch

        from ..errors import BiorelError
        from ..validate import check_document
        from . import load_model

        model, docs = self._build(tmp_path)
        self._train(model, docs, self.train_steps)
        mode = model.default_mode
        fp32 = [d.to_dict() for d in model.predict(docs, mode)]
        assert model.set_precision("auto") in model.capabilities.precisions
        for precision in model.capabilities.precisions:
            assert model.set_precision(precision) == precision
            for m in self._modes(model):
                for pred in model.predict(docs, m):
                    assert check_document(pred) == []
            model.save(tmp_path / f"saved-in-{precision}")
            from safetensors import safe_open

            with safe_open(str(tmp_path / f"saved-in-{precision}" / "model.safetensors"), "pt") as fh:
                assert {fh.get_tensor(k).dtype for k in fh.keys() if fh.get_tensor(k).is_floating_point()} == {torch.float32}
            assert model.set_precision("fp32") == "fp32"
            assert [d.to_dict() for d in model.predict(docs, mode)] == fp32
            assert [d.to_dict() for d in load_model(tmp_path / f"saved-in-{precision}").predict(docs, mode)] == fp32
        for bad in ["int4"] + [p for p in ("bf16",) if p not in model.capabilities.precisions]:
            with pytest.raises(BiorelError) as e:
                model.set_precision(bad)
            assert e.value.code == "E412" and "fp32" in str(e.value)

    def test_device(self, tmp_path):
        """``set_device``: ``cpu`` always; ``auto`` is ``cpu`` without CUDA and
        leaves the predictions unchanged; ``cuda`` without a CUDA device and
        unknown devices are refused (E412)."""
        import pytest
        import torch

        from ..errors import BiorelError

        model, docs = self._build(tmp_path)
        mode = model.default_mode
        before = [d.to_dict() for d in model.predict(docs, mode)]
        assert model.set_device("cpu") == "cpu" == model.device
        if not torch.cuda.is_available():
            assert model.set_device("auto") == "cpu"
            with pytest.raises(BiorelError) as e:
                model.set_device("cuda")
            assert e.value.code == "E412" and "CUDA" in str(e.value)
        assert [d.to_dict() for d in model.predict(docs, mode)] == before
        with pytest.raises(BiorelError) as e:
            model.set_device("tpu")
        assert e.value.code == "E412" and "cpu" in str(e.value)

    def test_evidence(self, tmp_path):
        """Every attribution method the model offers (``attribution_methods``,
        from ``capabilities.attributions``) explains each predicted relation
        with word spans inside the text, weights in (0, 1] sorted descending,
        and evidence sentences holding them (``occlusion``: deleting the top
        word alone lowers the relation's margin, ``relation_margins``); the
        relations themselves are not changed. A model that offers none refuses
        with E531."""
        import pytest

        from ..errors import BiorelError
        from .evidence import add_evidence, delete_words

        model, docs = self._build(tmp_path)
        self._train(model, docs, self.train_steps)
        mode = model.default_mode
        methods = model.attribution_methods()
        assert set(methods) <= set(model.capabilities.attributions)
        if not methods:
            with pytest.raises(BiorelError) as e:
                add_evidence(model, model.predict(docs[:1], mode))
            assert e.value.code == "E531"
            return
        before = [d.to_dict() for d in model.predict(docs, mode, threshold=0.0)]
        for method in methods:
            preds = model.predict(docs, mode, threshold=0.0)
            add_evidence(model, preds, top_k=3, method=method)
            for pred, was in zip(preds, before):
                assert [(r.type, r.head, r.tail, r.score) for r in pred.relations] == [
                    (r["type"], r["head"], r["tail"], r.get("score")) for r in was["relations"]
                ]
                for r in pred.relations:
                    att = r.infons["attributions"]
                    assert len(att) <= 3 and [w for *_, w in att] == sorted((w for *_, w in att), reverse=True)
                    assert all(0 < w <= 1 and 0 <= s < e <= len(pred.text) for s, e, w in att)
                    assert all(any(a <= s and e <= b for a, b in r.evidence) for s, e, _ in att)
                    if method == "occlusion" and att:  # faithful by construction: the top word, deleted alone, lowers the margin
                        base, after = model.relation_margins([pred, delete_words(pred, [(att[0][0], att[0][1])])], [r])
                        assert after[0] < base[0] + 1e-6
        assert [d.to_dict() for d in model.predict(docs, mode, threshold=0.0)] == before

    def test_trains_with_the_trainer(self, tmp_path):
        """``biorel train``'s loop runs the model with its declared defaults:
        default dev scorers, parameter groups, loss parts; the best folder loads."""
        from ..config import validate_config
        from ..training import train
        from . import load_model

        tok = make_tiny_tokenizer(tmp_path / "tok")
        docs = self.corpus()
        cfg = validate_config(
            {
                "model": self.model_config(tok),
                "training": {
                    "epochs": 2,
                    "batch_size": 3,
                    "output_dir": str(tmp_path / "run"),
                    "progress": False,
                    "log_every": 0,
                    "loss_weights": self.loss_weights or {},
                },
            }
        )
        res = train(cfg, train_docs=docs, dev_docs=docs[:2])
        assert res.best_epoch in (1, 2) and len(res.history) == 2 and res.history[0]["dev"]
        model = load_model(res.best_dir)
        assert len(model.predict(docs[:2])) == 2
