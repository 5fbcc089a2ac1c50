"""What the corpus index records about itself (the manifest) and what a build reports."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["INDEX_FORMAT_VERSION", "EmbeddingModelInfo", "IndexManifest", "IndexBuildReport"]

INDEX_FORMAT_VERSION = 1


class EmbeddingModelInfo(BaseModel):
    """Which sentence encoder made the vectors; `hash` covers its config and weights files."""

    model_config = ConfigDict(extra="forbid")

    name: str
    hash: str
    dim: int


class IndexManifest(BaseModel):
    """The committed state of an index. Written last, atomically: what it lists is what queries
    see, so a build that dies half-way leaves the previous manifest (and index) in force."""

    model_config = ConfigDict(extra="forbid")

    format_version: int = INDEX_FORMAT_VERSION
    tool_version: str
    embedding_model: EmbeddingModelInfo
    codebook_version: str
    collection: str = Field(description="Chroma collection holding the voices")
    generation: int = Field(ge=1, description="build number; records newer than it are staging")
    built_at: str
    count: int
    conditions: dict[str, int] = Field(default_factory=dict, description="voices per condition")
    sources: dict[str, str] = Field(
        default_factory=dict, description="corpus and annotations files the build read"
    )
    items: dict[str, str] = Field(
        default_factory=dict, description="item key (post id#impact) -> content hash (record id)"
    )


class IndexBuildReport(BaseModel):
    """What `mheval index build` did."""

    model_config = ConfigDict(extra="forbid")

    location: str
    backend: str = Field(description="`embedded` or `server`")
    count: int
    added: int
    removed: int
    unchanged: int
    encoded: int = Field(description="texts run through the encoder")
    cached: int = Field(description="embeddings found in the embedding cache")
    full_rebuild: bool
    generation: int
    seconds: float
    embedding_model: str
    codebook_version: str
