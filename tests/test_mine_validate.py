"""`mheval mine validate`: metrics checked against a small example computed by hand."""

from __future__ import annotations

import json

import pytest

from evaluator.errors import InputError
from evaluator.mine.validate import validate

GOLD = [
    {
        "id": "g1",
        "relevant": True,
        "post_sentiment": "positive",
        "conditions": ["anxiety"],
        "perspectives": ["emotional_support"],
        "values": ["calmness"],
    },
    {
        "id": "g2",
        "relevant": True,
        "crisis": True,
        "post_sentiment": "negative",
        "conditions": ["depressive"],
        "perspectives": ["dependency"],
        "values": ["autonomy"],
    },
    {"id": "g3", "relevant": False, "note": "a billing complaint (annotator comment)"},
    {
        "id": "g4",
        "relevant": True,
        "post_sentiment": "mixed",
        "conditions": ["anxiety", "depressive"],
        "perspectives": ["emotional_support", "interaction_limitations"],
        "values": ["human_welfare"],
    },
    {"id": "g5", "relevant": False, "crisis": True},
]
PRED = [
    {**GOLD[0]},
    {**GOLD[1], "conditions": ["anxiety"]},
    {
        "id": "g3",
        "relevant": True,
        "post_sentiment": "neutral",
        "conditions": ["general"],
        "perspectives": ["informational_support"],
    },
    {"id": "g4", "relevant": False, "error": "model refused: ..."},
    {"id": "g5", "relevant": False},
    {"id": "p6", "relevant": True, "post_sentiment": "positive", "conditions": ["adhd"]},
]


def write(path, rows):
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


@pytest.fixture
def files(tmp_path):
    return write(tmp_path / "pred.jsonl", PRED), write(tmp_path / "gold.jsonl", GOLD)


def field(report, name):
    return next(f for f in report.fields if f.field == name)


def label(field_score, name):
    return next(s for s in field_score.labels if s.label == name)


def test_relevance_by_hand(files):
    report = validate(*files, min_support=1)
    assert (report.posts, report.pred_errors, report.extra_pred) == (5, 1, 1)
    relevance = field(report, "relevance")
    rel, not_rel = label(relevance, "relevant"), label(relevance, "not_relevant")
    assert (rel.precision, rel.recall, rel.f1) == pytest.approx((2 / 3, 2 / 3, 2 / 3), abs=1e-4)
    assert (not_rel.precision, not_rel.recall, not_rel.f1) == (0.5, 0.5, 0.5)
    assert relevance.macro_f1 == pytest.approx((2 / 3 + 1 / 2) / 2, abs=1e-4)
    assert relevance.accuracy == 0.6
    assert relevance.kappa == pytest.approx((0.6 - 0.52) / 0.48, abs=1e-4)
    assert relevance.confusion_labels == ["relevant", "not_relevant"]
    assert relevance.confusion == [[2, 1], [1, 1]]


def test_min_support_decides_which_labels_count_in_macro(files):
    relevance = field(validate(*files, min_support=3), "relevance")
    assert [s.label for s in relevance.labels if s.in_macro] == ["relevant"]
    assert relevance.macro_f1 == pytest.approx(2 / 3, abs=1e-4)
    assert len(relevance.labels) == 2  # every label is still reported


def test_multilabel_conditions_by_hand(files):
    conditions = field(validate(*files, min_support=1), "conditions")
    anxiety, depressive = label(conditions, "anxiety"), label(conditions, "depressive")
    assert (anxiety.precision, anxiety.recall, anxiety.support, anxiety.predicted) == (
        0.5,
        0.5,
        2,
        2,
    )
    assert (depressive.recall, depressive.f1, depressive.predicted) == (0.0, 0.0, 0)
    general = label(conditions, "general")
    assert (general.support, general.predicted, general.in_macro) == (0, 1, False)
    assert conditions.macro_f1 == 0.25
    assert conditions.micro_f1 == pytest.approx(2 / 7, abs=1e-4)
    assert "adhd" not in {s.label for s in conditions.labels}  # p6 has no gold: ignored


def test_sentiment_accuracy_and_kappa_by_hand(files):
    sentiment = field(validate(*files, min_support=1), "post_sentiment")
    assert sentiment.posts == 3  # gold-relevant posts only
    assert sentiment.accuracy == pytest.approx(2 / 3, abs=1e-4)
    assert sentiment.kappa == pytest.approx(4 / 7, abs=1e-4)
    mixed_row = sentiment.confusion[sentiment.confusion_labels.index("mixed")]
    assert mixed_row[sentiment.confusion_labels.index("none")] == 1  # the error row


def test_crisis_by_hand(files):
    crisis = field(validate(*files, min_support=1), "crisis")
    yes = label(crisis, "crisis")
    assert (yes.precision, yes.recall) == (1.0, 0.5)
    assert crisis.accuracy == 0.8


def test_gold_ids_without_prediction_are_named(tmp_path):
    pred = write(tmp_path / "pred.jsonl", PRED[:3])
    gold = write(tmp_path / "gold.jsonl", GOLD)
    with pytest.raises(InputError, match=r"2 gold post\(s\) have no prediction: g4, g5"):
        validate(pred, gold)


def test_malformed_rows_name_file_line_and_field(tmp_path):
    gold = write(tmp_path / "gold.jsonl", GOLD)
    pred = write(tmp_path / "pred.jsonl", [PRED[0], {"id": "g2", "relevant": "maybe"}])
    with pytest.raises(InputError) as error:
        validate(pred, gold)
    assert (error.value.line, error.value.field) == (2, "relevant")


def test_cli_renders_tables_and_json(cli, files):
    pred, gold = files
    result = cli("mine", "validate", pred, gold, "--min-support", "1")
    assert result.exit_code == 0, result.output
    for text in ("relevance", "conditions", "post_sentiment", "gold (rows)", "macro F1", "kappa"):
        assert text in result.stdout
    assert "1 predictions are error rows" in result.stderr

    as_json = cli("--json", "mine", "validate", pred, gold)
    report = json.loads(as_json.stdout)
    assert report["min_support"] == 5 and report["posts"] == 5
    assert [f["field"] for f in report["fields"]] == [
        "relevance",
        "conditions",
        "perspectives",
        "values",
        "crisis",
        "post_sentiment",
    ]
