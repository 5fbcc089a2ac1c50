"""Findings: statistics checked against scipy/statsmodels and hand computation; the report and the
CLI end to end on a hand-labelled fixture of real posts and on a synthetic corpus."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import chi2_contingency, fisher_exact
from scipy.stats import t as student_t
from support.findings import REFERENCE, SMALL, synthetic_annotations, write_annotations

from evaluator import __version__
from evaluator.errors import InputError
from evaluator.findings import (
    compute_findings,
    contingency,
    cooccurrence,
    load_findings,
    render_markdown,
    run_findings,
    sentiment_summary,
    write_heatmap,
)
from evaluator.types import Annotation, Findings


@pytest.fixture(scope="module")
def synthetic_findings(tmp_path_factory) -> Findings:
    path = tmp_path_factory.mktemp("synthetic") / "annotations.jsonl.gz"
    write_annotations(path, synthetic_annotations())
    return compute_findings(path, min_support=30, reference=REFERENCE)


def _pairs(table: list[list[int]], rows: list[str], cols: list[str]) -> list[tuple[str, str]]:
    return [
        (r, c) for i, r in enumerate(rows) for j, c in enumerate(cols) for _ in range(table[i][j])
    ]


# --------------------------------------------------------------------------- statistics
def test_contingency_matches_scipy_and_hand_computed_residuals():
    counts = [[40, 10, 5], [12, 30, 8], [6, 9, 35]]
    rows, cols = ["a", "b", "c"], ["x", "y", "z"]
    table = contingency(
        "t",
        _pairs(counts, rows, cols),
        row_kind="condition",
        col_kind="perspective",
        min_support=1,
        alpha=0.05,
        col_order=cols,
    )
    chi2, p, dof, expected = chi2_contingency(np.array(counts), correction=False)
    assert table.chi2 == pytest.approx(chi2, abs=1e-3)
    assert table.p_value == pytest.approx(p)
    assert table.dof == dof == 4
    n = sum(map(sum, counts))
    assert table.n == n
    assert table.cramers_v == pytest.approx(math.sqrt(chi2 / (n * 2)), abs=1e-4)
    row_totals = [sum(r) for r in counts]
    col_totals = [sum(c) for c in zip(*counts, strict=True)]
    for i, r in enumerate(rows):
        for j, c in enumerate(cols):
            e = row_totals[i] * col_totals[j] / n
            hand = (counts[i][j] - e) / math.sqrt(
                e * (1 - row_totals[i] / n) * (1 - col_totals[j] / n)
            )
            cell = table.cell(r, c)
            assert cell.row_share == pytest.approx(counts[i][j] / row_totals[i], abs=1e-4)
            assert cell.expected == pytest.approx(expected[i, j], abs=1e-3)
            assert cell.residual == pytest.approx(hand, abs=1e-3)
    # Benjamini-Hochberg by hand: p_(k) * m / k, made monotone from the largest down.
    raw = sorted(c.p_value for c in table.cells)
    m = len(raw)
    bh = [min(1.0, p * m / (k + 1)) for k, p in enumerate(raw)]
    for k in range(m - 2, -1, -1):
        bh[k] = min(bh[k], bh[k + 1])
    assert sorted(c.p_adjusted for c in table.cells) == pytest.approx(bh)
    assert table.cell("a", "x").over_represented
    assert not table.cell("a", "z").over_represented  # significant, but under-represented


def test_two_by_two_adjusted_residual_by_hand():
    table = contingency(
        "t",
        _pairs([[10, 20], [30, 5]], ["r1", "r2"], ["c1", "c2"]),
        row_kind="condition",
        col_kind="sentiment",
        min_support=1,
        alpha=0.05,
        col_order=["c1", "c2"],
    )
    # E11 = 30*40/65; residual = (10 - E11) / sqrt(E11 * (35/65) * (25/65)) = -4.327
    assert table.cell("r1", "c1").residual == pytest.approx(-4.327, abs=1e-3)
    assert table.cell("r2", "c1").residual == pytest.approx(4.327, abs=1e-3)
    assert table.cramers_v == pytest.approx(0.5367, abs=1e-4)


def test_low_support_rows_are_left_out_and_zero_columns_dropped():
    pairs = [("big", "x")] * 20 + [("big", "y")] * 15 + [("other", "x")] * 5 + [("other", "y")] * 25
    pairs += [("tiny", "z")] * 3
    table = contingency(
        "t", pairs, row_kind="condition", col_kind="perspective", min_support=10, alpha=0.05
    )
    assert table.rows == ["big", "other"]
    assert table.excluded_rows == {"tiny": 3}
    assert table.cols == ["y", "x"]  # by frequency; z only occurred in the excluded row
    assert table.n == 65


def test_a_single_supported_row_is_reported_but_not_tested():
    table = contingency(
        "t",
        [("a", "x")] * 40 + [("a", "y")] * 5 + [("b", "x")],
        row_kind="condition",
        col_kind="sentiment",
        min_support=30,
        alpha=0.05,
    )
    assert table.rows == ["a"] and table.chi2 is None and table.cells == []
    assert "not tested" in table.note


def test_pmi_npmi_and_fisher_by_hand():
    pairs = [("privacy", "ethics")] * 8 + [("privacy", "dependency")] * 2
    pairs += [("autonomy", "dependency")] * 10 + [("autonomy", "ethics")] * 1
    pairs += [("calmness", "emotional_support")] * 9
    result, tested = cooccurrence(pairs, alpha=0.05)
    assert tested == 3 * 3
    n = len(pairs)
    pair = next(c for c in result if (c.value, c.perspective) == ("privacy", "ethics"))
    p_joint, p_value, p_persp = 8 / n, 10 / n, 9 / n
    pmi = math.log2(p_joint / (p_value * p_persp))
    assert pair.pmi == pytest.approx(pmi, abs=1e-4)
    assert pair.npmi == pytest.approx(pmi / -math.log2(p_joint), abs=1e-4)
    assert pair.expected == pytest.approx(10 * 9 / n, abs=1e-3)
    assert pair.p_value == pytest.approx(fisher_exact([[8, 2], [1, 19]]).pvalue)
    assert pair.significant
    # Unobserved pairs are tested, not listed. Significant pairs first, then by NPMI: calmness
    # only ever with emotional_support (NPMI 1); the two rare pairs are below chance.
    assert [(c.value, c.perspective, c.significant) for c in result] == [
        ("calmness", "emotional_support", True),
        ("autonomy", "dependency", True),
        ("privacy", "ethics", True),
        ("privacy", "dependency", False),
        ("autonomy", "ethics", False),
    ]
    assert result[0].npmi == 1.0 and result[3].npmi > result[4].npmi


def test_sentiment_summary_matches_t_interval_and_wilson():
    from statsmodels.stats.proportion import proportion_confint

    sentiments = ["positive"] * 12 + ["neutral"] * 5 + ["negative"] * 3
    summary = sentiment_summary(sentiments)
    scores = [1] * 12 + [0] * 5 + [-1] * 3
    mean = sum(scores) / 20
    sd = float(np.std(scores, ddof=1))
    low, high = student_t.interval(0.95, 19, loc=mean, scale=sd / math.sqrt(20))
    assert summary.mean_score == pytest.approx(0.45)
    assert summary.mean_ci == pytest.approx((low, high), abs=1e-4)
    assert summary.counts == {"positive": 12, "neutral": 5, "negative": 3}
    assert summary.share_ci["neutral"] == pytest.approx(
        proportion_confint(5, 20, method="wilson"), abs=1e-4
    )
    assert sentiment_summary(["negative"]).mean_ci is None
    assert sentiment_summary(["negative", "negative"]).mean_ci == (-1.0, -1.0)


# --------------------------------------------------------------------------- whole findings
def test_findings_on_hand_labelled_real_posts():
    findings = compute_findings(SMALL, min_support=3, reference=REFERENCE)
    assert (findings.n_posts, findings.n_relevant_posts, findings.n_failed_posts) == (23, 20, 1)
    assert findings.n_impacts == 23 and findings.n_crisis_posts == 2
    assert findings.codebook_version == "1.0"
    general = findings.condition("general")
    assert (general.n_impacts, general.n_posts) == (7, 6)
    assert general.sentiment.counts == {"positive": 1, "neutral": 1, "negative": 5}
    assert findings.condition("bipolar").low_support and findings.supported("anxiety")
    cell = findings.tables["condition_x_perspective"].cell("adhd", "instrumental_support")
    assert cell.over_represented
    assert {q.post_id for q in cell.quotes} == {"reddit:t3_1mm34ve", "reddit:t1_l20qjdx"}
    assert "schizophrenia_spectrum" in findings.tables["condition_x_sentiment"].excluded_rows
    replika = next(p for p in findings.products if p.name == "Replika")
    assert replika.n_impacts == 14
    paper = {row.condition: row for row in findings.paper_comparison}
    assert paper["adhd"].paper_count == 6569 and paper["adhd"].corpus_count == 3
    assert sum(row.paper_share for row in findings.paper_comparison) == pytest.approx(1, abs=1e-3)
    assert findings.notes == [
        "3 condition(s) below the minimum support of 3 impacts, left out of the tests: "
        "schizophrenia_spectrum, autism, bipolar",
        "1 post(s) were not annotated (annotator error) and are not counted",
    ]


def test_planted_associations_are_found(synthetic_findings):
    f = synthetic_findings
    perspective = f.tables["condition_x_perspective"]
    assert perspective.cell("adhd", "instrumental_support").over_represented
    assert perspective.cell("schizophrenia_spectrum", "psychological_harm").over_represented
    assert perspective.cell("general", "dependency").over_represented
    assert not perspective.cell("adhd", "psychological_harm").over_represented
    sentiment = f.tables["condition_x_sentiment"]
    assert sentiment.cell("schizophrenia_spectrum", "negative").over_represented
    assert sentiment.cell("adhd", "positive").over_represented
    assert f.pair("autonomy", "dependency").significant
    assert f.pair("privacy", "ethics").npmi > 0.3
    assert f.condition("adhd").sentiment.mean_score > f.condition("general").sentiment.mean_score
    assert {"bipolar", "autism"} == set(perspective.excluded_rows)
    # The test statistic is scipy's on the same crosstab.
    chi2, *_ = chi2_contingency(np.array(perspective.counts), correction=False)
    assert perspective.chi2 == pytest.approx(chi2, abs=1e-3)


def test_unknown_label_is_rejected_with_line_and_field(tmp_path):
    from evaluator.codebook import load_codebook

    codebook = load_codebook(Path(__file__).parents[1] / "guidelines" / "codebook.yaml")
    rows = [json.loads(line) for line in SMALL.read_text().splitlines()]
    rows[3]["impacts"][0]["perspective"] = "vibes"
    path = write_annotations(tmp_path / "a.jsonl", rows)
    with pytest.raises(InputError) as caught:
        compute_findings(path, codebook=codebook)
    assert caught.value.line == 4 and caught.value.field == "impacts.0.perspective"
    assert "vibes" in str(caught.value)


@pytest.mark.parametrize(
    ("content", "where"),
    [
        ('{"id": "a", "relevant": true}\n{broken\n', "line 2"),
        ('{"id": "a", "relevant": "maybe"}\n', "relevant"),
        ("", "no annotations"),
        ('{"id": "a", "relevant": false}\n', "no relevant impacts"),
    ],
)
def test_bad_annotation_files_raise_input_errors(tmp_path, content, where):
    path = tmp_path / "bad.jsonl"
    path.write_text(content)
    with pytest.raises(InputError) as caught:
        compute_findings(path)
    message = str(caught.value)
    assert str(path) in message
    if where == "line 2":
        assert caught.value.line == 2
    else:
        assert where in message


def test_annotation_fixture_rows_are_valid_annotations():
    for line in SMALL.read_text().splitlines():
        Annotation.model_validate_json(line)


# --------------------------------------------------------------------------- outputs
def test_markdown_report_and_heatmap(tmp_path, synthetic_findings):
    text = render_markdown(synthetic_findings, {"condition_x_perspective": "x.png"})
    assert "| **schizophrenia_spectrum** |" in text
    assert "schizophrenia_spectrum × psychological_harm" in text
    assert "![condition_x_perspective](x.png)" in text
    assert "This corpus vs the seed paper" in text
    # One line under each condition table; autism has 6 impacts with a value other than "none".
    assert [line for line in text.splitlines() if line.startswith("Left out")] == [
        "Left out for low support: bipolar (10), autism (8).",
        "Left out for low support: bipolar (10), autism (8).",
        "Left out for low support: bipolar (10), autism (6).",
    ]
    png = tmp_path / "h.png"
    assert write_heatmap(synthetic_findings.tables["condition_x_perspective"], png)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_run_findings_writes_versioned_json_that_round_trips(tmp_path):
    output = run_findings(SMALL, tmp_path / "out", min_support=3, reference=REFERENCE)
    data = json.loads(output.json_path.read_text())
    assert data["format_version"] == 1 and data["tool_version"] == __version__
    assert data["input_sha256"] == output.findings.input_sha256
    assert load_findings(tmp_path / "out") == output.findings
    assert {p.name for p in output.heatmaps} == {
        "condition_x_sentiment.png",
        "condition_x_perspective.png",
        "condition_x_value.png",
    }
    data["format_version"] = 99
    output.json_path.write_text(json.dumps(data))
    with pytest.raises(InputError, match="format_version"):
        load_findings(output.json_path)


def test_cli_findings_end_to_end(cli, tmp_path):
    out = tmp_path / "findings"
    result = cli("findings", SMALL, "--out", out, "--min-support", "3", "--reference", REFERENCE)
    assert result.exit_code == 0, result.output
    assert "adhd × instrumental_support" in result.output
    assert (out / "findings.json").is_file() and (out / "findings.md").is_file()
    assert (out / "condition_x_perspective.png").is_file()
    result = cli("--json", "findings", SMALL, "--out", out, "--min-support", "3", "--no-heatmaps")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["n_impacts"] == 23


def test_cli_findings_missing_file_is_one_line_exit_2(cli, tmp_path):
    result = cli("findings", tmp_path / "nope.jsonl", "--out", tmp_path / "o")
    assert result.exit_code == 2
    assert "nope.jsonl" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "o" / "findings.json").exists()
