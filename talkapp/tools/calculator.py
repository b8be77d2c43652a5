"""A calculator for the model: arithmetic on numbers, evaluated by walking the expression's
syntax tree. No `eval`: only number literals, + - * / // % **, parentheses, a few named
constants and math functions are accepted; everything else (names, attributes, calls of other
functions, strings, comprehensions, …) is refused before anything runs. Sizes are bounded so
an expression cannot make the app compute for minutes or fill memory (`9**9**9`,
`round(1, -10**7)`): every operand is checked *before* an operation whose cost grows with it
(`**` by the digits of its result, `round` by its digit count). The tool also runs it in a
worker process with a time limit (talkapp/tools/isolated.py), in case a bound is missed.
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable

MAX_LENGTH = 300  # characters of expression
MAX_EXPONENT = 1000
MAX_MAGNITUDE = 1e300  # results beyond this are refused rather than printed as 300 digits
MAX_DIGITS = 400  # of a power's result, and round()'s digit count, checked before computing

CONSTANTS = {"pi": math.pi, "e": math.e, "tau": math.tau}
FUNCTIONS: dict[str, Callable[..., float]] = {
    "sqrt": math.sqrt,
    "abs": abs,
    "round": round,
    "floor": math.floor,
    "ceil": math.ceil,
    "sin": math.sin,
    "cos": math.cos,
    "tan": math.tan,
    "asin": math.asin,
    "acos": math.acos,
    "atan": math.atan,
    "log": math.log,
    "log10": math.log10,
    "log2": math.log2,
    "exp": math.exp,
    "min": min,
    "max": max,
}
_BINARY: dict[type, Callable[[float, float], float]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_UNARY: dict[type, Callable[[float], float]] = {ast.UAdd: operator.pos, ast.USub: operator.neg}


class CalculatorError(ValueError):
    """The expression is not plain arithmetic, or its value cannot be computed."""


Number = int | float


def evaluate(expression: str) -> Number:
    text = expression.strip().replace("^", "**").replace("×", "*").replace("÷", "/")
    if not text:
        raise CalculatorError("The expression is empty.")
    if len(text) > MAX_LENGTH:
        raise CalculatorError(f"The expression is longer than {MAX_LENGTH} characters.")
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError:
        raise CalculatorError(f"{expression!r} is not an arithmetic expression.") from None
    try:
        return _checked(_value(tree.body))
    except (ZeroDivisionError, OverflowError, ValueError, TypeError) as exc:
        if isinstance(exc, CalculatorError):
            raise
        reason = (
            "division by zero"
            if isinstance(exc, ZeroDivisionError)
            else str(exc) or type(exc).__name__
        )
        raise CalculatorError(f"{expression!r} cannot be computed ({reason}).") from None


def _value(node: ast.AST) -> Number:
    match node:
        case ast.Constant(value=bool()):
            raise CalculatorError("Only numbers are allowed, not True or False.")
        case ast.Constant(value=int() | float() as number):
            return _checked(number)
        case ast.Name(id=name) if name in CONSTANTS:
            return CONSTANTS[name]
        case ast.UnaryOp(op=op, operand=operand) if type(op) in _UNARY:
            return _checked(_UNARY[type(op)](_value(operand)))
        case ast.BinOp(left=left, op=op, right=right) if type(op) in _BINARY:
            a, b = _value(left), _value(right)
            if isinstance(op, ast.Pow):
                _check_power(a, b)
            return _checked(_BINARY[type(op)](a, b))
        case ast.Call(func=ast.Name(id=name), args=args, keywords=[]) if (
            name in FUNCTIONS and 0 < len(args) <= 4
        ):
            values = [_value(a) for a in args]
            if name == "round":
                _check_round(values)
            return _checked(FUNCTIONS[name](*values))
    raise CalculatorError(
        f"{_describe(node)} is not allowed: only numbers, + - * / // % ** ( ), "
        f"{', '.join(CONSTANTS)} and {', '.join(FUNCTIONS)}() are."
    )


def _check_power(base: Number, exponent: Number) -> None:
    if abs(exponent) > MAX_EXPONENT:
        raise CalculatorError(f"Exponents larger than {MAX_EXPONENT} are not computed.")
    if abs(base) > 1 and exponent > 0 and exponent * math.log10(abs(base)) > MAX_DIGITS:
        raise CalculatorError("The result is too large.")


def _check_round(values: list[Number]) -> None:
    """`round(x, n)` with an integer x computes 10**-n: n is bounded before it runs."""
    if len(values) > 2:
        raise CalculatorError("round() takes a number and at most a count of digits.")
    if len(values) == 2:
        digits = values[1]
        if not isinstance(digits, int):
            raise CalculatorError("round()'s count of digits must be a whole number.")
        if abs(digits) > MAX_DIGITS:
            raise CalculatorError(f"round() to more than {MAX_DIGITS} digits is not computed.")


def _checked(value: object) -> Number:
    if isinstance(value, complex):
        raise CalculatorError("The result is a complex number.")
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        raise CalculatorError("The result is not a number.")
    if abs(value) > MAX_MAGNITUDE:
        raise CalculatorError("The result is too large.")
    return value


def _describe(node: ast.AST) -> str:
    match node:
        case ast.Name(id=name):
            return f"The name {name!r}"
        case ast.Call(func=ast.Name(id=name)):
            return f"Calling {name}()"
        case ast.Constant(value=value):
            return f"The value {value!r}"
    return f"A {type(node).__name__} expression"


def evaluate_formatted(expression: str) -> str:
    """What the calculate tool runs in its worker process: the value as a person hears it."""
    return formatted(evaluate(expression))


def formatted(value: Number) -> str:
    """`4` not `4.0`; floats to 12 significant digits (what a person wants to hear)."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.12g}" if isinstance(value, float) else str(value)
