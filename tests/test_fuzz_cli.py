"""Fuzzing the real CLI in-process (issue 14): generated transcripts, run files, score results,
scenario and rubric YAML and config files go through `mheval`; whatever they hold, the exit code
is 0, 1 or 2 and nothing prints a traceback. A 70 (internal error) is a bug found.

Seeded (`derandomize=True`) so CI sees the same ~560 examples on every run. Judging uses the
offline local judge with retrieval off (tens of milliseconds a transcript once the model is
loaded). Run files and score results start from real ones written once per module and are
mutated: values replaced by any JSON, keys dropped, lists emptied, bytes cut or garbled.
"""

from __future__ import annotations

import copy
import csv
import io
import json
import os
import shutil
import tempfile
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, currently_in_test_context, event, given, settings
from hypothesis import strategies as st

from evaluator.config import project_root

ROOT = project_root()
DATA = ROOT / "tests" / "data" / "scenarios"
GUIDELINES = DATA / "guidelines"
SCENARIO_FILES = sorted((DATA / "scenarios").glob("*.yaml"))
EXAMPLE_LINES = (ROOT / "examples" / "transcripts" / "conversations.jsonl").read_text().splitlines()

pytestmark = pytest.mark.slow


# Exploring locally: MHEVAL_FUZZ_SCALE=20 MHEVAL_FUZZ_RANDOM=1 runs 20 times as many examples,
# differently each time. CI runs the fixed, seeded set.
SCALE = float(os.environ.get("MHEVAL_FUZZ_SCALE", "1"))
RANDOM = os.environ.get("MHEVAL_FUZZ_RANDOM") == "1"


def fuzz_settings(examples: int):
    return settings(
        max_examples=max(1, int(examples * SCALE)),
        derandomize=not RANDOM,
        deadline=None,
        database=None,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.function_scoped_fixture,
            HealthCheck.large_base_example,
        ],
    )


# --- the CLI and what it may answer --------------------------------------------------------------


@pytest.fixture(scope="module")
def mheval(tmp_path_factory):
    """invoke(*args) -> Result through the root app; asserts the exit-code contract."""
    from typer.testing import CliRunner

    from evaluator.cli.app import app

    runner = CliRunner()

    def invoke(*args):
        result = runner.invoke(app, [str(a) for a in args], catch_exceptions=True)
        output = result.output
        assert result.exception is None or isinstance(result.exception, SystemExit), (
            f"{args}: {type(result.exception).__name__}: {result.exception}\n{output}"
        )
        assert result.exit_code in (0, 1, 2), f"{args}: exit {result.exit_code}\n{output}"
        assert "Traceback" not in output, f"{args}:\n{output}"
        if result.exit_code == 2:
            assert "error:" in output or "Usage:" in output, f"{args}:\n{output}"
        if currently_in_test_context():  # --hypothesis-show-statistics: how far examples got
            event(f"exit {result.exit_code}")
        return result

    return invoke


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


def fresh(work: Path) -> Path:
    """A new folder for one example (hypothesis reuses the test's fixtures across examples)."""
    return Path(tempfile.mkdtemp(dir=work))


@pytest.fixture(autouse=True)
def _no_model_keys(monkeypatch):
    """No generated judge id may reach a hosted model."""
    for name in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "MHEVAL_TARGET_API_KEY"):
        monkeypatch.delenv(name, raising=False)


# --- generic strategies -------------------------------------------------------------------------

text = st.text(max_size=40)
json_leaf = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | text
)
json_value = st.recursive(
    json_leaf,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)


def _paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _paths(child, (*prefix, index))


@st.composite
def mutated(draw, base):
    """`base` with 0-3 changes at random places: replaced, dropped, emptied or retyped."""
    value = copy.deepcopy(base)
    for _ in range(draw(st.sampled_from([0, 1, 1, 1, 2, 3]))):
        paths = list(_paths(value))
        path = draw(st.sampled_from(paths))
        operation = draw(st.sampled_from(["replace", "replace", "drop", "empty", "stringify"]))
        if not path:
            if operation == "replace":
                value = draw(json_value)
            continue
        parent = value
        for part in path[:-1]:
            parent = parent[part]
        key = path[-1]
        if operation == "replace":
            parent[key] = draw(json_value)
        elif operation == "drop":
            del parent[key]
        elif operation == "empty":
            parent[key] = type(parent[key])() if isinstance(parent[key], dict | list) else None
        else:
            parent[key] = str(parent[key])
    return value


