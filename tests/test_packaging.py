"""Where mheval finds its shipped data and writes its own files, and what the examples command
lays out (the installed wheel itself: tests/test_wheel.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from evaluator import config
from evaluator.config import Settings, cache_root, load_settings, project_root, writable_output
from evaluator.embeddings import NpzCache, model_info, text_hash
from evaluator.errors import InputError
from evaluator.examples import copy_examples
from evaluator.index import load_items

ROOT = Path(__file__).resolve().parents[1]


def test_checkout_is_the_data_root_and_mheval_home_overrides_it(monkeypatch, tmp_path):
    monkeypatch.delenv("MHEVAL_HOME", raising=False)
    assert project_root() == ROOT
    assert Settings().codebook == ROOT / "guidelines" / "codebook.yaml"
    monkeypatch.setenv("MHEVAL_HOME", str(tmp_path))
    assert Settings().guidelines == tmp_path / "guidelines"


def test_installed_data_is_never_a_default_output(monkeypatch, tmp_path):
    """`findings` / `guidelines build` without --out must not overwrite the installed data."""
    bundled = tmp_path / "site-packages" / "evaluator" / "_data"
    (bundled / "guidelines").mkdir(parents=True)
    monkeypatch.delenv("MHEVAL_HOME", raising=False)
    monkeypatch.setattr(config, "_bundled_data", lambda: bundled)
    assert project_root() == bundled
    with pytest.raises(InputError, match="--out") as info:
        writable_output(Settings().guidelines)
    assert info.value.field == "out"
    assert writable_output(tmp_path / "mine") == tmp_path / "mine"


def test_cache_folder_from_env_then_xdg_then_home(monkeypatch, tmp_path):
    monkeypatch.setenv("MHEVAL_CACHE", str(tmp_path / "explicit"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_root() == tmp_path / "explicit"
    monkeypatch.delenv("MHEVAL_CACHE")
    assert cache_root() == tmp_path / "xdg" / "mheval"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert cache_root() == tmp_path / ".cache" / "mheval"


def test_index_lives_in_the_cache_one_folder_per_annotations_file(tmp_path):
    shipped = Settings(cache_dir=tmp_path)
    other = Settings(cache_dir=tmp_path, annotations=tmp_path / "mine.jsonl")
    assert shipped.index_folder().parent == tmp_path / "index"
    assert shipped.index_folder() != other.index_folder()
    assert not shipped.index_folder().is_relative_to(ROOT)
    pinned = Settings(cache_dir=tmp_path, index_path=tmp_path / "here")
    assert pinned.index_folder() == tmp_path / "here"


def test_a_projects_guidelines_beside_its_config_replace_the_shipped_ones(tmp_path):
    (tmp_path / "mheval.toml").write_text("")
    assert load_settings(cwd=tmp_path).guidelines == Settings().guidelines
    own = tmp_path / "guidelines"
    own.mkdir()
    (own / "notes.md").write_text("contribution guidelines, not rubrics\n")
    assert load_settings(cwd=tmp_path).guidelines == Settings().guidelines
    (own / "mine.yaml").write_text("id: mine\n")
    settings = load_settings(cwd=tmp_path)
    assert settings.guidelines == own and settings.codebook == Settings().codebook
    (own / "codebook.yaml").write_text("version: 1\n")
    assert load_settings(cwd=tmp_path).codebook == own / "codebook.yaml"
    (tmp_path / "mheval.toml").write_text('guidelines = "elsewhere"\n')
    assert load_settings(cwd=tmp_path).guidelines == tmp_path / "elsewhere"


def test_examples_copy_lays_out_the_readme_paths_and_never_overwrites(tmp_path):
    written = copy_examples(tmp_path)
    assert tmp_path / "examples" / "transcripts" / "conversations.jsonl" in written
    assert (tmp_path / "examples" / "bot" / "bot.py").read_bytes() == (
        ROOT / "examples" / "bot" / "bot.py"
    ).read_bytes()
    prompt = tmp_path / "examples" / "bot" / "prompts" / "v1.txt"
    prompt.write_text("my edited prompt\n")
    with pytest.raises(InputError, match="--force") as info:
        copy_examples(tmp_path)
    assert info.value.file and Path(info.value.file).is_relative_to(tmp_path)
    assert prompt.read_text() == "my edited prompt\n"
    copy_examples(tmp_path, force=True)
    assert prompt.read_bytes() == (ROOT / "examples" / "bot" / "prompts" / "v1.txt").read_bytes()


def test_examples_cli(cli, tmp_path, monkeypatch):
    result = cli("examples", "path")
    assert result.exit_code == 0 and Path(result.stdout.strip()) == ROOT / "examples"
    monkeypatch.chdir(tmp_path)
    assert cli("examples", "copy").exit_code == 0
    again = cli("examples", "copy")
    assert again.exit_code == 2 and "already exists" in again.stderr


def test_shipped_voice_vectors_cover_every_shipped_voice():
    """Fails after a re-mine until `python bench/refresh_voice_embeddings.py` is run: without the
    vectors, a user's first `score` encodes the missing voices (minutes for thousands)."""
    settings = Settings()
    items, _ = load_items(settings.annotations, settings.corpus)
    shipped = NpzCache(settings.voice_embeddings, model_info())
    missing = {item.quote for item in items if text_hash(item.quote) not in shipped}
    assert not missing, f"{len(missing)} shipped voices lack a vector, e.g. {sorted(missing)[0]!r}"


def test_shipped_vectors_round_trip_and_another_models_file_is_ignored(tmp_path):
    model = model_info()
    rng = np.random.default_rng(3)
    vectors = {text_hash(f"text {n}"): rng.normal(size=model.dim) for n in range(5)}
    vectors = {h: (v / np.linalg.norm(v)).astype(np.float32) for h, v in vectors.items()}
    path = tmp_path / "vectors.npz"
    NpzCache.write(path, vectors, model)
    found = NpzCache(path, model).get_many([*vectors, text_hash("unknown")])
    assert set(found) == set(vectors)
    for key, vector in found.items():
        assert np.isclose(np.linalg.norm(vector), 1.0, atol=1e-5)
        assert float(vector @ vectors[key]) > 0.9999
    other = model.model_copy(update={"hash": "sha256:0000000000000000"})
    assert not NpzCache(path, other).get_many(list(vectors))
    assert not NpzCache(tmp_path / "absent.npz", model).get_many(list(vectors))
