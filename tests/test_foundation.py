"""The shared foundation: atomic IO, strict YAML, settings discovery, the CLI root."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys

import pytest
from pydantic import BaseModel, ConfigDict

from evaluator import __version__
from evaluator.config import load_settings
from evaluator.errors import ConfigError, InputError
from evaluator.io import atomic_write, iter_jsonl, load_yaml_model, read_json


def test_atomic_write_keeps_old_file_when_writer_fails(tmp_path):
    target = tmp_path / "out.jsonl"
    target.write_text("old\n")
    with pytest.raises(RuntimeError), atomic_write(target) as handle:
        handle.write("half a line")
        raise RuntimeError("crash mid-write")
    assert target.read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.jsonl"]


def test_atomic_write_gives_normal_permissions(tmp_path):
    import os
    import stat

    target = tmp_path / "report.json"
    with atomic_write(target) as handle:
        handle.write("{}")
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~umask


def test_gzip_jsonl_write_round_trip_is_byte_stable(tmp_path):
    rows = [{"id": "a", "text": "héllo"}, {"id": "b", "text": "x"}]
    first, second = tmp_path / "1.jsonl.gz", tmp_path / "2.jsonl.gz"
    for path in (first, second):
        with atomic_write(path) as handle:
            handle.writelines(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
    assert first.read_bytes() == second.read_bytes()
    assert gzip.decompress(first.read_bytes()).decode().splitlines()[0] == json.dumps(
        rows[0], ensure_ascii=False
    )
    assert [row for _, row in iter_jsonl(first)] == rows


def test_iter_jsonl_names_file_and_line_of_malformed_row(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"ok": 1}\n\n{"broken": \n{"ok": 2}\n')
    with pytest.raises(InputError) as info:
        list(iter_jsonl(path))
    assert str(info.value).startswith(f"{path}:3: malformed JSON")
    skipped = []
    rows = list(iter_jsonl(path, strict=False, on_error=lambda n, m: skipped.append(n)))
    assert [row["ok"] for _, row in rows] == [1, 2]
    assert skipped == [3]


def test_open_text_replaces_undecodable_bytes(tmp_path):
    path = tmp_path / "latin1.json"
    path.write_bytes(b'{"text": "caf\xe9"}')
    assert read_json(path) == {"text": "caf\ufffd"}


class _Thing(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    weight: float


def test_yaml_errors_name_file_and_field(tmp_path):
    path = tmp_path / "thing.yaml"
    path.write_text("name: x\nweight: heavy\n")
    with pytest.raises(ConfigError) as info:
        load_yaml_model(path, _Thing)
    assert info.value.file == str(path) and info.value.field == "weight"
    path.write_text("name: x\nweight: 1\ncolour: red\n")
    with pytest.raises(ConfigError, match="unknown key") as info:
        load_yaml_model(path, _Thing)
    assert info.value.field == "colour"
    path.write_text("name: [unclosed\n")
    with pytest.raises(ConfigError, match="malformed YAML"):
        load_yaml_model(path, _Thing)


def test_settings_found_upwards_with_paths_relative_to_the_file(tmp_path):
    (tmp_path / "mheval.toml").write_text('judge = "openai:gpt-4.1-mini"\nindex_path = "idx"\n')
    nested = tmp_path / "a" / "b"
    nested.mkdir(parents=True)
    settings = load_settings(cwd=nested)
    assert settings.judge == "openai:gpt-4.1-mini"
    assert settings.index_path == (tmp_path / "idx").resolve()


def test_settings_from_pyproject_tool_section_and_unknown_key(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[tool.mheval]\nconcurrency = 2\n")
    assert load_settings(cwd=tmp_path).concurrency == 2
    (tmp_path / "pyproject.toml").write_text("[tool.mheval]\nconcurency = 2\n")
    with pytest.raises(ConfigError) as info:
        load_settings(cwd=tmp_path)
    assert info.value.field == "concurency"


def test_version_flag(cli):
    result = cli("--version")
    assert result.exit_code == 0
    assert result.output.strip() == f"mheval {__version__}"


def _options(command, prefix=()):
    """(command path, parameter) for every option of the CLI tree."""
    for param in command.params:
        yield " ".join(prefix), param
    for name, sub in getattr(command, "commands", {}).items():
        yield from _options(sub, (*prefix, name))


def test_shared_options_have_one_spelling_in_every_command():
    import typer

    from evaluator.cli.app import app

    options = list(_options(typer.main.get_command(app)))
    for flag, name in (("-j", "judge"), ("-c", "concurrency")):
        owners = {(path, param.name) for path, param in options if flag in param.opts}
        assert owners and {param_name for _, param_name in owners} == {name}, owners
    spelled = {
        (path, param.name): sorted(param.opts + param.secondary_opts) for path, param in options
    }
    for command in ("score", "run"):
        assert spelled[(command, "judge")] == ["--judge", "-j"]
        assert spelled[(command, "samples")] == ["--samples"]
        assert spelled[(command, "guidelines")] == ["--guidelines"]
        assert spelled[(command, "retrieval")] == ["--no-retrieval", "--retrieval"]
    assert spelled[("run", "concurrency")] == spelled[("mine run", "concurrency")]


def test_cli_import_stays_light():
    """`mheval --help` must not import the heavy stacks (they cost seconds)."""
    code = (
        "import sys, evaluator.cli.app\n"
        "heavy = {'torch', 'sentence_transformers', 'chromadb', 'langchain', 'langchain_core',"
        " 'sklearn', 'scipy', 'pandas', 'matplotlib', 'transformers'}\n"
        "print(sorted(heavy & set(sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_with_hint_keeps_the_error_type_and_where_it_happened():
    from evaluator.errors import CorpusIndexError

    error = CorpusIndexError("index not found", file="corpus_index/chroma", field="index", line=3)
    hinted = error.with_hint("or score without user voices: --no-retrieval")
    assert type(hinted) is CorpusIndexError and hinted.exit_code == 2
    assert str(hinted) == (
        "corpus_index/chroma:3: index: index not found "
        "(or score without user voices: --no-retrieval)"
    )