@st.composite
def garbled(draw, data: bytes):
    """The bytes as they are (mostly), cut short, or with a few bytes changed."""
    how = draw(st.sampled_from(["keep", "keep", "keep", "cut", "flip", "insert"]))
    if how == "keep" or not data:
        return data
    at = draw(st.integers(0, len(data) - 1))
    if how == "cut":
        return data[:at]
    if how == "flip":
        return data[:at] + bytes([draw(st.integers(0, 255))]) + data[at + 1 :]
    return data[:at] + draw(st.binary(min_size=1, max_size=8)) + data[at:]


# --- transcripts --------------------------------------------------------------------------------

role = st.sampled_from(["user", "assistant", "user", "assistant", "system", "tool", "Human", "x"])
role_or_junk = role | json_leaf
content = (
    text
    | st.sampled_from(["I stopped taking my meds.", "Please call 988 now.", "[bold]x[/", "<b>"])
    | st.lists(st.fixed_dictionaries({"type": st.just("text"), "text": text}), max_size=2)
    | json_leaf
)
message = st.fixed_dictionaries(
    {"role": st.one_of(role, role, role_or_junk), "content": st.one_of(text, text, content)}
)
metadata = st.one_of(
    st.fixed_dictionaries(
        {"condition": st.sampled_from(["adhd", "bipolar", "general", "nonsense", ""])}
    ),
    st.dictionaries(st.text(max_size=8), json_leaf, max_size=3),
    json_leaf,
)
conversation = st.fixed_dictionaries(
    {
        "id": st.one_of(st.text(min_size=1, max_size=12), st.integers(), json_leaf),
        "messages": st.one_of(st.lists(message, max_size=5), json_leaf),
    },
    optional={"metadata": metadata},
)
example_conversation = st.sampled_from(EXAMPLE_LINES).map(json.loads)
valid_message = st.fixed_dictionaries(
    {"role": st.sampled_from(["user", "assistant"]), "content": text | content}
)
plausible_conversation = st.fixed_dictionaries(
    {
        "id": st.text(min_size=1, max_size=12),
        "messages": st.lists(valid_message, min_size=2, max_size=4).map(
            lambda ms: [*ms, {"role": "assistant", "content": "Are you safe right now?"}]
        ),
    },
    optional={"metadata": metadata},
)


def _csv(conversations) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["conversation_id", "turn", "role", "content", "condition"])
    for conv in (c for c in conversations if isinstance(c, dict)):
        messages = conv.get("messages") if isinstance(conv.get("messages"), list) else []
        for turn, msg in enumerate(m for m in messages if isinstance(m, dict)):
            writer.writerow([conv.get("id"), turn, msg.get("role"), msg.get("content"), "general"])
    return out.getvalue().encode()


def _text(conversations) -> bytes:
    lines = []
    first = conversations[0]
    messages = first.get("messages") if isinstance(first, dict) else None
    for msg in messages if isinstance(messages, list) else []:
        if isinstance(msg, dict):
            lines.append(f"{str(msg.get('role')).capitalize()}: {msg.get('content')}")
    return "\n".join(lines).encode()


@st.composite
def transcript_file(draw):
    """(file name, bytes) of one transcript file in any of the formats, maybe damaged."""
    convs = draw(
        st.lists(
            st.one_of(
                conversation,
                plausible_conversation,
                example_conversation,
                example_conversation.flatmap(mutated),
            ),
            min_size=1,
            max_size=3,
        )
    )
    if draw(st.booleans()):  # mostly distinct ids, so that more files get as far as the judge
        for index, conv in enumerate(convs):
            if isinstance(conv, dict) and isinstance(conv.get("id"), str):
                conv["id"] = f"{conv['id']}-{index}"
    form = draw(st.sampled_from(["jsonl", "jsonl", "json", "json-one", "csv", "txt", "gz"]))
    if form in ("jsonl", "gz"):
        data = "".join(json.dumps(c) + "\n" for c in convs).encode()
    elif form == "json":
        data = json.dumps(convs).encode()
    elif form == "json-one":
        data = json.dumps(convs[0]).encode()
    elif form == "csv":
        data = _csv(convs)
    else:
        data = _text(convs)
    data = draw(garbled(data))
    if form == "gz":
        import gzip

        if draw(st.booleans()):
            data = gzip.compress(data, mtime=0)
        return "chats.jsonl.gz", data
    suffix = {"json-one": "json"}.get(form, form)
    return f"chats.{suffix}", data


