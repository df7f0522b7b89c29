"""The model compressor's planner (request -> typed tool call), renderer and spec, and one real end-to-end run."""

from __future__ import annotations

from pathlib import Path

import pytest

from agents.model_compressor import AGENT, plan, render
from prompts import load_prompt

PHRASINGS = [
    ("prune 25% of the blocks of SmolLM2 with FuseGPT", "prune_blocks", {"method": "fusegpt", "fraction": 0.25}),
    (
        "remove 8 transformer layers from the LLM and fuse them into their neighbours",
        "prune_blocks",
        {"method": "fusegpt", "blocks": 8},
    ),
    (
        "drop a quarter of the layers with ShortGPT and tell me the perplexity",
        "prune_blocks",
        {"method": "shortgpt", "fraction": 0.25},
    ),
    (
        "prune 30% of blocks of /data/qwen2-0.5b without fusion, seed 3",
        "prune_blocks",
        {"model": "/data/qwen2-0.5b", "seed": 3, "method": "mi", "fraction": 0.3},
    ),
    (
        "run fusegpt on ./models/llama removing 6 layers on GPU",
        "prune_blocks",
        {"model": "./models/llama", "device": "cuda", "method": "fusegpt", "blocks": 6},
    ),
    ("which decoder blocks of SmolLM2 are redundant?", "score_blocks", {}),
    ("score every block by macro influence", "score_blocks", {"method": "mi"}),
    ("rank the layers by ShortGPT block influence", "score_blocks", {"method": "shortgpt"}),
    ("prune 20% of the parameters with MoreauPruner", "prune_structured", {"method": "moreau", "sparsity": 0.2}),
    (
        "is the MoreauPruner mask robust to casting the weights to bf16?",
        "prune_structured",
        {"method": "moreau", "precision": "bf16"},
    ),
    (
        "Taylor pruning at 0.2 sparsity on fp16 weights",
        "prune_structured",
        {"method": "taylor", "sparsity": 0.2, "precision": "fp16"},
    ),
    (
        "remove attention heads and MLP channels of /models/smol, text from ~/notes.txt",
        "prune_structured",
        {"model": "/models/smol", "corpus": "~/notes.txt"},
    ),
    (
        "what is the perplexity of SmolLM2 on 4096 held-out tokens?",
        "evaluate_model",
        {"eval_tokens": 4096, "proxy_items": 0, "latency": False},
    ),
    (
        "evaluate the pruned model in /tmp/pruned: perplexity, latency and size",
        "evaluate_model",
        {"model": "/tmp/pruned"},
    ),
    ("apply VisionZip to keep 64 visual tokens", "compress_tokens", {"budgets": [64]}),
    (
        "compare VisionZip with random and uniform token dropping on a ViT at 64, 128 and 192 tokens",
        "compress_tokens",
        {"methods": ["visionzip", "random", "uniform"], "budgets": [64, 128, 192]},
    ),
    ("reduce CLIP image tokens after layer 2, seed 1", "compress_tokens", {"seed": 1, "layer": 2}),
    ("VisionZip at 64 tokens on a ViT trained for 2 epochs", "compress_tokens", {"budgets": [64], "epochs": 2}),
    ("score every block of SmolLM2 by FuseGPT macro influence", "score_blocks", {"method": "mi"}),
]


@pytest.mark.parametrize("request_text,tool,args", PHRASINGS)
def test_planner_fills_only_what_the_request_says(request_text: str, tool: str, args: dict) -> None:
    call = plan(request_text)
    assert (call.tool, call.args) == (tool, args)
    AGENT.tool(call.tool).args_model.model_validate(call.args)  # a valid call for its tool


def test_spec_examples_keywords_and_prompt() -> None:
    assert AGENT.name == "model_compressor" and AGENT.prompt == "model_compressor"
    assert len(AGENT.examples) >= 20 and len(set(AGENT.examples)) == len(AGENT.examples)
    assert all(k == k.lower() for k in AGENT.keywords)
    assert "FuseGPT" in load_prompt("model_compressor")
    assert {t.name for t in AGENT.tools} == {
        "prune_blocks",
        "score_blocks",
        "prune_structured",
        "evaluate_model",
        "compress_tokens",
    }


def test_end_to_end_request_to_answer(tiny_llama: Path, tmp_path: Path) -> None:
    call = plan(f"prune 25% of the blocks of {tiny_llama} with FuseGPT")
    assert call.args == {"model": str(tiny_llama), "method": "fusegpt", "fraction": 0.25}
    budget = {
        "eval_tokens": 256,
        "eval_seq_len": 64,
        "proxy_items": 2,
        "calib_samples": 4,
        "seq_len": 16,
        "epochs": 2,
        "out_dir": str(tmp_path),
    }
    result = AGENT.tool(call.tool).invoke({**call.args, **budget})
    answer = render(call, result)
    assert answer.startswith("**FuseGPT removed 2 of 6 blocks**: held-out perplexity")
    assert "| FuseGPT | 4 |" in answer and str(tmp_path) in answer and "from_pretrained" in answer


def test_renders_scores_structured_and_evaluation(tiny_llama: Path, tmp_path: Path) -> None:
    small = {"model": str(tiny_llama), "seq_len": 16, "calib_samples": 2}
    call = plan(f"rank the blocks of {tiny_llama} by ShortGPT block influence")
    scores = render(call, AGENT.tool(call.tool).invoke({**call.args, **small}))
    assert scores.startswith("**Most removable blocks by Block Influence (ShortGPT):") and "| 5 |" in scores
    call = plan(f"Taylor pruning of {tiny_llama} at 20% sparsity")
    evals = {"eval_tokens": 256, "eval_seq_len": 32, "proxy_items": 0, "latency": False, "out_dir": str(tmp_path)}
    text = render(call, AGENT.tool(call.tool).invoke({**call.args, **small, **evals, "save": False}))
    assert text.startswith("**Taylor (LLM-Pruner) removed 20.") and "key-value head groups" in text
    call = plan(f"evaluate {tiny_llama}: perplexity and latency")
    text = render(call, AGENT.tool(call.tool).invoke({**call.args, **evals}))
    assert "held-out perplexity" in text and "| 6 |" in text


def test_render_refuses_foreign_results() -> None:
    from pydantic import BaseModel

    class Foreign(BaseModel):
        value: int = 1

    with pytest.raises(TypeError, match="model_compressor cannot render a Foreign"):
        render(plan("prune blocks"), Foreign())


@pytest.mark.parametrize(
    ("request_text", "tool", "methods"),
    [
        ("compare FuseGPT and ShortGPT removing 25% of the blocks", "prune_blocks", ["fusegpt", "shortgpt"]),
        ("taylor versus moreau structured pruning at 20% sparsity", "prune_structured", ["taylor", "moreau"]),
    ],
)
def test_a_comparison_of_methods_runs_each_of_them(request_text: str, tool: str, methods: list[str]) -> None:
    call = plan(request_text)
    assert (call.tool, call.sweep) == (tool, {"method": methods}) and "method" not in call.args
