"""Judge-human agreement: label parsing, metrics against hand computation, CLI."""

from __future__ import annotations

import json
from collections import Counter

import pytest
from support.scoring import FakeJudge, fixture_rubrics, transcript

from evaluator.codebook import load_codebook
from evaluator.config import project_root
from evaluator.errors import InputError
from evaluator.io import write_json
from evaluator.judges.agreement import agreement, agreement_files, read_labels
from evaluator.scoring import score

# judge's label for the critical no_exclusive_reliance criterion of t0..t7, and the humans'
JUDGE = ["fail", "fail", "pass", "pass", "pass", "fail", "pass", "partial"]
HUMAN = ["fail", "pass", "pass", "pass", "fail", "fail", "pass", "pass"]


@pytest.fixture(scope="module")
def run():
    codebook = load_codebook(project_root() / "guidelines" / "codebook.yaml")
    transcripts = [
        transcript(f"t{i}", "I'm so lonely lately.", f"Reply number {i}.") for i in range(8)
    ]
    judge = FakeJudge(
        labels={(f"t{i}", "no_exclusive_reliance"): label for i, label in enumerate(JUDGE)}
    )
    return score(transcripts, rubrics=fixture_rubrics(), judge=judge, codebook=codebook)


def cohen_kappa(a, b):
    """Textbook Cohen's kappa, written out to check the library call."""
    n = len(a)
    observed = sum(x == y for x, y in zip(a, b, strict=True)) / n
    ca, cb = Counter(a), Counter(b)
    expected = sum(ca[k] * cb[k] for k in set(a) | set(b)) / n**2
    return (observed - expected) / (1 - expected)


def write_csv(path, rows, header="id,label"):
    path.write_text(header + "\n" + "\n".join(",".join(r) for r in rows) + "\n")
    return path


def test_transcript_level_binary_matches_hand_computation(run, tmp_path):
    labels = write_csv(tmp_path / "l.csv", [(f"t{i}", h) for i, h in enumerate(HUMAN)])
    report = agreement(run, read_labels(labels))
    (level,) = report.levels
    judged = [r.verdict for r in run.transcripts]  # critical fail -> fail, partial -> pass
    assert judged == ["fail", "fail", "pass", "pass", "pass", "fail", "pass", "pass"]
    assert level.level == "transcript" and level.scale == "binary" and level.n == 8
    assert level.accuracy == pytest.approx(
        sum(h == j for h, j in zip(HUMAN, judged, strict=True)) / 8
    )
    assert level.kappa == pytest.approx(cohen_kappa(HUMAN, judged), abs=1e-4)
    assert level.labels == ["fail", "pass"]
    # rows human, columns judge
    assert level.confusion == [
        [
            sum(h == "fail" and j == "fail" for h, j in zip(HUMAN, judged, strict=True)),
            sum(h == "fail" and j == "pass" for h, j in zip(HUMAN, judged, strict=True)),
        ],
        [
            sum(h == "pass" and j == "fail" for h, j in zip(HUMAN, judged, strict=True)),
            sum(h == "pass" and j == "pass" for h, j in zip(HUMAN, judged, strict=True)),
        ],
    ]
    assert level.spearman is None  # binary


def test_criterion_level_ordinal_labels_with_spearman(run, tmp_path):
    ordinal = {"fail": "0", "partial": "1", "pass": "2"}
    human = ["fail", "partial", "pass", "pass", "fail", "fail", "partial", "pass"]
    path = tmp_path / "labels.jsonl"
    with path.open("w") as handle:
        for i, label in enumerate(human):
            row = {"id": f"t{i}", "criterion_id": "no_exclusive_reliance", "label": ordinal[label]}
            handle.write(json.dumps(row) + "\n")
    (level,) = agreement(run, read_labels(path)).levels
    assert level.level == "criterion" and level.scale == "ordinal"
    assert level.labels == ["fail", "partial", "pass"]
    assert level.accuracy == pytest.approx(
        sum(h == j for h, j in zip(human, JUDGE, strict=True)) / 8
    )
    assert level.kappa == pytest.approx(cohen_kappa(human, JUDGE), abs=1e-4)
    from scipy.stats import spearmanr

    rank = {"fail": 0, "partial": 1, "pass": 2}
    expected = spearmanr([rank[h] for h in human], [rank[j] for j in JUDGE])[0]
    assert level.spearman == pytest.approx(expected, abs=1e-4)
    assert level.weighted_kappa is not None and level.spearman_score is not None
    assert level.by_criterion == {
        "no_exclusive_reliance": {"n": 8, "accuracy": level.accuracy},
    }


def test_partial_as_decides_how_judge_partial_meets_binary_labels(run, tmp_path):
    path = write_csv(
        tmp_path / "l.csv",
        [("t7", "no_exclusive_reliance", "pass"), ("t0", "no_exclusive_reliance", "fail")],
        header="id,criterion_id,label",
    )
    strict = agreement(run, read_labels(path), partial_as="fail").levels[0]
    lenient = agreement(run, read_labels(path), partial_as="pass").levels[0]
    assert strict.accuracy == 0.5 and lenient.accuracy == 1.0


def test_not_applicable_and_missing_items_are_reported(run, tmp_path):
    path = write_csv(
        tmp_path / "l.csv",
        [
            ("t0", "crisis_resources", "pass"),  # not applicable: no crisis here
            ("t1", "no_exclusive_reliance", "fail"),
            ("t99", "no_exclusive_reliance", "fail"),
            ("t2", "no_exclusive_reliance", "n/a"),
        ],
        header="id,criterion_id,label",
    )
    (level,) = agreement(run, read_labels(path)).levels
    assert level.n == 1
    assert level.excluded == {"judge not_applicable": 1, "human not_applicable": 1}
    assert level.missing == ["t99/no_exclusive_reliance"]


def test_label_file_errors_name_file_and_line(run, tmp_path):
    with pytest.raises(InputError, match=r"l.csv:3: label: unknown label 'great'"):
        read_labels(write_csv(tmp_path / "l.csv", [("t0", "pass"), ("t1", "great")]))
    with pytest.raises(InputError, match=r"d.csv:3: t0 is labelled twice"):
        read_labels(write_csv(tmp_path / "d.csv", [("t0", "pass"), ("t0", "fail")]))
    with pytest.raises(InputError, match="need columns id and label"):
        read_labels(write_csv(tmp_path / "h.csv", [("t0", "pass")], header="id,verdict"))
    with pytest.raises(InputError, match="no transcript-level label matches"):
        agreement(run, read_labels(write_csv(tmp_path / "n.csv", [("zzz", "pass")])))


def test_cli_agreement_prints_and_writes_json(run, tmp_path, cli):
    scores = tmp_path / "result.json"
    write_json(scores, run)
    labels = write_csv(tmp_path / "l.csv", [(f"t{i}", h) for i, h in enumerate(HUMAN)])
    out = tmp_path / "agreement.json"
    result = cli("agreement", scores, labels, "--out", out)
    assert result.exit_code == 0, result.output
    assert "transcript-level (binary, n=8)" in result.output
    data = json.loads(out.read_text())
    assert data["levels"][0]["n"] == 8 and data["judge"]["name"] == "fake"
    assert data == json.loads(
        agreement_files(scores, labels).model_dump_json(exclude={"created_at"})
    ) | {"created_at": data["created_at"]}
    bad = cli("agreement", labels, labels)
    assert bad.exit_code == 2
