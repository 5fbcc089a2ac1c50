"""Load the codebook (the label scheme) from YAML, with errors that name the file and field."""

from __future__ import annotations

import hashlib
from pathlib import Path

from evaluator.errors import ConfigError
from evaluator.io import load_yaml_model
from evaluator.types import Codebook

__all__ = ["load_codebook", "codebook_version"]

_CACHE: dict[tuple[Path, float], Codebook] = {}


def load_codebook(path: str | Path) -> Codebook:
    """Read and validate a codebook (`settings.codebook` is the configured one).

    Parsed codebooks are cached per (path, mtime): the detector is called per transcript turn.
    """
    path = Path(path).resolve()
    if not path.is_file():
        raise ConfigError("codebook not found", file=path)
    key = (path, path.stat().st_mtime)
    if key not in _CACHE:
        codebook = load_yaml_model(path, Codebook, error=ConfigError)
        _check_cross_references(codebook, path)
        _CACHE[key] = codebook
    return _CACHE[key]


def _check_cross_references(codebook: Codebook, path: Path) -> None:
    """`exact_case` entries must be cues or surface forms of the same label (else a typo)."""
    for kind in ("products", "sentiments", "conditions", "perspectives", "values"):
        for index, label in enumerate(getattr(codebook, kind)):
            forms = set(label.cues) | set(getattr(label, "surface_forms", []))
            for form in label.exact_case:
                if form not in forms:
                    raise ConfigError(
                        f"{form!r} is not one of this label's cues or surface forms",
                        file=path,
                        field=f"{kind}.{index}.exact_case",
                    )


def codebook_version(codebook: Codebook) -> str:
    """The declared version plus a short content hash, so an edited codebook is never mistaken
    for the shipped one in result files."""
    digest = hashlib.sha256(codebook.model_dump_json().encode("utf-8")).hexdigest()[:8]
    return f"{codebook.version}+{digest}"
