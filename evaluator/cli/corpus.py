"""`mheval corpus`: turn raw platform exports into the normalised corpus."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape

from evaluator.cli._common import (
    check_output_paths,
    console,
    emit_json,
    err_console,
    examples,
    new_app,
    state,
)

__all__ = ["app"]

app = new_app("Build the normalised post corpus from raw platform exports.")

_SHOWN_SKIPS = 10


_INGEST_HELP = (
    "Read exports, normalise, scrub and de-duplicate them into one corpus of posts.\n\n"
    "Formats are detected per file: Reddit dumps and listings, X/Twitter v2 and CSV, Bluesky, "
    "YouTube comments, TikTok comments, Google Play, App Store, the seed paper's JSONL, and "
    "mheval's own output. JSONL and CSV are streamed.\n\n"
    "Authors are never written, only a salted hash; the salt is `author_salt` from the config "
    "or a private .mheval-salt file created beside the output. `url` keeps the post's own "
    "permalink unless it names the author (Bluesky, TikTok)."
)


# The longer options of `ingest`, spelled out once.
_FORMAT = typer.Option(
    "auto",
    "--format",
    "-f",
    help="Reader to use instead of detecting one; `mheval corpus formats` lists them.",
)
_LANG = typer.Option(
    None,
    "--lang",
    help="Keep only these languages (comma-separated ISO codes, e.g. en,de). Off by "
    "default; posts under 4 words are always kept.",
)
_SCRUB = typer.Option(
    True,
    "--scrub/--no-scrub",
    help="Replace e-mails, phone numbers, @handles/u/names and URLs in the text with "
    "<EMAIL>, <PHONE>, <USER>, <URL>.",
)


@app.command(
    help=_INGEST_HELP,
    epilog=examples(
        "mheval corpus ingest RS_2023-03.jsonl RC_2023-03.jsonl --out corpus.jsonl.gz",
        "mheval corpus ingest tweets.json reviews.csv --out corpus.jsonl --lang en",
        "mheval corpus ingest survey.csv --text-col answer --id-col rid --platform survey "
        "--out corpus.jsonl",
        "mheval --json corpus ingest exports/ --out corpus.jsonl --strict > report.json",
    ),
)
def ingest(
    inputs: list[Path] = typer.Argument(
        ..., help="Export files (.jsonl, .json, .csv, .tsv, optionally .gz) or folders of them."
    ),
    out: Path = typer.Option(
        ..., "--out", "-o", help="Corpus to write (JSONL; gzip if it ends in .gz)."
    ),
    fmt: str = _FORMAT,
    lang: str | None = _LANG,
    min_chars: int = typer.Option(
        10, "--min-chars", min=0, help="Drop posts shorter than this after clean-up."
    ),
    scrub: bool = _SCRUB,
    strict: bool = typer.Option(
        False, "--strict", help="Stop at the first malformed line instead of skipping it."
    ),
    text_col: str | None = typer.Option(
        None, "--text-col", help="Generic CSV/JSONL: column holding the text (dots reach in)."
    ),
    id_col: str | None = typer.Option(None, "--id-col", help="Generic: column holding the id."),
    date_col: str | None = typer.Option(
        None, "--date-col", help="Generic: column holding the date/time."
    ),
    author_col: str | None = typer.Option(
        None, "--author-col", help="Generic: column holding the author (stored only hashed)."
    ),
    url_col: str | None = typer.Option(
        None, "--url-col", help="Generic: column holding the post's permalink."
    ),
    meta_col: list[str] = typer.Option(
        [], "--meta-col", help="Generic: column to keep in meta (repeatable); others are dropped."
    ),
    platform: str = typer.Option("other", "--platform", help="Generic: platform name for ids."),
    report_file: Path | None = typer.Option(
        None, "--report", help="Also write the ingest report as JSON to this file."
    ),
) -> None:
    """Read exports and write the normalised, scrubbed, de-duplicated corpus."""
    from evaluator.corpus import ingest as run_ingest
    from evaluator.io import write_json

    check_output_paths(out=out, report=report_file)
    mapping = _column_mapping(text_col, id_col, date_col, author_col, url_col, platform, meta_col)
    languages = [code for code in (lang or "").split(",") if code.strip()] or None
    status = None
    if not (state.quiet or state.wants_json()):
        status = err_console.status("reading…", spinner="dots")
        status.start()
    try:
        report = run_ingest(
            inputs,
            out,
            fmt=fmt,
            mapping=mapping,
            languages=languages,
            min_chars=min_chars,
            scrub=scrub,
            strict=strict,
            author_salt=state.settings.author_salt,
            on_progress=(lambda n: status.update(f"read {n:,} posts…")) if status else None,
        )
    finally:
        if status is not None:
            status.stop()
    if report_file is not None:
        write_json(report_file, report)
    if state.wants_json():
        emit_json(report)
        return
    _print_skipped(report)
    if not state.quiet:
        _render(report)


def _column_mapping(text_col, id_col, date_col, author_col, url_col, platform, meta_col):
    """The generic reader's columns, or None; a column option without --text-col is an error."""
    from evaluator.corpus import ColumnMapping

    if text_col:
        return ColumnMapping(
            text=text_col,
            id=id_col,
            date=date_col,
            author=author_col,
            url=url_col,
            platform=platform,
            meta=tuple(meta_col),
        )
    if any((id_col, date_col, author_col, url_col, meta_col)):
        from evaluator.errors import InputError

        raise InputError("column options need --text-col", field="--text-col")
    return None


