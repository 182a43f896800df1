"""biorel: typed biomedical relations from literature."""

from .errors import BiorelError, Diagnostics, FormatError, SourceLocation, ValidationError
from .types import Document, Entity, Example, Mention, Passage, Relation

__version__ = "0.1.0"

__all__ = [
    "BiorelError",
    "Diagnostics",
    "FormatError",
    "SourceLocation",
    "ValidationError",
    "Document",
    "Entity",
    "Example",
    "Mention",
    "Passage",
    "Relation",
    "__version__",
]
