"""Option choices come from the one Literal: a model field, Settings, a function parameter."""

from __future__ import annotations

from typing import Literal, Optional

import pytest
from pydantic import BaseModel

from chipcrew.commands.choices import check_each, choices, values
from chipcrew.settings import Settings
from tools.common import InputError


class _Args(BaseModel):
    corner: Literal["nominal", "max"] = "nominal"
    maybe: Optional[Literal["a", "b"]] = None
    many: list[Literal["x", "y"]] = []
    name: str = ""


def _run(executor: Literal["local", "ray"] = "local") -> None:
    pass


def test_choices_come_from_the_models_literal() -> None:
    assert values(choices(Settings, "llm_backend")) == ("embedded", "openai", "none")
    assert values(choices(_Args, "corner")) == ("nominal", "max")
    assert values(choices(_Args, "maybe")) == ("a", "b")
    assert values(choices(_Args, "many")) == ("x", "y")
    assert values(choices(_run, "executor")) == ("local", "ray")


def test_a_field_without_a_literal_is_refused() -> None:
    with pytest.raises(TypeError, match="_Args.name is not a Literal"):
        choices(_Args, "name")


def test_each_repeated_value_is_checked() -> None:
    literal = choices(_Args, "many")
    assert check_each("--many", ["x", "y", "x"], literal) == ["x", "y", "x"]
    assert check_each("--many", None, literal) is None
    with pytest.raises(InputError, match="--many: 'z' is not accepted; expected one of x, y"):
        check_each("--many", ["x", "z"], literal)
