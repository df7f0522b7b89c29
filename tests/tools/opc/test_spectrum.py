"""The closed-form mask spectrum: pixel-exact at integer moves, exact gradients, and the raster it implies."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from tools.opc.diffopc import edge_model
from tools.litho.raster import rasterize
from tools.opc.segments import fragment, moved_polygons
from tools.opc.spectrum import EdgeMask, interval_spectrum

L_SHAPE = np.array([[300, 300], [500, 300], [500, 380], [380, 380], [380, 600], [300, 600]])
BLOCK = np.array([[600, 300], [760, 300], [760, 460], [600, 460]])


def _low_bins(image: np.ndarray, half: int = 17) -> np.ndarray:
    idx = np.arange(-half, half + 1) % image.shape[0]
    return (np.fft.fft2(image.astype(np.float64)) / image.size)[np.ix_(idx, idx)]


def test_interval_spectrum_equals_the_pixel_sum_at_integer_ends() -> None:
    a, b = torch.tensor([3.0, 10.0, 7.0], dtype=torch.float64), torch.tensor([9.0, 10.0, 2.0], dtype=torch.float64)
    got = interval_spectrum(a, b, n=64, half=5).numpy()
    f = np.arange(-5, 6)
    for row, (lo, hi) in enumerate([(3, 9), (10, 10), (7, 2)]):
        sign, (s, e) = (1, (lo, hi)) if hi >= lo else (-1, (hi, lo))
        want = sign * np.exp(-2j * np.pi * np.outer(np.arange(s, e), f) / 64).sum(axis=0)
        np.testing.assert_allclose(got[row], want, atol=1e-12)


def test_interval_derivative_is_the_boundary_term() -> None:
    """d/db sum_{x=a}^{b-1} exp(-i w x), continued to real b, is i w exp(-i w b) / (1 - exp(-i w))."""
    n, b0 = 128, 37.3
    b = torch.tensor([b0], dtype=torch.float64, requires_grad=True)
    spec = interval_spectrum(torch.tensor([5.0], dtype=torch.float64), b, n, half=6)[0]
    f = np.arange(-6, 7)
    w = 2 * math.pi * f / n
    with np.errstate(invalid="ignore", divide="ignore"):
        want = np.where(f == 0, 1.0, 1j * w * np.exp(-1j * w * b0) / (1 - np.exp(-1j * w)))
    for k in range(13):
        (g_re,) = torch.autograd.grad(spec[k].real, b, retain_graph=True)
        (g_im,) = torch.autograd.grad(spec[k].imag, b, retain_graph=True)
        np.testing.assert_allclose(g_re.item() + 1j * g_im.item(), want[k], atol=1e-12)


def test_raster_spectrum_and_rebuilt_polygons_agree_at_random_moves() -> None:
    segs = fragment([L_SHAPE, BLOCK], 40)
    model = EdgeMask(segs, size=1024)
    rng = np.random.default_rng(3)
    offsets = rng.integers(-8, 9, len(segs))
    raster = model.raster(offsets)
    assert set(np.unique(raster)) <= {0.0, 1.0}
    assert raster.sum() > 0
    np.testing.assert_allclose(model.spectrum(torch.as_tensor(offsets, dtype=torch.float64)).numpy(),
                               _low_bins(raster), atol=1e-12)
    np.testing.assert_array_equal(rasterize(moved_polygons(segs, offsets), size=1024), raster)  # GDS == raster


def test_spectrum_gradient_matches_central_differences_off_the_grid() -> None:
    segs = fragment([L_SHAPE, BLOCK], 40)
    model = EdgeMask(segs, size=1024)
    x0 = torch.as_tensor(np.random.default_rng(0).uniform(-6, 6, len(segs)), dtype=torch.float64)
    weights = torch.randn(35, 35, dtype=torch.complex128, generator=torch.Generator().manual_seed(1))

    def loss(x: torch.Tensor) -> torch.Tensor:
        return (model.spectrum(x) * weights).real.sum() * 1e4

    x = x0.clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(loss(x), x)
    eps = 1e-4
    for i in (0, 5, len(segs) // 2, len(segs) - 1):
        e = torch.zeros_like(x0)
        e[i] = eps
        numeric = (loss(x0 + e) - loss(x0 - e)) / (2 * eps)
        assert abs(grad[i].item() - numeric.item()) <= 1e-6 * max(1.0, abs(numeric.item()))


@pytest.mark.parametrize("raster", ["exact", "inclusive"])
def test_rounded_mask_spectrum_matches_the_engine_on_a_real_clip(sim, raster: str) -> None:
    from tools.litho.clips import load_clip

    clip = load_clip("M1_test1")
    model = edge_model(clip.layout.polygons, 60, sim.size, inclusive=raster == "inclusive")
    np.testing.assert_array_equal(model.raster(np.zeros(len(model.segs))), rasterize(clip.layout, convention=raster))
    offsets = np.rint(np.random.default_rng(2).uniform(-6, 6, len(model.segs)))
    ours = model.spectrum(torch.as_tensor(offsets, dtype=torch.float64))
    engine = sim.mask_spectrum(torch.from_numpy(model.raster(offsets)))
    assert (ours - engine.to(torch.complex128)).abs().max().item() < 1e-6


def test_corner_treatments_add_serifs_and_cut_mousebites_at_the_moved_vertices() -> None:
    """A serif is the vertex-centred square added at a convex vertex, a mousebite the square cut at a concave one;
    raster and spectrum come from the same terms."""
    from tools.opc.serifs import corner_sizes

    segs = fragment([L_SHAPE, BLOCK], 40)
    model = EdgeMask(segs, size=1024)
    offsets = np.random.default_rng(5).integers(-4, 5, len(segs))
    sizes = corner_sizes(segs, serif_nm=10, mousebite_nm=10)
    raster = model.raster(offsets, sizes)
    assert set(np.unique(raster)) <= {0.0, 1.0}
    plain = model.raster(offsets)
    c, moved = segs.corners, segs.pos + segs.normal * offsets
    want = plain.copy()
    for k in np.flatnonzero(sizes):
        x, y = moved[c[k, 0]], moved[c[k, 1]]
        want[y - 10 : y + 10, x - 10 : x + 10] = 1.0 if c[k, 4] > 0 else 0.0
    np.testing.assert_array_equal(raster, want)
    assert (c[:, 4] < 0).any() and sizes[c[:, 4] < 0].all() and sizes[c[:, 4] > 0].all()
    np.testing.assert_allclose(model.spectrum(torch.as_tensor(offsets, dtype=torch.float64), corner_nm=sizes).numpy(),
                               _low_bins(raster), atol=1e-12)


def test_corner_treatments_skip_short_edges_and_refuse_sizes_below_the_mask_rule() -> None:
    from tools.common import InputError
    from tools.opc.serifs import corner_sizes

    segs = fragment([np.array([[100, 100], [130, 100], [130, 400], [100, 400]])], 60)  # a 30 nm wide line
    sizes = corner_sizes(segs, serif_nm=16, mousebite_nm=0)
    assert not sizes.any()  # two 16 nm serif arms would overlap on the 30 nm line end
    assert corner_sizes(segs, serif_nm=10, mousebite_nm=0).tolist() == [10.0] * 4
    for field, kwargs in (("serif_nm", {"serif_nm": 6, "mousebite_nm": 0}),
                          ("mousebite_nm", {"serif_nm": 0, "mousebite_nm": 21})):
        with pytest.raises(InputError) as err:
            corner_sizes(segs, **kwargs)
        assert err.value.field == field
