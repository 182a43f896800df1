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
