"""mheval: does a chatbot treat people with mental-health conditions the way they say they need?

The package is a pipeline of stages (corpus → mine → findings → guidelines → index → score →
scenarios/check); each stage reads the previous stage's artefact from disk. The CLI in
`evaluator.cli` is a thin layer over these modules.

The names in `__all__` are the supported API: scoring (`score`, `score_files`, `gate`), the
result readers (`read_score_run`, `read_run`, `read_check`, `read_transcripts`), the judge
contract (`Judge`, `JudgeRequest`, `JudgeAnswer`) and the `register_*` extension points, which
plugins reach through the `plugins` config key or the `mheval.plugins` entry-point group (see
`evaluator.registry`). They are imported on first use, so `import evaluator` (and
`mheval --help`) stays instant. Every other module and name is internal: it may change in any
release without notice.
"""

from importlib import import_module

__version__ = "0.1.0"

_PUBLIC = {
    "score": "evaluator.scoring",
    "score_files": "evaluator.scoring",
    "open_session": "evaluator.scoring",
    "gate": "evaluator.scoring",
    "read_score_run": "evaluator.io",
    "write_score_run": "evaluator.io",
    "read_run": "evaluator.io",
    "write_run": "evaluator.io",
    "read_check": "evaluator.io",
    "read_transcripts": "evaluator.transcripts",
    "run_scenarios": "evaluator.scenarios",
    "check_run": "evaluator.check",
    "load_settings": "evaluator.config",
    "Settings": "evaluator.config",
    "Judge": "evaluator.judges",
    "JudgeRequest": "evaluator.judges",
    "JudgeAnswer": "evaluator.judges",
    "get_judge": "evaluator.judges",
    "register_judge": "evaluator.judges",
    "unregister_judge": "evaluator.judges",
    "register_chat_model": "evaluator.llm",
    "unregister_chat_model": "evaluator.llm",
    "register_reader": "evaluator.transcripts",
    "register_target": "evaluator.scenarios",
    "register_annotator": "evaluator.mine",
    "ScoreRun": "evaluator.types",
    "RunRecord": "evaluator.types",
    "Verdict": "evaluator.types",
    "Transcript": "evaluator.types",
    "CheckReport": "evaluator.types",
    "EvaluatorError": "evaluator.errors",
    "InputError": "evaluator.errors",
    "ConfigError": "evaluator.errors",
    "ModelError": "evaluator.errors",
}

__all__ = ["__version__", *_PUBLIC]


def __getattr__(name: str):
    if name not in _PUBLIC:
        raise AttributeError(f"module 'evaluator' has no attribute {name!r}")
    value = getattr(import_module(_PUBLIC[name]), name)
    globals()[name] = value
    return value
