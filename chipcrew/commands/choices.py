"""Option choices taken from the one ``Literal`` that defines them (an argument model's field, Settings).

typer turns a ``Literal`` annotation into a choice option: the help lists the values and a bad value is
rejected before the command runs. :func:`choices` hands a command that ``Literal`` instead of a copy.
Repeatable options (``list[...]``) cannot be typed that way, so :func:`check_each` validates them.
"""

from __future__ import annotations

import typing
from collections.abc import Callable, Sequence
from typing import Any, Literal, get_args, get_origin

from pydantic import BaseModel

from tools.common import InputError

__all__ = ("choices", "values", "check_each")


def choices(source: type[BaseModel] | Callable[..., Any] | Any, name: str | None = None) -> Any:
    """The ``Literal`` of ``source.name`` (a pydantic field or a function parameter), ``Optional`` removed.

    With ``name=None``, ``source`` is a ``Literal`` (or ``Optional[Literal]``) alias itself.

    Example:
        >>> choices(Settings, "llm_backend")
        typing.Literal['embedded', 'openai', 'none']
    """
    if name is None:
        annotation = source
    elif isinstance(source, type) and issubclass(source, BaseModel):
        annotation = source.model_fields[name].annotation
    else:
        annotation = typing.get_type_hints(source)[name]
    for candidate in (annotation, *get_args(annotation)):
        if get_origin(candidate) is Literal:
            return candidate
        if get_origin(candidate) is list:  # list[Literal[...]]: the choices of one item
            return choices(get_args(candidate)[0])
    raise TypeError(f"{getattr(source, '__name__', source)}.{name} is not a Literal: {annotation!r}")


def values(literal: Any) -> tuple[Any, ...]:
    """The values of a ``Literal``: ``values(choices(Settings, "llm_backend"))``."""
    return get_args(literal)


def check_each(field: str, given: Sequence[str] | None, literal: Any) -> list[str] | None:
    """``given`` unchanged when every item is one of the ``Literal``'s values, else an InputError for ``field``."""
    if given is None:
        return None
    accepted = values(literal)
    for item in given:
        if item not in accepted:
            raise InputError(field, item, accepted)
    return list(given)