@fuzz_settings(200)
@given(
    files=st.lists(transcript_file(), min_size=1, max_size=2),
    skip_invalid=st.booleans(),
    fmt=st.sampled_from(["auto", "auto", "auto", "openai", "csv", "text", "utterances"]),
)
def test_fuzz_score_transcripts(mheval, work, files, skip_invalid, fmt):
    folder = fresh(work)
    for index, (name, data) in enumerate(files):
        (folder / f"{index}-{name}").write_bytes(data)
    args = ["score", folder, "--no-retrieval", "--format", fmt, "--out", folder / "out.json"]
    if skip_invalid:
        args.append("--skip-invalid")
    result = mheval(*args)
    if result.exit_code in (0, 1):
        assert json.loads((folder / "out.json").read_text())["transcripts"]
    shutil.rmtree(folder)


# --- run files, baselines and score results -----------------------------------------------------


@pytest.fixture(scope="module")
def real_runs(work, mheval, tmp_path_factory):
    """A real run file and a real score result, to mutate."""
    import sys

    bots = tmp_path_factory.mktemp("bots")
    (bots / "fuzzbots.py").write_text(
        "def reply(messages):\n    return 'I hear you. Are you safe right now? You can call 988.'\n"
    )
    sys.path.insert(0, str(bots))
    config = work / "mheval.toml"
    config.write_text(f'guidelines = "{GUIDELINES}"\n')
    run = work / "run.json"
    try:
        result = mheval(
            "--config",
            config,
            "run",
            DATA / "scenarios",
            "-t",
            "python:fuzzbots:reply",
            "--no-retrieval",
            "-o",
            run,
        )
    finally:
        sys.path.remove(str(bots))
        sys.modules.pop("fuzzbots", None)
    assert result.exit_code == 0, result.output
    scores = work / "scores.json"
    result = mheval(
        "score",
        ROOT / "examples" / "transcripts",
        "--no-retrieval",
        "--out",
        scores,
        "--exit-zero",
    )
    assert result.exit_code == 0, result.output
    return json.loads(run.read_text()), json.loads(scores.read_text())


def _write_json(path: Path, value, data: bytes | None = None) -> Path:
    path.write_bytes(data if data is not None else json.dumps(value).encode())
    return path


@fuzz_settings(120)
@given(data=st.data(), which=st.sampled_from(["run", "baseline", "both", "bless"]))
def test_fuzz_check_and_bless_run_files(mheval, work, real_runs, data, which):
    run, _ = real_runs
    folder = fresh(work)
    bad = data.draw(mutated(run))
    raw = data.draw(garbled(json.dumps(bad).encode()))
    good_path = _write_json(folder / "good.json", run)
    bad_path = _write_json(folder / "bad.json", bad, raw)
    if which == "bless":
        mheval("baseline", "bless", bad_path, "--out", folder / "baseline.json")
    else:
        current = bad_path if which in ("run", "both") else good_path
        baseline = bad_path if which in ("baseline", "both") else good_path
        mheval(
            "check",
            current,
            "--baseline",
            baseline,
            "--markdown",
            folder / "check.md",
            "--junit",
            folder / "check.xml",
        )
    shutil.rmtree(folder)


EXAMPLE_IDS = [json.loads(line)["id"] for line in EXAMPLE_LINES]
labels_row = st.fixed_dictionaries(
    {
        "id": st.sampled_from([*EXAMPLE_IDS, "x", "", "1"]) | text,
        "label": st.sampled_from(["pass", "fail", "partial", "1", "0", "", "yes", "maybe"]),
    },
    optional={
        "criterion_id": st.sampled_from(
            ["base.safety.crisis_resources", "safety.crisis_resources", "nope", ""]
        )
    },
)


@fuzz_settings(60)
@given(
    data=st.data(),
    rows=st.lists(labels_row, max_size=6, unique_by=lambda r: (r["id"], r.get("criterion_id"))),
    as_jsonl=st.booleans(),
    partial=st.sampled_from(["fail", "pass"]),
)
def test_fuzz_agreement(mheval, work, real_runs, data, rows, as_jsonl, partial):
    _, scores = real_runs
    folder = fresh(work)
    scores_path = _write_json(folder / "scores.json", data.draw(st.just(scores) | mutated(scores)))
    labels = folder / ("labels.jsonl" if as_jsonl else "labels.csv")
    if as_jsonl:
        labels.write_bytes(data.draw(garbled("".join(json.dumps(r) + "\n" for r in rows).encode())))
    else:
        labels.write_bytes(data.draw(garbled(_labels_csv(rows))))
    mheval("agreement", scores_path, labels, "--partial-as", partial, "--out", folder / "a.json")
    shutil.rmtree(folder)


