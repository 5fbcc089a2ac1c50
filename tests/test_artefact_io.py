"""Every versioned artefact is read through `io.read_model`: a wrong or missing `format_version`
is one clear error naming the file and the field, and result files round-trip with the keys
they have always had."""

from __future__ import annotations

import json

import pytest
from support.scoring import sample_run

from evaluator.codebook import load_codebook
from evaluator.config import project_root
from evaluator.errors import ConfigError, CorpusIndexError, EvaluatorError, InputError
from evaluator.findings import load_findings
from evaluator.index import VectorStore
from evaluator.io import (
    read_check,
    read_model,
    read_run,
    read_score_run,
    validate_model,
    write_run,
    write_score_run,
)
from evaluator.judges.agreement import agreement_files
from evaluator.types import (
    CHECK_FORMAT_VERSION,
    FINDINGS_FORMAT_VERSION,
    INDEX_FORMAT_VERSION,
    RUN_FORMAT_VERSION,
    SCORE_FORMAT_VERSION,
    ExpectationSummary,
    RunRecord,
    ScenarioOutcome,
    ScenarioRunSummary,
    ScoreRun,
    SystemPromptInfo,
    TargetInfo,
    UnmetExpectation,
)


@pytest.fixture(scope="module")
def run() -> ScoreRun:
    return sample_run(load_codebook(project_root() / "guidelines" / "codebook.yaml"))


def _record(score: ScoreRun) -> RunRecord:
    return RunRecord(
        tool_version="test",
        created_at="2026-12-07T00:00:00+00:00",
        target=TargetInfo(
            spec="openai:http://localhost:11434/v1#bot",
            model="bot",
            base_url="http://localhost:11434/v1",
            system_prompt=SystemPromptInfo(file="prompt.txt", sha256="ab" * 32, chars=12),
            simulator="fakesim:persona",
        ),
        scenarios={"s": "hash"},
        outcomes=[ScenarioOutcome(scenario_id="s", condition="adhd", risk="low", error="x")],
        score=score,
        summary=ScenarioRunSummary(
            scenarios=1,
            errors=1,
            score=score.summary.score,
            expectations=ExpectationSummary(
                total=1, unmet=[UnmetExpectation(scenario="s", criterion="a/b", label="missing")]
            ),
            critical_failures=score.summary.critical_failures,
            by_condition=score.summary.by_condition,
            timings={"converse": 0.5, "total": 1.0},
        ),
    )


def _write(path, data) -> str:
    path.write_text(json.dumps(data))
    return str(path)


# --- round trips and the shape of the files ----------------------------------------------------


def test_a_score_run_round_trips_with_the_keys_it_always_had(run, tmp_path):
    path = tmp_path / "scores.json"
    write_score_run(path, run)
    assert read_score_run(path) == run
    data = json.loads(path.read_text())
    assert set(data["judge"]) == {"name", "model", "version", "deterministic", "samples"}
    assert set(data["summary"]) == {
        "transcripts",
        "passed",
        "failed",
        "inconclusive",
        "score",
        "labels",
        "critical_failures",
        "unscored",
        "by_condition",
        "by_value",
        "by_criterion",
        "quality",
        "evidence",
        "skipped",
        "retrieval",
    }
    assert set(data["summary"]["labels"]) == {
        "pass",
        "partial",
        "fail",
        "unscored",
        "not_applicable",
    }
    assert set(data["summary"]["by_criterion"]["base/crisis_resources"]) == {
        "rubric",
        "criterion",
        "title",
        "severity",
        "values",
        "n",
        "scored",
        "score",
        "pass",
        "partial",
        "fail",
        "unscored",
        "not_applicable",
    }
    assert data["index"] == {"embedding_model": "fake-embedder", "count": 42}
    detection = data["transcripts"][0]["detection"]
    assert set(detection) == {
        "conditions_source",
        "crisis_source",
        "detected_conditions",
        "detected_crisis",
        "reasons",
    }


def test_a_scenario_run_round_trips_with_the_keys_it_always_had(run, tmp_path):
    record = _record(run)
    path = tmp_path / "run.json"
    write_run(path, record)
    assert read_run(path) == record
    data = json.loads(path.read_text())
    assert set(data["target"]) == {"spec", "model", "base_url", "system_prompt", "simulator"}
    assert set(data["summary"]) == {
        "scenarios",
        "passed",
        "failed",
        "inconclusive",
        "errors",
        "score",
        "expectations",
        "critical_failures",
        "by_condition",
        "timings",
    }


def test_a_target_keeps_the_keys_its_own_describe_adds(run, tmp_path):
    record = _record(run).model_copy(
        update={"target": TargetInfo.model_validate({"spec": "mine:bot", "region": "eu"})}
    )
    path = tmp_path / "run.json"
    write_run(path, record)
    assert json.loads(path.read_text())["target"] == {"spec": "mine:bot", "region": "eu"}
    assert read_run(path).target.model_extra == {"region": "eu"}


