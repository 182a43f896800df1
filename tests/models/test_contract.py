"""Every registered model architecture passes the contract (tiny random encoder, no network)."""

from biorel.models.testing import ModelContract


class TestJointNERRE(ModelContract):
    architecture = "biorel.JointNERRE.v1"


class TestJointNERREBilouNoContext(ModelContract):
    architecture = "biorel.JointNERRE.v1"

    def model_config(self, tokenizer_folder):
        cfg = super().model_config(tokenizer_folder)
        cfg.update(scheme="BILOU", context="none", type_dim=0)
        return cfg


class TestRelationClassifier(ModelContract):
    architecture = "biorel.RelationClassifier.v1"

    def model_config(self, tokenizer_folder):
        cfg = super().model_config(tokenizer_folder)
        for key in ("pair_dim", "block_size", "type_dim"):
            cfg.pop(key)
        return {**cfg, "hidden_dim": 16}


class TestRelationClassifierPlainMarkers(TestRelationClassifier):
    def model_config(self, tokenizer_folder):
        return {**super().model_config(tokenizer_folder), "markers": "plain"}


class TestRelationClassifierHardNegatives(TestRelationClassifier):
    """Hard negatives re-mined each epoch and the contrastive loss on."""

    loss_weights = {"re": 1.0, "contrastive": 0.5}

    def model_config(self, tokenizer_folder):
        return {**super().model_config(tokenizer_folder), "hard_negatives": 2, "temperature": 0.2}


class TestGenerativeRE(ModelContract):
    """LoRA on a random 2-layer Llama with a byte-level BPE tokenizer, typed
    targets, copy-constrained greedy decoding."""

    architecture = "biorel.GenerativeRE.v1"

    def model_config(self, tokenizer_folder):
        from biorel.models.generative_testing import make_tiny_lm, tiny_generative_config

        lm = tokenizer_folder.parent / "lm"
        if not (lm / "config.json").exists():
            make_tiny_lm(lm)
        return tiny_generative_config(lm)


def test_every_registered_architecture_runs_the_contract():
    from biorel.registry import registry

    covered = {
        cls.architecture for cls in globals().values() if isinstance(cls, type) and issubclass(cls, ModelContract) and cls is not ModelContract
    }
    assert {n for n in registry.models.names() if n.startswith("biorel.")} <= covered  # test-only architectures aside