def _labels_csv(rows) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=["id", "label", "criterion_id"])
    writer.writeheader()
    for row in rows:
        writer.writerow(row)
    return out.getvalue().encode()


# --- scenario and rubric YAML -------------------------------------------------------------------

SCENARIOS = [yaml.safe_load(p.read_text()) for p in SCENARIO_FILES]
RUBRICS = {p.name: yaml.safe_load(p.read_text()) for p in sorted(GUIDELINES.glob("*.yaml"))}


def _yaml(value) -> bytes:
    return yaml.safe_dump(value, allow_unicode=True, sort_keys=False).encode()


@fuzz_settings(60)
@given(data=st.data(), command=st.sampled_from(["validate", "list"]))
def test_fuzz_scenario_yaml(mheval, work, data, command):
    folder = fresh(work)
    scenario = data.draw(st.sampled_from(SCENARIOS).flatmap(mutated))
    path = folder / "scenario.yaml"
    path.write_bytes(data.draw(garbled(_yaml(scenario))))
    if command == "validate":
        mheval("scenarios", "validate", path, "--guidelines", GUIDELINES)
    else:
        mheval("scenarios", "list", path)
    shutil.rmtree(folder)


@fuzz_settings(60)
@given(data=st.data(), name=st.sampled_from(sorted(RUBRICS)))
def test_fuzz_rubric_yaml(mheval, work, data, name):
    folder = fresh(work)
    guidelines = folder / "guidelines"
    shutil.copytree(GUIDELINES, guidelines)
    rubric = data.draw(mutated(RUBRICS[name]))
    (guidelines / name).write_bytes(data.draw(garbled(_yaml(rubric))))
    transcripts = folder / "chats.jsonl"
    transcripts.write_text("\n".join(EXAMPLE_LINES[:2]) + "\n")
    mheval("score", transcripts, "--no-retrieval", "--guidelines", guidelines, "--summary-only")
    shutil.rmtree(folder)


# --- config files -------------------------------------------------------------------------------


def _toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value != value:
            return "nan"
        if value in (float("inf"), float("-inf")):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value if v is not None) + "]"
    if isinstance(value, dict):
        items = ", ".join(
            f"{json.dumps(k)} = {_toml_value(v)}" for k, v in value.items() if v is not None
        )
        return "{" + items + "}"
    return json.dumps(str(value))


relative_path = st.sampled_from(
    ["guidelines", "missing", "cache", "", ".", "a/b", "chats.jsonl", "mheval.toml"]
)
config_values = {
    "codebook": relative_path | st.just(str(ROOT / "guidelines" / "codebook.yaml")),
    "guidelines": relative_path | st.just(str(GUIDELINES)),
    "scenarios": relative_path,
    "cache_dir": st.sampled_from(["cache", "cache/deeper", "chats.jsonl"]),
    "judge": st.sampled_from(["local", "", "nonsense", "x:y", "LOCAL", " local", "local:"]),
    "annotator": st.sampled_from(["local", "nonsense"]),
    "concurrency": st.integers(-3, 100) | json_leaf,
    "timeout": st.floats(allow_nan=True) | json_leaf,
    "max_retries": st.integers(-3, 30),
    "chroma_url": text,
    "author_salt": text,
    "no_such_key": json_value,
}


@st.composite
def config_file(draw):
    keys = draw(st.lists(st.sampled_from(sorted(config_values)), unique=True, max_size=4))
    body = {key: draw(config_values[key]) for key in keys}
    lines = [f"{key} = {_toml_value(value)}" for key, value in body.items() if value is not None]
    return draw(garbled("\n".join(lines).encode() + b"\n"))


@fuzz_settings(60)
@given(config=config_file(), pyproject=st.booleans())
def test_fuzz_config(mheval, work, config, pyproject):
    folder = fresh(work)
    (folder / "guidelines").mkdir()
    (folder / "chats.jsonl").write_text(EXAMPLE_LINES[0] + "\n")
    if pyproject:
        path = folder / "pyproject.toml"
        path.write_bytes(b"[tool.mheval]\n" + config)
    else:
        path = folder / "mheval.toml"
        path.write_bytes(config)
    mheval("--config", path, "score", folder / "chats.jsonl", "--no-retrieval", "--summary-only")
    shutil.rmtree(folder)
