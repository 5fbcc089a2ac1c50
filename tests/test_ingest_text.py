"""Text clean-up: the normaliser and the scrubber are idempotent and leave no personal details."""

from __future__ import annotations

import re

from hypothesis import example, given, settings
from hypothesis import strategies as st

from evaluator.corpus import normalise_text, scrub_text
from evaluator.corpus.normalise import dedup_key, normalise_timestamp, safe_url

# Text built from pieces that look like what the scrubber hunts, glued with noise.
PIECES = st.sampled_from(
    [
        "john.doe+x@gmail.com",
        "u/throwaway_22",
        "/u/Some-User",
        "@alice.bsky.social",
        "@jack",
        "https://example.org/a?b=1&c=2",
        "www.reddit.com/r/x",
        "(555) 123-4567",
        "+44 20 7946 0958",
        "555.123.4567",
        "2023-03-24",
        "10:30",
        "1,000",
        "&amp;#x200B;",
        "&amp;amp;",
        "&lt;3",
        "\u200b",
        "\r\n",
        "\n\n\n",
        " ",
        ".",
        ",",
        "(",
        ")",
        "<",
        ">",
        "my",
        "OCD",
        "therapist",
    ]
)
TEXTS = st.one_of(
    st.lists(st.one_of(PIECES, st.text(max_size=6)), max_size=25).map("".join),
    st.text(max_size=200),
)

EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[a-z]{2,}")


@settings(max_examples=300, deadline=None, database=None)
@given(TEXTS)
@example("To Eugenia,\n\n&amp;#x200B;\n\nIt was")
def test_normalise_is_idempotent_and_strips_invisibles(text):
    once = normalise_text(text)
    assert normalise_text(once) == once
    assert "\u200b" not in once and "\r" not in once and "\n\n\n" not in once
    assert once == once.strip()


@settings(max_examples=300, deadline=None, database=None)
@given(TEXTS)
@example("mail me: a.b@c.io or u/someone, https://x.org/@bob (555) 123-4567")
def test_scrub_is_idempotent_and_counts_what_it_replaced(text):
    text = normalise_text(text)
    scrubbed, counts = scrub_text(text)
    again, more = scrub_text(scrubbed)
    assert again == scrubbed
    assert sum(more.values()) == 0
    for kind, placeholder in (("email", "<EMAIL>"), ("phone", "<PHONE>"), ("url", "<URL>")):
        assert scrubbed.count(placeholder) - text.count(placeholder) == counts[kind]
    assert not EMAIL.search(scrubbed)
    assert "https://" not in scrubbed.lower() and "http://" not in scrubbed.lower()
    assert not re.search(r"(?<![\w/])u/[A-Za-z0-9_-]{3,20}\b", scrubbed)


def test_scrub_examples():
    text = "Mail a.b+x@gmail.com, call (555) 123-4567, ask u/kuyda or @jack at https://x.org/p."
    scrubbed, counts = scrub_text(text)
    assert scrubbed == "Mail <EMAIL>, call <PHONE>, ask <USER> or <USER> at <URL>."
    assert counts == {"url": 1, "email": 1, "user": 2, "phone": 1}
    # Dates, times, counts, subreddits and crisis short codes are not personal details.
    plain = "On 2023-03-24 at 10:30, 1,000 people in r/replika texted 988."
    assert scrub_text(plain) == (plain, {"url": 0, "email": 0, "user": 0, "phone": 0})


@settings(deadline=None, database=None)
@given(st.text(max_size=80))
def test_dedup_key_ignores_case_and_spacing(text):
    assert dedup_key(text) == dedup_key("  " + text.upper().replace(" ", "\n ") + "\t")


@settings(deadline=None, database=None)
@given(
    st.one_of(
        st.integers(min_value=10**9, max_value=2 * 10**9),
        st.datetimes().map(lambda d: d.isoformat()),
        st.dates().map(lambda d: d.isoformat()),
        st.text(max_size=20),
    )
)
def test_timestamps_normalise_idempotently(value):
    once = normalise_timestamp(value)
    assert once is None or normalise_timestamp(once) == once


def test_timestamp_forms():
    assert normalise_timestamp(1679656496) == "2023-03-24T11:14:56Z"
    assert normalise_timestamp("1679656496000") == "2023-03-24T11:14:56Z"
    assert normalise_timestamp("2023-03-01T12:34:56-07:00") == "2023-03-01T19:34:56Z"
    assert normalise_timestamp("Wed Oct 10 20:19:24 +0000 2018") == "2018-10-10T20:19:24Z"
    assert normalise_timestamp("2023-03-24 12:34:56.0") == "2023-03-24T12:34:56"
    assert normalise_timestamp("3/24/2023") == "2023-03-24"
    assert normalise_timestamp("someday") is None


def test_safe_url_keeps_permalinks_but_not_author_pages():
    reddit = "https://www.reddit.com/r/ChatGPT/comments/1214wrt/x/"
    assert safe_url(reddit) == reddit
    assert safe_url("https://x.com/bob/status/12") == "https://twitter.com/i/web/status/12"
    assert safe_url("https://twitter.com/i/web/status/12") == "https://twitter.com/i/web/status/12"
    for author_page in (
        "https://bsky.app/profile/bob.bsky.social/post/3k",
        "https://www.tiktok.com/@bob/video/1",
        "https://medium.com/@bob/post",
        "https://www.reddit.com/user/bob",
    ):
        assert safe_url(author_page) is None
