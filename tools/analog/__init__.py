"""Analog layout tools: LLANA's real post-layout loop (placement -> parasitics and mismatch -> ngspice) and its optimisers.

- ``run_analog_simulate``: MAGICAL's OTA testbench in ngspice, on the schematic or a placed layout;
- ``run_analog_place``: net-weighted analytical placement with mirror symmetry, GDS + PNG + metrics;
- ``run_analog_optimize``: GP-EI, TuRBO-1, Sobol, random, LLANA and LLM-as-constraint on the net weights.

Modules: ``circuits`` (OTA_XT_MAGICAL for gf180mcu, a 5T OTA), ``tech`` (the one technology table), ``models``
(ngspice model cards), ``layout``/``placer``/``routing``/``drawing`` (geometry), ``extraction`` (wire RC, gradient,
mismatch field), ``spice`` (netlist, testbench, ngspice), ``problem`` (the black box and LLANA's score),
``optim``/``llana``/``search`` (optimisers and the loop).
"""

from tools.analog.optimize_tool import AnalogOptimizeArgs, AnalogOptimizeResult, run_analog_optimize
from tools.analog.place_tool import AnalogPlaceArgs, AnalogPlaceResult, run_analog_place
from tools.analog.simulate_tool import AnalogSimulateArgs, AnalogSimulateResult, run_analog_simulate

__all__ = (
    "AnalogSimulateArgs",
    "AnalogSimulateResult",
    "run_analog_simulate",
    "AnalogPlaceArgs",
    "AnalogPlaceResult",
    "run_analog_place",
    "AnalogOptimizeArgs",
    "AnalogOptimizeResult",
    "run_analog_optimize",
)
