"""The wheel a user installs works from an empty folder, and docs/ci.md's workflow works as written.

The wheel is built from a copy of this checkout and installed non-editable into a fresh venv
that borrows the installed dependencies (a `.pth` file to this environment's site-packages), so
nothing is downloaded. Commands then run as a user runs them: the venv's `mheval`, in an empty
folder, with an empty cache and no MHEVAL_HOME.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest
import yaml

from evaluator import __version__

pytestmark = pytest.mark.slow  # builds a wheel and runs five cold mheval processes: ~2 min

ROOT = Path(__file__).resolve().parents[1]
_NOT_SOURCE = (".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", "chroma", "out")


def _sh(args, *, cwd: Path, env: dict | None = None, check: bool = True):
    done = subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=900
    )
    if check and done.returncode != 0:
        raise AssertionError(f"{args} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
    return done


@pytest.fixture(scope="module")
def user(tmp_path_factory) -> dict:
    """Build the wheel, install it into a fresh venv; returns paths and the user's environment."""
    root = tmp_path_factory.mktemp("wheel")
    source = root / "source"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(*_NOT_SOURCE))
    _sh(
        [sys.executable, "-m", "pip", "wheel", source, "--no-deps", "--no-build-isolation",
         "-w", root / "dist", "-q"],
        cwd=root,
    )  # fmt: skip
    wheel = next((root / "dist").glob("mheval-*.whl"))
    venv = root / "venv"
    _sh([sys.executable, "-m", "venv", "--without-pip", venv], cwd=root)
    python = venv / "bin" / "python"
    site = Path(_sh([python, "-c", "import site; print(site.getsitepackages()[0])"], cwd=root)
                .stdout.strip())  # fmt: skip
    borrowed = dict.fromkeys([sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]])
    (site / "_borrowed_deps.pth").write_text("\n".join(borrowed) + "\n")
    pip = [sys.executable, "-m", "pip", "--python", python]
    _sh([*pip, "install", "--no-index", "--no-deps", "--force-reinstall", "-q", wheel], cwd=root)
    problems = _sh([*pip, "check"], cwd=root, check=False).stdout
    assert not [line for line in problems.splitlines() if line.startswith("mheval ")], problems

    home = root / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "MHEVAL_HOME")}
    env.update(
        HOME=str(home),
        MHEVAL_CACHE=str(root / "cache"),
        PATH=f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}",
    )
    empty = root / "empty"
    empty.mkdir()
    return {"root": root, "wheel": wheel, "site": site, "env": env, "cwd": empty, "python": python}


def _mheval(user: dict, *args, cwd: Path | None = None, check: bool = True):
    return _sh(["mheval", *args], cwd=cwd or user["cwd"], env=user["env"], check=check)


def test_wheel_carries_the_data_and_imports_from_site_packages(user):
    names = set(zipfile.ZipFile(user["wheel"]).namelist())
    for shipped in (
        "evaluator/_data/guidelines/codebook.yaml",
        "evaluator/_data/guidelines/bipolar.yaml",
        "evaluator/_data/guidelines/schema/rubric.schema.json",
        "evaluator/_data/scenarios/schema/scenario.schema.json",
        "evaluator/_data/corpus_index/annotations.jsonl.gz",
        "evaluator/_data/corpus_index/corpus.jsonl.gz",
        "evaluator/_data/corpus_index/voice_embeddings.npz",
        "evaluator/_data/examples/bot/bot.py",
        "evaluator/_data/examples/transcripts/conversations.jsonl",
    ):
        assert shipped in names
    assert not [n for n in names if n.startswith(("tests/", "bench/")) or "/chroma/" in n]
    # The annotator ships its fitted weights, not the posts and vectors they are fitted on.
    assert "evaluator/mine/resources/local_weights.npz" in names
    assert not [n for n in names if "mine_labelled" in n or n.endswith("resources/embeddings.npz")]
    where = _sh(
        [user["python"], "-c", "import evaluator.config as c; print(c.project_root())"],
        cwd=user["cwd"],
        env=user["env"],
    ).stdout.strip()
    assert where == str(user["site"] / "evaluator" / "_data")


