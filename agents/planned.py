"""Specialists on the roadmap but not registered yet, and utterances nobody here handles.

The router scores requests against these too, so that a request for a missing specialist (or for the weather)
gets an honest "no specialist handles this" instead of the nearest registered agent. A planned entry is
ignored once an agent of the same name is registered.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ("PlannedAgent", "PLANNED", "OUT_OF_SCOPE_EXAMPLES")


@dataclass(frozen=True)
class PlannedAgent:
    name: str
    description: str
    examples: tuple[str, ...]
    keywords: tuple[str, ...]


PLANNED: tuple[PlannedAgent, ...] = (
    PlannedAgent(
        name="opc_engineer",
        description="Optical proximity correction and lithography simulation on the ICCAD 2013 and via clips.",
        examples=(
            "optimize the mask of M1_test3 with DiffOPC",
            "run inverse lithography on clip 5",
            "what is the PV band of this mask",
            "simulate the aerial image of the via clip at the defocus corner",
            "reduce the edge placement error of my layout",
        ),
        keywords=("opc", "lithography", "litho", "mask", "ilt", "epe", "pv band", "clip", "m1_test"),
    ),
    PlannedAgent(
        name="eda_doc_qa",
        description="Answers questions about OpenROAD and OpenROAD-flow-scripts from their documentation.",
        examples=(
            "how do I set the placement density in OpenROAD",
            "what does global_route -congestion_iterations do",
            "which command runs detailed placement in openroad",
            "how to configure the flow scripts for a new platform",
            "explain the options of the tapcell command",
            "how do I read a DEF file into OpenROAD",
        ),
        keywords=("openroad", "orfs", "flow-scripts", "tcl command", "documentation", "global_route", "detailed_placement"),
    ),
    PlannedAgent(
        name="analog_designer",
        description="Analog layout optimisation (LLANA): placement, parasitics and ngspice post-layout CMRR and offset.",
        examples=(
            "optimize the layout of the OTA for CMRR",
            "reduce the input offset of my amplifier layout",
            "run Bayesian optimisation on the placement net weights of the opamp",
            "simulate the folded cascode OTA in ngspice",
            "what is the post-layout gain of the operational amplifier",
        ),
        keywords=("ota", "opamp", "op-amp", "amplifier", "cmrr", "offset", "ngspice", "analog", "spice"),
    ),
    PlannedAgent(
        name="model_compressor",
        description="Compresses models: FuseGPT block fusion, MoreauPruner structured pruning, VisionZip token selection.",
        examples=(
            "prune 8 blocks of SmolLM2 and report perplexity",
            "compress the language model with FuseGPT",
            "structured pruning of attention heads with MoreauPruner",
            "reduce the visual tokens of the CLIP encoder with VisionZip",
            "what is the perplexity after removing layers",
        ),
        keywords=("prune", "pruning", "perplexity", "fusegpt", "moreaupruner", "visionzip", "compress", "distill"),
    ),
)

OUT_OF_SCOPE_EXAMPLES: tuple[str, ...] = (
    "what's the weather like tomorrow",
    "write me a poem about the sea",
    "tell me a joke",
    "who won the football match yesterday",
    "recommend a good restaurant nearby",
    "translate this sentence into French",
    "what is the capital of Australia",
    "how do I bake sourdough bread",
    "book a flight to Paris",
    "what time is it in Tokyo",
    "summarise the latest news",
    "help me write a birthday card",
    "what movie should I watch tonight",
    "how much is a bitcoin worth",
    "play some music",
)
