"""Argument fields shared by the analog tools, and the helpers that turn them into loop objects."""

from __future__ import annotations

from pydantic import BaseModel, Field, field_validator

from tools.analog.circuits import CIRCUIT_NAMES
from tools.analog.models import ModelLibrary, gf180_library, user_library
from tools.analog.problem import LayoutOptions
from tools.common import InputError

__all__ = ("CircuitArgs", "LayoutArgs", "SimulatorArgs", "library_of", "layout_options")


class CircuitArgs(BaseModel):
    circuit: str = Field(
        default="OTA_XT_MAGICAL",
        description="Circuit: OTA_XT_MAGICAL (MAGICAL's OTA, gf180mcu 3.3 V, 13 net-weight knobs) or OTA_5T "
        "(5-transistor OTA, 4 knobs, for quick runs). Case-insensitive.",
    )

    @field_validator("circuit")
    @classmethod
    def _known(cls, value: str) -> str:
        names = {n.lower(): n for n in CIRCUIT_NAMES}
        key = value.strip().lower().replace("-", "_")
        if key not in names:
            raise InputError("circuit", value, CIRCUIT_NAMES)
        return names[key]


class LayoutArgs(CircuitArgs):
    placement_seed: int = Field(default=0, ge=0, description="Seed of the placer's start; same seed, same layout.")
    area_weight: float = Field(default=0.1, ge=0.0, le=10.0, description="Bounding-box area weight per µm², against wirelength in µm.")
    symmetric: bool = Field(default=True, description="Mirror-symmetric placement of the .sym pairs about x = 0.")
    common_centroid: list[str] = Field(
        default_factory=list,
        description="Matched MOS pairs to place as ABBA common-centroid blocks, named by one device (e.g. M40).",
    )


class SimulatorArgs(BaseModel):
    model_file: str | None = Field(
        default=None,
        description="SPICE file with the two MOS models; default: the gf180mcu 3.3 V typical cards from the shared data.",
    )
    nmos_model: str = Field(default="nmos_3p3", description="NMOS model (or subckt) name in model_file.")
    pmos_model: str = Field(default="pmos_3p3", description="PMOS model (or subckt) name in model_file.")
    ngspice: str | None = Field(default=None, description="ngspice executable; default: the one on PATH.")


def library_of(args: SimulatorArgs) -> ModelLibrary:
    """The model library the arguments ask for."""
    if args.model_file:
        return user_library(args.model_file, args.nmos_model, args.pmos_model)
    return gf180_library()


def layout_options(args: LayoutArgs) -> LayoutOptions:
    return LayoutOptions(
        placement_seed=args.placement_seed,
        area_weight=args.area_weight,
        symmetric=args.symmetric,
        common_centroid=tuple(args.common_centroid),
    )
