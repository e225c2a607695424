"""No recursion on user-controlled depth (issue 22): a chain of blocks each wrapping the next is
measured by loops before anything recurses; beyond MAX_DEPTH levels it is one line, exit 2, quickly —
and a network at the limit runs through every command that walks it."""
from __future__ import annotations

import subprocess
import sys
import time

import pytest

import cnncalc
from cnncalc.spec.bounds import MAX_DEPTH, Nesting


def chain(n: int, wrap: str) -> str:
    """n blocks, block i using block i+1 plainly, inside a residual's body, or inside a branch."""
    lines = ["name: chain", "input: [3, 8, 8]", "blocks:"]
    for i in range(n):
        inner = f"{{type: b{i + 1}}}" if i + 1 < n else "relu"
        body = {"plain": inner, "residual": f"{{residual: {{body: [{inner}]}}}}",
                "branches": f"{{branches: [[{inner}], [relu]]}}"}[wrap]
        lines += [f"  b{i}:", f"    layers: [{body}]"]
    return "\n".join(lines + ["layers:", "  - relu", "  - {type: b0}"]) + "\n"


@pytest.mark.parametrize("n", [2_000, 20_000])
@pytest.mark.parametrize("wrap", ["plain", "residual"])
def test_a_long_chain_of_blocks_is_one_line_exit_2(tmp_path, n, wrap):
    p = tmp_path / "chain.yaml"
    p.write_text(chain(n, wrap))
    t0 = time.monotonic()
    res = subprocess.run([sys.executable, "-m", "cnncalc", "analyze", str(p)], capture_output=True, text=True)
    assert res.returncode == 2 and res.stdout == "", res.stderr[-500:]
    err = res.stderr
    assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err, err[-500:]
    levels = 1 + n * (2 if wrap == "residual" else 1)    # the top list, each block, each residual body
    assert f"chain.yaml:{2 * n + 6}: layers[1]: " in err and f"nested {levels:,} levels deep" in err
    assert time.monotonic() - t0 < 30


def test_the_nesting_is_measured_without_recursion():
    blocks = {f"b{i}": {"layers": [{"type": f"b{i + 1}"}]} for i in range(100_000)}
    blocks["b100000"] = {"layers": ["relu"]}
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(200)            # far below the chain's depth: any recursion per level would fail
    try:
        assert Nesting(blocks).item({"type": "b0"}) == 100_001 + 1
    finally:
        sys.setrecursionlimit(limit)


def test_a_block_used_twice_per_level_is_measured_once_per_block():
    blocks = {f"b{i}": {"layers": [f"b{i + 1}", {"residual": {"body": [f"b{i + 1}"]}}]} for i in range(40)}
    blocks["b40"] = {"layers": ["relu"]}
    t0 = time.monotonic()
    assert Nesting(blocks).item("b0") == 1 + 40 * 2 + 1    # 2^40 paths, each list measured once
    assert time.monotonic() - t0 < 1


def test_shared_lists_are_measured_once():
    """Lists shared as YAML aliases share them (the loader also bounds the values an alias repeats)."""
    it = {"branches": [["relu", "relu"], ["relu", "relu"]]}
    for _ in range(30):
        it = {"branches": [[it, it], [it, it]]}                  # 4^30 paths, 62 distinct lists
    t0 = time.monotonic()
    assert Nesting({}).item(it) == 1 + 31
    assert time.monotonic() - t0 < 1


def test_a_network_at_the_limit_runs_and_one_level_more_is_refused(tmp_path):
    per = 3                               # a block, its branch, the residual body inside it
    n = (MAX_DEPTH - 1) // per            # levels: the top list + per × n
    def net(k):
        lines = ["name: deep", "input: [3, 8, 8]", "blocks:"]
        for i in range(k):
            inner = f"{{type: b{i + 1}}}" if i + 1 < k else "relu"
            lines += [f"  b{i}:", f"    layers: [{{residual: {{body: [{{branches: [[{inner}], [relu]]}}, "
                      "{type: conv, filters: 3, kernel: 1}]}}]"]
        return "\n".join(lines + ["layers:", "  - {type: b0}"]) + "\n"
    p = tmp_path / "deep.yaml"
    p.write_text(net(n))
    r = cnncalc.analyze(str(p), train=True)
    assert r.totals.params == n * (6 * 3 + 3)      # each 1×1 conv: the two branches concatenated, 6 → 3
    p.write_text(net(n + 1))
    with pytest.raises(cnncalc.CnncalcError, match=f"nested {1 + per * (n + 1)} levels deep; the limit is {MAX_DEPTH}"):
        cnncalc.analyze(str(p))
