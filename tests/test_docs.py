"""The documentation: README stays a newcomer's page, the reference lives in docs/, and every
relative link of either points to a file that exists."""
from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
PAGES = [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]
LINK = re.compile(r"\]\(([^)#\s]+)(#[^)\s]*)?\)")


def test_every_relative_link_resolves():
    for page in PAGES:
        for target, _anchor in LINK.findall(page.read_text(encoding="utf-8")):
            if "://" in target:
                continue
            assert (page.parent / target).exists(), (page.name, target)


def test_readme_is_a_newcomers_page_and_the_index_lists_every_page():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert 'pip install -c constraints.txt -e ".[test]"' in readme
    assert "python -m pytest" in readme
    assert len(readme.splitlines()) < 120
    index = (DOCS / "README.md").read_text(encoding="utf-8")
    for page in DOCS.glob("*.md"):
        if page.name != "README.md":
            assert f"({page.name})" in index, page.name


# -- every `cnncalc …` line of a code block runs -------------------------------------------------------
import os
import shlex
import shutil
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from cnncalc.cli import app

EXIT = re.compile(r"#.*\bexit code (\d)\b")     # a comment `# … exit code 1` documents another exit code
DEEP = os.environ.get("CNNCALC_DEEP") == "1"


def doc_commands() -> list[tuple[str, str]]:
    """(page, line) for every line of a code block that runs cnncalc."""
    out = []
    for page in PAGES:
        fenced = False
        for line in page.read_text(encoding="utf-8").splitlines():
            if line.startswith("```"):
                fenced = not fenced
            elif (fenced or line.startswith("    ")) and line.strip().startswith("cnncalc "):
                out.append((page.name, line.strip()))
    return out


def expected_exit(line: str) -> int:
    found = EXIT.search(line)
    if found:
        return int(found.group(1))
    if "--device cuda" in line:     # without a GPU: one line, exit 2
        import torch
        return 0 if torch.cuda.is_available() else 2
    return 0


FOREVER = ("cnncalc serve",)   # runs until Ctrl-C: tests/test_serve.py runs it in a thread


@pytest.fixture(scope="session")
def models(tmp_path_factory):
    """The models the import page names, made once: resnet18 as ONNX (model.onnx, resnet.onnx), as PyTorch
    code (mynet.py:Net) and as YAML (net.yaml, my_resnet.yaml) — the same network every way."""
    import sys
    sys.path.insert(0, str(ROOT / "tests"))
    from importing import onnx_of

    from cnncalc.analysis.analyze import load
    from cnncalc.pytorch.export import class_name, torch_source
    folder = tmp_path_factory.mktemp("models")
    graph = load("resnet18")
    onnx_of(graph, folder / "model.onnx")
    shutil.copy(folder / "model.onnx", folder / "resnet.onnx")
    (folder / "mynet.py").write_text(torch_source(graph) + f"\n\nNet = {class_name(graph)}\n", encoding="utf-8")
    for name in ("net.yaml", "my_resnet.yaml"):
        shutil.copy(ROOT / "architectures" / "resnet18.yaml", folder / name)
    return folder


