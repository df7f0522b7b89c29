"""The one technology table of the analog loop: device geometry, wiring RC, passives and mismatch, gf180mcu 3.3 V.

Every number the layout, the parasitic extraction and the mismatch model use lives here, with its source.
Where no public number exists (the process gradient and the spatially correlated mismatch field of a die),
the value is a modelling choice, said so, and sized against the PDK's own Pelgrom coefficients.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ("Technology", "GF180")


@dataclass(frozen=True)
class Technology:
    """Constants of one process. Lengths in µm, resistances in Ω, capacitances in F, voltages in V."""

    name: str
    # --- device footprints (layout rules, rounded from the gf180mcu 3.3 V design rules) -------------------
    sd_length_um: float
    """Source/drain diffusion between two gates, room for one contact (CO 0.22 µm + 2 x 0.15 µm poly spacing + overlap)."""
    device_margin_um: float
    """Ring of diffusion/well enclosure around each device; also half the spacing between neighbours."""
    res_strip_pitch_um: float
    """Strip width + spacing of a poly resistor finger (the strip width itself comes from the netlist)."""
    # --- wiring (one routing layer, Metal2) -------------------------------------------------------------
    wire_sheet_ohm: float
    wire_width_um: float
    wire_cap_f_per_um: float
    via_ohm: float
    vias_per_pin: int
    """Cuts stacked from a device terminal up to the routing layer (contact + via1), each ``via_ohm``."""
    # --- passives ---------------------------------------------------------------------------------------
    res_sheet_ohm: float
    cap_density_f_per_um2: float
    cap_default_f: float
    """Value of a capacitor the source netlist leaves unsized (MAGICAL's MOM ``cap w=70n s=70n``)."""
    # --- mismatch -----------------------------------------------------------------------------------------
    avt_nmos_v_um: float
    avt_pmos_v_um: float
    gradient_v_per_um: float
    gradient_angle_deg: float
    field_sigma_v: float
    field_length_um: float
    field_features: int
    die_seed: int

    @property
    def wire_ohm_per_um(self) -> float:
        """Resistance of one µm of routing wire: sheet resistance / width."""
        return self.wire_sheet_ohm / self.wire_width_um

    @property
    def pin_ohm(self) -> float:
        """Resistance of the via stack between a device terminal and the routing layer."""
        return self.via_ohm * self.vias_per_pin


GF180 = Technology(
    name="gf180mcu-3v3",
    sd_length_um=0.9,
    device_margin_um=1.0,
    res_strip_pitch_um=1.0,
    # Tech LEF of gf180mcu: RESISTANCE RPERSQ 0.09 and via RESISTANCE 4.5 Ω (typical corner), as quoted in
    # OpenROAD-flow-scripts flow/platforms/gf180/setRC.tcl; wire capacitance 1.35357e-4 pF/µm is the Metal2
    # value that file extracts from five gf180 designs. Width: twice the 0.28 µm Metal2 minimum, a common
    # analog choice for lower resistance and better matching.
    wire_sheet_ohm=0.090,
    wire_width_um=0.56,
    wire_cap_f_per_um=0.135357e-15,
    via_ohm=4.5,
    vias_per_pin=2,
    # sm141064.ngspice header: ppolyf_u_1k is the 1 kΩ/sq high-Rs poly resistor, mim_2p0fF the 2 fF/µm² MIM cap.
    res_sheet_ohm=1000.0,
    cap_density_f_per_um2=2.0e-15,
    cap_default_f=200e-15,
    # sm141064.ngspice, section fets_mm: par_vth of nmos_3p3 / pmos_3p3, sigma(dVth of a pair) = par_vth / sqrt(WL).
    avt_nmos_v_um=7.148e-3,
    avt_pmos_v_um=6.66e-3,
    # Modelling choices (no public gf180 number): a linear threshold gradient across the die, the deterministic
    # part of Pelgrom's distance term (Pelgrom, Duinmaijer, Welbers, IEEE JSSC 24(5), 1989: sigma^2 = A^2/WL +
    # S^2 D^2), and a smooth Gaussian random field for its random part, whose correlation length makes pair
    # mismatch grow with distance (field_sigma / field_length plays the role of S). Magnitudes are chosen so
    # that the layout-dependent offset of the OTAs here is a fraction of the Pelgrom sigma of their input pairs.
    gradient_v_per_um=2.0e-6,
    gradient_angle_deg=30.0,
    field_sigma_v=1.0e-3,
    field_length_um=60.0,
    field_features=64,
    die_seed=0,
)
