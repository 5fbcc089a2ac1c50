"""Transcript readers: every format's fixture, auto-detection, directories, bad input."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from evaluator.errors import InputError, UnknownFormatError
from evaluator.transcripts import READERS, detect_format, read_transcripts

DATA = Path(__file__).parent / "data" / "transcripts"
FORMATS = DATA / "formats"
MIBOT = DATA / "mibot"
BAD = DATA / "bad"


def roles(transcript):
    return [turn.role for turn in transcript.turns]


def test_openai_single_object_with_content_parts():
    (transcript,) = read_transcripts(FORMATS / "chat.json")
    assert transcript.id == "single-adhd"
    assert roles(transcript) == ["system", "user", "assistant", "user", "assistant"]
    assert transcript.turns[2].content.startswith("Sure. Step 1: open the document")
    assert transcript.metadata == {"bot": "helper-bot", "prompt_version": "v3"}
    assert transcript.source == str(FORMATS / "chat.json")


def test_openai_array_drops_tool_traffic_and_numbers_missing_ids():
    first, second = read_transcripts(FORMATS / "chats_array.json")
    assert first.id == "array-1"
    assert second.id == "chats_array-2"
    # the assistant tool call (no content) and the tool result are not what the person saw
    assert roles(second) == ["user", "assistant"]
    assert "30 days" in second.turns[1].content


def test_openai_jsonl_streams_lines_with_metadata_and_line_numbers():
    transcripts = read_transcripts(FORMATS / "chats.jsonl")
    assert [t.id for t in transcripts] == ["jsonl-1", "jsonl-2", "jsonl-3"]
    assert transcripts[0].metadata["condition"] == "autism"
    assert transcripts[1].metadata["condition"] == ["depressive"]
    assert roles(transcripts[1]) == ["system", "user", "assistant"]  # developer -> system
    # a blank line is skipped but line numbers stay those of the file
    assert transcripts[1].source.endswith("chats.jsonl:3")


def test_csv_sorts_turns_and_keeps_multiline_content_and_extra_columns():
    first, second = read_transcripts(FORMATS / "chats.csv")
    assert first.id == "csv-a"
    assert roles(first) == ["user", "assistant", "user", "assistant"]
    assert first.turns[0].content.startswith("I keep losing track of time")
    assert first.turns[3].content.splitlines() == [
        "Okay. For the next hour:",
        "1. Set a timer for 25 minutes.",
        "2. Open only the report.",
    ]
    assert first.metadata == {"condition": "adhd", "bot": "planner"}
    assert second.id == "csv-b" and second.metadata == {}


def test_plain_text_multiline_turns_and_metadata_header():
    (transcript,) = read_transcripts(FORMATS / "chat.txt")
    assert transcript.id == "chat"
    assert roles(transcript) == ["system", "user", "assistant", "user", "assistant"]
    assert transcript.turns[1].content == (
        "I haven't slept in three days and I feel unstoppable.\n"
        "I want to put all my savings into crypto tonight."
    )
    assert "a doctor would want to hear about" in transcript.turns[2].content
    assert transcript.metadata == {"condition": "bipolar", "bot": "invest-helper"}


def test_mibot_utterances_merge_consecutive_speaker_turns():
    path = MIBOT / "683536b44af7992f074e61d5f9eeabae9ad2cd383c1289f85cfce3ae579d0484.json"
    raw = json.loads(path.read_text())
    (transcript,) = read_transcripts(path)
    assert transcript.id == raw["participant_id"]
    # strictly alternating after merging, counsellor first
    assert roles(transcript)[:2] == ["assistant", "user"]
    assert all(a != b for a, b in zip(roles(transcript), roles(transcript)[1:], strict=False))
    counsellor = [u["text"] for u in raw["utterances"] if u["speaker"] == "counsellor"]
    merged = " ".join(t.content for t in transcript.turns if t.role == "assistant")
    assert merged == " ".join(text.strip() for text in counsellor)
    assert len(transcript.turns) < len(raw["utterances"])
    assert transcript.metadata["stats"]["total_utterances"] == len(raw["utterances"])


def test_auto_detection_picks_the_right_reader_for_each_fixture():
    expected = {
        "chat.json": "openai",
        "chats_array.json": "openai",
        "chats.jsonl": "openai",
        "chats.csv": "csv",
        "chat.txt": "text",
        "latin1.jsonl": "openai",
    }
    for name, fmt in expected.items():
        assert detect_format(FORMATS / name).name == fmt, name
    for path in MIBOT.glob("*.json"):
        assert detect_format(path).name == "utterances"
    assert READERS.names()[0] == "utterances"


def test_detection_does_not_rely_on_extensions(tmp_path):
    jsonl = tmp_path / "export.log"
    shutil.copy(FORMATS / "chats.jsonl", jsonl)
    text = tmp_path / "conversation"
    shutil.copy(FORMATS / "chat.txt", text)
    assert detect_format(jsonl).name == "openai"
    assert [t.id for t in read_transcripts(jsonl)] == ["jsonl-1", "jsonl-2", "jsonl-3"]
    assert detect_format(text).name == "text"


def test_forced_format_and_unknown_format_errors(tmp_path):
    assert read_transcripts(FORMATS / "chat.txt", fmt="text")[0].id == "chat"
    with pytest.raises(InputError, match="unknown transcript format 'yaml'"):
        read_transcripts(FORMATS / "chat.txt", fmt="yaml")
    notes = tmp_path / "notes.md"
    notes.write_text("# Meeting notes\n\nNothing to see.\n")
    with pytest.raises(UnknownFormatError, match="no reader recognises"):
        read_transcripts(notes)


def test_directory_is_recursive_sorted_and_reports_unrecognised_files(tmp_path):
    skipped = []
    transcripts = read_transcripts(DATA, on_skip=skipped.append, skip_invalid=True)
    again = read_transcripts(DATA, skip_invalid=True)
    assert [t.id for t in transcripts] == [t.id for t in again]  # deterministic
    sources = [t.source.split(":")[0] for t in transcripts]
    assert sources == sorted(sources, key=lambda s: Path(s).relative_to(DATA).as_posix())
    assert {t.id for t in transcripts} >= {"single-adhd", "csv-a", "chat", "jsonl-3"}
    assert sum(1 for t in transcripts if t.source.startswith(str(MIBOT))) == 3
    reasons = {Path(s.source).name: s.reason for s in skipped}
    assert reasons["README.md"] == "not a recognised transcript format"


def test_non_utf8_bytes_are_replaced_not_fatal():
    (transcript,) = read_transcripts(FORMATS / "latin1.jsonl")
    assert transcript.turns[0].content.startswith("Je suis tr\ufffds triste")


@pytest.mark.parametrize(
    ("name", "where", "message"),
    [
        ("empty_conversation.jsonl", "empty_conversation.jsonl:2: messages", "empty conversation"),
        ("unknown_role.jsonl", "unknown_role.jsonl:2: messages.1.role", "unknown role 'narrator'"),
        ("no_assistant.jsonl", "no_assistant.jsonl:1: messages", "no assistant turn"),
        ("malformed.jsonl", "malformed.jsonl:3", "malformed JSON"),
    ],
)
def test_bad_input_names_file_line_and_field(name, where, message):
    with pytest.raises(InputError) as caught:
        read_transcripts(BAD / name)
    assert where in str(caught.value)
    assert message in str(caught.value)


def test_skip_invalid_keeps_good_records_and_reports_each_bad_one():
    skipped = []
    transcripts = read_transcripts(BAD, skip_invalid=True, on_skip=skipped.append)
    assert [t.id for t in transcripts] == ["ok-1", "ok-2"]
    lines = sorted(f"{Path(s.source).name}:{s.line}" for s in skipped)
    assert "empty_conversation.jsonl:2" in lines
    assert "malformed.jsonl:3" in lines
    assert "no_assistant.jsonl:1" in lines
    assert "unknown_role.jsonl:2" in lines
    assert any("duplicate transcript id 'ok-1'" in s.reason for s in skipped)


def test_duplicate_ids_across_files_are_an_error(tmp_path):
    shutil.copy(FORMATS / "chats.jsonl", tmp_path / "a.jsonl")
    shutil.copy(FORMATS / "chats.jsonl", tmp_path / "b.jsonl")
    with pytest.raises(InputError, match="duplicate transcript id 'jsonl-1'"):
        read_transcripts(tmp_path)


def test_csv_errors_name_the_line(tmp_path):
    bad_turn = tmp_path / "bad.csv"
    bad_turn.write_text("conversation_id,turn,role,content\nc1,1,user,hi\nc1,two,assistant,hello\n")
    with pytest.raises(InputError, match=r"bad.csv:3: turn: turn must be an integer"):
        read_transcripts(bad_turn)
    missing = tmp_path / "missing.csv"
    missing.write_text("conversation_id,turn,role,content\nc1,1,user,hi\n")
    with pytest.raises(InputError, match=r"missing.csv:2: content: no assistant turn"):
        read_transcripts(missing)
    twice = tmp_path / "twice.csv"
    twice.write_text(
        "conversation_id,turn,role,content\nc1,1,user,hi\nc1,1,assistant,hello\n"
        "c2,1,user,hi\nc2,2,assistant,hello\n"
    )
    with pytest.raises(InputError, match=r"twice.csv:3: turn: turn 1 of conversation 'c1' appears"):
        read_transcripts(twice)
    skipped = []
    kept = list(read_transcripts(twice, skip_invalid=True, on_skip=skipped.append))
    assert [t.id for t in kept] == ["c2"] and len(skipped) == 1


def test_text_before_first_speaker_is_an_error(tmp_path):
    path = tmp_path / "chat.txt"
    path.write_text("Transcript of a chat\nUser: hi\nAssistant: hello\n")
    with pytest.raises(InputError, match=r"chat.txt:1: text before the first"):
        read_transcripts(path, fmt="text")


def test_unknown_mibot_speaker(tmp_path):
    path = tmp_path / "p.json"
    path.write_text(
        json.dumps({"participant_id": "p", "utterances": [{"speaker": "coach", "text": "hi"}]})
    )
    with pytest.raises(InputError, match=r"utterances.0.speaker: unknown speaker 'coach'"):
        read_transcripts(path)


def test_huge_jsonl_streams(tmp_path):
    path = tmp_path / "many.jsonl"
    long_text = "word " * 20000
    with path.open("w") as handle:
        for index in range(300):
            row = {
                "id": f"c{index}",
                "messages": [
                    {"role": "user", "content": long_text},
                    {"role": "assistant", "content": "ok"},
                ],
            }
            handle.write(json.dumps(row) + "\n")
    from evaluator.transcripts import iter_transcripts

    stream = iter_transcripts([path])
    first = next(stream)
    assert first.id == "c0" and len(first.turns[0].content) == len(long_text)
    assert sum(1 for _ in stream) == 299


def test_gzip_jsonl_and_windows_line_endings_with_bom(tmp_path):
    import gzip

    packed = tmp_path / "chats.jsonl.gz"
    packed.write_bytes(gzip.compress((FORMATS / "chats.jsonl").read_bytes()))
    assert [t.id for t in read_transcripts(packed)] == ["jsonl-1", "jsonl-2", "jsonl-3"]
    table = tmp_path / "export.csv"
    table.write_bytes(
        b"\xef\xbb\xbfconversation_id,turn,role,content\r\nx,1,user,hi\r\nx,2,assistant,hello\r\n"
    )
    (conversation,) = read_transcripts(table)
    assert [(t.role, t.content) for t in conversation.turns] == [
        ("user", "hi"),
        ("assistant", "hello"),
    ]
    text = tmp_path / "chat.txt"
    text.write_bytes(b"User: hi\r\nthere\r\nAssistant: hello\r\n")
    (conversation,) = read_transcripts(text)
    assert conversation.turns[0].content == "hi\nthere"


def test_unknown_format_lists_readers_in_detection_order(tmp_path):
    path = tmp_path / "empty.json"
    path.write_text("{}")
    with pytest.raises(UnknownFormatError, match=r"tried utterances, openai, csv, text"):
        read_transcripts(path)
    with pytest.raises(InputError, match=r"empty.json: messages: missing 'messages'"):
        read_transcripts(path, fmt="openai")


def test_forced_format_on_a_directory_skips_files_of_other_formats():
    skipped = []
    transcripts = read_transcripts(MIBOT, fmt="utterances", on_skip=skipped.append)
    assert len(transcripts) == 3
    assert [(Path(s.source).name, s.reason) for s in skipped] == [
        ("README.md", "not in the utterances format")
    ]