def test_installed_mheval_from_an_empty_folder(user):
    """The commands of the issue, then a run and a check against the example bot."""
    assert _mheval(user, "--version").stdout.strip() == f"mheval {__version__}"
    shown = _mheval(user, "guidelines", "show", "bipolar")
    assert "bipolar" in shown.stdout
    listed = _mheval(user, "--json", "scenarios", "list")
    assert len(json.loads(listed.stdout)) == len(list((ROOT / "scenarios").glob("*.yaml")))
    _mheval(user, "examples", "copy")

    first = _mheval(
        user, "score", "examples/transcripts/conversations.jsonl", "--out", "out.json",
        "--exit-zero",
    )  # fmt: skip
    assert "building it from the shipped corpus" in first.stderr
    result = json.loads((user["cwd"] / "out.json").read_text())
    assert len(result["transcripts"]) == 9
    assert Path(result["index"]["path"]).is_relative_to(user["root"] / "cache")
    assert result["index"]["voice_queries"] > 0
    voices = [v for t in result["transcripts"] for c in t["criteria"] for v in c["user_voices"]]
    assert voices and min(v["similarity"] for v in voices) >= result["index"]["min_similarity"]
    if result["index"]["voice_queries_below_floor"]:
        assert "found none as similar as" in first.stdout
    status = json.loads(_mheval(user, "index", "status", "--json").stdout)
    assert status["count"] == result["index"]["count"]  # built from the shipped vectors
    assert not list(user["site"].glob("evaluator/_data/**/chroma*"))  # nothing in the package
    findings = user["site"] / "evaluator" / "_data" / "corpus_index" / "findings" / "findings.json"
    refused = _mheval(user, "guidelines", "build", findings, check=False)
    assert refused.returncode == 2 and "shipped data" in refused.stderr

    _mheval(
        user, "run", "--target", "python:examples.bot.bot:reply",
        "--system-prompt", "examples/bot/prompts/v1.txt", "--out", "v1.json",
    )  # fmt: skip
    _mheval(user, "baseline", "bless", "v1.json", "--out", "baseline.json")
    checked = _mheval(user, "check", "v1.json", "--baseline", "baseline.json")
    assert "check passed" in checked.stdout


def _workflow_text() -> str:
    block = re.search(
        r"```yaml\n(name: mheval\n.*?)```", (ROOT / "docs" / "ci.md").read_text(), re.S
    )
    assert block, "docs/ci.md has no workflow block"
    return block.group(1)


def _workflow() -> dict:
    return yaml.safe_load(_workflow_text())


def test_ci_workflow_validates_against_the_github_schema(tmp_path):
    workflow = tmp_path / "mheval.yml"
    workflow.write_text(_workflow_text())
    _sh(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-workflows",
         workflow],
        cwd=tmp_path,
    )  # fmt: skip
    env = _workflow()["env"]
    assert env["MHEVAL_VERSION"] == __version__  # the pin follows the release


def test_release_workflow_validates_and_its_tag_check_follows_the_version(tmp_path):
    """The release workflow (a tag publishes to PyPI) is valid, and its tag check accepts the
    tag of this version and refuses another."""
    release = ROOT / ".github" / "workflows" / "release.yml"
    _sh(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-workflows",
         release],
        cwd=tmp_path,
    )  # fmt: skip
    steps = yaml.safe_load(release.read_text())["jobs"]["build"]["steps"]
    (tag_check,) = [s["run"] for s in steps if s.get("name", "").startswith("The tag")]
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    for tag, code in ((f"v{__version__}", 0), ("v9.9.9", 1)):
        env = {**os.environ, "GITHUB_REF_NAME": tag}
        done = _sh(["bash", "-eo", "pipefail", "-c", tag_check], cwd=tmp_path, env=env, check=False)
        assert done.returncode == code, done.stdout


def test_ci_workflow_steps_run_as_written(user):
    """Every `run:` step in order, as GitHub runs it (bash -eo pipefail, later steps skipped
    after a failure unless `if: always()`), in a bot repository holding the example bot with
    its "helpful" prompt and a baseline of the careful one: the check must fail and the comment
    must say why. The install step's pip lines are what the wheel fixture did."""
    workflow = _workflow()
    repo = user["root"] / "bot-repo"
    (repo / "mybot").mkdir(parents=True)
    examples = ROOT / "examples" / "bot"
    shutil.copy(examples / "bot.py", repo / "mybot" / "chat.py")
    (repo / "prompts").mkdir()
    shutil.copy(examples / "prompts" / "v2.txt", repo / "prompts" / "system.txt")
    _mheval(
        user, "run", "--target", "python:mybot.chat:reply", "--system-prompt",
        examples / "prompts" / "v1.txt", "--out", "v1.json", "--no-retrieval", cwd=repo,
    )  # fmt: skip
    _mheval(user, "baseline", "bless", "v1.json", "--out", "baselines/bot.json", cwd=repo)

    env = {**user["env"], **{k: str(v) for k, v in workflow["env"].items()}}
    failed = False
    codes = {}
    for step in workflow["jobs"]["check"]["steps"]:
        if "run" not in step or (failed and "always()" not in str(step.get("if", ""))):
            continue
        script = step["run"]
        if step["name"] == "Install mheval":
            assert 'pip install "mheval==${MHEVAL_VERSION}"' in script
            script = "\n".join(line for line in script.splitlines() if "pip install" not in line)
        step_env = {**env, **{k: "https://example.invalid/report" for k in step.get("env", {})}}
        done = _sh(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
            cwd=repo,
            env=step_env,
            check=False,
        )
        codes[step["name"]] = done.returncode
        failed = failed or done.returncode != 0
    assert codes == {
        "Install mheval": 0,
        "Run the scenarios against this pull request's prompt": 0,
        "Check against the committed baseline": 1,
        "Write the pull-request comment": 0,
    }
    comment = (repo / "comment.md").read_text()
    assert comment.index("mheval check: ❌ failed") < comment.index("<details>")
    assert "depressive-lethal-dose" in comment and "> **assistant**" in comment
    assert "[full HTML report](https://example.invalid/report)" in comment
    assert len(comment) < 65_536
    assert (repo / "report.html").stat().st_size > 0 and (repo / "check.xml").is_file()