# --- a wrong or missing format_version, per reader ---------------------------------------------


def _score_dict(run: ScoreRun) -> dict:
    return run.model_dump(mode="json")


READERS = {
    "score run": (read_score_run, SCORE_FORMAT_VERSION, InputError),
    "run": (read_run, RUN_FORMAT_VERSION, InputError),
    "findings": (load_findings, FINDINGS_FORMAT_VERSION, InputError),
    "check report": (read_check, CHECK_FORMAT_VERSION, InputError),
    "agreement scores": (
        lambda path: agreement_files(path, path.with_name("labels.csv")),
        SCORE_FORMAT_VERSION,
        InputError,
    ),
}


@pytest.mark.parametrize("name", list(READERS))
@pytest.mark.parametrize("version", ["other", "missing"])
def test_each_reader_refuses_a_wrong_or_missing_format_version(name, version, run, tmp_path):
    reader, current, error = READERS[name]
    data = _record(run).model_dump(mode="json") if name == "run" else _score_dict(run)
    if version == "other":
        data["format_version"] = current + 1
    else:
        del data["format_version"]
    path = tmp_path / "artefact.json"
    _write(path, data)
    (tmp_path / "labels.csv").write_text("id,label\nadhd-1,pass\n")
    with pytest.raises(error) as caught:
        reader(path)
    assert caught.value.file == str(path) and caught.value.field == "format_version"
    message = str(caught.value)
    assert message.startswith(f"{path}: format_version: ")
    if version == "other":
        assert f"{current + 1} is not supported (this mheval reads {current})" in message
    else:
        assert "no format_version" in message


@pytest.mark.parametrize("version", [INDEX_FORMAT_VERSION + 1, None])
def test_the_index_manifest_refuses_a_wrong_or_missing_format_version(version, tmp_path):
    store = VectorStore.connect(path=tmp_path / "index")
    (tmp_path / "index").mkdir()
    manifest = {"tool_version": "0", "collection": "voices-1", "generation": 1}
    if version is not None:
        manifest["format_version"] = version
    _write(tmp_path / "index" / "manifest.json", manifest)
    with pytest.raises(CorpusIndexError) as caught:
        store.read_manifest()
    assert caught.value.field == "format_version"
    assert caught.value.file == str(tmp_path / "index" / "manifest.json")
    assert "mheval index build --rebuild" in caught.value.message


# --- the one parse path ------------------------------------------------------------------------


def test_read_model_names_the_file_and_field_of_a_schema_error(run, tmp_path):
    data = _score_dict(run)
    data["summary"]["by_condition"]["adhd"]["pass_rate"] = "most"
    path = _write(tmp_path / "scores.json", data)
    with pytest.raises(InputError) as caught:
        read_score_run(path)
    assert caught.value.file == path
    assert caught.value.field == "summary.by_condition.adhd.pass_rate"


def test_read_model_reads_yaml_by_suffix_and_raises_the_error_it_is_given(tmp_path):
    path = tmp_path / "report.yaml"
    path.write_text(f"format_version: {CHECK_FORMAT_VERSION + 1}\npassed: true\n")
    from evaluator.types import CheckReport

    with pytest.raises(ConfigError, match="format_version"):
        read_model(path, CheckReport, version=CHECK_FORMAT_VERSION, error=ConfigError)
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    with pytest.raises(ConfigError, match="malformed JSON"):
        read_model(broken, CheckReport, error=ConfigError)


def test_validate_model_checks_the_version_before_the_schema():
    with pytest.raises(EvaluatorError) as caught:
        validate_model({"format_version": 0, "bogus": 1}, ScoreRun, file="x.json", version=2)
    assert caught.value.field == "format_version"


def test_a_hand_written_yaml_file_may_omit_format_version_but_not_give_another(tmp_path):
    from evaluator.guidelines.rubrics import load_rubric_file

    shipped = (project_root() / "guidelines" / "base.yaml").read_text()
    assert "\nformat_version: 1\n" in shipped
    rubric = tmp_path / "base.yaml"
    rubric.write_text(shipped.replace("\nformat_version: 1\n", "\n"))
    assert load_rubric_file(rubric).format_version == 1
    rubric.write_text(shipped.replace("\nformat_version: 1\n", "\nformat_version: 2\n"))
    with pytest.raises(ConfigError) as caught:
        load_rubric_file(rubric)
    assert caught.value.file == str(rubric) and caught.value.field == "format_version"
    assert "Rubric file format_version 2 is not supported (this mheval reads 1)" in str(
        caught.value
    )
