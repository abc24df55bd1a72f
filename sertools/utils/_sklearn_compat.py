"""One door to scikit-learn's private parameter-validation API.

sertools declares its estimators' parameters the scikit-learn way
(``_parameter_constraints`` with :class:`Interval` / :class:`StrOptions`), which
lives in the private module ``sklearn.utils._param_validation``. Everything
sertools needs from it is imported here, and only here: when a scikit-learn
release moves or removes it, the small fallback below (which covers every kind
of constraint sertools uses) takes over and nothing else changes.
``tests/test_utils.py`` checks that the fallback accepts and rejects exactly
what scikit-learn does.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from numbers import Integral
from typing import Any

import numpy as np

from .._exceptions import ParameterError

__all__ = [
    "Interval",
    "InvalidParameterError",
    "StrOptions",
    "fit_context",
    "validate_estimator_params",
    "validate_parameter_constraints",
]


# --- fallback: the subset of constraints sertools uses ------------------------------
class _FallbackInterval:
    """Numbers of ``type`` in ``[left, right]`` (bounds per ``closed``; None is unbounded)."""

    def __init__(self, type: type, left: float | None, right: float | None, *, closed: str) -> None:
        if closed not in ("left", "right", "both", "neither"):
            raise ValueError(f"closed={closed!r}; expected 'left', 'right', 'both' or 'neither'")
        self.type, self.left, self.right, self.closed = type, left, right, closed

    def is_satisfied_by(self, value: Any) -> bool:
        if not isinstance(value, self.type) or (
            not isinstance(value, Integral) and np.isnan(value)
        ):
            return False
        # an open side is an infinite bound, itself excluded unless that side is closed
        left = -np.inf if self.left is None else self.left
        right = np.inf if self.right is None else self.right
        low_ok = value >= left if self.closed in ("left", "both") else value > left
        high_ok = value <= right if self.closed in ("right", "both") else value < right
        return bool(low_ok and high_ok)

    def __str__(self) -> str:
        kind = "an int" if self.type is Integral else "a float"
        left = "-inf" if self.left is None else self.left
        right = "inf" if self.right is None else self.right
        lb = "[" if self.closed in ("left", "both") and self.left is not None else "("
        rb = "]" if self.closed in ("right", "both") and self.right is not None else ")"
        return f"{kind} in the range {lb}{left}, {right}{rb}"


class _FallbackStrOptions:
    """One of a set of strings."""

    def __init__(self, options: Iterable[str]) -> None:
        self.options = set(options)

    def is_satisfied_by(self, value: Any) -> bool:
        return isinstance(value, str) and value in self.options

    def __str__(self) -> str:
        return f"a str among {sorted(self.options)}"


def _fallback_satisfied(constraint: Any, value: Any) -> bool:
    if constraint is None:
        return value is None
    if isinstance(constraint, type):
        return isinstance(value, constraint)
    if constraint == "boolean":
        return isinstance(value, bool | np.bool_)
    if constraint == "verbose":
        return isinstance(value, bool | np.bool_) or (isinstance(value, Integral) and value >= 0)
    if constraint == "random_state":
        return (
            value is None
            or isinstance(value, np.random.RandomState)
            or (isinstance(value, Integral) and 0 <= value <= 2**32 - 1)
        )
    if hasattr(constraint, "is_satisfied_by"):
        return bool(constraint.is_satisfied_by(value))
    raise TypeError(f"unsupported parameter constraint {constraint!r}")


def _fallback_describe(constraint: Any) -> str:
    if constraint is None:
        return "None"
    if isinstance(constraint, type):
        return f"an instance of {constraint.__qualname__!r}"
    if isinstance(constraint, str):
        return {
            "boolean": "an instance of 'bool'",
            "verbose": "an int in the range [0, inf) or a bool",
            "random_state": "an int in the range [0, 4294967295], a RandomState or None",
        }[constraint]
    return str(constraint)


def _fallback_validate(
    parameter_constraints: dict[str, Any], params: dict[str, Any], caller_name: str
) -> None:
    for name, value in params.items():
        constraints = parameter_constraints.get(name, "no_validation")
        if constraints == "no_validation":
            continue
        if not any(_fallback_satisfied(c, value) for c in constraints):
            described = [_fallback_describe(c) for c in constraints]
            expected = (
                described[0]
                if len(described) == 1
                else f"{', '.join(described[:-1])} or {described[-1]}"
            )
            raise InvalidParameterError(
                f"The {name!r} parameter of {caller_name} must be {expected}. "
                f"Got {value!r} instead."
            )


# --- the API sertools uses: scikit-learn's when it is there ---------------------------
try:
    from sklearn.utils._param_validation import Interval, StrOptions
    from sklearn.utils._param_validation import (
        InvalidParameterError as _SklearnInvalidParameterError,
    )
    from sklearn.utils._param_validation import (
        validate_parameter_constraints as _sklearn_validate,
    )
except ImportError:  # pragma: no cover - a scikit-learn without the private module
    _SklearnInvalidParameterError = TypeError  # type: ignore[assignment,misc]
    Interval = _FallbackInterval  # type: ignore[assignment,misc]
    StrOptions = _FallbackStrOptions  # type: ignore[assignment,misc]
    _sklearn_validate = None

try:
    from sklearn.base import _fit_context as _sklearn_fit_context
except ImportError:  # pragma: no cover
    _sklearn_fit_context = None


class InvalidParameterError(ParameterError, _SklearnInvalidParameterError):  # type: ignore[misc]
    """A constructor parameter of the wrong type or value.

    A :class:`~sertools.ParameterError`, and also scikit-learn's own
    ``InvalidParameterError`` (a ``ValueError`` and a ``TypeError``) where that
    exists, so code catching either keeps working.
    """


def validate_parameter_constraints(
    parameter_constraints: dict[str, Any], params: dict[str, Any], caller_name: str
) -> None:
    """Check ``params`` against ``parameter_constraints`` (scikit-learn's rules).

    Parameters
    ----------
    parameter_constraints : dict of str -> list of constraints
        ``Interval``, ``StrOptions``, a type, None, ``"boolean"``, ``"verbose"``,
        ``"random_state"`` (and, through scikit-learn, its other constraints).
    params : dict of str -> object
        The values to check; names without constraints are not checked.
    caller_name : str
        Named in the error message.

    Raises
    ------
    InvalidParameterError
        A :class:`~sertools.ParameterError` naming the parameter, what it must
        be and what it got.
    """
    if _sklearn_validate is None:  # pragma: no cover
        _fallback_validate(parameter_constraints, params, caller_name)
        return
    try:
        _sklearn_validate(parameter_constraints, params, caller_name=caller_name)
    except _SklearnInvalidParameterError as exc:
        raise InvalidParameterError(str(exc)) from None


def validate_estimator_params(estimator: Any) -> None:
    """Check an estimator's constructor parameters against its ``_parameter_constraints``.

    Parameters
    ----------
    estimator : BaseEstimator
        With a ``_parameter_constraints`` class attribute.

    Raises
    ------
    InvalidParameterError
        A :class:`~sertools.ParameterError` naming the parameter.
    """
    validate_parameter_constraints(
        estimator._parameter_constraints,
        estimator.get_params(deep=False),
        caller_name=type(estimator).__name__,
    )


def fit_context(*, prefer_skip_nested_validation: bool) -> Callable:
    """scikit-learn's ``_fit_context`` decorator for ``fit``, or a plain validating one."""
    if _sklearn_fit_context is not None:
        return _sklearn_fit_context(prefer_skip_nested_validation=prefer_skip_nested_validation)

    def decorator(fit: Callable) -> Callable:  # pragma: no cover
        @functools.wraps(fit)
        def wrapper(estimator: Any, *args: Any, **kwargs: Any) -> Any:
            validate_estimator_params(estimator)
            return fit(estimator, *args, **kwargs)

        return wrapper

    return decorator
