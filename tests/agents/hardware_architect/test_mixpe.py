"""The hardware architect's planner (request -> typed tool call), renderer and spec."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from agents.hardware_architect import AGENT, plan, render
from prompts import load_prompt
from tools.mixpe.gemm import MixPEGemmArgs, run_mixpe_gemm
from tools.mixpe.perf import MixPEPerfArgs, run_mixpe_perf

PHRASINGS = [
    (
        "How much faster is a W4A8 GEMM on MixPE than on an INT8 array for OPT-6.7B?",
        "mixpe_perf",
        {"model": "OPT-6.7B", "weight_bits": 4, "activation": "int8", "baseline": "INT8",
         "designs": ["MixPE-A8", "INT8"]},
    ),
    (
        "How much faster is W4A16 than FP16 on LLaMA-2-13B?",
        "mixpe_perf",
        {"model": "LLaMA-2-13B", "weight_bits": 4, "activation": "fp16", "baseline": "FP16",
         "designs": ["MixPE-A16", "FP16"]},
    ),
    (
        "check the mixpe gemm bit exactness for 256x512x128 int8",
        "mixpe_gemm",
        {"m": 256, "k": 512, "n": 128, "activation": "int8"},
    ),
    (
        "compare the energy of MixPE with BitFusion and ANT on ViT-Huge",
        "mixpe_perf",
        {"model": "ViT-Huge", "designs": ["MixPE-A8", "BitFusion", "ANT"]},
    ),
    (
        "What's the speedup of MixPE W4A8 over ANT for llama2-13b decoding with batch 8?",
        "mixpe_perf",
        {"model": "LLaMA-2-13B", "weight_bits": 4, "activation": "int8", "baseline": "ANT",
         "designs": ["MixPE-A8", "ANT"], "seq_len": 1, "batch": 8},
    ),
    (
        "energy breakdown on vit-b/16 with 4-bit weights, group size 64",
        "mixpe_perf",
        {"model": "ViT-Base", "weight_bits": 4, "group_size": 64},
    ),
    (
        "verify the mixed-precision GEMM with fp16 activations, M=64 K=1024 N=32, seed 3",
        "mixpe_gemm",
        {"m": 64, "k": 1024, "n": 32, "activation": "fp16", "seed": 3},
    ),
    ("run MixPE on LLaMA 2 13B at sequence length 4k", "mixpe_perf", {"model": "LLaMA-2-13B", "seq_len": 4096}),
    (
        "MixPE vs all baselines on OPT 6.7B, 512 tokens, batch size 4",
        "mixpe_perf",
        {"model": "OPT-6.7B", "seq_len": 512, "batch": 4},
    ),
    (
        "How much energy does MixPE save against INT8 at 8-bit weights on ViT-H/14?",
        "mixpe_perf",
        {"model": "ViT-Huge", "weight_bits": 8, "baseline": "INT8", "designs": ["MixPE-A8", "INT8"]},
    ),
    (
        "how many dequantizations does MixPE save for group size 32 with int4 weights",
        "mixpe_gemm",
        {"weight_bits": 4, "group_size": 32},
    ),
    ("speedup of MixPE with FP16 activations over BitFusion", "mixpe_perf",
     {"activation": "fp16", "baseline": "BitFusion", "designs": ["MixPE-A16", "BitFusion"]}),
]


@pytest.mark.parametrize("request_text,tool,args", PHRASINGS)
def test_planner_fills_only_what_the_request_says(request_text: str, tool: str, args: dict) -> None:
    call = plan(request_text)
    assert (call.tool, call.args) == (tool, args)
    AGENT.tool(call.tool).args_model.model_validate(call.args)  # a valid call for its tool


def test_unsupported_precision_reaches_the_tool_and_is_rejected_by_name() -> None:
    call = plan("How fast is W3A8 on OPT-6.7B?")
    assert call.args["weight_bits"] == 3
    with pytest.raises(ValidationError, match="weight_bits"):
        AGENT.tool(call.tool).invoke(call.args)


def test_render_perf_leads_with_the_ratio_and_tabulates_every_design(tmp_path: Path) -> None:
    call = plan("How much faster is a W4A8 GEMM on MixPE than on an INT8 array for OPT-6.7B?")
    result = run_mixpe_perf(MixPEPerfArgs(**call.args, plot=False, out_dir=str(tmp_path)))
    text = render(call, result)
    first = text.splitlines()[0]
    assert f"MixPE-W4A8 is {result.speedup:.2f}x faster than the INT8 array" in first
    assert f"{result.energy_reduction:.2f}x less energy" in first and "OPT-6.7B" in first
    ratio = text.splitlines()[2]  # one sentence: the baseline's datapath, then the ratio split into its factors
    assert ratio.startswith("Against the INT8 array (W8A8: the 4-bit weights widened to INT8")
    assert f"the {result.speedup:.2f}x = 4.00x PE count (64x64 vs 32x32 PEs) x 2.00x packing" in ratio
    assert "x 1.12x dequantisation" in ratio and ratio.count(". ") == 0
    assert "| MixPE-W4A8 | 64x64 | W4A8 mixed-precision PE" in text and "| INT8 | 32x32 | W8A8" in text
    assert "time / INT8" in text and "energy / INT8" in text
    assert result.artifacts["json"] in text


def test_render_gemm_reports_exactness_and_the_saving() -> None:
    call = plan("check the mixpe gemm bit exactness for 64x256x32 int8")
    result = run_mixpe_gemm(MixPEGemmArgs(**call.args))
    text = render(call, result)
    assert text.startswith("**Both orders match torch.matmul bit for bit** (64x256x32")
    assert "128x fewer dequantisations" in text and "than the conventional order" in text
    assert f"{64 * 256 * 32:,}" in text  # conventional dequantisations


def test_spec_is_complete() -> None:
    assert len(AGENT.examples) >= 20 and len(set(AGENT.examples)) == len(AGENT.examples)
    assert all(k == k.lower() for k in AGENT.keywords)
    assert {t.name for t in AGENT.tools} == {"mixpe_gemm", "mixpe_perf", "gnn_profile", "gnn_fit", "gnn_explore"}
    assert "mixpe_perf" in load_prompt(AGENT.prompt)


@pytest.mark.parametrize(
    "request_text",
    [
        "check the mpGEMM with M=128, K=2048, N=64",
        "bit exactness of a 128 by 2048 by 64 gemm",
        "op counts for activations of 128x2048 times weights of 2048x64",
        "verify the gemm with m 128, k 2048 and n 64",
        "check the mixed-precision gemm, shape (128, 2048, 64)",
    ],
)
def test_a_stated_matrix_shape_is_honoured_in_any_spelling(request_text: str) -> None:
    call = plan(request_text)
    assert (call.tool, {k: call.args[k] for k in "mkn"}) == ("mixpe_gemm", {"m": 128, "k": 2048, "n": 64})


def test_uniform_weight_bits_are_read() -> None:
    assert plan("speedup with uniform 8-bit weights on OPT-6.7B").args["weight_bits"] == 8
    assert plan("energy on ViT-Base with weights quantised to 8 bits").args["weight_bits"] == 8
