"""Config files, validation and dotted overrides."""

from __future__ import annotations

from pathlib import Path

import pytest

from biorel.config import Config, load_config, parse_overrides
from biorel.errors import BiorelError

CONFIGS = sorted((Path(__file__).resolve().parents[2] / "configs").glob("*.toml"))


def test_shipped_configs_validate():
    """Every shipped config validates, names a registered architecture, and its
    dev scorers and primary metric fit the model's declared modes."""
    from biorel.registry import registry
    from biorel.training.dev import canonical_metric, default_primary, dev_scorer

    names = {p.stem for p in CONFIGS}
    assert {"bc5cdr", "biored", "ncbi_disease", "bc2gm", "gad"} <= names
    for p in CONFIGS:
        cfg = load_config(p)
        cls = registry.models.get(cfg.model.architecture)
        assert cfg.data.train and isinstance(cfg.model, cls.config_class)
        specs = cfg.evaluation.scorers or list(cls.capabilities.default_scorers)
        dev_scorer(specs, cls.capabilities.modes)  # E402 if a scorer or mode is wrong
        primary = canonical_metric(cfg.evaluation.primary_metric) if cfg.evaluation.primary_metric else default_primary(specs, cls.capabilities.modes)
        assert primary.partition("/")[0] in {s.replace(":gold", ":relate").replace(":e2e", ":extract") for s in specs}, p.name


def test_model_section_is_validated_by_its_architecture():
    cfg = load_config(None, ["--model.architecture", "biorel.RelationClassifier.v1", "--model.markers", "plain"])
    assert type(cfg.model).__name__ == "RelationClassifierConfig" and cfg.model.markers == "plain"
    with pytest.raises(BiorelError) as e:  # a joint-model key is unknown to the classifier
        load_config(None, ["--model.architecture", "biorel.RelationClassifier.v1", "--model.pair_dim", "64"])
    assert e.value.code == "E402" and "model.pair_dim" in str(e.value) and "unknown key" in str(e.value)
    with pytest.raises(BiorelError) as e:
        load_config(None, ["--model.architecture", "biorel.NoSuch.v1"])
    assert e.value.code == "E402" and "model.architecture" in str(e.value) and "biorel.JointNERRE.v1" in str(e.value)


def test_overrides_forms_and_types(tmp_path):
    p = tmp_path / "c.toml"
    p.write_text('[training]\nlr = 1e-4\n[model]\nscheme = "BIO"\n')
    cfg = load_config(
        p,
        [
            "--training.lr",
            "3e-5",
            "--model.scheme=BILOU",
            "--training.seed",
            "-1",
            "--model.entity_types",
            '["A", "B"]',
            "--model.encoder.name",
            "my/folder",
            "--training.bf16",
            "on",
        ],
    )
    assert cfg.training.lr == 3e-5 and cfg.model.scheme == "BILOU" and cfg.training.seed == -1
    assert cfg.model.entity_types == ["A", "B"] and cfg.model.encoder.name == "my/folder" and cfg.training.bf16 == "on"
    assert parse_overrides(["--training.max-steps", "5"]) == {"training.max_steps": 5}


def test_yaml_config(tmp_path):
    p = tmp_path / "c.yaml"
    p.write_text("training:\n  epochs: 2\nmodel:\n  context: none\n")
    cfg = load_config(p)
    assert cfg.training.epochs == 2 and cfg.model.context == "none"


@pytest.mark.parametrize(
    "text,overrides,code,needle",
    [
        ("[training]\nlr = -1\n", [], "E402", "training.lr"),
        ("[training]\nlearning_rate = 1\n", [], "E402", "unknown key"),
        ("[model]\nscheme = 'BIOES'\n", [], "E402", "model.scheme"),
        ("[model]\nmax_length = 64\nstride = 62\n", [], "E402", "stride"),
        ("[training\n", [], "E401", "TOML"),
        ("", ["--training.lr"], "E403", "no value"),
        ("", ["training.lr", "1"], "E403", "starting with --"),
        ("", ["--training..lr", "1"], "E403", "empty key"),
        ("[training]\nlr = 1e-4\n", ["--training.lr.x", "1"], "E403", "not a section"),
        ("", ["--nosuch.key", "1"], "E402", "nosuch"),
    ],
)
def test_bad_configs_give_coded_errors(tmp_path, text, overrides, code, needle):
    p = tmp_path / "c.toml"
    p.write_text(text)
    with pytest.raises(BiorelError) as e:
        load_config(p, overrides)
    assert e.value.code == code and needle in str(e.value)


def test_missing_file_is_e400(tmp_path):
    with pytest.raises(BiorelError) as e:
        load_config(tmp_path / "nope.toml")
    assert e.value.code == "E400"


def test_defaults_roundtrip():
    cfg = Config()
    assert Config.model_validate(cfg.to_dict()) == cfg
