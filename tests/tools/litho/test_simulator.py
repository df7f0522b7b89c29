from __future__ import annotations

import numpy as np
import pytest
import torch

from tools.common import InputError
from tools.litho.clips import load_clip
from tools.litho.kernels import load_iccad13_kernels
from tools.litho.metrics import l2, pv_band
from tools.litho.raster import rasterize
from tools.litho.simulator import THRESHOLD, LithoSim, resolve_device


def _blocks(size: int, seed: int = 0) -> torch.Tensor:
    """A Manhattan test mask: random rectangles, deterministic."""
    rng = np.random.default_rng(seed)
    mask = np.zeros((size, size))
    for _ in range(12):
        x, y = rng.integers(0, size - 40, 2)
        w, h = rng.integers(8, 40, 2)
        mask[y : y + h, x : x + w] = 1.0
    return torch.from_numpy(mask)


@pytest.fixture(scope="module")
def small64(litho_data: None) -> LithoSim:
    return LithoSim(size=256, dtype=torch.float64)


@pytest.mark.parametrize("corner", ["nominal", "min"])
def test_band_limited_intensity_equals_direct_24_fft_method(small64: LithoSim, corner: str) -> None:
    mask = _blocks(256)
    fast = small64.intensity(mask, corner)
    direct = small64.intensity_direct(mask, corner)
    assert (fast - direct).abs().max() <= 1e-10 * direct.abs().max()


def test_float32_engine_matches_direct_to_1e5(litho_data: None) -> None:
    sim = LithoSim(size=512)
    mask = _blocks(512, seed=3).float()
    fast, direct = sim.intensity(mask), sim.intensity_direct(mask)
    assert ((fast - direct).abs().max() / direct.abs().max()).item() < 1e-5


@pytest.mark.slow
def test_full_canvas_clip1_matches_direct(sim: LithoSim) -> None:
    mask = torch.from_numpy(rasterize(load_clip("M1_test1").layout))
    fast, direct = sim.intensity(mask), sim.intensity_direct(mask)
    assert ((fast - direct).abs().max() / direct.abs().max()).item() < 1e-5


def test_mask_spectrum_is_the_low_bins_of_the_normalised_fft(small64: LithoSim) -> None:
    mask = _blocks(256, seed=1)
    full = torch.fft.fft2(mask) / 256**2
    idx = torch.arange(-17, 18) % 256
    expected = full[idx[:, None], idx[None, :]]
    torch.testing.assert_close(small64.mask_spectrum(mask), expected, rtol=0, atol=1e-14)
    assert small64.mask_spectrum(torch.ones(256, 256, dtype=torch.float64))[17, 17].real.item() == pytest.approx(1.0)


def test_coarse_output_samples_the_same_image(small64: LithoSim) -> None:
    spec = small64.mask_spectrum(_blocks(256, seed=2))
    full = small64.intensity_from_spectrum(spec)
    torch.testing.assert_close(small64.intensity_from_spectrum(spec, out_size=128), full[::2, ::2])


def test_window_synthesises_the_same_samples(small64: LithoSim) -> None:
    spec = small64.mask_spectrum(_blocks(256, seed=3))
    full = small64.intensity_from_spectrum(spec, "max")
    part = small64.intensity_from_spectrum(spec, "max", window=(10, 200, 31, 97))
    torch.testing.assert_close(part, full[10:200, 31:97])
    with pytest.raises(InputError, match="window"):
        small64.intensity_from_spectrum(spec, window=(0, 300, 0, 10))


def test_corner_intensities_equal_the_single_corner_images_bit_for_bit(small64: LithoSim) -> None:
    spec = small64.mask_spectrum(_blocks(256, seed=4))
    window = (30, 200, 10, 250)
    for kwargs in ({}, {"out_size": 128}, {"window": window}):
        shared = small64.corner_intensities(spec, **kwargs)
        assert list(shared) == ["nominal", "max", "min"]
        for corner, image in shared.items():
            assert torch.equal(image, small64.intensity_from_spectrum(spec, corner, **kwargs)), (corner, kwargs)


def test_out_size_below_the_intensity_band_is_rejected(small64: LithoSim) -> None:
    spec = small64.mask_spectrum(_blocks(256))
    with pytest.raises(InputError, match="out_size: 64.*>= 69"):
        small64.intensity_from_spectrum(spec, out_size=64)


def test_dose_scales_intensity_by_its_square(small64: LithoSim) -> None:
    spec = small64.mask_spectrum(_blocks(256))
    nominal = small64.intensity_from_spectrum(spec, "nominal")
    torch.testing.assert_close(small64.intensity_from_spectrum(spec, "max"), 1.02**2 * nominal)


def test_clear_field_intensity_is_sum_of_weighted_dc_gains(small64: LithoSim) -> None:
    image = small64.intensity(torch.ones(256, 256, dtype=torch.float64))
    expected = load_iccad13_kernels("focus").clear_field()
    torch.testing.assert_close(image, torch.full_like(image, expected), rtol=1e-6, atol=0)


