"""The shipped codebook loads, matches the reference label scheme, and bad edits fail loudly."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from evaluator.codebook import codebook_version, load_codebook
from evaluator.config import project_root
from evaluator.errors import ConfigError

SHIPPED = project_root() / "guidelines" / "codebook.yaml"

CONDITIONS = [
    "general",
    "depressive",
    "anxiety",
    "bipolar",
    "schizophrenia_spectrum",
    "adhd",
    "autism",
    "eating",
    "conduct",
    "intellectual_disability",
    "other",
]
PERSPECTIVES = [
    "emotional_support",
    "instrumental_support",
    "informational_support",
    "appraisal_support",
    "anthropomorphism",
    "dependency",
    "maladaptive_usage",
    "psychological_harm",
    "clinical_skepticism",
    "interaction_limitations",
    "ethics",
    "sociocultural_impact",
]
VALUES = [
    "human_welfare",
    "autonomy",
    "privacy",
    "informed_consent",
    "trust",
    "accountability",
    "freedom_from_bias",
    "identity",
    "calmness",
    "ownership_and_property",
    "universal_usability",
    "environmental_sustainability",
]


def _edited(tmp_path: Path, edit) -> Path:
    data = yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))
    edit(data)
    path = tmp_path / "codebook.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def test_shipped_codebook_has_the_reference_labels():
    codebook = load_codebook(SHIPPED)
    assert codebook.ids("conditions") == CONDITIONS
    assert codebook.ids("perspectives") == PERSPECTIVES
    assert codebook.ids("values") == VALUES
    assert codebook.ids("sentiments") == ["positive", "negative", "neutral"]
    names = [product.name for product in codebook.products]
    for name in ["ChatGPT", "Claude", "Replika", "Character.AI", "Wysa", "Woebot", "other"]:
        assert name in names
    include = {rule.id for rule in codebook.relevance.include}
    assert include == {"causal", "instrumental", "experiential", "evaluative"}
    assert "2512.07797" in codebook.source


def test_every_label_is_defined_with_examples():
    codebook = load_codebook(SHIPPED)
    for kind in ("perspectives", "values", "conditions", "sentiments"):
        for label in getattr(codebook, kind):
            assert label.definition.strip(), (kind, label.id)
            assert len(label.examples) >= 2, (kind, label.id)
    for rule in [*codebook.relevance.include, *codebook.relevance.exclude]:
        assert len(rule.examples) >= 2, rule.id
    for condition in codebook.conditions:
        assert condition.surface_forms, condition.id


def test_unknown_key_names_file_and_field(tmp_path):
    path = _edited(tmp_path, lambda d: d["perspectives"][2].update({"colour": "blue"}))
    with pytest.raises(ConfigError) as caught:
        load_codebook(path)
    assert caught.value.file == str(path.resolve())
    assert caught.value.field == "perspectives.2.colour"
    assert "unknown key" in str(caught.value)


def test_bad_label_id_names_the_field(tmp_path):
    path = _edited(tmp_path, lambda d: d["values"][0].update({"id": "Human Welfare"}))
    with pytest.raises(ConfigError) as caught:
        load_codebook(path)
    assert caught.value.field == "values.0.id"


def test_duplicate_label_id_is_refused(tmp_path):
    path = _edited(tmp_path, lambda d: d["conditions"][1].update({"id": "general"}))
    with pytest.raises(ConfigError, match="duplicate label id 'general'") as caught:
        load_codebook(path)
    assert caught.value.field == "conditions"


def test_mixed_is_not_an_impact_sentiment(tmp_path):
    def add_mixed(data):
        data["sentiments"].append({"id": "mixed", "definition": "both"})

    with pytest.raises(ConfigError) as caught:
        load_codebook(_edited(tmp_path, add_mixed))
    assert caught.value.field == "sentiments"


def test_exact_case_must_name_a_cue(tmp_path):
    path = _edited(tmp_path, lambda d: d["products"][0].update({"exact_case": ["Chat GTP"]}))
    with pytest.raises(ConfigError, match="Chat GTP") as caught:
        load_codebook(path)
    assert caught.value.field == "products.0.exact_case"


def test_malformed_yaml_and_missing_file(tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text("version: '1'\nproducts: [unclosed\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="malformed YAML"):
        load_codebook(broken)
    with pytest.raises(ConfigError, match="not found"):
        load_codebook(tmp_path / "absent.yaml")


def test_version_changes_with_content(tmp_path):
    shipped = load_codebook(SHIPPED)
    edited = load_codebook(
        _edited(tmp_path, lambda d: d["values"][0].update({"definition": "Well-being."}))
    )
    assert codebook_version(shipped).startswith(shipped.version + "+")
    assert codebook_version(shipped) != codebook_version(edited)
    assert codebook_version(shipped) == codebook_version(load_codebook(SHIPPED))
