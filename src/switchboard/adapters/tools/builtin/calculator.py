"""A safe arithmetic evaluator: the expression is parsed with `ast` and only whitelisted nodes are
evaluated by hand. Nothing is ever passed to eval, and sizes are checked before big operations so
an expression like 9**9**9 is refused instead of freezing the server."""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable
from typing import Any

Number = int | float

MAX_EXPRESSION_CHARS = 500
MAX_INT_BITS = 10_000  # about 3000 decimal digits: far beyond any real calculation
MAX_FACTORIAL = 1000

_BINARY: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_UNARY: dict[type[ast.unaryop], Callable[[Any], Any]] = {ast.UAdd: operator.pos, ast.USub: operator.neg}
_CONSTANTS: dict[str, float] = {"pi": math.pi, "e": math.e, "tau": math.tau}


class CalculationError(ValueError):
    pass


def _factorial(n: Number) -> int:
    if not isinstance(n, int) or n < 0:
        raise CalculationError("factorial needs a non-negative integer")
    if n > MAX_FACTORIAL:
        raise CalculationError(f"factorial is limited to n <= {MAX_FACTORIAL}")
    return math.factorial(n)


def _log(x: Number, base: Number | None = None) -> float:
    return math.log(x) if base is None else math.log(x, base)


_FUNCTIONS: dict[str, Callable[..., Number]] = {
    "sqrt": math.sqrt, "cbrt": math.cbrt, "exp": math.exp, "log": _log, "ln": math.log,
    "log10": math.log10, "log2": math.log2, "sin": math.sin, "cos": math.cos, "tan": math.tan,
    "asin": math.asin, "acos": math.acos, "atan": math.atan, "atan2": math.atan2, "sinh": math.sinh,
    "cosh": math.cosh, "tanh": math.tanh, "degrees": math.degrees, "radians": math.radians,
    "hypot": math.hypot, "floor": math.floor, "ceil": math.ceil, "abs": abs, "round": round,
    "min": min, "max": max, "gcd": math.gcd, "factorial": _factorial,
}  # fmt: skip


def _check_size(value: Number) -> Number:
    if isinstance(value, int) and value.bit_length() > MAX_INT_BITS:
        raise CalculationError("result too large")
    return value


def _power(base: Number, exponent: Number) -> Number:
    if isinstance(base, int) and isinstance(exponent, int) and exponent > 0:
        # The result has about bit_length(base) * exponent bits: refuse before computing it.
        if base not in (-1, 0, 1) and (abs(base).bit_length() - 1) * exponent > MAX_INT_BITS:
            raise CalculationError("result too large")
    result: Number = base**exponent
    if isinstance(result, complex):
        raise CalculationError("the result is not a real number")
    return result


def _multiply(left: Number, right: Number) -> Number:
    if isinstance(left, int) and isinstance(right, int):
        if left.bit_length() + right.bit_length() > MAX_INT_BITS + 1:
            raise CalculationError("result too large")
    return left * right


class _Evaluator:
    def visit(self, node: ast.AST) -> Number:
        if isinstance(node, ast.Expression):
            return self.visit(node.body)
        if isinstance(node, ast.Constant):
            if isinstance(node.value, bool) or not isinstance(node.value, int | float):
                raise CalculationError(f"only numbers are allowed, not {node.value!r}")
            return node.value
        if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
            left, right = self.visit(node.left), self.visit(node.right)
            if isinstance(node.op, ast.Pow):
                return _check_size(_power(left, right))
            if isinstance(node.op, ast.Mult):
                return _check_size(_multiply(left, right))
            return _check_size(_BINARY[type(node.op)](left, right))
        if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
            return _UNARY[type(node.op)](self.visit(node.operand))  # type: ignore[no-any-return]
        if isinstance(node, ast.Name):
            if node.id not in _CONSTANTS:
                raise CalculationError(f"unknown name {node.id!r}")
            return _CONSTANTS[node.id]
        if isinstance(node, ast.Call):
            return self._call(node)
        raise CalculationError(f"{type(node).__name__} is not allowed in an expression")

    def _call(self, node: ast.Call) -> Number:
        if not isinstance(node.func, ast.Name):
            raise CalculationError(f"{type(node.func).__name__} is not allowed in an expression")
        if node.func.id not in _FUNCTIONS:
            raise CalculationError(f"unknown function {node.func.id!r}")
        if node.keywords:
            raise CalculationError("functions take positional arguments only")
        arguments = [self.visit(argument) for argument in node.args]
        try:
            return _check_size(_FUNCTIONS[node.func.id](*arguments))
        except TypeError as exc:
            raise CalculationError(f"{node.func.id}: {exc}") from exc


def evaluate(expression: str) -> Number:
    if len(expression) > MAX_EXPRESSION_CHARS:
        raise CalculationError(f"the expression is longer than {MAX_EXPRESSION_CHARS} characters")
    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        raise CalculationError(f"not a valid expression: {exc}") from exc
    try:
        return _Evaluator().visit(tree)
    except ZeroDivisionError as exc:
        raise CalculationError("division by zero") from exc
    except OverflowError as exc:
        raise CalculationError("result too large") from exc
    except (ValueError, RecursionError) as exc:
        if isinstance(exc, CalculationError):
            raise
        raise CalculationError(f"math error: {exc}") from exc
