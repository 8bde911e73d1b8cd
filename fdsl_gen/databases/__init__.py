"""The databases. Importing this package registers every one of them (nothing is compiled here).

The import order is the registry's order: the 2D fractals, the contours, the 3D fractals.
"""

from . import fractaldb, ofdb, onepfrac  # noqa: F401  (2D IFS)
from . import rcdb, visual_atom  # noqa: F401,I001  (contours)
from . import ofdb3d, exfractaldb  # noqa: F401,I001  (3D IFS)
