"""OPC methods on the shared lithography engine: DiffOPC (exact edge gradients), pixel ILT, EPE-feedback OPC.

See ``tools/opc/README.md``. The tools (pydantic in, pydantic out) are re-exported here.
"""

from tools.opc.clips_tool import OPCListClipsArgs, OPCListClipsResult, run_opc_list_clips
from tools.opc.optimize_tool import METHODS, OPCOptimizeArgs, OPCOptimizeResult, run_opc_optimize

__all__ = (
    "METHODS",
    "OPCListClipsArgs",
    "OPCListClipsResult",
    "run_opc_list_clips",
    "OPCOptimizeArgs",
    "OPCOptimizeResult",
    "run_opc_optimize",
)
