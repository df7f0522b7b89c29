from __future__ import annotations

import numpy as np
import pytest
import torch

from tools.common import InputError, shared_data_dir
from tools.litho.kernels import KernelSet, kernels_from_optics, load_iccad13_kernels
from tools.litho.simulator import LithoSim


@pytest.mark.parametrize("which", ["focus", "defocus"])
def test_bin_files_equal_the_torch_copies(litho_data: None, which: str) -> None:
    ks = load_iccad13_kernels(which)  # type: ignore[arg-type]
    base = shared_data_dir("iccad13") / "kernel"
    pt = torch.load(base / "kernels" / f"{which}.pt").permute(2, 0, 1)
    scales = torch.load(base / "scales" / f"{which}.pt")
    assert torch.equal(ks.kernels, pt)
    assert torch.allclose(ks.weights, scales.float())


@pytest.mark.parametrize(
    ("which", "first", "total", "clear"),
    [
        ("focus", 86.943428, 210.19, 0.952),
        ("defocus", 83.156715, 206.38, 0.942),
    ],
)
def test_iccad13_sets_match_readme_facts(
    litho_data: None, which: str, first: float, total: float, clear: float
) -> None:
    ks = load_iccad13_kernels(which)  # type: ignore[arg-type]
    assert ks.kernels.shape == (24, 35, 35) and ks.kernels.dtype == torch.complex64
    assert ks.weights[0].item() == pytest.approx(first, rel=1e-6)
    assert ks.weights.sum().item() == pytest.approx(total, abs=0.01)
    np.testing.assert_allclose((ks.kernels.abs() ** 2).sum((1, 2)), 1.0, atol=1e-5)  # unit energy
    assert ks.clear_field() == pytest.approx(clear, abs=5e-4)


def test_unknown_kernel_set_names_accepted() -> None:
    with pytest.raises(InputError, match="which: 'nominal'.*focus, defocus"):
        load_iccad13_kernels("nominal")  # type: ignore[arg-type]


def test_kernelset_rejects_even_window() -> None:
    with pytest.raises(InputError, match="kernels"):
        KernelSet(torch.zeros(2, 4, 4, dtype=torch.complex64), torch.ones(2), "bad")


def test_coherent_source_gives_the_pupil_as_single_kernel() -> None:
    ks = kernels_from_optics(source="circular", sigma_out=0.0, n_kernels=4, size=256, pixel_nm=4.0)
    assert ks.kernels.shape[0] == 1
    c = ks.size // 2
    pupil = ks.kernels[0].abs() > 1e-3
    fy, fx = np.meshgrid(np.arange(ks.size) - c, np.arange(ks.size) - c, indexing="ij")
    cutoff = 0.85 / 193.0 * 256 * 4.0
    np.testing.assert_array_equal(pupil.numpy(), np.hypot(fx, fy) <= cutoff)
    assert ks.clear_field() == pytest.approx(1.0, rel=1e-5)


@pytest.mark.parametrize("source", ["annular", "quasar", "dipole"])
def test_optics_kernels_reproduce_abbe_imaging(source: str) -> None:
    """SOCS with all kernels = Abbe's sum over source points of coherent images (Hopkins' identity)."""
    size, pixel, defocus = 96, 8.0, 60.0
    ks = kernels_from_optics(source=source, defocus_nm=defocus, size=size, pixel_nm=pixel, n_kernels=10_000)
    weights = ks.weights.numpy()
    assert np.all(np.diff(weights) <= 1e-6) and ks.clear_field() == pytest.approx(1.0, rel=1e-4)

    rng = np.random.default_rng(1)
    mask = (rng.random((size, size)) > 0.7).astype(np.float64)
    sim = LithoSim(ks, ks, size=size, dtype=torch.float64)
    socs = sim.intensity(torch.from_numpy(mask)).numpy()

    # Abbe: sum_s J(s) |IFFT(FFT(m) P(f + s))|^2 with the same source samples and pupil as kernels_from_optics.
    from tools.litho.kernels import _pupil, _source_points

    cutoff = 0.85 / 193.0 * size * pixel
    src = _source_points(source, 0.5, 0.8, 30.0, "x", cutoff, 1.0)
    f = np.fft.fftfreq(size, 1.0 / size)
    fy, fx = np.meshgrid(f, f, indexing="ij")
    spectrum = np.fft.fft2(mask) / size**2
    clear = np.sum(np.abs(_pupil(src, cutoff, 193.0, size * pixel, defocus, 1.0)) ** 2)
    abbe = np.zeros((size, size))
    for sx, sy in src:
        pupil = _pupil(np.stack([fx + sx, fy + sy], -1), cutoff, 193.0, size * pixel, defocus, 1.0)
        abbe += np.abs(np.fft.ifft2(spectrum * pupil) * size**2) ** 2 / clear
    np.testing.assert_allclose(socs, abbe, atol=2e-6 * abbe.max())


def test_optics_rejects_na_above_medium_index() -> None:
    with pytest.raises(InputError, match="na"):
        kernels_from_optics(na=1.35)
