"""A tiny safe evaluator for block parameters: `$c1`, `${4*width}`, `${2 if i == 0 else 1}`.

It walks Python's AST but accepts only integer literals, parameter names, + - * // %
(and / when it divides exactly), unary minus, comparisons, `and`/`or`/`not` and
`a if cond else b`. Nothing is ever passed to `eval`.
"""
from __future__ import annotations

import ast
import operator
import re

from ..errors import SpecError, suggest

_BIN = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
        ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod}
_CMP = {ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt,
        ast.LtE: operator.le, ast.Gt: operator.gt, ast.GtE: operator.ge}
_WHOLE = re.compile(r"^\$(?:\{(.*)\}|([A-Za-z_]\w*))$", re.S)
_PART = re.compile(r"\$(?:\{([^}]*)\}|([A-Za-z_]\w*))")
MAX_LEN = 200
MAX_VALUE = 10**15


def evaluate(text: str, env: dict):
    """Evaluate one expression over `env`; raises SpecError (without location) on anything else."""
    if len(text) > MAX_LEN:
        raise SpecError(f"expression longer than {MAX_LEN} characters")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError:
        raise SpecError(f"cannot parse expression {text!r}") from None
    return _eval(tree.body, env, text)


def _eval(node, env, text):
    if isinstance(node, ast.Constant) and type(node.value) in (int, bool):
        return node.value
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Name):
        if node.id not in env:
            raise SpecError(f"undefined parameter {node.id!r} in {text!r}" + suggest(node.id, env))
        return env[node.id]
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return -_int(_eval(node.operand, env, text), text)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        return not _eval(node.operand, env, text)
    if isinstance(node, ast.BinOp):
        a, b = _int(_eval(node.left, env, text), text), _int(_eval(node.right, env, text), text)
        if isinstance(node.op, ast.Div):
            if b == 0 or a % b:
                raise SpecError(f"{text!r}: {a}/{b} is not a whole number (use // to round down)")
            return a // b
        if type(node.op) in _BIN:
            if isinstance(node.op, (ast.FloorDiv, ast.Mod)) and b == 0:
                raise SpecError(f"{text!r}: division by zero")
            out = _BIN[type(node.op)](a, b)
            if abs(out) > MAX_VALUE:
                raise SpecError(f"{text!r}: value too large")
            return out
    if isinstance(node, ast.Compare):
        left = _eval(node.left, env, text)
        for op, right_node in zip(node.ops, node.comparators):
            right = _eval(right_node, env, text)
            if type(op) not in _CMP:
                break
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
    raise SpecError(f"{text!r}: only integers, parameter names, + - * / // %, comparisons "
                    f"and 'a if cond else b' are allowed")


def _int(v, text):
    if type(v) is bool or not isinstance(v, int):
        raise SpecError(f"{text!r}: arithmetic needs integers, got {v!r}")
    return v


def substitute_all(value, env: dict):
    """`substitute` in a scalar, or in every scalar of nested lists and mappings (`{left: "${2*d}"}`)."""
    if isinstance(value, list):
        return [substitute_all(x, env) for x in value]
    if isinstance(value, dict):
        return {k: substitute_all(x, env) for k, x in value.items()}
    return substitute(value, env)


def substitute(value, env: dict):
    """Replace `$name` / `${expr}` in a scalar. A whole-string reference keeps the value's type."""
    if not isinstance(value, str) or "$" not in value:
        return value
    m = _WHOLE.match(value.strip())
    if m:
        return evaluate(m.group(1) if m.group(1) is not None else m.group(2), env)
    return _PART.sub(lambda m: str(evaluate(m.group(1) if m.group(1) is not None else m.group(2), env)), value)
