"""A tiny safe evaluator for block parameters: `$c1`, `${4*width}`, `${2 if i == 0 else 1}`.

It walks Python's AST but accepts only integer literals, parameter names, + - * // %
(and / when it divides exactly), ** (exponent 0 … 64, the result within MAX_VALUE: WaveNet's
`${2**i}`), unary minus, comparisons, `and`/`or`/`not` and `a if cond else b`. Nothing is
ever passed to `eval`.
"""
from __future__ import annotations

import ast
import operator
import re

from ..errors import SpecError, quote, suggest

_BIN = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
        ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod, ast.Pow: operator.pow}
_CMP = {ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt,
        ast.LtE: operator.le, ast.Gt: operator.gt, ast.GtE: operator.ge}
_WHOLE = re.compile(r"^\$(?:\{([^{}]*)\}|([A-Za-z_]\w*))$", re.S)
_PART = re.compile(r"\$(?:\{([^}]*)\}|([A-Za-z_]\w*))")
MAX_LEN = 200
MAX_VALUE = 10**15
MAX_TEXT = 1000      # characters of a text a substitution builds (`'${s}${s}'` through 40 blocks: 2^40)
MAX_BUILT = 10_000   # values in a list or mapping a substitution builds (`[$s, $s]` through 40 blocks)
MAX_EXPONENT = 64


def evaluate(text: str, env: dict):
    """Evaluate one expression over `env`; raises SpecError (without location) on anything else."""
    if len(text) > MAX_LEN:
        raise SpecError(f"expression longer than {MAX_LEN} characters")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError:
        raise SpecError(f"cannot parse expression {quote(text)}") from None
    return _eval(tree.body, env, text)


def _eval(node, env, text):
    if isinstance(node, ast.Constant) and type(node.value) in (int, bool):
        return node.value
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Name):
        if node.id not in env:
            raise SpecError(f"undefined parameter {quote(node.id)} in {quote(text)}" + suggest(node.id, env))
        return env[node.id]
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return -_int(_eval(node.operand, env, text), text)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        return not _eval(node.operand, env, text)
    if isinstance(node, ast.BinOp):
        a, b = _int(_eval(node.left, env, text), text), _int(_eval(node.right, env, text), text)
        if isinstance(node.op, ast.Div):
            if b == 0 or a % b:
                raise SpecError(f"{quote(text)}: {a}/{b} is not a whole number (use // to round down)")
            return a // b
        if isinstance(node.op, ast.Pow):
            if not 0 <= b <= MAX_EXPONENT:
                raise SpecError(f"{quote(text)}: exponent {b} is outside 0 … {MAX_EXPONENT}")  # so a**b stays cheap
        if type(node.op) in _BIN:
            if isinstance(node.op, (ast.FloorDiv, ast.Mod)) and b == 0:
                raise SpecError(f"{quote(text)}: division by zero")
            out = _BIN[type(node.op)](a, b)
            if abs(out) > MAX_VALUE:
                raise SpecError(f"{quote(text)}: value too large")
            return out
    if isinstance(node, ast.Compare):
        left = _eval(node.left, env, text)
        for op, right_node in zip(node.ops, node.comparators):
            right = _eval(right_node, env, text)
            if type(op) not in _CMP:
                break
            _comparable(left, right, op, text)
            if not _CMP[type(op)](left, right):
                return False
            left = right
        else:
            return True
    if isinstance(node, ast.BoolOp):
        vals = [_eval(v, env, text) for v in node.values]
        return all(vals) if isinstance(node.op, ast.And) else any(vals)
    if isinstance(node, ast.IfExp):
        return _eval(node.body if _eval(node.test, env, text) else node.orelse, env, text)
    raise SpecError(f"{quote(text)}: only integers, parameter names, + - * / // % **, comparisons "
                    f"and 'a if cond else b' are allowed")


def _comparable(a, b, op, text) -> None:
    """== and != compare anything; < <= > >= two integers or two texts, else one clear error."""
    if isinstance(op, (ast.Eq, ast.NotEq)):
        return
    kinds = {_kind(a), _kind(b)}
    if kinds not in ({"an integer"}, {"a text"}):
        raise SpecError(f"{quote(text)}: cannot order {_kind(a)} and {_kind(b)} (< > <= >= compare two "
                        f"integers or two texts)")


def _kind(v) -> str:
    if isinstance(v, bool):
        return "true/false"
    return {int: "an integer", str: "a text", list: "a list", dict: "a mapping"}.get(type(v), f"a {type(v).__name__}")


def _int(v, text):
    if type(v) is bool or not isinstance(v, int):
        raise SpecError(f"{quote(text)}: arithmetic needs integers, got {quote(v)}")
    return v


def substitute_all(value, env: dict):
    """`substitute` in a scalar, or in every scalar of nested lists and mappings (`{left: "${2*d}"}`).
    A value built of parameters (`[$s, $s]`) holds at most MAX_BUILT values, counted as written out."""
    out = _substitute_all(value, env)
    if isinstance(out, (list, dict)) and size(out) > MAX_BUILT:
        raise SpecError(f"the value built here holds more than {MAX_BUILT:,} values")
    return out


def _substitute_all(value, env: dict):
    if isinstance(value, list):
        return [_substitute_all(x, env) for x in value]
    if isinstance(value, dict):
        return {k: _substitute_all(x, env) for k, x in value.items()}
    return substitute(value, env)


def size(value, memo: dict | None = None) -> int:
    """How many values `value` holds written out (a list shared twice counts twice), in time linear in
    the distinct lists and mappings (each counted once and remembered)."""
    if not isinstance(value, (list, dict)):
        return 1
    memo = {} if memo is None else memo
    hit = memo.get(id(value))
    if hit is None:
        items = value.values() if isinstance(value, dict) else value
        hit = memo[id(value)] = 1 + sum(size(v, memo) for v in items)
    return hit


def substitute(value, env: dict):
    """Replace `$name` / `${expr}` in a scalar. A whole-string reference keeps the value's type."""
    if not isinstance(value, str) or "$" not in value:
        return value
    m = _WHOLE.match(value.strip())
    if m:
        return evaluate(m.group(1) if m.group(1) is not None else m.group(2), env)
    out = _PART.sub(lambda m: str(evaluate(m.group(1) if m.group(1) is not None else m.group(2), env))[:MAX_TEXT + 1],
                    value)
    if len(out) > MAX_TEXT:
        raise SpecError(f"the text built here is longer than {MAX_TEXT:,} characters")
    return out
