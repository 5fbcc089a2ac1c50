"""Corpus ingestion, library level: every reader on its fixture, clean-up, privacy, atomicity."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from evaluator.corpus import (
    READERS,
    ColumnMapping,
    Reader,
    Record,
    detect_format,
    ingest,
    read_corpus,
    register_reader,
)
from evaluator.corpus.readers import reddit as reddit_module
from evaluator.errors import InputError, UnknownFormatError

DATA = Path(__file__).parent / "data" / "ingest"

SURVEY = ColumnMapping(
    text="answer", id="response_id", date="submitted", platform="survey", meta=("age_band",)
)


def _lines(path: Path) -> list[dict]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


def _by_id(path: Path) -> dict[str, dict]:
    return {post["id"]: post for post in _lines(path)}


# fixture, reader, mapping, {id: {field: expected}} for a few posts, ids that must be absent
FORMATS = [
    (
        "reddit_pushshift.jsonl",
        "reddit",
        None,
        {
            "reddit:t3_1214wrt": {
                "parent_id": None,
                "created_at": "2023-03-24T11:14:56Z",
                "url": "https://www.reddit.com/r/ChatGPT/comments/1214wrt/"
                "chatgpt_helped_me_through_a_panic_attack/",
            },
            "reddit:t1_jdl3c4d": {"parent_id": "reddit:t1_jdl1a2b"},
            "reddit:t3_1215abc": {"text": "My Replika forgot everything after the update"},
        },
        ["reddit:t1_jdl5e6f", "reddit:t1_jdl7g8h"],
    ),
    (
        "reddit_listing.json",
        "reddit-listing",
        None,
        {
            "reddit:t3_17xyzab": {"created_at": "2023-11-14T22:13:20Z"},
            "reddit:t1_k9q1a2b": {"parent_id": "reddit:t3_17xyzab"},
            "reddit:t1_k9q2b3c": {"parent_id": "reddit:t1_k9q1a2b"},
        },
        [],
    ),
    (
        "twitter_v2.json",
        "twitter-v2",
        None,
        {
            "twitter:1640000000000000002": {
                "parent_id": "twitter:1640000000000000001",
                "url": "https://twitter.com/i/web/status/1640000000000000002",
                "created_at": "2023-03-26T15:10:00Z",
            },
        },
        [],
    ),
    (
        "twitter_twint.csv",
        "twitter-csv",
        None,
        {"twitter:1650000000000000010": {"created_at": "2023-04-23T10:15:00Z"}},
        [],
    ),
    (
        "twitter_snscrape.csv",
        "twitter-csv",
        None,
        {
            "twitter:1660000000000000021": {
                "parent_id": "twitter:1660000000000000020",
                "created_at": "2023-05-20T22:00:00Z",
                "text": "<USER> it does that to me too. I told it about my mania once and it just "
                "hyped my plans",
            }
        },
        [],
    ),
    (
        "bluesky_records.jsonl",
        "bluesky",
        None,
        {
            "bluesky:3kb7vxk2mdt2c": {"parent_id": "bluesky:3kb7vtm5jpa2f", "url": None},
            "bluesky:3kb7w2mmmzz2k": {"created_at": "2023-10-12T10:30:00Z"},
        },
        [],
    ),
    (
        "bluesky_thread.json",
        "bluesky",
        None,
        {"bluesky:3lc2abd11112b": {"parent_id": "bluesky:3lc2abcdxyz2a"}},
        ["bluesky:3lc2gone00002"],
    ),
    ("bluesky_search.json", "bluesky", None, {"bluesky:3lk9searcha2x": {"parent_id": None}}, []),
    (
        "youtube_comment_threads.json",
        "youtube",
        None,
        {
            "youtube:UgzQ1ABCDEF123ghiJK4AaABAg.9rT5xYzAbCd9rT6QwErTyU": {
                "parent_id": "youtube:UgzQ1ABCDEF123ghiJK4AaABAg",
                "text": "<USER> same, ERP is the way",
            },
        },
        [],
    ),
    (
        "tiktok_comments.json",
        "tiktok",
        None,
        {
            "tiktok:7324150019871236001": {"parent_id": None, "created_at": "2024-01-15T10:00:00Z"},
            "tiktok:7324150019871236002": {"parent_id": "tiktok:7324150019871236001"},
        },
        ["tiktok:7324150019871236003"],  # "😭😭" is shorter than --min-chars
    ),
    (
        "google_play_reviews.json",
        "google-play",
        None,
        {"google_play:6c59400d-6331-4171-9b9d-ba398d6e2752": {"created_at": "2024-05-02T18:44:10"}},
        [],
    ),
    (
        "google_play_reviews.csv",
        "google-play",
        None,
        {"google_play:b2f1c3d4-0000-4a4a-9b9b-000000000001": {"url": None}},
        [],
    ),
    (
        "app_store_reviews.json",
        "app-store",
        None,
        {"app_store:12503999999": {"created_at": "2025-05-06T15:00:00Z"}},
        [],
    ),
    (
        "paper_posts.jsonl",
        "paper",
        None,
        {
            "reddit:t3_11abcde": {"platform": "reddit"},
            "twitter:1642500000000000000": {
                "url": "https://twitter.com/i/web/status/1642500000000000000"
            },
        },
        [],
    ),
    (
        "generic_survey.csv",
        "generic",
        SURVEY,
        {"survey:r-001": {"created_at": "2024-02-01T10:00:00Z", "meta": {"age_band": "25-34"}}},
        ["survey:r-003"],  # "n/a" is shorter than --min-chars
    ),
    ("corpus_slice.jsonl", "mheval", None, {}, []),
]


@pytest.mark.parametrize(
    ("fixture", "reader", "mapping", "expected", "absent"),
    FORMATS,
    ids=[f[0] for f in FORMATS],
)
def test_every_format_reads_its_fixture_and_round_trips(
    tmp_path, fixture, reader, mapping, expected, absent
):
    source = DATA / fixture
    assert detect_format(source, mapping=mapping)[0].name == reader
    out = tmp_path / "corpus.jsonl"
    report = ingest([source], out, mapping=mapping)
    assert report.inputs[0].format == reader
    posts = _by_id(out)
    assert len(posts) == report.posts_out > 0
    for post_id, fields in expected.items():
        assert post_id in posts, sorted(posts)
        for name, value in fields.items():
            assert posts[post_id][name] == value, (post_id, name)
    for post_id in absent:
        assert post_id not in posts
    for post in read_corpus(out):  # every line is a valid Post
        assert post.text and len(post.text) >= 10
    # Re-ingesting the output gives the same output, byte for byte.
    again = tmp_path / "again.jsonl"
    second = ingest([out], again)
    assert second.inputs[0].format == "mheval"
    assert again.read_bytes() == out.read_bytes()
    assert second.dropped.total == 0


def test_reddit_cleanup_counts_and_text(tmp_path):
    out = tmp_path / "c.jsonl"
    report = ingest([DATA / "reddit_pushshift.jsonl"], out)
    assert report.posts_in == 6
    assert report.dropped.deleted == 1  # body "[deleted]"
    assert report.dropped.short == 1  # "ok"
    post = _by_id(out)["reddit:t3_1214wrt"]
    # &amp;#x27; and &amp;#x200B; are unescaped twice; the zero-width paragraph disappears.
    assert "it's not a therapist & I still" in post["text"]
    assert "\u200b" not in post["text"] and "&" + "amp;" not in post["text"]
    assert "\n\n\n" not in post["text"]
    assert post["text"].endswith("mail <EMAIL>")
    assert post["meta"]["subreddit"] == "ChatGPT" and post["meta"]["score"] == 57


def test_scrub_counts_per_kind_and_no_scrub(tmp_path):
    report = ingest([DATA / "reddit_pushshift.jsonl"], tmp_path / "a.jsonl")
    assert report.scrubbed == {"url": 1, "email": 1, "user": 1, "phone": 1}
    texts = " ".join(p["text"] for p in _lines(tmp_path / "a.jsonl"))
    assert "555-123-4567" not in texts and "gmail.com" not in texts
    assert "u/throwaway_anx22" not in texts and "example.org" not in texts
    raw = ingest([DATA / "reddit_pushshift.jsonl"], tmp_path / "b.jsonl", scrub=False)
    assert raw.scrubbed == {}
    texts = " ".join(p["text"] for p in _lines(tmp_path / "b.jsonl"))
    assert "555-123-4567" in texts and "<PHONE>" not in texts


def test_dedup_counts_texts_and_ids(tmp_path):
    source = DATA / "corpus_slice.jsonl"
    report = ingest([source], tmp_path / "c.jsonl")
    # The slice holds four pairs of posts with the same text.
    assert report.dropped.duplicate_text == 4
    assert report.posts_out == 196
    # The same file twice: every post of the second copy repeats an id.
    twice = ingest([source, source], tmp_path / "d.jsonl")
    assert twice.dropped.duplicate_id == 196
    assert twice.posts_out == 196
    assert (tmp_path / "c.jsonl").read_bytes() == (tmp_path / "d.jsonl").read_bytes()


def test_collected_corpus_keeps_ids_and_moves_source_to_meta(tmp_path):
    source = DATA / "corpus_slice.jsonl"
    raw = [json.loads(line) for line in source.read_text(encoding="utf-8").splitlines()]
    out = tmp_path / "c.jsonl.gz"
    ingest([source], out)
    posts = _by_id(out)
    assert set(posts) <= {r["id"] for r in raw}
    for record in raw:
        if record["id"] in posts:
            post = posts[record["id"]]
            assert post["meta"]["source"] == record["source"]
            assert post["platform"] == record["platform"]
    parents = [p for p in posts.values() if p["parent_id"]]
    assert parents and all(p["parent_id"].startswith("reddit:t") for p in parents)
    assert all("parent" not in p["meta"] for p in parents)


def test_malformed_lines_are_skipped_with_file_and_line(tmp_path):
    source = DATA / "reddit_malformed.jsonl"
    report = ingest([source], tmp_path / "c.jsonl")
    assert report.posts_out == 2
    assert report.skipped_total == 2
    assert [(s.line, s.file) for s in report.skipped] == [(2, str(source)), (4, str(source))]
    assert "malformed JSON" in report.skipped[0].message
    assert "body" in report.skipped[1].message


def test_strict_makes_the_first_malformed_line_fatal(tmp_path):
    out = tmp_path / "c.jsonl"
    with pytest.raises(InputError) as caught:
        ingest([DATA / "reddit_malformed.jsonl"], out, strict=True)
    assert caught.value.line == 2
    assert str(caught.value).startswith(f"{DATA / 'reddit_malformed.jsonl'}:2: malformed JSON")
    assert not out.exists()


def test_malformed_csv_row_is_reported(tmp_path):
    source = tmp_path / "reviews.csv"
    good = (DATA / "google_play_reviews.csv").read_text(encoding="utf-8")
    source.write_text(good + "broken-row,only,three\n", encoding="utf-8")
    report = ingest([source], tmp_path / "c.jsonl")
    assert report.posts_out == 2
    assert report.skipped[0].line == 4
    assert "3 fields" in report.skipped[0].message


def test_unknown_format_names_the_formats_tried(tmp_path):
    with pytest.raises(UnknownFormatError) as caught:
        ingest([DATA / "unknown.jsonl"], tmp_path / "c.jsonl")
    message = str(caught.value)
    assert str(DATA / "unknown.jsonl") in message
    for name in ("reddit", "twitter-v2", "bluesky", "youtube", "tiktok", "google-play", "paper"):
        assert name in message
    assert "--text-col" in message
    assert not (tmp_path / "c.jsonl").exists()


def test_forced_format_that_does_not_fit_is_an_error(tmp_path):
    with pytest.raises(InputError, match="does not look like youtube"):
        ingest([DATA / "tiktok_comments.json"], tmp_path / "c.jsonl", fmt="youtube")
    with pytest.raises(InputError, match="unknown format 'myspace'"):
        ingest([DATA / "tiktok_comments.json"], tmp_path / "c.jsonl", fmt="myspace")


def test_empty_inputs_and_nothing_left_are_errors(tmp_path):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n", encoding="utf-8")
    with pytest.raises(InputError, match="empty"):
        ingest([empty], tmp_path / "c.jsonl")
    with pytest.raises(InputError, match="no posts left"):
        ingest([DATA / "tiktok_comments.json"], tmp_path / "c.jsonl", min_chars=10_000)
    assert not (tmp_path / "c.jsonl").exists()


def test_a_crash_mid_stream_leaves_the_old_output_and_no_temp_file(tmp_path, monkeypatch):
    out = tmp_path / "corpus.jsonl"
    ingest([DATA / "bluesky_search.json"], out)
    before = out.read_bytes()
    calls = 0
    real = reddit_module.reddit_record

    def explode(data, kind=None):
        nonlocal calls
        calls += 1
        if calls == 3:
            raise RuntimeError("disk on fire")
        return real(data, kind)

    monkeypatch.setattr(reddit_module, "reddit_record", explode)
    with pytest.raises(RuntimeError, match="disk on fire"):
        ingest([DATA / "reddit_pushshift.jsonl"], out)
    assert calls == 3
    assert out.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != ".mheval-salt") == [
        "corpus.jsonl"
    ]


def test_salt_is_generated_once_and_reused(tmp_path):
    out = tmp_path / "corpus.jsonl"
    first = ingest([DATA / "twitter_v2.json"], out)
    salt_file = tmp_path / ".mheval-salt"
    assert first.author_salt == "generated" and first.salt_file == str(salt_file)
    assert salt_file.stat().st_mode & 0o077 == 0
    hashes = {p["id"]: p["author_hash"] for p in _lines(out)}
    second = ingest([DATA / "twitter_v2.json"], tmp_path / "other.jsonl")
    assert second.author_salt == "file"
    assert {p["id"]: p["author_hash"] for p in _lines(tmp_path / "other.jsonl")} == hashes
    assert len(set(hashes.values())) == 3 and all(hashes.values())


def test_same_author_same_hash_and_config_salt_wins(tmp_path):
    out = tmp_path / "c.jsonl"
    ingest([DATA / "reddit_pushshift.jsonl"], out)
    posts = _by_id(out)
    # throwaway_anx22 wrote the submission and a comment; [deleted] authors get no hash.
    assert posts["reddit:t3_1214wrt"]["author_hash"] == posts["reddit:t1_jdl3c4d"]["author_hash"]
    assert posts["reddit:t1_jdl1a2b"]["author_hash"] != posts["reddit:t3_1214wrt"]["author_hash"]
    assert posts["reddit:t3_1215abc"]["author_hash"] is None
    configured = ingest([DATA / "reddit_pushshift.jsonl"], tmp_path / "d.jsonl", author_salt="s3")
    assert configured.author_salt == "config"
    other = _by_id(tmp_path / "d.jsonl")
    assert other["reddit:t3_1214wrt"]["author_hash"] != posts["reddit:t3_1214wrt"]["author_hash"]


AUTHORS = {
    "reddit_pushshift.jsonl": ["throwaway_anx22", "calm_koala"],
    "reddit_listing.json": ["nervous_nelly", "mod_helper", "t2_abc123"],
    "twitter_v2.json": ["sad_sam", "kind_stranger", "98765", "Sad Sam"],
    "twitter_twint.csv": ["night_owl_88", "helper_bee", "Helper Bee"],
    "twitter_snscrape.csv": ["mellow_moth", "quiet_fern", "31337"],
    "bluesky_records.jsonl": ["z72i7hdynmk6r22z27h6tvur", "ewvi7nxzyoun6zhxrhs64oiz"],
    "bluesky_thread.json": ["quietriver", "mothlight", "4kq7x2v3m5n6b7c8d9f0g1h2"],
    "youtube_comment_threads.json": ["MindfulMaya", "UCmaya000111222333444555", "ErpEd"],
    "google_play_reviews.json": ["Maria Kowalski", "A Google user", "support@wysa.io"],
    "google_play_reviews.csv": ["Jordan P.", "Sam"],
    "app_store_reviews.json": ["sleeplessInSeattle", "Disappointed Dad", "1234567890"],
    "paper_posts.jsonl": ["someuser123", "@writer"],
}


@pytest.mark.parametrize("fixture", sorted(AUTHORS))
def test_no_raw_author_anywhere_in_the_output(tmp_path, fixture):
    out = tmp_path / "c.jsonl"
    ingest([DATA / fixture], out)
    written = out.read_text(encoding="utf-8")
    for name in AUTHORS[fixture]:
        assert name not in written, name


def test_language_filter_is_opt_in(tmp_path):
    source = tmp_path / "mixed.jsonl"
    rows = [
        ("1", "I have been using an AI companion to cope with my loneliness and it helps."),
        ("2", "Ich benutze seit Wochen einen Chatbot, wenn ich nachts nicht schlafen kann."),
        ("3", "Utilizo un chatbot cuando tengo ansiedad por la noche y me ayuda bastante."),
        ("4", "ok thanks, good bot"),
    ]
    source.write_text(
        "".join(json.dumps({"id": i, "body": t}) + "\n" for i, t in rows), encoding="utf-8"
    )
    mapping = ColumnMapping(text="body", id="id")
    everything = ingest([source], tmp_path / "a.jsonl", mapping=mapping)
    assert everything.posts_out == 4 and everything.languages is None
    english = ingest([source], tmp_path / "b.jsonl", mapping=mapping, languages=["en"])
    assert english.dropped.language == 2
    # Too short to judge: kept whatever its language.
    assert sorted(_by_id(tmp_path / "b.jsonl")) == ["other:1", "other:4"]
    with pytest.raises(InputError, match="unknown language code english"):
        ingest([source], tmp_path / "c.jsonl", mapping=mapping, languages=["english"])


def test_folder_input_and_gzip_output(tmp_path):
    folder = tmp_path / "exports"
    folder.mkdir()
    for name in ("twitter_v2.json", "tiktok_comments.json"):
        (folder / name).write_bytes((DATA / name).read_bytes())
    with gzip.open(folder / "bluesky.jsonl.gz", "wb") as handle:
        handle.write((DATA / "bluesky_records.jsonl").read_bytes())
    (folder / "notes.txt").write_text("ignored", encoding="utf-8")
    out = tmp_path / "corpus.jsonl.gz"
    report = ingest([folder], out)
    assert [Path(i.path).name for i in report.inputs] == [
        "bluesky.jsonl.gz",
        "tiktok_comments.json",
        "twitter_v2.json",
    ]
    assert set(report.platforms) == {"bluesky", "tiktok", "twitter"}
    assert sum(1 for _ in read_corpus(out)) == report.posts_out == 8


def test_read_corpus_names_file_line_and_field(tmp_path):
    bad = tmp_path / "c.jsonl"
    good = json.dumps({"id": "x:1", "platform": "x", "text": "fine text here"})
    bad.write_text(good + "\n" + json.dumps({"id": "x:2", "platform": "x"}) + "\n")
    posts = read_corpus(bad)
    assert next(posts).id == "x:1"
    with pytest.raises(InputError) as caught:
        next(posts)
    assert (caught.value.line, caught.value.field) == (2, "text")


def test_a_bad_element_skips_only_itself_not_its_page(tmp_path):
    page = json.loads((DATA / "youtube_comment_threads.json").read_text(encoding="utf-8"))
    del page["items"][1]["snippet"]["topLevelComment"]["id"]
    page["items"][0]["replies"]["comments"][0]["snippet"] = "not an object"
    source = tmp_path / "page.json"
    source.write_text(json.dumps(page), encoding="utf-8")
    report = ingest([source], tmp_path / "c.jsonl")
    assert report.posts_out == 1
    assert sorted(_by_id(tmp_path / "c.jsonl")) == ["youtube:UgzQ1ABCDEF123ghiJK4AaABAg"]
    assert [(s.line, s.message) for s in report.skipped] == [
        (1, "items[1].replies[1]: comment has no `snippet`"),
        (1, "items[2]: missing id"),
    ]


def test_a_registered_reader_is_used_and_its_bad_posts_are_skipped(tmp_path):
    def parse(unit, _mapping):
        # A sloppy third-party reader: an int parent id does not fit the Post schema.
        yield Record(
            id=f"forum:{unit['n']}", platform="forum", text=unit["msg"], parent_id=unit["p"]
        )

    reader = Reader(
        name="forum",
        description="a team's own forum export",
        containers=frozenset({"jsonl"}),
        sniff=lambda unit, _mapping: isinstance(unit, dict) and "msg" in unit,
        parse=parse,
    )
    source = tmp_path / "forum.jsonl"
    rows = [
        {"n": 1, "msg": "a post about my therapist bot", "p": None},
        {"n": 2, "msg": "a reply to that post", "p": 1},
    ]
    source.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    register_reader(reader)
    try:
        report = ingest([source], tmp_path / "c.jsonl")
    finally:
        READERS.unregister("forum")
    assert report.inputs[0].format == "forum"
    assert sorted(_by_id(tmp_path / "c.jsonl")) == ["forum:1"]
    assert report.skipped_total == 1
    assert report.skipped[0].message.startswith("post forum:2: parent_id:")
