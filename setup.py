"""Build hook; everything else is in pyproject.toml.

The shipped data (codebook, rubrics and their schemas, scenarios, corpus, annotations, voice
embeddings, findings, examples) lives in the top-level folders, the single copy in git. A wheel
carries a copy of it inside the package, as `evaluator/_data/<folder>/...`, where
`evaluator.config.project_root()` finds it; an editable install reads the checkout instead.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent

# top-level folder -> what of it the wheel ships (the corpus index itself is built per user)
SHIPPED = {
    "guidelines": ["*.yaml", "*.md", "schema/*.json"],
    "scenarios": ["*.yaml", "*.md", "schema/*.json"],
    "corpus_index": ["*.jsonl.gz", "*.npz", "*.md", "findings/*", "paper/*"],
    "examples": ["transcripts/*", "bot/*.md", "bot/*.py", "bot/prompts/*"],
}


class BuildPyWithData(build_py):
    """build_py that also copies SHIPPED into the built package (not for editable installs)."""

    def run(self):
        super().run()
        if self.editable_mode:
            return
        target = Path(self.build_lib) / "evaluator" / "_data"
        shutil.rmtree(target, ignore_errors=True)  # no stale file from an earlier build
        for folder, patterns in SHIPPED.items():
            for pattern in patterns:
                for source in sorted((ROOT / folder).glob(pattern)):
                    if source.is_file():
                        destination = target / source.relative_to(ROOT)
                        self.mkpath(str(destination.parent))
                        self.copy_file(str(source), str(destination))


setup(cmdclass={"build_py": BuildPyWithData})
