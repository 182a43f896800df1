"""Request and response models of the HTTP API (what ``/openapi.json`` and
``/docs`` show). Responses are written from :meth:`Document.to_dict` as they
are; these models describe their shape (optional keys are left out when
empty, never ``null``)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

InputFormat = Literal["text", "pubtator", "bioc-xml", "bioc-json", "jsonl"]
OutputFormat = Literal["json", "bioc-json", "bioc-xml"]
Mode = Literal["extract", "relate"]
TextSplit = Literal["blank-lines", "lines", "file"]
EvidenceMethod = Literal["auto", "attention", "grad-input", "occlusion"]


class ExtractRequest(BaseModel):
    """One raw-text document."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"text": "Famotidine-associated delirium.", "threshold": 0.5}]})

    text: str = Field(min_length=1, description="the document's raw text (title and abstract, a paragraph, ...)")
    id: str | None = Field(default=None, min_length=1, max_length=256, description="the document's id in the answer (default: 'doc')")
    threshold: float = Field(default=0.5, ge=0.0, le=1.0, description="minimum relation score")
    evidence: bool = Field(default=False, description="add each relation's evidence sentences and token attributions")
    evidence_method: EvidenceMethod = Field(
        default="auto",
        description="with evidence=true: auto (the model's cheapest: attention for the joint model), attention, grad-input, or occlusion "
        "(a word's weight is the score drop when it alone is deleted: faithful, about 50x slower)",
    )


class PassageOut(BaseModel):
    offset: int = Field(description="document-level character offset of the passage")
    text: str
    type: str | None = Field(default=None, description="title, abstract, ... (left out when unknown)")
    infons: dict[str, Any] | None = None


class MentionOut(BaseModel):
    id: str
    spans: list[list[int]] = Field(description="document-level [start, end) character spans")
    text: str
    type: str = Field(description="entity type (Chemical, Disease, ...)")
    concept_ids: list[str] | None = None
    components: list[str] | None = None
    infons: dict[str, Any] | None = Field(default=None, description="predicted mentions carry their score in infons.score")


class EntityOut(BaseModel):
    id: str
    type: str
    mention_ids: list[str] | None = None
    name: str | None = None
    infons: dict[str, Any] | None = None


class RelationOut(BaseModel):
    id: str
    type: str = Field(description="relation type (CID, ...)")
    head: str = Field(description="entity id (mention id when level is 'mention')")
    tail: str
    level: Literal["entity", "mention"] | None = None
    directed: bool | None = None
    score: float | None = Field(default=None, description="the model's score in [0, 1]")
    evidence: list[list[int]] | None = Field(default=None, description="evidence sentence spans (evidence=true)")
    infons: dict[str, Any] | None = Field(
        default=None, description="with evidence=true: infons.attributions, a list of [start, end, weight] token attributions"
    )


class DocumentOut(BaseModel):
    """A predicted document (biorel's native JSON form, ``Document.to_dict()``)."""

    id: str
    passages: list[PassageOut]
    mentions: list[MentionOut]
    entities: list[EntityOut]
    relations: list[RelationOut]
    nary_relations: list[dict[str, Any]] | None = None
    metadata: dict[str, Any] | None = None


class ModelSummary(BaseModel):
    name: str = Field(description="shipped model name or model folder")
    architecture: str = Field(description="registered architecture (biorel.JointNERRE.v1, ...)")
    version: str | None = Field(default=None, description="biorel version the model was saved with")
    fingerprint: str = Field(description="sha256 over the model's config, labels and weight header")


class ModelInfo(ModelSummary):
    entity_types: list[str]
    relation_types: list[str]
    modes: list[str] = Field(description="prediction modes; the first is the default")
    precision: str = Field(description="inference precision in use (fp32, bf16 or int8)")
    server_version: str = Field(description="biorel version of this server")


class ExtractResponse(BaseModel):
    model: ModelSummary
    documents: list[DocumentOut]


class ModelsResponse(BaseModel):
    models: list[ModelInfo] = Field(description="the loaded model (one per server)")


class ErrorBody(BaseModel):
    code: str = Field(description="biorel error code (E500-E519 for the service, the reader's own E0xx/E1xx for malformed input)")
    message: str
    status: int = Field(description="the HTTP status, repeated")
    location: dict[str, Any] | None = Field(default=None, description="where in the request body: source, line, path (XML/JSON), offset")
    details: list[dict[str, Any]] | None = Field(default=None, description="invalid request fields (loc, msg, type)")


class ErrorResponse(BaseModel):
    error: ErrorBody


class Status(BaseModel):
    status: str
    model: str | None = None


__all__ = [
    "ExtractRequest",
    "ExtractResponse",
    "DocumentOut",
    "ModelInfo",
    "ModelSummary",
    "ModelsResponse",
    "ErrorResponse",
    "Status",
    "InputFormat",
    "OutputFormat",
    "Mode",
    "TextSplit",
]