def test_batched_masks_give_the_same_images(small64: LithoSim) -> None:
    masks = torch.stack([_blocks(256, seed=s) for s in (4, 5)])
    batched = small64.intensity(masks, "min", out_size=128)
    for i in range(2):
        torch.testing.assert_close(batched[i], small64.intensity(masks[i], "min", out_size=128))


def test_gradients_pass_gradcheck_in_float64(litho_data: None) -> None:
    """d(print)/d(mask) through spectrum, fields, intensity and sigmoid: analytic = numeric."""
    focus = load_iccad13_kernels("focus").truncated(3)
    sim = LithoSim(focus, load_iccad13_kernels("defocus").truncated(3), size=128, dtype=torch.float64)
    base = _blocks(128, seed=6)
    probe = torch.randn(2, 70, 70, dtype=torch.float64, generator=torch.Generator().manual_seed(0))

    def f(patch: torch.Tensor) -> torch.Tensor:
        mask = base.clone()
        mask[40:44, 50:54] = torch.sigmoid(patch)
        image = sim.print_image(sim.intensity(mask, "max", out_size=70) * 4.0)
        return (image.unsqueeze(0) * probe).sum((-1, -2))

    patch = torch.randn(4, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(1), requires_grad=True)
    assert torch.autograd.gradcheck(f, (patch,), eps=1e-6, atol=1e-7)


def test_spectrum_gradient_passes_gradcheck(litho_data: None) -> None:
    sim = LithoSim(
        load_iccad13_kernels("focus").truncated(2),
        load_iccad13_kernels("defocus").truncated(2),
        size=128,
        dtype=torch.float64,
    )
    spec0 = sim.mask_spectrum(_blocks(128, seed=7)).detach()
    probe = torch.randn(70, 70, dtype=torch.float64, generator=torch.Generator().manual_seed(2))

    def f(block: torch.Tensor) -> torch.Tensor:
        spec = spec0.clone()
        spec[16:19, 15:18] = block
        return (sim.intensity_from_spectrum(spec, out_size=70) * probe).sum()

    block = spec0[16:19, 15:18].clone().requires_grad_(True)
    assert torch.autograd.gradcheck(f, (block,), eps=1e-7, atol=1e-7)


def test_iccad13_case1_sanity_values_from_readme(sim64: LithoSim) -> None:
    """Mask = target: L2 / PVB = 116661 / 42918 (exact raster), 116184 / 45874 (cv2 raster)."""
    layout = load_clip("M1_test1").layout
    for convention, expected in (("exact", (116661, 42918)), ("inclusive", (116184, 45874))):
        target = rasterize(layout, convention=convention)
        with torch.no_grad():
            images = sim64.simulate(torch.from_numpy(target))
        prints = {k: sim64.binary_print(v).numpy() for k, v in images.items()}
        assert (l2(prints["nominal"], target), pv_band(prints["max"], prints["min"])) == expected


def test_resist_models_meet_at_the_threshold() -> None:
    intensity = torch.tensor([THRESHOLD - 0.01, THRESHOLD, THRESHOLD + 0.01])
    assert LithoSim.print_image(intensity)[1].item() == pytest.approx(0.5)
    assert LithoSim.binary_print(intensity).tolist() == [0.0, 1.0, 1.0]


def test_wrong_mask_shape_names_the_expected_shape(small64: LithoSim) -> None:
    with pytest.raises(InputError, match=r"mask: 'shape \(128, 128\)'.*\(\.\.\., 256, 256\)"):
        small64.intensity(torch.zeros(128, 128))


def test_unknown_corner_lists_the_corners(small64: LithoSim) -> None:
    with pytest.raises(InputError, match="corner: 'typical'.*nominal, max, min"):
        small64.intensity(torch.zeros(256, 256), "typical")


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message given when CUDA is absent")
def test_cuda_without_a_gpu_is_an_input_error() -> None:
    with pytest.raises(InputError, match="device: 'cuda'"):
        resolve_device("cuda")
    assert resolve_device("auto") == torch.device("cpu")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_engine_matches_cpu(small64: LithoSim) -> None:
    gpu = LithoSim(size=256, dtype=torch.float64, device="cuda")
    mask = _blocks(256)
    torch.testing.assert_close(gpu.intensity(mask).cpu(), small64.intensity(mask))


def test_direct_reference_is_exact_on_two_threads(sim: LithoSim) -> None:
    """torch 2.13's CPU FFT mis-scales a lone 2048^2 transform on >1 thread; the reference must not depend on it."""
    from tools.common import torch_threads

    mask = _blocks(2048, seed=5).float()
    with torch_threads(2), torch.no_grad():
        fast, direct = sim.intensity(mask), sim.intensity_direct(mask)
    assert ((fast - direct).abs().max() / direct.abs().max()).item() < 1e-5
