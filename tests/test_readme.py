"""What a newcomer reads and gets: the README's code runs as written, no machine paths.

The README's ```python blocks are run in order, in one namespace (a block may use the
names of the blocks before it), with the placeholders ``path/to/EMOVO`` and
``path/to/models`` replaced by ``$SERTOOLS_TEST_DATA/emovo`` and ``$SERTOOLS_MODEL_DIR``.
A block whose data or weights are absent is skipped with the reason. A figure the README
says a block prints ("This prints `...`") is checked against what it prints.

Committed files carry no absolute path of a build machine (stored notebook outputs,
generated pages): see ``test_no_machine_paths_in_tracked_files``.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
BLOCK = re.compile(r"^```python\n(.*?)^```\n(.*?)(?=^```|\Z)", re.M | re.S)
#: "This prints `UAR 0.718  WAR 0.718`" in the prose after a block: the expected output
PRINTS = re.compile(r"This prints `([^`]+)`")
#: placeholder -> (environment variable, sub-path, what it must hold)
PLACEHOLDERS = {
    "path/to/EMOVO": ("SERTOOLS_TEST_DATA", "emovo", "the real EMOVO corpus"),
    "path/to/EMODB": ("SERTOOLS_TEST_DATA", "emodb", "the real EMODB corpus"),
    "path/to/models": ("SERTOOLS_MODEL_DIR", "", "pretrained .nemo files"),
}
#: the model files each block's model_dir must hold
MODEL_FILES = {"TitaNetEmbedder": "titanet_large.nemo"}


def readme_blocks() -> list[tuple[str, str]]:
    """The README's ```python blocks with the prose that follows each one."""
    return BLOCK.findall(README.read_text(encoding="utf-8"))


def _prepare(code: str) -> str:
    """The block with its placeholders replaced, or a skip naming what is missing."""
    for placeholder, (env, sub, what) in PLACEHOLDERS.items():
        if placeholder not in code:
            continue
        root = os.environ.get(env)
        if not root:
            pytest.skip(f"the README block needs {what}: set {env}")
        path = Path(root, sub) if sub else Path(root)
        if not path.is_dir():
            pytest.skip(f"the README block needs {what} in {path} ({env}={root})")
        if placeholder == "path/to/models":
            for cls, name in MODEL_FILES.items():
                if cls in code and not (path / name).is_file():
                    pytest.skip(f"the README block needs {name} in {env} ({root})")
        code = code.replace(placeholder, str(path))
    left = re.findall(r"path/to/\w+", code)
    assert not left, f"README block has placeholders this test cannot fill: {left}"
    return code


def test_readme_has_the_blocks_this_file_runs():
    blocks = readme_blocks()
    assert len(blocks) >= 2
    first, prose = blocks[0]
    # the first block is the one a newcomer runs after `pip install sertools-emotion`:
    # signal features only (no extra, no weights), the paper's shuffled folds
    assert "MFCCEmbedder" in first and "StratifiedKFold(5, shuffle=True" in first
    assert "cv=cv" in first
    assert PRINTS.search(prose), "the first block's printed figures are quoted"
    assert 'pip install "sertools-emotion[nemo]"' in README.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def namespace() -> dict:
    """One namespace shared by the blocks, in README order."""
    return {"__name__": "readme", "_ran": set()}


@pytest.mark.realdata
@pytest.mark.slow
@pytest.mark.parametrize("index", range(len(readme_blocks())), ids=lambda i: f"block{i + 1}")
def test_readme_python_block_runs_as_written(index, namespace):
    code, prose = readme_blocks()[index]
    missing = sorted(set(range(index)) - namespace["_ran"])
    if missing:  # a block may use the names of the blocks before it
        pytest.skip(f"README block {missing[0] + 1} did not run")
    code = _prepare(code)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, f"README.md block {index + 1}", "exec"), namespace)
    namespace["_ran"].add(index)
    printed = out.getvalue()
    quoted = PRINTS.search(prose)
    if quoted:
        expected = quoted.group(1).split()
        got = printed.split()
        assert len(got) == len(expected), (printed, quoted.group(1))
        for e, g in zip(expected, got, strict=True):
            try:  # the README rounds to the digits it shows
                assert abs(float(e) - float(g)) < 10 ** -(len(e.partition(".")[2]) or 0)
            except ValueError:
                assert e == g, (printed, quoted.group(1))


#: an absolute path under a typical home, work or temporary folder (not inside a URL or
#: after another path component)
MACHINE_PATH = re.compile(r"(?<![\w.~$<>/-])/(?:work|home|tmp|root|Users)/\w")


def test_no_machine_paths_in_tracked_files():
    try:
        listed = subprocess.run(
            ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout: no list of tracked files")
    found = []
    for name in filter(None, listed.decode().split("\0")):
        path = ROOT / name
        if not path.is_file() or path.suffix in {".png", ".wav", ".npz", ".pt"}:
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        for lineno, line in enumerate(text.splitlines(), 1):
            if MACHINE_PATH.search(line):
                found.append(f"{name}:{lineno}: {line.strip()[:120]}")
    assert not found, "absolute machine paths in tracked files:\n" + "\n".join(found)


def test_machine_path_pattern():
    for bad in ("/" + "work/main/x.py", "'/" + "tmp/sertools-examples'", "at /" + "home/me/x"):
        assert MACHINE_PATH.search(bad), bad
    for fine in ("https://example.org/home/x", "<venv>/lib/x.py", "$SERTOOLS_TEST_DATA/emovo"):
        assert not MACHINE_PATH.search(fine), fine


def test_notebook_outputs_are_redacted(tmp_path, monkeypatch):
    """``nox -s notebooks`` rewrites machine paths in what it stores (noxfile.redact_paths)."""
    pytest.importorskip("nox")
    monkeypatch.syspath_prepend(str(ROOT))
    import noxfile

    repo, venv = "/" + "work/clone", "/" + "work/clone/.nox/notebooks"
    work, data = venv + "/" + "tmp/sertools-examples", "/" + "data/corpora"
    text = (
        f'"{repo}/sertools/study/_run.py:251: CorpusWarning: EMODB under {data}/emodb"\n'
        f'"{venv}/lib/python3.11/site-packages/torch/nn/functional.py:1: UserWarning"\n'
        f'"a tiny TitaNet in {work}/tiny-models", "cwd {repo}"\n'
    )
    nb = tmp_path / "nb.ipynb"
    nb.write_text(text, encoding="utf-8")
    noxfile.redact_paths(
        nb,
        {work: "$SERTOOLS_EXAMPLES_DIR", venv: "<venv>", repo + "/": "", repo: ".", data: "$D"},
    )
    assert nb.read_text(encoding="utf-8") == (
        '"sertools/study/_run.py:251: CorpusWarning: EMODB under $D/emodb"\n'
        '"<venv>/lib/python3.11/site-packages/torch/nn/functional.py:1: UserWarning"\n'
        '"a tiny TitaNet in $SERTOOLS_EXAMPLES_DIR/tiny-models", "cwd ."\n'
    )
    assert not MACHINE_PATH.search(nb.read_text(encoding="utf-8"))
