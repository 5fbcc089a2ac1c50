"""What scoring needs, opened once and closed after: rubrics, codebook, judge and index; and
`score_files`, the function behind `mheval score`."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

from evaluator.errors import CorpusIndexError
from evaluator.judges.base import Judge
from evaluator.scoring.run import DEFAULT_MAX_TURN_CHARS, Progress, VoiceRetriever, score
from evaluator.types import (
    ScoreRun,
    Transcript,
)


class ScoringSession:
    """What scoring needs, opened once: rubrics, codebook, judge and (optionally) the corpus
    index, which is opened on first use so that bad input fails before a first-use build.
    `open_session` closes it; `score_files` and `run_scenarios` both use it. `on_notice` and
    `index_progress` are the index's (`Retriever.open`): a first-use build announces itself."""

    def __init__(
        self,
        settings,
        *,
        judge,
        samples,
        retrieval,
        k,
        guidelines,
        on_notice: Callable[[str], None] | None = None,
        index_progress: bool = False,
    ) -> None:
        from evaluator.codebook import codebook_version, load_codebook
        from evaluator.guidelines import load_rubrics
        from evaluator.judges import get_judge

        self.settings = settings
        self.rubrics = load_rubrics(Path(guidelines) if guidelines else settings.guidelines)
        self.codebook = load_codebook(settings.codebook)
        self.codebook_version = codebook_version(self.codebook)
        self.judge: Judge = get_judge(judge or settings.judge, settings, samples=samples)
        self.k = k
        self.timings: dict[str, float] = {}
        self._retrieval = retrieval and k > 0
        self._retriever: VoiceRetriever | None = None
        self._on_notice = on_notice
        self._index_progress = index_progress

    @property
    def retriever(self) -> VoiceRetriever | None:
        if self._retrieval and self._retriever is None:
            from evaluator.index import Retriever

            tick = time.perf_counter()
            try:
                self._retriever = Retriever.open(
                    self.settings,
                    auto_build=True,
                    progress=self._index_progress,
                    on_notice=self._on_notice,
                )
            except CorpusIndexError as exc:
                raise exc.with_hint("or score without user voices: --no-retrieval") from None
            self.timings["index_open"] = round(time.perf_counter() - tick, 3)
        return self._retriever

    def score(
        self,
        transcripts: Sequence[Transcript],
        *,
        timings: Mapping[str, float] | None = None,
        **options,
    ) -> ScoreRun:
        """`score` with this session's rubrics, judge and index; `timings` as there."""
        retriever = self.retriever  # opened first: its time is one of the timings
        return score(
            transcripts,
            rubrics=self.rubrics,
            judge=self.judge,
            retriever=retriever,
            codebook=self.codebook,
            k=self.k,
            codebook_version=self.codebook_version,
            timings={**self.timings, **(timings or {})},
            **options,
        )

    def close(self) -> None:
        if self._retriever is not None:
            self._retriever.close()
            self._retriever = None


@contextmanager
def open_session(
    settings,
    *,
    judge: str | None = None,
    samples: int = 1,
    retrieval: bool = True,
    k: int = 3,
    guidelines: str | Path | None = None,
    on_notice: Callable[[str], None] | None = None,
    index_progress: bool = False,
) -> Iterator[ScoringSession]:
    """A `ScoringSession` from `settings`, closed (with its index) on exit."""
    session = ScoringSession(
        settings,
        judge=judge,
        samples=samples,
        retrieval=retrieval,
        k=k,
        guidelines=guidelines,
        on_notice=on_notice,
        index_progress=index_progress,
    )
    try:
        yield session
    finally:
        session.close()


def score_files(
    paths: Sequence[str | Path],
    *,
    settings,
    fmt: str = "auto",
    judge: str | None = None,
    samples: int = 1,
    retrieval: bool = True,
    k: int = 3,
    guidelines: str | Path | None = None,
    skip_invalid: bool = False,
    max_turn_chars: int = DEFAULT_MAX_TURN_CHARS,
    progress: Progress | None = None,
    on_notice: Callable[[str], None] | None = None,
    index_progress: bool = False,
) -> ScoreRun:
    """`mheval score`: read transcripts, open a scoring session from `settings`, and score.

    `on_notice` and `index_progress` are the corpus index's, as in `Retriever.open`."""
    from evaluator.transcripts import read_transcripts

    tick = time.perf_counter()
    skipped: list[str] = []
    transcripts = read_transcripts(
        paths, fmt, skip_invalid=skip_invalid, on_skip=lambda s: skipped.append(str(s))
    )
    read_seconds = round(time.perf_counter() - tick, 3)
    with open_session(
        settings,
        judge=judge,
        samples=samples,
        retrieval=retrieval,
        k=k,
        guidelines=guidelines,
        on_notice=on_notice,
        index_progress=index_progress,
    ) as session:
        return session.score(
            transcripts,
            max_turn_chars=max_turn_chars,
            progress=progress,
            skipped=skipped,
            timings={"read": read_seconds},
        )
