"""The tiered router on real MiniLM embeddings: right agent, honest abstention, explicit override."""

from __future__ import annotations

import pytest

from agents import registry
from graphs.router import Router
from tools.embedding import load_embedder

HARDWARE = [
    "How much faster is W4A16 than FP16 on LLaMA-2-13B?",
    "How much faster is a W4A8 GEMM on MixPE than on an INT8 array for OPT-6.7B?",
    "energy breakdown of MixPE for ViT-Base, please",
    "compare bitfusion and ANT accelerators on ViT-Huge",
    "what's the DRAM energy share for opt 6.7b with 4-bit weights",
    "is the mixed precision PE more efficient than an fp16 systolic array",
    "run the mixpe perf model for llama2-13b at sequence length 2048",
    "check that the group-quantised int4 gemm is bit exact against torch",
    "how many dequantisations does per-group dequant save for K=4096",
    "shift-and-add multiplier vs normal multiplier op counts",
    "speedup of w4a8 over int8 on an iso-area accelerator",
    "estimate latency and energy of a transformer block on mixpe",
    "which precision gives the lowest energy for vit huge inference",
    "mixpe vs ant: normalized execution time for batch 8",
    "I need the core/buffer/static energy split of the MixPE design",
    "INT4 weights with FP16 activations on custom hardware, how fast?",
    "what does dequantizing after the partial sum buy in a quantized matmul",
    "model the accelerator cycles for the FFN GEMMs of OPT",
    "hw perf estimate: llama-2-13b, w4a16, seq 512, batch 4",
    "how does a low-bit processing element array compare with INT8 on throughput",
]

OUT_OF_SCOPE = [
    "what's the weather in Lisbon this weekend?",
    "write a haiku about autumn leaves",
    "who is the best tennis player of all time",
    "give me a recipe for vegan lasagna",
    "can you recommend a novel for my holiday",
]

COMPRESSOR = [
    "prune SmolLM2 with MoreauPruner and tell me the perplexity",
    "which decoder layers can go with the least loss, then fuse them away",
    "keep 64 of the 576 image tokens in the vision tower",
]


@pytest.fixture(scope="module")
def router() -> Router:
    return Router(registry(), load_embedder())


@pytest.mark.parametrize("request_text", HARDWARE)
def test_hardware_requests_go_to_the_hardware_architect(router: Router, request_text: str) -> None:
    decision = router.route(request_text)
    assert decision.agent == "hardware_architect", decision.as_json()
    assert decision.tier == "semantic"


@pytest.mark.parametrize("request_text", OUT_OF_SCOPE)
def test_out_of_scope_requests_go_nowhere(router: Router, request_text: str) -> None:
    assert router.route(request_text).agent is None


@pytest.mark.parametrize("request_text", COMPRESSOR)
def test_compression_requests_go_to_the_model_compressor(router: Router, request_text: str) -> None:
    assert router.route(request_text).agent == "model_compressor"


def test_explicit_mention_wins_and_says_so(router: Router) -> None:
    decision = router.route("@hardware_architect what's the weather")
    assert (decision.agent, decision.tier) == ("hardware_architect", "explicit")


def test_explicit_mention_by_spoken_name(router: Router) -> None:
    decision = router.route("ask the model compressor what the weather is")
    assert (decision.agent, decision.tier) == ("model_compressor", "explicit")


def test_empty_request_abstains(router: Router) -> None:
    assert router.route("   ").agent is None
