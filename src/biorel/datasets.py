"""The dataset registry: where each benchmark corpus comes from and how to read it.

Every dataset is a :class:`DatasetSpec` registered in ``registry.datasets`` under a
versioned name (``biorel.BC5CDR.v1``) and a short alias (``bc5cdr``). A spec lists
its files (:class:`DataFile`: the path inside the dataset mirror, the official URL
pinned to a source commit, the sha256) and, per variant and split, how to read
them (:class:`Part`: file, format, reader options).

Files are found by :func:`fetch_file`, in this order:

1. the cache (``$BIOREL_CACHE``, default ``~/.cache/biorel``), same layout as the
   mirror, if the file there has the right sha256 (a stale copy is replaced);
2. the offline mirror ``$BIOREL_DATA_MIRROR`` (the layout of the shared datasets
   folder), read in place after its sha256 is checked (mismatch: E031);
3. a download of the official URL into the cache (urllib), sha256 checked
   (E031); a failed download is E032, whose message says to set the mirror.
   A file with no URL (converted here, not upstream) must be in the mirror (E033).

Archives (the DDI brat zip) are extracted into the cache once, refusing members
with absolute paths or ``..`` (E167).

Reading: :func:`iter_dataset` streams documents, :func:`load_dataset` returns a
list. ``split`` picks train/dev/test, ``variant`` the file set (e.g. ``pubtator``
or ``bioc-xml`` for BC5CDR), ``fold`` the cross-validation fold (GAD, EU-ADR:
1..10). Splits with known upstream quirks (NCBI-disease train: a duplicated
PMID and one offset mismatch; BC2GM train: one GENE and three ALTGENE texts that
disagree with their offsets) are read leniently by default: the skipped items go
to ``diagnostics``, or, when none is given, into one warning at the end.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import warnings
import zipfile
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path
from typing import Any
from collections.abc import Iterator, Mapping

from .errors import DatasetError, Diagnostics, error
from .jobs import atomic_dir, cache_dir, exclusive_lock
from .registry import registry
from .types import Document

MIRROR_ENV = "BIOREL_DATA_MIRROR"
_CHUNK = 1 << 20


# ---- specs -------------------------------------------------------------------


@dataclass(frozen=True)
class DataFile:
    """One upstream file. ``path`` is relative to the mirror root; ``url`` is the
    official location pinned to a commit (``None``: a file converted here, only in
    the mirror)."""

    path: str
    sha256: str
    url: str | None


@dataclass(frozen=True)
class Ref:
    """A reader option whose value is the local path of another dataset file."""

    path: str


@dataclass(frozen=True)
class Part:
    """One read: ``file`` (a :class:`DataFile` path) in ``format`` with ``options``.
    For an archive, ``member`` is the folder or file inside the extracted archive."""

    file: str
    format: str
    options: Mapping[str, Any] = field(default_factory=dict)
    member: str | None = None


@dataclass(frozen=True)
class SplitSpec:
    parts: tuple[Part, ...]
    #: read leniently by default (known upstream quirks, described in ``note``)
    lenient: bool = False
    note: str = ""
    #: published counts for this split (documents, mentions, relations, ...)
    expected: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    title: str
    source: str
    license: str
    files: tuple[DataFile, ...]
    #: variant -> split -> how to read it; for fold datasets the split key is "<split>/<fold>"
    variants: Mapping[str, Mapping[str, SplitSpec]]
    folds: tuple[int, ...] = ()
    note: str = ""

    @property
    def default_variant(self) -> str:
        return next(iter(self.variants))

    def splits(self, variant: str | None = None) -> list[str]:
        keys = self.variants[variant or self.default_variant]
        return list(dict.fromkeys(k.split("/")[0] for k in keys))

    def file(self, path: str) -> DataFile:
        for f in self.files:
            if f.path == path:
                return f
        raise KeyError(path)

    def formats(self) -> list[str]:
        return sorted({p.format for v in self.variants.values() for s in v.values() for p in s.parts})


# ---- locations ----------------------------------------------------------------


def mirror_dir() -> Path | None:
    env = os.environ.get(MIRROR_ENV)
    return Path(env) if env else None


def sha256_file(path: str | os.PathLike) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(_CHUNK), b""):
            h.update(block)
    return h.hexdigest()


_verified: dict[tuple[str, int, int], str] = {}


def _sha_cached(path: Path) -> str:
    """sha256 of ``path``, memoised per (path, size, mtime) within the process."""
    st = path.stat()
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    if key not in _verified:
        _verified[key] = sha256_file(path)
    return _verified[key]


def _download(url: str, target: Path, expected: str, *, timeout: float = 60.0) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=target.name, suffix=".part")
    tmp = Path(tmp_name)
    h = hashlib.sha256()
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as resp:
            for block in iter(lambda: resp.read(_CHUNK), b""):
                h.update(block)
                out.write(block)
    except (urllib.error.URLError, OSError, ValueError) as e:
        tmp.unlink(missing_ok=True)
        reason = getattr(e, "reason", None) or e
        raise error("E032", cls=DatasetError, url=url, reason=str(reason), hint=f"the file goes to <mirror>/{_rel_hint(target)}") from None
    if h.hexdigest() != expected:
        tmp.unlink(missing_ok=True)
        raise error("E031", cls=DatasetError, path=url, expected=expected, found=h.hexdigest())
    os.replace(tmp, target)
    return target


def _rel_hint(target: Path) -> str:
    try:
        return str(target.relative_to(cache_dir()))
    except ValueError:
        return target.name


def fetch_file(f: DataFile, *, dataset: str = "?", cache: Path | None = None, mirror: Path | None | str = "env") -> Path:
    """Local path of ``f``: from the cache, else the mirror, else a download."""
    cache = cache or cache_dir()
    mirror = mirror_dir() if mirror == "env" else (Path(mirror) if mirror else None)
    cached = cache / f.path
    if cached.is_file():
        if _sha_cached(cached) == f.sha256:
            return cached
        cached.unlink()  # stale or corrupt copy: fetch again
    if mirror is not None and (mirror / f.path).is_file():
        local = mirror / f.path
        found = _sha_cached(local)
        if found != f.sha256:
            raise error("E031", cls=DatasetError, path=str(local), expected=f.sha256, found=found)
        return local
    if f.url is None:
        raise error("E033", cls=DatasetError, name=dataset, file=f.path, mirror=mirror or f"(unset: set {MIRROR_ENV})", cache=cache)
    with exclusive_lock(cached):  # one downloader per cache file (E050 for a second one)
        return _download(f.url, cached, f.sha256)


def _safe_members(zf: zipfile.ZipFile, archive: Path) -> list[zipfile.ZipInfo]:
    out = []
    for info in zf.infolist():
        name = info.filename
        parts = Path(name).parts
        if name.startswith(("/", "\\")) or ".." in parts or (parts and ":" in parts[0]):
            raise error("E167", cls=DatasetError, member=name, archive=archive, reason="absolute path or '..' would escape the extraction folder")
        out.append(info)
    return out


def extract_archive(archive: Path, f: DataFile, *, cache: Path | None = None) -> Path:
    """Extract a zip once into ``<cache>/<path without .zip>/`` and return that folder."""
    cache = cache or cache_dir()
    target = cache / f.path[: -len(".zip")] if f.path.endswith(".zip") else cache / (f.path + ".d")
    marker = target / ".biorel-extracted"
    if marker.is_file() and marker.read_text().strip() == f.sha256:
        return target
    # one extractor per cache folder (E050 for a second one); the folder is
    # built beside the old one and swapped in whole (biorel.jobs.atomic_dir)
    with exclusive_lock(target), atomic_dir(target) as tmp:
        try:
            with zipfile.ZipFile(archive) as zf:
                zf.extractall(tmp, members=_safe_members(zf, archive))
        except zipfile.BadZipFile as e:
            raise error("E168", cls=DatasetError, archive=archive, reason=str(e)) from None
        (tmp / ".biorel-extracted").write_text(f.sha256 + "\n")
    return target


# ---- the public API -----------------------------------------------------------


def get_dataset(name: str) -> DatasetSpec:
    """The spec registered under ``name`` (alias or versioned name); E001 if unknown."""
    return registry.datasets.get(name)


def list_datasets() -> list[str]:
    """Short names of the registered datasets."""
    return sorted({spec.name for _, spec in registry.datasets.items()})


def fetch(name: str, *, cache: Path | None = None, mirror: Path | None | str = "env") -> dict[str, Path]:
    """Make every file of dataset ``name`` available locally (see the module doc);
    returns mirror-relative path -> local path. Archives are also extracted."""
    spec = get_dataset(name)
    out: dict[str, Path] = {}
    for f in spec.files:
        out[f.path] = fetch_file(f, dataset=spec.name, cache=cache, mirror=mirror)
        if f.path.endswith(".zip"):
            extract_archive(out[f.path], f, cache=cache)
    return out


def dataset_path(name: str, *, cache: Path | None = None, mirror: Path | None | str = "env") -> Path:
    """The local folder of dataset ``name`` (fetching the files first): the top folder
    of its first file, e.g. ``<mirror>/bc5cdr`` or ``<cache>/bc5cdr``; for a dataset
    that is an archive, the folder it was extracted to."""
    spec = get_dataset(name)
    paths = fetch(name, cache=cache, mirror=mirror)
    first = spec.files[0].path
    if first.endswith(".zip"):
        return extract_archive(paths[first], spec.files[0], cache=cache)
    local = paths[first]
    depth = len(Path(first).parts) - 1
    return local.parents[depth - 1] if depth >= 1 else local.parent


def _split_spec(spec: DatasetSpec, split: str | None, variant: str | None, fold: int | None) -> tuple[str, SplitSpec]:
    variant = variant or spec.default_variant
    if variant not in spec.variants:
        raise error(
            "E164", cls=DatasetError, name=spec.name, option="variant", reason=f"unknown variant '{variant}'; valid: {', '.join(spec.variants)}"
        )
    table = spec.variants[variant]
    split = split or spec.splits(variant)[0]
    if spec.folds:
        if fold is None:
            raise error(
                "E164",
                cls=DatasetError,
                name=spec.name,
                option="fold",
                reason=f"this dataset has {len(spec.folds)} cross-validation folds: give fold={spec.folds[0]}..{spec.folds[-1]}",
            )
        if fold not in spec.folds:
            raise error("E164", cls=DatasetError, name=spec.name, option="fold", reason=f"no fold {fold!r}; valid: {spec.folds[0]}..{spec.folds[-1]}")
        key = f"{split}/{fold}"
    else:
        if fold is not None:
            raise error("E164", cls=DatasetError, name=spec.name, option="fold", reason="this dataset has no folds")
        key = split
    if key not in table:
        raise error("E030", cls=DatasetError, name=spec.name, split=split, choices=", ".join(spec.splits(variant)))
    return key, table[key]


def _part_source(spec: DatasetSpec, part: Part, cache: Path | None, mirror) -> tuple[Path, dict[str, Any]]:
    local = fetch_file(spec.file(part.file), dataset=spec.name, cache=cache, mirror=mirror)
    if part.member is not None:
        local = extract_archive(local, spec.file(part.file), cache=cache) / part.member
    options = {
        k: str(fetch_file(spec.file(v.path), dataset=spec.name, cache=cache, mirror=mirror)) if isinstance(v, Ref) else v
        for k, v in part.options.items()
    }
    return local, options


_LOAD_OPTIONS = ("split", "variant", "fold", "lenient", "diagnostics", "validate", "reader_options", "cache", "mirror")


def iter_dataset(
    name: str,
    split: str | None = None,
    *,
    variant: str | None = None,
    fold: int | None = None,
    lenient: bool | None = None,
    diagnostics: Diagnostics | None = None,
    validate: bool = True,
    reader_options: Mapping[str, Any] | None = None,
    cache: Path | None = None,
    mirror: Path | None | str = "env",
) -> Iterator[Document]:
    """Stream the documents of one split (see the module doc for the options).

    The split is looked up and its files fetched before this returns, so a bad
    name, split, fold or file raises here; documents are then read lazily.
    """
    from . import io

    spec = get_dataset(name)
    key, split_spec = _split_spec(spec, split, variant, fold)
    if lenient is None:
        lenient = split_spec.lenient
    own = diagnostics is None and lenient
    diags = Diagnostics() if own else diagnostics
    sources = [(*_part_source(spec, part, cache, mirror), part) for part in split_spec.parts]
    streams = (
        io.read(path, part.format, lenient=lenient, diagnostics=diags, validate=validate, **{**opts, **(reader_options or {})})
        for path, opts, part in sources
    )

    def stream() -> Iterator[Document]:
        yield from chain.from_iterable(streams)
        if own and len(diags):
            shown = "; ".join(str(p) for p in diags.problems[:3])
            warnings.warn(
                f"{spec.name} {key}: {len(diags)} problem(s) skipped while reading leniently ({split_spec.note}): {shown}",
                DatasetWarning,
                stacklevel=3,
            )

    return stream()


def load_dataset(name: str, split: str | None = None, **options) -> list[Document]:
    """All documents of one split as a list: ``load_dataset("gad", split="test", fold=1)``.

    Options: ``variant``, ``fold``, ``lenient``, ``diagnostics``, ``validate``,
    ``reader_options`` (passed to the format reader), ``cache``, ``mirror``.
    Unknown options are E165.
    """
    unknown = sorted(set(options) - set(_LOAD_OPTIONS))
    if unknown:
        raise error("E165", cls=DatasetError, options=", ".join(unknown), name=name, choices=", ".join(_LOAD_OPTIONS))
    return list(iter_dataset(name, split, **options))


def sample_path() -> Path:
    """The bundled sample corpus: five made-up abstracts in PubTator format
    (see ``biorel/data/sample/README.md``)."""
    from importlib.resources import files

    return Path(str(files("biorel") / "data" / "sample" / "sample.PubTator.txt"))


class DatasetWarning(UserWarning):
    """Problems skipped while reading a dataset split leniently by default."""


def register(spec: DatasetSpec, version: int = 1, *, aliases: tuple[str, ...] = ()) -> DatasetSpec:
    """Register ``spec`` as ``biorel.<name>.v<version>`` with its name as alias."""
    registry.datasets.register(f"biorel.{spec.name}.v{version}", spec, aliases=(spec.name, *aliases))
    return spec


# ---- the catalogue -------------------------------------------------------------
#
# Every sha256 below was computed from the files of the shared dataset mirror;
# every URL is the file in the source repository named in that mirror's
# README.md, pinned to the commit the mirror was taken from.

#: format names as registered by the biorel.io format modules
PUBTATOR, BIOC_XML, BIOC_JSON, BRAT = "pubtator", "bioc-xml", "bioc-json", "brat"
CONLL, BC2 = "conll", "bc2"
GAD_TSV, CHEMPROT_SCIBERT, PURE_JSON = "sentence-tsv", "chemprot-scibert", "pure"
LOTUS, ABROAD = "lotus", "abroad"

_SHA256 = {
    "abroad_re_lotus/examples-validation__seq2rel__sub_valid.tsv": "baccbe852850f2d58f0403131fa3d26fe0103c5ca90c4fc0ea62ebdf29bb38f4",
    "abroad_re_lotus/examples-validation__sub_valid.json": "fb6f4055276b89dc88b25ae5908d2b2349a325dd48fb25b728bfa447fb07c41d",
    "abroad_re_lotus/examples__example-input.json": "2b46b9676cc3bb6d8ada7451dbf582fb1f1a9f177aa774d5eae64cd8d546fe63",
    "abroad_re_lotus/gme_sampler_example/expected_top_10.tsv": "c4c687dd79fe12168f43ab7ce839365b8a950f71e25bbc273a9694119928677f",
    "abroad_re_lotus/gme_sampler_example/test_data.csv": "0b18da561cc1064c2f344bcd9c15622cd22b139849e391c6c175e6c4e679e0a2",
    "bc2gm/conll/devel.tsv": "639fe423c00beeb33e83ef71e90af765c6d9cde61f52df0fbbb9d624302f5437",
    "bc2gm/conll/test.tsv": "ac7745e40d97ffdf603aae661da37fa6065a7e2f9067ea1f47bfae3e5bf5d583",
    "bc2gm/conll/train.tsv": "07f696560252dc5a3d47a5cea1ce36b7434865131b5bc4b3a6d1fb02a382ce10",
    "bc2gm/devel-split/devel/ALTGENE.eval": "0cd0d70f3104ee34044e5233693abc8aad4d565968e98a46eed78afc05a3097b",
    "bc2gm/devel-split/devel/GENE.eval": "c4d60dcfd87f186cd074d083e763990ca6457cb3c29ae59cf11380d6444b8588",
    "bc2gm/devel-split/devel/devel.in": "e6da72fe9aef564dcdd1468b0ffe2b91d17dffe611c71d06a94f5c65a52793e0",
    "bc2gm/devel-split/train/ALTGENE.eval": "599135deabd9b35882df04df2f1d2abac0d7bc7afc4db9fff8848df213ce3829",
    "bc2gm/devel-split/train/GENE.eval": "4c17a7dc1e49af94047baa7ea8d059bc3b3783c3bfb686d4729b717043c42b18",
    "bc2gm/devel-split/train/train.in": "81ef81a37ff629fa00b34d52668a904ae20f8ad64485c659c8aeeaf912923789",
    "bc2gm/original/test/ALTGENE.eval": "07bee7571c3197db1b886cc790c6f488f2408d3d012006865cc926d93b6c7b8d",
    "bc2gm/original/test/GENE.eval": "e6df54b52d337a02a5b11432d132b28c7c657f717e1fe6e8035d3c7b2a18bf4f",
    "bc2gm/original/test/test.in": "dc1b919a143f99d0cb9182a3a26b1c98e46799d052a463d4c212c49532f123fd",
    "bc2gm/original/train/ALTGENE.eval": "39b33098791c57747db1f8b6f91109879310fc726ba52dd3e446f9653d795bf5",
    "bc2gm/original/train/GENE.eval": "6f2b01a25d700f1fddcc7dea6a1b722498b5a9ad6cf12b19ec9d36ab3b63ad87",
    "bc2gm/original/train/train.in": "408f32a796e7aa8ed5b6428c1887e084282b42a02409bba151d0bda3698ca6e3",
    "bc5cdr/CDR_DevelopmentSet.PubTator.txt": "9e18d8e700168887a7919e62f67ac2ce2357e3f409a48ee992906abdd80fe3e5",
    "bc5cdr/CDR_TestSet.PubTator.txt": "a3c48d5f35bdfce20c2371778abedc9fd24d1da092207072e5181ad53c8d0e2f",
    "bc5cdr/CDR_TrainingSet.PubTator.txt": "7afcec134e3d4871e74b0398d92850d3c9ac94c0bdc780003f2d60184c012bd8",
    "bc5cdr/bioc_json_converted/CDR_DevelopmentSet.BioC.json": "169d74386ad364d190e29ef63cae0e7e1022828f05e6a146159bafd319e84e2b",
    "bc5cdr/bioc_json_converted/CDR_TestSet.BioC.json": "267846981a8547f2fce52e2a64938c82b86e5a1c6d47f54e085df1713c6963b5",
    "bc5cdr/bioc_json_converted/CDR_TrainingSet.BioC.json": "0b39a3b2b78a20bbba8fcd104ba891f62f81613f715c3a4c60a89679d0e2d863",
    "bc5cdr/bioc_xml/CDR_DevelopmentSet.BioC.xml": "6ec138899a4b6448b40adf4e159a06184f68f8a5a7e13575903c5e127d734d88",
    "bc5cdr/bioc_xml/CDR_TestSet.BioC.xml": "32d94f03c52e028931513ab52719b5bc7bb8e4fc0e3d99bba37e2b7442e3da35",
    "bc5cdr/bioc_xml/CDR_TrainingSet.BioC.xml": "37d03c8ebb22369fbf8f2099e4bc6570accba8473e9129dddd6278e7e01e1adc",
    "biored/Dev.BioC.JSON": "b03a7bf3ae7d60bcb2af8ad75d1808dc2892175c99cd042a5222a2f78a5c21e4",
    "biored/Dev.BioC.XML": "0127fcf9330d8f5232ef6fe7fcb4084f0a4e12fa2d47ecab6d6a7cce3eccad7c",
    "biored/Dev.PubTator": "b648faefe4d8b76029746afbec437f31398ce35d2e691eb734aaac5db5dc5736",
    "biored/Test.BioC.JSON": "928cde234dbcd75d35241d0d0bda08218564607628cbc958d6d1eea483511a27",
    "biored/Test.BioC.XML": "c70af64aadda3b95e3966b056d3cffc1404f052066a778f02c2bb520291dd223",
    "biored/Test.PubTator": "eee53e2da22cd49a92f300d8d76df610cc04b22bf9f8b09e874bfb8b280ab240",
    "biored/Train.BioC.JSON.converted_from_XML": "966798bcde2b31446f08e837096d73d3ab2ca2db429c923880c1ad37fe7f14b6",
    "biored/Train.BioC.XML": "3f98782bf6309b8afa77c95483a3d054a91f2d449fb0fbfff634787ae5e821ab",
    "biored/Train.PubTator": "57f96059c1dc5b8a738ee0b7ec5254cf38a1cbb50cd12682809cad627f8c6b36",
    "chemprot_pure_json/dev.json": "e0184dc3b398670eba4f28779b8f366be8d1212fc989ec3ff6c98daf5b067ad2",
    "chemprot_pure_json/test.json": "7a7a7e65e646b443d9eeea7ea885595a98bb03ded60693a7dba0c7ff5c3e810c",
    "chemprot_scibert/dev.jsonl": "bfe8f39e5146ad4bb16b23707dade850546a305047bc666f6f6824c6a7e3df2f",
    "chemprot_scibert/test.jsonl": "372249c85ffea6d9a18dc5168cf45841b3d79b03412d6c620381cfc0dd3d6d49",
    "chemprot_scibert/train.jsonl": "ab17b85c4fb869b2338d7c9617414e63f3c7225e5005920b18d9cd996f1049d8",
    "ddi2013/DDICorpus-2013(BRAT).zip": "57c03cdbd3b88d95d2c29e098c95e3ab4e6071e1a424041d48ad76098610f2c5",
    "euadr/1/test.tsv": "255b8f1aabdcb2452084e00d9d71768cec58d66bf3238246a2a717b9174e5804",
    "euadr/1/train.tsv": "1c82ccf65c49b1c0298c08f0f091a7815afd11afa26075cf40eef7d2d11de5b5",
    "euadr/10/test.tsv": "ac8a7c7043fef85bc530baa5653770922ba6e413f471609b1e68365c6b94fc3d",
    "euadr/10/train.tsv": "4ffbc0686c744277360a8d1f3f1cea44f683ccf02d67395dfb8f6fc3bd2ca586",
    "euadr/2/test.tsv": "406c65631e255c05eab66e3d887a02e4b44eee245aa8949b6c57921afde2f2ea",
    "euadr/2/train.tsv": "132189135050d33f3ef2cb5374ba0175a2433fbab0887c6b7535d3e3cdb5fcb5",
    "euadr/3/test.tsv": "ebfaf713953737a772fbebffdbd194bbc833de76fbbe6be9e270c646cd77c75b",
    "euadr/3/train.tsv": "3b98c43ef9fadbac85fb07d086c59c20ce0b01c4abe8119e8b0a72657bc8769d",
    "euadr/4/test.tsv": "41d16154e691659b03edcdeaebcc2d3b18bf865d138ba6d5ca8710c2b117f629",
    "euadr/4/train.tsv": "ee4fe1298fc0e5b1444e8d464f57dd8c152b3646b35ad4118f742c3118b0ff1c",
    "euadr/5/test.tsv": "0e7093ff086ab5d915b0b21ec736a8177be3be60401d0d9ff65ef666130a0ed6",
    "euadr/5/train.tsv": "3849a2dc86d76089124625c7fb9bd86a30426fe8e83736e6f7ae7c5f4bcac647",
    "euadr/6/test.tsv": "2c967cba3b01b073f70388ddefb045b9d1e45322e11873b62a3c704fdb4fcbd3",
    "euadr/6/train.tsv": "84a1028828024e3474ad4456973988ae2328925f4a2a1676c276ab19b822ec41",
    "euadr/7/test.tsv": "ea4e0b36c4821018d179a1ebb8dfaf462311b02c37feac1b6350e4e2bedfbd14",
    "euadr/7/train.tsv": "a863fb744fdadc464dc0e950ccdf8735d8ef5b90a828014354a83b84caca7d75",
    "euadr/8/test.tsv": "5ae92cba28573121a0e17aaa22b8803945ac845c6a22469dfdb4fb8fd9bd1777",
    "euadr/8/train.tsv": "5d4e741dbc84a2bc1241f4f3a4c4962009c17108084050b619869916dab17734",
    "euadr/9/test.tsv": "cf854f2c3a0cd46b2cbc59342f60bae79b1583a9f5c71179f766a95b49657018",
    "euadr/9/train.tsv": "9b52f656a6893ea8efe9068b2448a70e36b6de9c566a6da92895ccc17d254596",
    "gad/1/test.tsv": "68fe2b2bddefac2cd5d35b4bc8a13bceee95ee9a582a623632981e893cdb512e",
    "gad/1/train.tsv": "21e3765852a13cf03e6e759e201c5ad2d18b10d3ab05a8ac6bd7510f18f68fec",
    "gad/10/test.tsv": "d12df5d5418f91ff0170511593489b87e4046e9ca04e4a5cea14a5334a2982d2",
    "gad/10/train.tsv": "0296153d9c30da60ab73727c85deaf7a6b0149e43b06b42316227419b257d03b",
    "gad/2/test.tsv": "51600ff88ed405725e8860f11b8c2d17cbb38b420a8faa83eaaf44c21bbb89d4",
    "gad/2/train.tsv": "c920a8977d3963708be4115d440c4ad04f09de2d9facd3b3b64082287cc6e09a",
    "gad/3/test.tsv": "72058831d5c983b4b9a5db93011c851c02cd7be4c91df271502df3f2dccce50a",
    "gad/3/train.tsv": "69993033b7d9717cac902d2108ce9e5cb65a294da5a342043cd7a76e9e459cac",
    "gad/4/test.tsv": "9bf6dd6986899367f8e028fa5a24f02b15dabb2621e344d6d8e4787c056f1de6",
    "gad/4/train.tsv": "980f3fe19676dac4e40595b0a6c76965161de341cd9a304ec493d8e003a61df4",
    "gad/5/test.tsv": "dbac9eba54f137ce01d3b29bc6dd4f61a2881ef0a2990193ff53b1d95f1a6e30",
    "gad/5/train.tsv": "25b2f6ff645839e6cf55f12526f3692bb689176e9f1bd757cfc52cb71ca8109d",
    "gad/6/test.tsv": "7d6ec806d9152670bcfecb6f56703116756e51d438bc16e9aed272186f7af679",
    "gad/6/train.tsv": "5588e16c9e9698c8fbf73d26814202e0d1016721b5f5415c0d75e474159a552c",
    "gad/7/test.tsv": "32462105be3f2637d9b9aa452101812b329f0350a10de31dfff240aca4766b0e",
    "gad/7/train.tsv": "f8e5b6b4498978d484d098da4168e91a54894d383ad5af75ea6f1fd96ef4a0bf",
    "gad/8/test.tsv": "e78c0eb47929002b99ff82534853a6261376c461e479759e50456a84be7c151f",
    "gad/8/train.tsv": "f4ad27106243e667c3e2fe6040393a9baf62cb4edee5ceada7105db6bd77141f",
    "gad/9/test.tsv": "5e673314a57edf65020d37fe3d36d59c39b878a79a36d30f44cef1344af0abf5",
    "gad/9/train.tsv": "41c7f5b639a64058d5a09e698503463147369bb9b8c61f51da8bca582ca4464b",
    "ncbi_disease/NCBIdevelopset_corpus.txt": "02db559974624ae9cbe6cd95d64d953e6926bb63afb6b25b63e53bd8b41a4b55",
    "ncbi_disease/NCBItestset_corpus.txt": "61c8050bf6979ef7b943ec1158dfc03b651ea3367d4c37356f9de4841e85c9a3",
    "ncbi_disease/NCBItrainset_corpus.txt": "f311381b28a6d0f641f57f4a963bb83619c2bdec5cd9caabb1381f894d5db817",
    "ncbi_disease/conll/devel.tsv": "b4e1e7efcc2a35047bf2f3d281648357470e674f555d4a26a0049ac37d59cc61",
    "ncbi_disease/conll/test.tsv": "8f088ce45dc4746592188f9e69de3d89d87f3bb8f0ed8c4a287d018123fa148d",
    "ncbi_disease/conll/train.tsv": "5f87b0de649eccff21e6d6e49e304aace808056ecae55225ea31602192517be9",
}


def _gh(repo: str, commit: str, path: str) -> str:
    """A raw.githubusercontent.com URL pinned to ``commit``."""
    return f"https://raw.githubusercontent.com/{repo}/{commit}/{urllib.parse.quote(path)}"


def _files(repo: str | None, commit: str | None, pairs: list[tuple[str, str | None]]) -> tuple[DataFile, ...]:
    """``(mirror path, upstream path or None)`` pairs -> :class:`DataFile`s."""
    return tuple(DataFile(m, _SHA256[m], _gh(repo, commit, u) if u is not None and repo else None) for m, u in pairs)


def _split(*parts: Part, lenient: bool = False, note: str = "", **expected: int) -> SplitSpec:
    return SplitSpec(tuple(parts), lenient=lenient, note=note, expected=expected)


# BC5CDR. Origin: BioCreative V CDR task, CDR.Corpus.v010516 (CDR_Data.zip from
# https://biocreative.bioinformatics.udel.edu/tasks/biocreative-v/track-3-cdr/),
# Li et al. 2016, Database baw068. Mirrored byte-verbatim from the repository below.
_BC5_REPO, _BC5_COMMIT = "mahdi-khoshmaram/bc5cdr-xml-to-json-converter", "9cadbff9c458516e21ea3ed586592af02d5b6aa4"
_BC5_SETS = {"train": "Training", "dev": "Development", "test": "Test"}
_BC5_COUNTS = {  # documents, PubTator mentions, valid BioC annotations (composites split), CID relations
    "train": (500, 9385, 9570 - 3, 1038),
    "dev": (500, 9591, 9773 - 1, 1012),
    "test": (500, 9809, 9928, 1066),
}
# The upstream BioC files hold 3 (train) and 1 (dev) discontinuous annotations whose
# text does not match their offsets (e.g. 'atypical absence seizures' over ' atypical
# absenc' + 'seizures'); those splits are read leniently and skip them.
_BC5_BIOC_QUIRKS = "upstream BioC: discontinuous annotations whose text disagrees with their offsets (3 in train, 1 in dev)"


def _bc5_bioc(path: str, fmt: str, key: str, counts: tuple[int, int, int, int]) -> SplitSpec:
    lenient = key in ("train", "dev")
    return _split(
        Part(path, fmt), lenient=lenient, note=_BC5_BIOC_QUIRKS if lenient else "", documents=counts[0], mentions=counts[2], relations=counts[3]
    )


register(
    DatasetSpec(
        name="bc5cdr",
        title="BioCreative V CDR (chemical-disease relations)",
        source=f"github.com/{_BC5_REPO}@{_BC5_COMMIT} (original/); upstream BioCreative V CDR",
        license="not stated; NLM/BioCreative corpus (bigbio: public domain mark). Cite Li et al. 2016.",
        files=_files(
            _BC5_REPO,
            _BC5_COMMIT,
            [
                *[(f"bc5cdr/CDR_{s}Set.PubTator.txt", f"original/CDR_{s}Set.PubTator.txt") for s in _BC5_SETS.values()],
                *[(f"bc5cdr/bioc_xml/CDR_{s}Set.BioC.xml", f"original/CDR_{s}Set.BioC.xml") for s in _BC5_SETS.values()],
                # BioC JSON converted from the BioC XML with PyPI bioc 2.1 for the mirror: no upstream URL
                *[(f"bc5cdr/bioc_json_converted/CDR_{s}Set.BioC.json", None) for s in _BC5_SETS.values()],
            ],
        ),
        variants={
            "pubtator": {
                k: _split(Part(f"bc5cdr/CDR_{s}Set.PubTator.txt", PUBTATOR), documents=c[0], mentions=c[1], relations=c[3])
                for (k, s), c in zip(_BC5_SETS.items(), _BC5_COUNTS.values())
            },
            "bioc-xml": {
                k: _bc5_bioc(f"bc5cdr/bioc_xml/CDR_{s}Set.BioC.xml", BIOC_XML, k, c) for (k, s), c in zip(_BC5_SETS.items(), _BC5_COUNTS.values())
            },
            "bioc-json": {
                k: _bc5_bioc(f"bc5cdr/bioc_json_converted/CDR_{s}Set.BioC.json", BIOC_JSON, k, c)
                for (k, s), c in zip(_BC5_SETS.items(), _BC5_COUNTS.values())
            },
        },
        note="Composite mentions: one PubTator line with several ids; BioC XML splits them (CompositeRole).",
    ),
    aliases=("cdr",),
)

# BioRED (Luo et al. 2022). Official release files mirrored from the repository below.
_BR_REPO, _BR_COMMIT, _BR_DIR = "ndlongvn/BioRED-NER-RE", "637e02c9746de045ef56dbf543d77602783d63d9", "RE BioRED/data/BioRED"
_BR_SETS = {"train": "Train", "dev": "Dev", "test": "Test"}
_BR_COUNTS = {"train": (400, 13351, 4178), "dev": (100, 3533, 1162), "test": (100, 3535, 1163)}
register(
    DatasetSpec(
        name="biored",
        title="BioRED (biomedical relations, 6 entity and 8 relation types)",
        source=f"github.com/{_BR_REPO}@{_BR_COMMIT} ({_BR_DIR}/); upstream NCBI BioRED release",
        license="not stated; NCBI release (US government work). Cite Luo et al. 2022.",
        files=_files(
            _BR_REPO,
            _BR_COMMIT,
            [
                *[(f"biored/{s}.PubTator", f"{_BR_DIR}/{s}.PubTator") for s in _BR_SETS.values()],
                *[(f"biored/{s}.BioC.XML", f"{_BR_DIR}/{s}.BioC.XML") for s in _BR_SETS.values()],
                ("biored/Dev.BioC.JSON", f"{_BR_DIR}/Dev.BioC.JSON"),
                ("biored/Test.BioC.JSON", f"{_BR_DIR}/Test.BioC.JSON"),
                # Train.BioC.JSON is missing upstream; converted here from Train.BioC.XML: no URL
                ("biored/Train.BioC.JSON.converted_from_XML", None),
            ],
        ),
        variants={
            "pubtator": {
                k: _split(Part(f"biored/{s}.PubTator", PUBTATOR), documents=c[0], mentions=c[1], relations=c[2])
                for (k, s), c in zip(_BR_SETS.items(), _BR_COUNTS.values())
            },
            "bioc-xml": {
                k: _split(Part(f"biored/{s}.BioC.XML", BIOC_XML), documents=c[0], mentions=c[1], relations=c[2])
                for (k, s), c in zip(_BR_SETS.items(), _BR_COUNTS.values())
            },
            "bioc-json": {
                "train": _split(Part("biored/Train.BioC.JSON.converted_from_XML", BIOC_JSON), documents=400, mentions=13351, relations=4178),
                "dev": _split(Part("biored/Dev.BioC.JSON", BIOC_JSON), documents=100, mentions=3533, relations=1162),
                "test": _split(Part("biored/Test.BioC.JSON", BIOC_JSON), documents=100, mentions=3535, relations=1163),
            },
        },
        note="Relations are document-level between normalised ids; infons carry the novelty flag.",
    ),
)

# NCBI disease corpus (Dogan et al. 2014).
_NCBI_REPO, _NCBI_COMMIT = "spyysalo/ncbi-disease", "5a266c6fc76fb2b5184cfa397ff0a5ecdb133aec"
_NCBI_QUIRKS = "PMID 8528200 appears twice upstream and one mention's offsets do not match its text"
register(
    DatasetSpec(
        name="ncbi-disease",
        title="NCBI disease corpus (disease mentions, MeSH/OMIM ids)",
        source=f"github.com/{_NCBI_REPO}@{_NCBI_COMMIT} (original-data/, conll/)",
        license="NLM public domain notice (US government work). Cite Dogan et al. 2014.",
        files=_files(
            _NCBI_REPO,
            _NCBI_COMMIT,
            [
                ("ncbi_disease/NCBItrainset_corpus.txt", "original-data/train/NCBItrainset_corpus.txt"),
                ("ncbi_disease/NCBIdevelopset_corpus.txt", "original-data/devel/NCBIdevelopset_corpus.txt"),
                ("ncbi_disease/NCBItestset_corpus.txt", "original-data/test/NCBItestset_corpus.txt"),
                ("ncbi_disease/conll/train.tsv", "conll/train.tsv"),
                ("ncbi_disease/conll/devel.tsv", "conll/devel.tsv"),
                ("ncbi_disease/conll/test.tsv", "conll/test.tsv"),
            ],
        ),
        variants={
            "pubtator": {
                # 593 documents upstream, the second copy of 8528200 (11 mentions) skipped; 5145 - 11 - 1 mentions
                "train": _split(
                    Part("ncbi_disease/NCBItrainset_corpus.txt", PUBTATOR), lenient=True, note=_NCBI_QUIRKS, documents=592, mentions=5133
                ),
                "dev": _split(Part("ncbi_disease/NCBIdevelopset_corpus.txt", PUBTATOR), documents=100, mentions=787),
                "test": _split(Part("ncbi_disease/NCBItestset_corpus.txt", PUBTATOR), documents=100, mentions=960),
            },
            "conll": {
                "train": _split(Part("ncbi_disease/conll/train.tsv", CONLL, {"id_prefix": "train-"}), documents=5432, mentions=5145),
                "dev": _split(Part("ncbi_disease/conll/devel.tsv", CONLL, {"id_prefix": "dev-"}), documents=923, mentions=787),
                "test": _split(Part("ncbi_disease/conll/test.tsv", CONLL, {"id_prefix": "test-"}), documents=940, mentions=960),
            },
        },
        note="NER only. The CoNLL variant has one document per sentence.",
    ),
)

# BioCreative II gene mention (Smith et al. 2008).
_BC2_REPO, _BC2_COMMIT = "spyysalo/bc2gm-corpus", "018161681145daf751af037cb890f3a54f62a74d"
_BC2_QUIRKS = "1 GENE and 3 ALTGENE annotations in train have text that disagrees with their offsets"


def _bc2_part(folder: str, stem: str) -> Part:
    return Part(f"{folder}/{stem}.in", BC2, {"gene": Ref(f"{folder}/GENE.eval"), "altgene": Ref(f"{folder}/ALTGENE.eval")})


register(
    DatasetSpec(
        name="bc2gm",
        title="BioCreative II Gene Mention (BC2GM)",
        source=f"github.com/{_BC2_REPO}@{_BC2_COMMIT} (original-data/, devel-split/, conll/)",
        license="NCBI public domain notice (original data); MIT (the repository's conversions).",
        files=_files(
            _BC2_REPO,
            _BC2_COMMIT,
            [
                *[(f"bc2gm/original/{s}/{f}", f"original-data/{s}/{f}") for s in ("train", "test") for f in (f"{s}.in", "GENE.eval", "ALTGENE.eval")],
                *[
                    (f"bc2gm/devel-split/{s}/{f}", f"devel-split/{s}/{f}")
                    for s in ("train", "devel")
                    for f in (f"{s}.in", "GENE.eval", "ALTGENE.eval")
                ],
                *[(f"bc2gm/conll/{s}.tsv", f"conll/{s}.tsv") for s in ("train", "devel", "test")],
            ],
        ),
        variants={
            "original": {
                "train": _split(_bc2_part("bc2gm/original/train", "train"), lenient=True, note=_BC2_QUIRKS, documents=15000),
                "test": _split(_bc2_part("bc2gm/original/test", "test"), documents=5000, mentions=6331, alternatives=5068),
            },
            "devel-split": {
                "train": _split(_bc2_part("bc2gm/devel-split/train", "train"), lenient=True, note=_BC2_QUIRKS, documents=12500),
                "dev": _split(_bc2_part("bc2gm/devel-split/devel", "devel"), lenient=True, note=_BC2_QUIRKS, documents=2500),
            },
            "conll": {
                "train": _split(Part("bc2gm/conll/train.tsv", CONLL, {"id_prefix": "train-"}), documents=12500, mentions=15197),
                "dev": _split(Part("bc2gm/conll/devel.tsv", CONLL, {"id_prefix": "dev-"}), documents=2500, mentions=3061),
                "test": _split(Part("bc2gm/conll/test.tsv", CONLL, {"id_prefix": "test-"}), documents=5000, mentions=6325),
            },
        },
        note="NER only. ALTGENE alternatives: doc.metadata['bc2_altgene'] and mention infons['alternatives'].",
    ),
)

# ChemProt, SciBERT's sentence-level relation classification version.
_SB_REPO, _SB_COMMIT = "allenai/scibert", "06793f77d7278898159ed50da30d173cdc8fdea9"
register(
    DatasetSpec(
        name="chemprot",
        title="ChemProt (BioCreative VI), SciBERT sentence version (13 fine-grained labels, positives only)",
        source=f"github.com/{_SB_REPO}@{_SB_COMMIT} (data/text_classification/chemprot/)",
        license="no data license stated (repository code Apache-2.0); upstream BioCreative VI ChemProt.",
        files=_files(
            _SB_REPO, _SB_COMMIT, [(f"chemprot_scibert/{s}.jsonl", f"data/text_classification/chemprot/{s}.txt") for s in ("train", "dev", "test")]
        ),
        variants={
            "scibert": {
                "train": _split(Part("chemprot_scibert/train.jsonl", CHEMPROT_SCIBERT), documents=4169),
                "dev": _split(Part("chemprot_scibert/dev.jsonl", CHEMPROT_SCIBERT), documents=2427),
                "test": _split(Part("chemprot_scibert/test.jsonl", CHEMPROT_SCIBERT), documents=3469),
            },
        },
        note="Not the BLURB 5-class setting.",
    ),
)

# ChemProt, PURE span JSON of the end-to-end ChemProt repository (train.json not mirrored: >= 4 MiB).
_PURE_REPO, _PURE_COMMIT = "XuguangAi/end-to-end-ChemProt", "a42a0a1637d489c257a4eb36ee30aa0817c7718a"
register(
    DatasetSpec(
        name="chemprot-pure",
        title="ChemProt (BioCreative VI), PURE span JSON: entities + CPR:3/4/5/6/9 relations, sentence-level",
        source=f"github.com/{_PURE_REPO}@{_PURE_COMMIT} (chemprot_data/processed_data/json/)",
        license="repository MIT (code); data upstream BioCreative VI ChemProt.",
        files=_files(
            _PURE_REPO, _PURE_COMMIT, [(f"chemprot_pure_json/{s}.json", f"chemprot_data/processed_data/json/{s}.json") for s in ("dev", "test")]
        ),
        variants={
            "pure": {
                "dev": _split(Part("chemprot_pure_json/dev.json", PURE_JSON), documents=327, sentences=3360, mentions=8415, relations=1373),
                "test": _split(Part("chemprot_pure_json/test.json", PURE_JSON), documents=800, sentences=8179, mentions=20759, relations=3424),
            }
        },
        note="dev is the repository's re-split; test is the official test set minus cross-sentence relations (3,424 of 3,458).",
    ),
)

# DDI corpus 2013 (Herrero-Zazo et al. 2013), brat version.
_DDI_REPO, _DDI_COMMIT = "isegura/DDICorpus", "819b0fa538ed83ab2a8b4f5417bba3c03249b7f3"
_DDI_ZIP = "ddi2013/DDICorpus-2013(BRAT).zip"
_DDI_QUIRKS = "1 discontinuous mention whose first fragment starts with a space (Train/DrugBank/Eszopiclone_ddi.ann T36)"
register(
    DatasetSpec(
        name="ddi",
        title="DDI corpus 2013 (drug-drug interactions), brat standoff",
        source=f"github.com/{_DDI_REPO}@{_DDI_COMMIT}",
        license="CC BY-NC 4.0",
        files=_files(_DDI_REPO, _DDI_COMMIT, [(_DDI_ZIP, "DDICorpus-2013(BRAT).zip")]),
        variants={
            "brat": {
                "train": _split(
                    Part(_DDI_ZIP, BRAT, member="DDICorpusBrat/Train/DrugBank"),
                    Part(_DDI_ZIP, BRAT, member="DDICorpusBrat/Train/MedLine"),
                    lenient=True,
                    note=_DDI_QUIRKS,
                    documents=714,
                    mentions=14765 - 1,
                    relations=4021,
                ),
                "test": _split(
                    Part(_DDI_ZIP, BRAT, member="DDICorpusBrat/Test/DrugBank"),
                    Part(_DDI_ZIP, BRAT, member="DDICorpusBrat/Test/MedLine"),
                    documents=303,
                    mentions=3726,
                    relations=979,
                ),
            },
        },
        note="The brat test folders hold the DDI-extraction and DrugNER test documents together.",
    ),
    aliases=("ddi2013",),
)

# GAD and EU-ADR, BioBERT's 10-fold relation-classification versions.
_BB_REPO, _BB_COMMIT = "BioMedBERT/biomedbert", "9e5e1019d79d07c7aecc4eb49106203af1012663"
_FOLDS = tuple(range(1, 11))


def _fold_spec(name: str, folder: str, upstream: str, title: str, license: str, counts: dict[int, tuple[int, int]]) -> DatasetSpec:
    return DatasetSpec(
        name=name,
        title=title,
        source=f"github.com/{_BB_REPO}@{_BB_COMMIT} ({upstream}/<fold>/)",
        license=license,
        files=_files(_BB_REPO, _BB_COMMIT, [(f"{folder}/{k}/{s}.tsv", f"{upstream}/{k}/{s}.tsv") for k in _FOLDS for s in ("train", "test")]),
        variants={
            "biobert": {
                f"{s}/{k}": _split(Part(f"{folder}/{k}/{s}.tsv", GAD_TSV), documents=counts[k][i])
                for s, i in (("train", 0), ("test", 1))
                for k in _FOLDS
            }
        },
        folds=_FOLDS,
        note="Sentences with @GENE$/@DISEASE$ blinded; binary label.",
    )


register(
    _fold_spec(
        "gad",
        "gad",
        "datasets/RE/GAD",
        "GAD gene-disease associations (BioBERT 10-fold version)",
        "no data license stated (BioBERT REdata; original GAD: Bravo et al. 2015)",
        {1: (4796, 534), **{k: (4797, 533) for k in range(2, 10)}, 10: (4798, 532)},
    )
)
register(
    _fold_spec(
        "euadr",
        "euadr",
        "datasets/RE/euadr",
        "EU-ADR gene-disease relations (BioBERT 10-fold version)",
        "no data license stated",
        {1: (318, 37), 2: (318, 37), 3: (319, 36), **{k: (320, 35) for k in range(4, 11)}},
    ),
    aliases=("eu-adr",),
)

# LOTUS example input of the GME sampler and ABroad-RE examples (idiap).
_GME_REPO, _GME_COMMIT = "idiap/gme-sampler", "e1495dc5d004c139419e45c704f32ad201893df6"
register(
    DatasetSpec(
        name="lotus-gme-example",
        title="LOTUS organism-chemical rows: the GME sampler's example input (99 rows)",
        source=f"github.com/{_GME_REPO}@{_GME_COMMIT}",
        license="code GPL-3.0; LOTUS data CC BY 4.0",
        files=_files(
            _GME_REPO,
            _GME_COMMIT,
            [
                ("abroad_re_lotus/gme_sampler_example/test_data.csv", "data/test_data.csv"),
                ("abroad_re_lotus/gme_sampler_example/expected_top_10.tsv", "tests/data/expected_top_10.tsv"),
            ],
        ),
        variants={"lotus": {"test": _split(Part("abroad_re_lotus/gme_sampler_example/test_data.csv", LOTUS))}},
        note="expected_top_10.tsv holds the reference sampler's first ten picks (for the GME sampler's tests).",
    ),
)
_AB_REPO, _AB_COMMIT = "idiap/abroad-re", "ff793c13346b2a540c0436c5ba542a9ae6f25d59"
register(
    DatasetSpec(
        name="abroad-example",
        title="ABroad-RE examples: 16 real seed abstracts and 10 synthetic validation abstracts",
        source=f"github.com/{_AB_REPO}@{_AB_COMMIT} (data/)",
        license="code GPL-3.0; LOTUS data CC BY 4.0",
        files=_files(
            _AB_REPO,
            _AB_COMMIT,
            [
                ("abroad_re_lotus/examples__example-input.json", "data/examples/example-input.json"),
                ("abroad_re_lotus/examples-validation__sub_valid.json", "data/examples-validation/sub_valid.json"),
                ("abroad_re_lotus/examples-validation__seq2rel__sub_valid.tsv", "data/examples-validation/seq2rel/sub_valid.tsv"),
            ],
        ),
        variants={
            "abroad": {
                "examples": _split(Part("abroad_re_lotus/examples__example-input.json", ABROAD), documents=16, relations=69),
                "synthetic-valid": _split(Part("abroad_re_lotus/examples-validation__sub_valid.json", ABROAD), documents=10, relations=35),
            }
        },
        note="The paper's curated 200-abstract test set is deliberately not registered.",
    ),
)

__all__ = [
    "DataFile",
    "DatasetSpec",
    "DatasetWarning",
    "Part",
    "Ref",
    "SplitSpec",
    "cache_dir",
    "dataset_path",
    "extract_archive",
    "fetch",
    "fetch_file",
    "get_dataset",
    "iter_dataset",
    "list_datasets",
    "load_dataset",
    "mirror_dir",
    "register",
    "sample_path",
    "sha256_file",
]
