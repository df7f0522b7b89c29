"""The tiered router on real MiniLM embeddings: right agent, honest abstention, explicit override; the classifier's
probabilities, the agents' own vocabulary as evidence, uncertain requests that ask instead of refusing."""

from __future__ import annotations

from pathlib import Path

import pytest

from agents import registry
from chipcrew.settings import Settings
from graphs.route_evidence import Evidence, agent_vocabulary
from graphs.router import OUT_OF_SCOPE as NOBODY
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


CACHE = Settings().cache_dir / "router"  # the bank's vectors, shared with every other router the tests build


@pytest.fixture(scope="module")
def router() -> Router:
    return Router(registry(), load_embedder(), cache_dir=CACHE)


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


@pytest.mark.parametrize(
    "request_text",
    [
        "what does set_global_routing_layer_adjustment do",
        "is PLACE_DENSITY a fraction or a percentage",
        "where is -skip_initial_place documented",
        "openroad: how do I keep the pins off the left edge",
    ],
)
def test_openroad_command_option_or_variable_goes_to_doc_qa(router: Router, request_text: str) -> None:
    assert router.route(request_text).agent == "eda_doc_qa"


@pytest.mark.parametrize(
    "request_text",
    ["search a recipe", "what did the RL agent decide", "which OPC recipe did the search settle on for line ends"],
)
def test_recipe_and_rl_requests_go_to_the_opc_engineer(router: Router, request_text: str) -> None:
    assert router.route(request_text).agent == "opc_engineer"


def test_probabilities_cover_every_agent_and_out_of_scope(router: Router) -> None:
    p = router.probabilities("prune SmolLM2 by a quarter")
    assert set(p) == {*registry(), NOBODY}
    assert sum(p.values()) == pytest.approx(1.0, abs=1e-5)
    assert max(p, key=p.get) == "model_compressor"


def test_vocabulary_comes_from_the_agents_tools_and_docs() -> None:
    agents = registry()
    assert {"opc_recipe", "diffopc", "camo"} <= agent_vocabulary(agents["opc_engineer"])
    assert {"global_placement", "-skip_initial_place", "place_density", "gpl"} <= agent_vocabulary(agents["eda_doc_qa"])
    assert "random" not in agent_vocabulary(agents["analog_designer"])  # a settings word, not evidence
    hits = Evidence.from_agents(agents).hits("run fusegpt, then the mixpe_perf model for OPT-6.7B")
    assert hits["model_compressor"][1] == 1 and hits["hardware_architect"][1] == 2


def test_uncertain_request_with_in_scope_evidence_names_two_candidates(router: Router) -> None:
    decision = router.route("can you estimate this for my chip?")
    assert decision.needs_clarification and decision.tier == "abstain"
    assert len(set(decision.candidates)) == 2 and "hardware_architect" in decision.candidates


def test_no_in_scope_evidence_is_refused_without_asking(router: Router) -> None:
    decision = router.route("what's a good recipe for a birthday cake")
    assert decision.agent is None and not decision.needs_clarification and decision.candidates == ()


def test_one_shot_takes_the_best_agent_when_it_clearly_leads_out_of_scope() -> None:
    """Below the confidence threshold but well ahead of out of scope: route, and still flag it for a chat."""
    lenient = Router(registry(), load_embedder(), min_score=1.0, margin=0.2, cache_dir=CACHE)
    decision = lenient.route("prune SmolLM2 by a quarter")
    assert decision.agent == "model_compressor" and decision.needs_clarification
    strict = Router(registry(), load_embedder(), min_score=1.0, margin=1.0, cache_dir=CACHE)
    assert strict.route("prune SmolLM2 by a quarter").agent is None


def test_reply_to_the_question_picks_an_agent(router: Router) -> None:
    pair = ("hardware_architect", "model_compressor")
    assert router.pick("the model compressor please", pair) == "model_compressor"
    assert router.pick("the second one", pair) == "model_compressor"
    assert router.pick("1", pair) == "hardware_architect"
    assert router.pick("neither", pair) is None
    assert router.pick("the MixPE accelerator", pair, "can you estimate this for my chip?") == "hardware_architect"


def test_classifier_weights_are_cached_and_read_back(router: Router, tmp_path: Path) -> None:
    for vectors in CACHE.glob("*.npy"):  # the bank's vectors are cached already; the classifier is trained here
        (tmp_path / vectors.name).write_bytes(vectors.read_bytes())
    first = Router(registry(), load_embedder(), cache_dir=tmp_path)
    assert len(list(tmp_path.glob("classifier-*.npz"))) == 1
    second = Router(registry(), load_embedder(), cache_dir=tmp_path)
    text = "simulate M1_test2 at the defocus corner"
    assert second.probabilities(text) == pytest.approx(first.probabilities(text), abs=1e-6)


def test_evidence_signature_is_the_same_in_every_process() -> None:
    """The signature keys the classifier's cache: with Python's per-process string hashing it must not depend on
    set order, or every CLI start would miss the cache and retrain (seconds, and scikit-learn's import)."""
    import os
    import subprocess
    import sys

    code = (
        "from agents import registry; from graphs.route_evidence import Evidence; import hashlib; "
        "print(hashlib.sha256(Evidence.from_agents(registry()).signature().encode()).hexdigest())"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    runs = {
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                       env={**env, "PYTHONHASHSEED": seed}).stdout
        for seed in ("1", "2")
    }
    assert len(runs) == 1
