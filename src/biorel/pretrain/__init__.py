"""Masked-language-model pretraining of encoders on domain text (DAPT).

* :mod:`.corpus` builds the corpus: every abstract of the registered datasets,
  the mirror's PubMed files and the user's files, de-duplicated, test splits
  left out (:mod:`.overlap` says what counts as test text);
* :mod:`.config` is the ``biorel pretrain`` config;
* :mod:`.mlm` packs tokenised text into blocks and masks whole words;
* :mod:`.vocab` adds frequent domain words to a WordPiece vocabulary;
* :mod:`.run` is the training loop (torch is imported there only).

``docs/pretrain.md`` has the commands and the corpus policy.
"""

from __future__ import annotations

from typing import Any

from .corpus import CorpusReport, build_corpus


def pretrain(config: Any, **options: Any) -> Any:
    """Run MLM pretraining from a :class:`~biorel.pretrain.config.PretrainConfig`
    (see :func:`biorel.pretrain.run.pretrain`)."""
    from .run import pretrain as run

    return run(config, **options)


__all__ = ["CorpusReport", "build_corpus", "pretrain"]
