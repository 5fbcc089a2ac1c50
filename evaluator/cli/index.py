"""`mheval index`: build, query and inspect the corpus index of user voices."""

from __future__ import annotations

import sys
from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from evaluator.cli._common import (
    CHROMA_URL,
    console,
    emit_json,
    examples,
    new_app,
    notice,
    state,
)

__all__ = ["app"]

app = new_app(
    "The corpus index: every impact quote of the annotations (the users' own words), with its "
    "post and labels, in Chroma, searchable by meaning, condition and value. Embedded under the "
    "user cache folder by default (see `mheval index status`); a Chroma server with --chroma-url."
)

_PATH = typer.Option(
    None, "--path", help="Embedded index folder (default: config index_path, else the cache)."
)


def _settings(path: Path | None, chroma_url: str | None):
    """Settings with --path / --chroma-url applied, so the library sees one source of truth."""
    settings = state.settings
    if chroma_url:
        return settings.model_copy(update={"chroma_url": chroma_url})
    if path is not None:
        return settings.model_copy(update={"index_path": path.resolve(), "chroma_url": None})
    return settings


@app.command(
    "build",
    epilog=examples(
        "mheval index build",
        "mheval index build --annotations annotations.jsonl --corpus corpus.jsonl --path my_index/",
        "mheval index build --chroma-url http://127.0.0.1:8000",
        "mheval index build --rebuild",
    ),
)
def build(
    corpus: Path | None = typer.Option(None, "--corpus", help="Corpus (default: config)."),
    annotations: Path | None = typer.Option(
        None, "--annotations", help="Annotations from `mheval mine` (default: config)."
    ),
    path: Path | None = _PATH,
    chroma_url: str | None = CHROMA_URL,
    rebuild: bool = typer.Option(
        False, "--rebuild", help="Re-index everything (also repairs a corrupt index)."
    ),
    json_output: bool = typer.Option(False, "--json", help="Print the build report as JSON."),
) -> None:
    """Index new or changed impacts, drop removed ones.

    Embeddings already computed come from the cache. An interrupted build leaves the previous
    index usable; the next build cleans up after it."""
    from evaluator.index import build_index

    settings = _settings(path, chroma_url)
    report = build_index(
        settings,
        corpus=corpus.resolve() if corpus else None,
        annotations=annotations.resolve() if annotations else None,
        rebuild=rebuild,
        progress=not (state.quiet or state.wants_json(json_output)),
        on_notice=notice,
    )
    if state.wants_json(json_output):
        emit_json(report)
        return
    what = "rebuilt" if report.full_rebuild else "updated"
    if not (report.added or report.removed or report.full_rebuild):
        what = "up to date"
    console.print(
        f"[green]index {what}[/green]: {report.count} voices at {escape(report.location)} "
        f"(+{report.added} -{report.removed}, {report.unchanged} unchanged; "
        f"{report.encoded} encoded, {report.cached} from cache; {report.seconds:.1f} s)"
    )


@app.command(
    "query",
    epilog=examples(
        'mheval index query "the bot just tells me to call a hotline"',
        'mheval index query "help me break tasks down" --condition adhd --value autonomy',
        'mheval index query "it feels like a friend" --perspective dependency -k 10 --json',
    ),
)
def query(
    text: str = typer.Argument(..., help="What to find voices about."),
    condition: str | None = typer.Option(None, "--condition", help="e.g. adhd, bipolar."),
    value: str | None = typer.Option(None, "--value", help="e.g. autonomy, privacy."),
    perspective: str | None = typer.Option(None, "--perspective", help="e.g. dependency."),
    sentiment: str | None = typer.Option(None, "--sentiment", help="positive|negative|neutral"),
    k: int = typer.Option(5, "-k", "--top-k", min=1, max=200, help="How many voices."),
    min_similarity: float | None = typer.Option(
        None,
        "--min-similarity",
        min=-1.0,
        max=1.0,
        help="Hide voices less similar than this (default: config voice_min_similarity).",
    ),
    path: Path | None = _PATH,
    chroma_url: str | None = CHROMA_URL,
    json_output: bool = typer.Option(False, "--json", help="Print the voices as JSON."),
) -> None:
    """Ranked user voices closest in meaning to TEXT, with labels, platform and post id.

    Builds the index from the shipped corpus first if it does not exist yet."""
    from evaluator.index import Retriever

    settings = _settings(path, chroma_url)
    if min_similarity is not None:
        settings = settings.model_copy(update={"voice_min_similarity": min_similarity})
    retriever = Retriever.open(settings, progress=sys.stderr.isatty(), on_notice=notice)
    try:
        voices = retriever.query(
            text,
            condition=condition,
            value=value,
            perspective=perspective,
            sentiment=sentiment,
            k=k,
        )
        info = retriever.info()
    finally:
        retriever.close()
    if state.wants_json(json_output):
        emit_json(
            {
                "query": text,
                "index": info,
                "voices": [voice.model_dump(mode="json") for voice in voices],
            }
        )
        return
    if not voices:
        reason = (
            f"no voice is as similar as {info.min_similarity} to this text (--min-similarity)"
            if info.voice_queries_below_floor
            else "no voices match these filters"
        )
        console.print(f"[yellow]{reason}[/yellow]")
        return
    table = Table(show_edge=False, show_lines=True)
    table.add_column("#", justify="right")
    table.add_column("sim", justify="right")
    table.add_column("quote", ratio=3)
    table.add_column("labels", ratio=1, overflow="fold")
    table.add_column("source", ratio=1, overflow="fold")
    for rank, voice in enumerate(voices, start=1):
        labels = "\n".join(
            escape(x)
            for x in (voice.condition, voice.sentiment, voice.perspective, voice.value)
            if x
        )
        table.add_row(
            str(rank),
            f"{voice.similarity:.2f}",
            escape(voice.quote),
            labels,
            escape(f"{voice.platform or ''}\n{voice.id}"),
        )
    console.print(table)


@app.command(
    "status",
    epilog=examples(
        "mheval index status",
        "mheval index status --chroma-url http://127.0.0.1:8000 --json",
    ),
)
def status(
    path: Path | None = _PATH,
    chroma_url: str | None = CHROMA_URL,
    json_output: bool = typer.Option(False, "--json", help="Print the status as JSON."),
) -> None:
    """What the index holds: voices, model, codebook, build time, size, conditions."""
    from evaluator.index import index_status

    info = index_status(_settings(path, chroma_url))
    if state.wants_json(json_output):
        emit_json(info)
        return
    size = info["size_bytes"]
    model = escape(f"{info['embedding_model']} ({info['embedding_model_hash']})")
    if not info["model_matches"]:
        model += " [yellow]does not match the installed model: rebuild with --rebuild[/yellow]"
    rows = [
        ("location", escape(f"{info['location']} ({info['backend']})")),
        ("voices", str(info["count"])),
        ("embedding model", model),
        ("codebook version", escape(info["codebook_version"])),
        ("built at", escape(info["built_at"])),
        ("size on disk", f"{size / 1e6:.1f} MB" if size is not None else "n/a (server)"),
    ]
    table = Table(show_header=False, show_edge=False, box=None)
    table.add_column(style="bold")
    table.add_column()
    for name, cell in rows:
        table.add_row(name, cell)
    console.print(table)
    per = Table(title="voices per condition", title_justify="left", show_edge=False)
    per.add_column("condition")
    per.add_column("voices", justify="right")
    for name, count in sorted(info["conditions"].items(), key=lambda kv: -kv[1]):
        per.add_row(escape(name), str(count))
    console.print(per)