def _print_skipped(report) -> None:
    """The first skipped lines on stderr (even with --quiet: data was dropped), then a count."""
    for skipped in report.skipped[:_SHOWN_SKIPS]:
        where = skipped.file + (f":{skipped.line}" if skipped.line is not None else "")
        err_console.print(
            f"[yellow]skipped[/yellow] {escape(where)}: {escape(skipped.message)}", soft_wrap=True
        )
    if report.skipped_total > _SHOWN_SKIPS:
        err_console.print(
            f"[yellow]… and {report.skipped_total - _SHOWN_SKIPS} more skipped lines[/yellow]"
        )


def _render(report) -> None:
    from rich.table import Table

    console.print(f"[bold]Ingested into[/bold] {escape(report.output)}")
    table = Table()
    table.add_column("platform")
    table.add_column("posts in", justify="right")
    table.add_column("posts out", justify="right")
    for name, counts in sorted(report.platforms.items()):
        table.add_row(name, f"{counts.posts_in:,}", f"{counts.posts_out:,}")
    table.add_section()
    table.add_row("[bold]total[/bold]", f"{report.posts_in:,}", f"[bold]{report.posts_out:,}")
    console.print(table)

    details = Table(show_header=False, box=None, padding=(0, 2))
    dropped = report.dropped
    details.add_row(
        "dropped",
        f"{dropped.duplicate_text:,} duplicate texts, {dropped.duplicate_id:,} duplicate ids, "
        f"{dropped.short:,} short, {dropped.empty:,} empty, {dropped.deleted:,} deleted, "
        f"{dropped.language:,} other language",
    )
    if report.scrub:
        details.add_row(
            "scrubbed", ", ".join(f"{n:,} {kind}" for kind, n in report.scrubbed.items())
        )
    else:
        details.add_row("scrubbed", "off (--no-scrub)")
    details.add_row("skipped lines", f"{report.skipped_total:,}")
    salt = report.author_salt + (f" ({escape(report.salt_file)})" if report.salt_file else "")
    details.add_row("author salt", salt)
    formats_used = ", ".join(f"{Path(i.path).name}: {i.format}" for i in report.inputs)
    details.add_row("formats", escape(formats_used))
    details.add_row(
        "time", f"{report.elapsed_seconds:.1f} s ({report.posts_per_second:,.0f} posts/s)"
    )
    console.print(details)


@app.command(epilog=examples("mheval corpus formats"))
def formats() -> None:
    """List the input formats `ingest` can read (names for --format)."""
    from rich.table import Table

    from evaluator.corpus import READERS

    if state.wants_json():
        emit_json(
            [
                {"name": r.name, "description": r.description, "containers": sorted(r.containers)}
                for r in READERS.values()
            ]
        )
        return
    table = Table("format", "reads", "files")
    for reader in READERS.values():
        table.add_row(reader.name, reader.description, ", ".join(sorted(reader.containers)))
    console.print(table)
