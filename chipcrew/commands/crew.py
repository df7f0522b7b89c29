"""The commands over the ChipCrew app and the agent registry: ask, chat, route, agents, tool, serve, web."""

from __future__ import annotations

import json
from typing import Annotated, Any, Optional

import typer

from chipcrew.commands import terminal
from chipcrew.commands.choices import choices
from chipcrew.settings import Settings
from tools.common import InputError

__all__ = ("ask", "chat", "route", "agents", "tool", "serve", "web")

Backend = choices(Settings, "llm_backend")
BackendOpt = Annotated[Optional[Backend], typer.Option(help="LLM backend; default from settings (embedded).")]
SessionOpt = Annotated[Optional[str], typer.Option(help="Persistent session name (kept in SQLite across restarts).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]


def _settings(backend: str | None) -> Settings:
    return Settings(llm_backend=backend) if backend else Settings()


def _crew(backend: str | None, session: str | None, clarify: bool = False) -> Any:
    from chipcrew.app import ChipCrew

    return ChipCrew(_settings(backend), session=session, clarify=clarify)


def ask(request: str, json_out: JsonOpt = False, session: SessionOpt = None, backend: BackendOpt = None) -> None:
    """Answer one request end to end (route, run the tool, answer)."""
    crew = _crew(backend, session)
    with terminal.progress_bar() as progress:
        turn = crew.ask(request, on_progress=progress)
    if json_out:
        typer.echo(json.dumps(turn.as_json(), indent=2))
        return
    if terminal.verbose():
        typer.secho(f"[{turn.agent or 'nobody'} via {turn.router_tier}]", fg=typer.colors.CYAN, err=True)
    typer.echo(turn.answer)


def chat(session: SessionOpt = None, backend: BackendOpt = None) -> None:
    """An interactive session; with --session it is saved and can be continued after a restart."""
    crew = _crew(backend, session, clarify=True)
    history = crew.history()
    if history:
        typer.secho(f"Session {crew.thread_id!r}: {len(history)} earlier messages.", fg=typer.colors.CYAN)
        for msg in history[-6:]:
            typer.echo(f"{msg['role']}> {msg['content'][:200]}")
    typer.echo("Ask a question ('/history' shows the session, '/quit' ends).")
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
        with terminal.progress_bar() as progress:
            turn = crew.send(line, progress)  # answers a pending question, even one the web workspace asked
        typer.echo(f"crew> {turn.question or turn.answer}")


def route(request: str, json_out: JsonOpt = False, backend: BackendOpt = None) -> None:
    """Only the routing decision: which agent, which tier, the scores. Runs no tool."""
    from agents import registry
    from graphs.router import Router

    decision = Router.from_settings(_settings(backend), registry()).route(request)
    if json_out:
        typer.echo(json.dumps({"agent": decision.agent, "tier": decision.tier, "scores": decision.scores}))
    else:
        typer.echo(f"{decision.agent or 'none'} ({decision.tier}): {decision.reason}")


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


_ARGS_EXAMPLE = "a JSON object such as '{\"model\": \"OPT-6.7B\"}'"


def tool(
    name: str,
    args: Annotated[str, typer.Option("--args", help="Tool arguments as a JSON object.")] = "{}",
    json_out: JsonOpt = False,
) -> None:
    """Run one tool directly with JSON arguments."""
    from agents import ToolCall, find_tool

    agent, spec = find_tool(name)
    try:
        parsed = json.loads(args)
    except json.JSONDecodeError as exc:
        raise InputError("--args", args, f"{_ARGS_EXAMPLE} (not valid JSON: {exc.msg})") from exc
    if not isinstance(parsed, dict):
        raise InputError("--args", args, _ARGS_EXAMPLE)
    fields = list(spec.args_model.model_fields)
    for key in parsed:
        if key not in fields:
            raise InputError(key, parsed[key], f"the arguments of {name}: {', '.join(fields)}")
    with terminal.progress_bar() as progress:
        result = spec.invoke(parsed, progress=progress, ctx=Settings().run_context())
    if json_out:
        typer.echo(result.model_dump_json(indent=2))
    else:
        typer.echo(agent.render(ToolCall(tool=name, args=parsed), result))


def serve(
    host: Annotated[str, typer.Option(help="Address to bind (loopback by default).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port; 0 picks a free one.")] = 8000,
    backend: BackendOpt = None,
) -> None:
    """Serve the local model on an OpenAI-compatible /v1/chat/completions endpoint."""
    from chipcrew.llm import make_client
    from chipcrew.serve import make_server

    settings = _settings(backend or "embedded")
    if settings.llm_backend == "openai":
        raise InputError("--backend", "openai", "a local backend: embedded or none (serve exposes it)")
    server = make_server(make_client(settings), host, port)
    typer.echo(f"serving {settings.llm_backend} on http://{host}:{server.server_address[1]}/v1 (Ctrl-C stops)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


def web(
    host: Annotated[str, typer.Option(help="Address to bind; beyond loopback a token (CHIPCREW_WEB_TOKEN) is required.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port; 0 picks a free one.")] = 8080,
    backend: BackendOpt = None,
) -> None:
    """A web workspace: sessions, streaming chat, masks/layouts/plots inline, clip uploads."""
    from chipcrew.web import serve as serve_web

    try:
        serve_web(host, port, _settings(backend), announce=lambda line: typer.echo(line))
    except KeyboardInterrupt:
        pass
