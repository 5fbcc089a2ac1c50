"""The one sentence splitter, under the three rules its callers were fitted or calibrated with."""

from __future__ import annotations

from evaluator.text import ANNOTATOR, JUDGE, PLAIN, sentence_spans, split_sentences


def test_spans_are_offsets_of_verbatim_trimmed_sentences():
    text = "  Hello there.  How are you?\n"
    spans = sentence_spans(text)
    assert spans == [(2, 14), (16, 28)]
    assert [text[s:e] for s, e in spans] == ["Hello there.", "How are you?"]


def test_plain_rule_splits_at_any_terminal_mark_but_not_at_a_bare_line_break():
    assert split_sentences("Call 988 now.\nThen rest. ok", PLAIN) == [
        "Call 988 now.",
        "Then rest.",
        "ok",
    ]
    assert split_sentences("no mark\nat the end") == ["no mark\nat the end"]


def test_judge_rule_needs_a_capital_next_keeps_list_items_and_drops_wordless_pieces():
    reply = (
        "I hear you, e.g. this week was hard. Let's plan.\n"
        "1. Call a friend. Then rest.\n"
        "- Drink water\n"
        "...\n"
        'She said "stop." Then left.'
    )
    assert split_sentences(reply, JUDGE) == [
        "I hear you, e.g. this week was hard.",
        "Let's plan.",
        "1. Call a friend. Then rest.",
        "- Drink water",
        'She said "stop.',
        "Then left.",
    ]
    spans = sentence_spans(reply, JUDGE)
    assert [reply[s:e] for s, e in spans] == split_sentences(reply, JUDGE)


def test_annotator_rule_joins_short_pieces_so_a_quote_has_five_words():
    text = "Short one. This is a longer sentence with words!\n\nAnd a third line here ok"
    assert split_sentences(text, ANNOTATOR) == [
        "Short one. This is a longer sentence with words!",
        "And a third line here ok",
    ]
    assert split_sentences("A long enough first sentence here… Too short", ANNOTATOR) == [
        "A long enough first sentence here… Too short"
    ]
    assert sentence_spans("", ANNOTATOR) == []
