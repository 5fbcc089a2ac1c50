"""The condition/crisis detector: a person's condition, never the bot's; precision first."""

from __future__ import annotations

import pytest

from evaluator.codebook import detect, find_mentions, load_codebook
from evaluator.config import Settings


@pytest.fixture(scope="module")
def codebook():
    return load_codebook(Settings().codebook)


@pytest.mark.parametrize(
    ("text", "conditions"),
    [
        ("My ADHD brain needs ChatGPT to break tasks down.", ["adhd"]),
        ("As an autistic adult I rehearse phone calls with Claude.", ["autism"]),
        ("I was diagnosed with ADD last year.", ["adhd"]),
        ("Woebot helped my panic attacks and my depression.", ["anxiety", "depressive"]),
        ("my ocd makes me ask it the same question 20 times", ["anxiety"]),
        ("I'm bipolar and the bot notices when I get manic.", ["bipolar"]),
        ("My brother's AI psychosis started in March.", ["schizophrenia_spectrum"]),
        ("I'm recovering from anorexia.", ["eating"]),
        ("Talking to it helps with my loneliness.", ["general"]),
        ("I have BPD and my favourite person is my rep.", ["other"]),
        ("it made me so anxious", ["anxiety"]),
        ("My sister said she has depression and uses Wysa.", ["depressive"]),
    ],
)
def test_named_conditions(codebook, text, conditions):
    assert detect(text, codebook).conditions == conditions


@pytest.mark.parametrize(
    "text",
    [
        "I don't have depression, I just like chatting.",
        "I'm not depressed, just bored.",
        "I've never had anxiety in my life.",
        "This AI is so bipolar, nice one minute and rude the next.",
        "My replika often seems depressed about being trapped in a program.",
        "My rep looks depressed today.",
        "My rep asked if I was ok, but today she had a full blown anxiety attack.",
        "What a schizo bot.",
        "I'm so OCD about my prompt formatting.",
        "you are so autistic lol",
        "That launch was career suicide for the company.",
        "Grandpa grew up in the Great Depression.",
        "Why put 'depressed' as a reinforcing behaviour?",
        "It's just giving me some PTSD 😅😂",
        "I haven't slept in 3 days and I'm about to invest all my savings.",
    ],
)
def test_no_condition_for_negation_bot_metaphor_or_vague_symptoms(codebook, text):
    assert detect(text, codebook).conditions == []


@pytest.mark.parametrize(
    ("text", "condition"),
    [
        ("the voices telling me to stop are louder tonight", "schizophrenia_spectrum"),
        ("I know they are watching me through the phone", "schizophrenia_spectrum"),
        ("I want to kill myself", "depressive"),
        ("I know I'm actually dead and everyone is pretending.", "schizophrenia_spectrum"),
        ("the voices say my neighbours are poisoning my food", "schizophrenia_spectrum"),
        ("I've been maladaptive daydreaming for years", "other"),
        ("I suffer bi polar and use replika", "bipolar"),
    ],
)
def test_strong_symptom_phrases_in_first_person_chat(codebook, text, condition):
    assert condition in detect(text, codebook).conditions


@pytest.mark.parametrize(
    ("text", "crisis"),
    [
        ("I want to kill myself and nobody would notice.", True),
        ("Sometimes I think everyone would be better off dead without me", True),
        ("A teenager died by suicide after months of chatting with a bot.", True),
        ("I used to self-harm, the app helped me stop.", True),
        ("I'm not suicidal, just tired.", True),  # any mention counts, as the codebook says
        ("He said he has no reason to live anymore.", True),
        ("That launch was career suicide.", False),
        ("Suicide Squad was a bad movie.", False),
        ("My anxiety is bad today and ChatGPT helped.", False),
        ("I ran 5 kms today and feel great.", False),
        ("How many more pills would it take to knock myself out for good?", True),
        ("I took a whole bottle of pills", True),
        ("Replika saved me from ending it all", True),
        ("Thinking of jumping off the bridge near my house", True),
        ("ChatGPT said an overdose of vitamin D is not a thing", False),
        ("Removing it was business suicide for Luka.", False),
        ("this app distracted me from self harming", True),
    ],
)
def test_crisis(codebook, text, crisis):
    assert detect(text, codebook).crisis is crisis


def test_reasons_quote_the_words(codebook):
    result = detect("Honestly my ADHD brain loves this app. I want to die some days.", codebook)
    assert result.conditions == ["adhd", "depressive"]
    assert result.crisis
    assert result.reasons[0] == "adhd: 'Honestly my ADHD brain loves'"
    assert any(
        reason.startswith("crisis: ") and "want to die" in reason for reason in result.reasons
    )


def test_mentions_carry_exact_offsets(codebook):
    text = "Since Wysa, my panic attacks are rarer."
    conditions, crisis = find_mentions(text, codebook)
    assert crisis == []
    [mention] = conditions
    assert text[mention.start : mention.end] == mention.surface == "panic attacks"


def test_a_user_codebook_changes_what_is_detected(codebook):
    edited = codebook.model_copy(deep=True)
    eating = next(c for c in edited.conditions if c.id == "eating")
    eating.surface_forms.append("skipping meals on purpose")
    assert detect("I keep skipping meals on purpose", codebook).conditions == []
    assert detect("I keep skipping meals on purpose", edited).conditions == ["eating"]
