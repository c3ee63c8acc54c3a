"""torchvision, imported the one way that works with this machine's CPU torch.

NOTE: torchvision from the registry is built against CUDA torch. With a CPU torch its compiled
ops are missing and `import torchvision` fails in `torchvision._meta_registrations` ("operator
torchvision::nms does not exist"). The model definitions are pure Python and do not need those
ops, so when (and only when) that import fails for that reason, we stub the meta-registrations
module and import again. This is the one place that knows the trick.
"""

from __future__ import annotations

import sys
import types

from designer.core.errors import NetcanvasError

_META = "torchvision._meta_registrations"


class TorchvisionMissing(NetcanvasError):
    """torchvision is not installed (it is the optional `torchvision` extra)."""


def import_torchvision() -> types.ModuleType:
    """Return the `torchvision` module; its model definitions work even without compiled ops."""
    try:
        import torchvision
    except ImportError as e:
        raise TorchvisionMissing(
            "torchvision is not installed: pip install 'netcanvas[torchvision]'"
        ) from e
    except RuntimeError as e:
        if "torchvision::" not in str(e):
            raise
        for name in [n for n in sys.modules if n == "torchvision" or n.startswith("torchvision.")]:
            del sys.modules[name]
        sys.modules[_META] = types.ModuleType(_META)
        import torchvision
    return torchvision


def torchvision_models() -> types.ModuleType:
    """`torchvision.models` (classification models at its top level)."""
    import_torchvision()
    import torchvision.models

    return torchvision.models
