"""ChipCrew tools: the published methods as plain functions over pydantic models.

Nothing here imports LangGraph or an LLM client; every tool is usable on its own.
"""