@pytest.fixture()
def workdir(tmp_path, monkeypatch, request):
    """A folder with the files the pages' examples name: answers.yaml (the course key), my.yaml, and for a
    line naming one of them the import page's models."""
    line = request.node.callspec.params.get("line", "") if hasattr(request.node, "callspec") else ""
    if re.search(r"\b(model\.onnx|resnet\.onnx|mynet\.py|net\.yaml|my_resnet\.yaml)\b", line):
        for f in request.getfixturevalue("models").iterdir():
            shutil.copy(f, tmp_path / f.name)
    for f in (ROOT / "examples" / "exam").glob("*.yaml"):
        shutil.copy(f, tmp_path / f.name)
    shutil.copy(tmp_path / "key.yaml", tmp_path / "answers.yaml")
    (tmp_path / "my.yaml").write_text("name: mine\ninput: [3, 32, 32]\nlayers:\n"
                                      "  - {type: conv, filters: 8, kernel: 3, padding: 1}\n  - relu\n"
                                      "  - {type: linear, out: 10}\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_the_pages_have_examples():
    pages = {page for page, _ in doc_commands()}
    assert {"README.md", "commands.md", "check.md", "pictures.md"} <= pages


@pytest.mark.parametrize("page,line", doc_commands(), ids=[f"{p}: {ln[:60]}" for p, ln in doc_commands()])
def test_every_documented_command_runs(page, line, workdir):
    if line.startswith("cnncalc bench") and not DEEP:
        pytest.skip("bench times every layer: run with CNNCALC_DEEP=1")
    if line.startswith(FOREVER):
        pytest.skip("serve runs until Ctrl-C: tests/test_serve.py starts and stops it")
    for module, rest in re.findall(r"(?<![\w./])([A-Za-z_]\w*)((?:\.\w+)*):[A-Za-z_]\w*", line):
        if rest != ".py":   # `package.module:Class` (a file `mynet.py:Net` is in the folder)
            pytest.importorskip(module, reason=f"the example imports {module}, which is not installed here")
    command, _, then = line.partition(" && ")
    words = shlex.split(command, comments=True)
    into = None
    if ">" in words:                                       # `cnncalc … > file`
        into = words[words.index(">") + 1]
        words = words[:words.index(">")]
    res = CliRunner().invoke(app, words[1:], env={"COLUMNS": "100"})
    assert res.exit_code == expected_exit(line), (line, res.output[-2000:])
    if into:
        (workdir / into).write_text(res.output, encoding="utf-8")
        assert (workdir / into).stat().st_size > 0
    if then:                                               # `&& python resnet50.py`: the written file runs
        run = subprocess.run([sys.executable, *shlex.split(then, comments=True)[1:]], capture_output=True,
                             text=True, timeout=600)
        assert run.returncode == 0, run.stderr[-2000:]


def python_blocks() -> list[tuple[str, str]]:
    return [(page.name, block) for page in PAGES
            for block in re.findall(r"```python\n(.*?)```", page.read_text(encoding="utf-8"), re.S)]


@pytest.mark.parametrize("page,block", python_blocks(), ids=[f"{p}: {b.splitlines()[0][:50]}" for p, b in python_blocks()])
def test_every_python_block_runs(page, block, workdir):
    exec(compile(block, f"{page} (python block)", "exec"), {})   # each block asserts its own figures


# -- docs/comparison.md: the measured table is consistent and current ---------------------------------

def comparison_rows(title_start: str) -> list[list[str]]:
    text = (DOCS / "comparison.md").read_text(encoding="utf-8")
    lines = text[text.index(title_start):].splitlines()
    rows = []
    for line in lines[2:]:
        if not line.startswith("| `"):
            break
        rows.append([c.strip().strip("`") for c in line.strip("|").split("|")])
    return rows


def number(cell: str) -> int:
    return int(cell.split()[0].replace(",", ""))


def test_comparison_table_is_current_and_its_terms_add_up():
    import cnncalc
    measured = comparison_rows("| network | input | cnncalc MACs")
    assert {r[0] for r in measured} >= {"unet", "vgg16", "resnet50", "dcgan_generator"}
    for name, _, ours, *_ in measured:            # cnncalc's column is today's figure
        assert number(ours) == cnncalc.analyze(name).totals.macs, name
    terms = comparison_rows("| network | bias adds (a)")
    assert [r[0] for r in terms] == [r[0] for r in measured]
    for name, a, b, c, total, torchinfo_gap, *_ in terms:
        assert number(a) + number(b) + number(c) == number(total) == number(torchinfo_gap), name


def test_comparison_terms_against_torch_modules():
    """The script's bias and transposed-conv terms, counted again on the torch modules with forward hooks."""
    import importlib.util

    import torch
    from torch import nn

    from cnncalc.pytorch.build import build
    spec = importlib.util.spec_from_file_location("compare_tools", ROOT / "benchmarks" / "compare_tools.py")
    tools = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tools)
    for name in ("lenet5", "dcgan_generator"):
        model, seen = build(name).eval(), {"bias": 0, "transposed": 0}

        def hook(m, args, out):
            if getattr(m, "bias", None) is not None and isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
                seen["bias"] += out.numel()
            if isinstance(m, nn.ConvTranspose2d):   # every tap at every output position, less every input's
                seen["transposed"] += m.weight.numel() * (out[0, 0].numel() - args[0][0, 0].numel())
        for m in model.modules():
            m.register_forward_hook(hook)
        with torch.no_grad():
            model(torch.randn(1, *cnncalc_input(name)))
        t = tools.terms(name)
        assert (t["bias"], t["transposed"]) == (seen["bias"], seen["transposed"]), name
    assert seen["transposed"] > 0


def cnncalc_input(name: str) -> list[int]:
    import cnncalc
    return cnncalc.analyze(name).input
