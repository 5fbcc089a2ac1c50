"""Optional language filter (`--lang en`), with py3langid.

Off by default: the corpus is keyword-collected in English already, and identification is
unreliable on very short posts. Posts of fewer than `MIN_WORDS` words are therefore kept
whatever their language: a filter that drops "ok thanks" as Volapük helps nobody.
"""

from __future__ import annotations

from collections.abc import Iterable

from evaluator.errors import InputError

__all__ = ["LanguageFilter", "MIN_WORDS"]

MIN_WORDS = 4


class LanguageFilter:
    """Keeps posts whose identified language is one of `languages` (ISO 639-1 codes)."""

    def __init__(self, languages: Iterable[str]) -> None:
        import py3langid  # imported here: loading its model takes a noticeable moment

        self.languages = sorted({code.strip().lower() for code in languages if code.strip()})
        self._classify = py3langid.classify
        self._classify("warm up")  # loads the model, so its label set can be checked
        identifier = getattr(py3langid.langid, "IDENTIFIER", None)
        known = set(getattr(identifier, "labels", None) or ())
        unknown = [code for code in self.languages if known and code not in known]
        if unknown:
            raise InputError(
                f"unknown language code {', '.join(unknown)} (py3langid knows "
                f"{len(known)} ISO 639-1 codes, e.g. en, de, es, fr)",
                field="--lang",
            )

    def keeps(self, text: str) -> bool:
        if len(text.split(None, MIN_WORDS)) < MIN_WORDS:
            return True
        language, _score = self._classify(text)
        return language in self.languages
