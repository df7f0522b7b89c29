"""``chipcrew``: the command line, a thin layer over :class:`chipcrew.ChipCrew`, the tools and the benchmarks.

Start-up stays light: every command lives in a ``chipcrew.commands`` module that is imported only when the
command runs or shows its own help (:mod:`chipcrew.commands.lazy`), and each command imports what it runs
inside its function. Every error leaves through one printer (:func:`chipcrew.commands.terminal.report_errors`).
"""

from __future__ import annotations

import os
from typing import Annotated, Any

import typer

from chipcrew.commands import terminal
from chipcrew.commands.lazy import Lazy, LazyGroup

__all__ = ("app", "main")

_CREW = "chipcrew.commands.crew"


class _Root(LazyGroup):
    """The top-level group: every command lazy, and one error style for everything beneath it."""

    lazy = {
        "ask": Lazy(f"{_CREW}:ask", "Answer one request end to end (route, run the tool, answer)."),
        "chat": Lazy(f"{_CREW}:chat", "An interactive session; with --session it is saved and can be continued after a restart."),
        "route": Lazy(f"{_CREW}:route", "Only the routing decision: which agent, which tier, the scores. Runs no tool."),
        "agents": Lazy(f"{_CREW}:agents", "List the registered agents and their tools."),
        "tool": Lazy(f"{_CREW}:tool", "Run one tool directly with JSON arguments."),
        "serve": Lazy(f"{_CREW}:serve", "Serve the local model on an OpenAI-compatible /v1/chat/completions endpoint."),
        "web": Lazy(f"{_CREW}:web", "A web workspace: sessions, streaming chat, masks/layouts/plots inline, clip uploads."),
        "eval": Lazy("chipcrew.commands.eval_cmd:app", "Score the agents: routing, tool calls, end-to-end tasks."),
        "bench": Lazy("chipcrew.commands.bench:app", "Tool benchmarks: numbers against published tables."),
        "train": Lazy("chipcrew.commands.train:app", "Train the learned tools (policies shipped as small checkpoints)."),
        "litho": Lazy(
            "chipcrew.commands.litho:app",
            "Lithography on the ICCAD 2013 model (SOCS, 24 kernels, threshold 0.225): print clips, score masks.",
        ),
    }

    def make_context(self, info_name: Any, args: Any, parent: Any = None, **extra: Any) -> Any:
        with terminal.report_errors():
            return super().make_context(info_name, args, parent, **extra)

    def invoke(self, ctx: Any) -> Any:
        with terminal.report_errors(debug=bool(ctx.params.get("debug"))):
            from chipcrew.settings import Settings
            from tools.common import use_context

            # every command (bench, litho, ... included) runs in the settings' context: keyword-free here, but TOML
            # and env settings reach the tools the same way they do through the app
            with use_context(Settings().run_context()):
                return super().invoke(ctx)


app = typer.Typer(
    cls=_Root,
    help="ChipCrew: chip-design and ML-systems specialists behind one supervisor.",
    no_args_is_help=True,
    rich_markup_mode=None,  # plain help: rendering it with rich would double the start-up of `chipcrew --help`
    pretty_exceptions_show_locals=False,
)


@app.callback()
def _options(
    debug: Annotated[bool, typer.Option("--debug", help="On an error, show the full traceback.")] = False,
    verbose: Annotated[
        bool, typer.Option("--verbose", help="Show routing details and third-party progress bars and warnings.")
    ] = False,
) -> None:
    """ChipCrew: chip-design and ML-systems specialists behind one supervisor."""
    if verbose:
        os.environ["CHIPCREW_VERBOSE"] = "1"  # read by the embedded model and passed on to worker processes


def main() -> None:
    app()


if __name__ == "__main__":
    main()
