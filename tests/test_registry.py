"""The one registry idiom behind judges, annotators, readers, targets and chat models."""

from __future__ import annotations

import pytest

from evaluator.errors import ConfigError, InputError
from evaluator.judges import JUDGES, get_judge, register_judge
from evaluator.registry import Registry
from evaluator.transcripts import READERS, Reader, register_reader


@pytest.fixture
def shapes():
    """A registry of one's own, filled in a fixture and emptied again in `finally`."""
    registry: Registry[str] = Registry("shape", error=InputError, field="--shape", also=["auto"])
    registry.register("square", "4 sides")
    registry.register("triangle")("3 sides")  # the decorator form
    try:
        yield registry
    finally:
        for name in registry.names():
            registry.unregister(name)


def test_register_get_names_and_unregister(shapes):
    assert shapes.get("square") == "4 sides" and shapes.get("triangle") == "3 sides"
    assert shapes.names() == ["square", "triangle"]  # insertion order without a key
    assert shapes.find("circle") is None
    with pytest.raises(InputError, match=r"unknown shape 'circle'; known: auto, square, triangle"):
        shapes.get("circle")
    shapes.unregister("square")
    shapes.unregister("square")  # unregistering twice is harmless
    assert shapes.names() == ["triangle"] and shapes.find("square") is None


def test_a_key_orders_names_and_values():
    by_length = Registry("word", key=len)
    for word in ("three", "one", "four"):
        by_length.register(word, word)
    assert by_length.names() == ["one", "four", "three"]
    assert by_length.values() == ["one", "four", "three"]


@pytest.fixture
def shout_judge():
    class Shout:
        name, model, version, deterministic, samples, usage = "shout", None, "1", True, 1, None

    @register_judge("shout")
    def factory(settings=None, *, samples=1):
        return Shout()

    try:
        yield factory
    finally:
        JUDGES.unregister("shout")


def test_a_registered_judge_is_found_and_gone_after_unregister(shout_judge):
    assert get_judge("shout").name == "shout"
    assert JUDGES.names()[0] == "local" and "shout" in JUDGES.names()
    JUDGES.unregister("shout")
    with pytest.raises(ConfigError, match="unknown judge 'shout': use one of local") as caught:
        get_judge("shout")
    assert "shout," not in caught.value.message


def test_transcript_readers_are_detected_in_priority_order():
    first = Reader(
        name="aaa-first", description="", sniff=lambda p, h: False, read=None, priority=-1
    )
    register_reader(first)
    try:
        assert READERS.names()[0] == "aaa-first" and READERS.values()[0] is first
    finally:
        READERS.unregister("aaa-first")
    assert "aaa-first" not in READERS.names()
