"""How the augmentation's Triton kernels are launched: grids and compile options (plain Python, no GPU).

CUDA allows 2³¹ - 1 blocks on grid axis 0 but only 65,535 on axes 1 and 2, so images go on axis 0 and
an image's blocks of work items (output pixels, coefficient rows) on axes 1 and 2: block id =
program_id(1) + program_id(2) · num_programs(1); blocks past the last item are masked off in the
kernels. Item indices within one image stay int32 (checked here); offsets that also count images are
int64 in the kernels.
"""

from __future__ import annotations

from ..backends.cuda_runner import grid_limits

# every launch and every PTX_SPECS compilation: no multiply-add is contracted into an FMA (the NumPy
# references round each product and each sum)
OPTIONS = {"enable_fp_fusion": False}
MAX_AXIS12 = 65_535


def grid(images: int, items: int, block: int) -> tuple[int, int, int]:
    """The grid for `images` images of `items` work items each, `block` items per program.

    Returns:
        (images, n1, n2) with n1 · n2 · block >= items.

    Raises:
        ValueError: past CUDA's grid limits, or past int32 item indices.
    """
    blocks = -(-items // block)
    n1 = max(1, min(blocks, MAX_AXIS12))
    n2 = max(1, -(-blocks // n1))
    if n1 * n2 * block > 2**31 - 1:
        raise ValueError(f"{items} items per image exceed int32 indices")
    return grid_limits((images, n1, n2))
