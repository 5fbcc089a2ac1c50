"""Reports of a score run: terminal (rich), Markdown, self-contained HTML, JUnit XML; those of a
check (PR comment and JUnit XML) are in `evaluator.report.check`."""

from evaluator.report.html import render_html
from evaluator.report.junit import render_junit
from evaluator.report.markdown import render_markdown
from evaluator.report.terminal import render_terminal

__all__ = ["render_html", "render_junit", "render_markdown", "render_terminal", "write_reports"]


def write_reports(run, *, markdown=None, html=None, junit=None, json=None) -> list[str]:
    """Write each requested report atomically; return the paths written."""
    from evaluator.io import atomic_write, write_score_run

    written = []
    if json is not None:
        write_score_run(json, run)
        written.append(str(json))
    for path, render in ((markdown, render_markdown), (html, render_html), (junit, render_junit)):
        if path is not None:
            with atomic_write(path) as handle:
                handle.write(render(run))
            written.append(str(path))
    return written
