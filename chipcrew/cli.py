"""``chipcrew``: the command line, a thin layer over :class:`chipcrew.ChipCrew` and the tools."""

from __future__ import annotations

import json
import sys
from enum import Enum
from typing import Annotated, Any, Optional

import typer
from pydantic import ValidationError

from tools.common import ChipCrewError

app = typer.Typer(help="ChipCrew: chip-design and ML-systems specialists behind one supervisor.", no_args_is_help=True)


class Backend(str, Enum):
    embedded = "embedded"
    openai = "openai"
    none = "none"


BackendOpt = Annotated[Optional[Backend], typer.Option(help="LLM backend; default from settings (embedded).")]
SessionOpt = Annotated[Optional[str], typer.Option(help="Persistent session name (kept in SQLite across restarts).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]


def _settings(backend: Backend | None) -> Any:
    from chipcrew.settings import Settings

    return Settings(llm_backend=backend.value) if backend else Settings()


def _fail(message: str, code: int = 2) -> None:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code)


def _progress_bar() -> Any:
    """A tqdm bar on stderr fed by the graph's custom stream events."""
    from tqdm import tqdm

    state: dict[str, Any] = {}

    def update(event: dict[str, Any]) -> None:
        if "fraction" not in event:
            return
        bar = state.get("bar")
        if bar is None:
            bar = state["bar"] = tqdm(
                total=100, file=sys.stderr, leave=False, mininterval=0.5, bar_format="{desc} {bar} {percentage:3.0f}%"
            )
        bar.set_description_str(str(event.get("progress", ""))[:40].ljust(40), refresh=False)
        bar.update(int(100 * float(event["fraction"])) - bar.n)
        if event["fraction"] >= 1.0:
            bar.close()
            state.pop("bar")

    return update


def _crew(backend: Backend | None, session: str | None, clarify: bool = False) -> Any:
    from chipcrew.app import ChipCrew

    try:
        return ChipCrew(_settings(backend), session=session, clarify=clarify)
    except ChipCrewError as exc:
        _fail(str(exc))


@app.command()
def ask(request: str, json_out: JsonOpt = False, session: SessionOpt = None, backend: BackendOpt = None) -> None:
    """Answer one request end to end (route, run the tool, answer)."""
    crew = _crew(backend, session)
    turn = crew.ask(request, on_progress=_progress_bar())
    if json_out:
        typer.echo(json.dumps(turn.as_json(), indent=2))
    else:
        who = turn.agent or "nobody"
        typer.secho(f"[{who} via {turn.router_tier}]", fg=typer.colors.CYAN, err=True)
        typer.echo(turn.answer)


@app.command()
def chat(session: SessionOpt = None, backend: BackendOpt = None) -> None:
    """An interactive session; with --session it is saved and can be continued after a restart."""
    crew = _crew(backend, session, clarify=True)
    history = crew.history()
    if history:
        typer.secho(f"Session {crew.thread_id!r}: {len(history)} earlier messages.", fg=typer.colors.CYAN)
        for msg in history[-6:]:
            typer.echo(f"{msg['role']}> {msg['content'][:200]}")
    typer.echo("Ask a question ('/history' shows the session, '/quit' ends).")
    pending = False
    while True:
        try:
            line = input("you> ").strip()
        except EOFError:
            break
        if not line:
            continue
        if line in ("/quit", "/exit"):
            break
        if line == "/history":
            for msg in crew.history():
                typer.echo(f"{msg['role']}> {msg['content']}")
            continue
        turn = crew.resume(line, _progress_bar()) if pending else crew.ask(line, _progress_bar())
        pending = turn.question is not None
        typer.echo(f"crew> {turn.question or turn.answer}")


@app.command()
def route(request: str, json_out: JsonOpt = False, backend: BackendOpt = None) -> None:
    """Only the routing decision: which agent, which tier, the scores. Runs no tool."""
    from agents import registry
    from graphs.router import Router
    from tools.embedding import load_embedder

    settings = _settings(backend)
    llm = None
    if settings.llm_capable:
        from chipcrew.llm import make_client

        llm = make_client(settings)
    router = Router(registry(), load_embedder(settings.embedder_path), llm, settings.router_min_score, settings.router_margin)
    decision = router.route(request)
    if json_out:
        typer.echo(json.dumps({"agent": decision.agent, "tier": decision.tier, "scores": decision.scores}))
    else:
        typer.echo(f"{decision.agent or 'none'} ({decision.tier}): {decision.reason}")


@app.command()
def agents(json_out: JsonOpt = False) -> None:
    """List the registered agents and their tools."""
    from agents import registry

    listing = [
        {
            "name": a.name,
            "description": a.description,
            "tools": [{"name": t.name, "args_schema": t.args_model.model_json_schema()} for t in a.tools],
        }
        for a in registry().values()
    ]
    if json_out:
        typer.echo(json.dumps(listing, indent=2))
        return
    for a in listing:
        typer.secho(a["name"], bold=True)
        typer.echo(f"  {a['description']}")
        typer.echo("  tools: " + ", ".join(t["name"] for t in a["tools"]))


@app.command()
def tool(
    name: str,
    args: Annotated[str, typer.Option("--args", help="Tool arguments as a JSON object.")] = "{}",
    json_out: JsonOpt = False,
) -> None:
    """Run one tool directly with JSON arguments."""
    from agents import find_tool
    from graphs.supervisor import format_validation_error

    try:
        parsed = json.loads(args)
    except json.JSONDecodeError as exc:
        _fail(f"--args is not valid JSON ({exc}); give an object such as '{{\"model\": \"OPT-6.7B\"}}'")
    if not isinstance(parsed, dict):
        _fail("--args must be a JSON object")
    from chipcrew.settings import Settings, tool_environment

    try:
        agent, spec = find_tool(name)
        with tool_environment(Settings()):
            result = spec.invoke(parsed, progress=_progress_bar())
    except ValidationError as exc:
        _fail(format_validation_error(exc))
    except ChipCrewError as exc:
        _fail(str(exc))
    if json_out:
        typer.echo(result.model_dump_json(indent=2))
    else:
        from agents import ToolCall

        typer.echo(agent.render(ToolCall(tool=name, args=parsed), result))


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to bind (loopback by default).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port; 0 picks a free one.")] = 8000,
    backend: BackendOpt = None,
) -> None:
    """Serve the local model on an OpenAI-compatible /v1/chat/completions endpoint."""
    from chipcrew.llm import make_client
    from chipcrew.serve import make_server

    settings = _settings(backend or Backend.embedded)
    if settings.llm_backend == "openai":
        _fail("serve exposes a local backend; choose --backend embedded")
    server = make_server(make_client(settings), host, port)
    typer.echo(f"serving {settings.llm_backend} on http://{host}:{server.server_address[1]}/v1 (Ctrl-C stops)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


def _mount() -> None:
    from chipcrew.commands import bench, eval_cmd, litho, train

    app.add_typer(train.app, name="train")
    app.add_typer(eval_cmd.app, name="eval")
    app.add_typer(bench.app, name="bench")
    app.add_typer(litho.app, name="litho")


_mount()


def main() -> None:
    app()


if __name__ == "__main__":
    main()
