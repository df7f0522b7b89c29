"""Command groups whose sub-commands are imported only when one of them runs or shows its own help.

A sub-command module imports what its options are made of (the argument models and their Literals, the
benchmark modules), which pulls in torch or qdrant for some. ``chipcrew --help`` and ``chipcrew agents`` must
not pay for that, so a group lists its lazy sub-commands from a table of import paths and one-line helps
(a test checks each line against the real command's) and imports a module only when it is chosen.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import typer
from typer.core import TyperCommand, TyperGroup

__all__ = ("Lazy", "LazyGroup", "lazy_group", "load")


@dataclass(frozen=True)
class Lazy:
    """A sub-command imported on use."""

    target: str
    """``package.module:attribute``: a ``typer.Typer`` (a command group) or a command function."""
    help: str
    """The line the parent's ``--help`` shows without importing the module."""


class LazyGroup(TyperGroup):
    """A typer group with eagerly defined commands plus the lazy ones of :attr:`lazy`."""

    lazy: ClassVar[Mapping[str, Lazy]] = {}
    _listing = False

    def list_commands(self, ctx: Any) -> list[str]:
        return [*super().list_commands(ctx), *(name for name in self.lazy if name not in self.commands)]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name in self.commands or cmd_name not in self.lazy:
            return super().get_command(ctx, cmd_name)
        if self._listing:  # the group's own help: a stand-in with the one-line help, nothing imported
            return TyperCommand(cmd_name, help=self.lazy[cmd_name].help)
        command = load(self.lazy[cmd_name].target, cmd_name)
        self.commands[cmd_name] = command
        return command

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        name = args[0] if args else ""
        if name and not name.startswith("-") and self.get_command(ctx, name) is None:
            from tools.common import InputError

            raise InputError("command", name, self.list_commands(ctx))
        return super().resolve_command(ctx, args)

    def format_help(self, ctx: Any, formatter: Any) -> None:
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False


def lazy_group(commands: Mapping[str, Lazy], base: type[LazyGroup] = LazyGroup) -> type[LazyGroup]:
    """A :class:`LazyGroup` class over ``commands``, for ``typer.Typer(cls=...)``."""
    return type("Lazy" + base.__name__, (base,), {"lazy": dict(commands)})


def load(target: str, name: str) -> Any:
    """Import ``module:attribute`` and turn it into a click command named ``name``."""
    module, _, attribute = target.partition(":")
    obj = getattr(importlib.import_module(module), attribute)
    if not isinstance(obj, typer.Typer):
        single = typer.Typer(add_completion=False, rich_markup_mode=None)
        single.command(name)(obj)
        obj = single
    command = typer.main.get_command(obj)
    command.name = name
    return command
