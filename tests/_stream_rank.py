"""One rank of the two-process stream test (run by tests/test_stream.py under torchrun, gloo backend).

Each rank iterates its FDSLStream share of one finite epoch, checks with the other rank over gloo that
both yielded the same number of batches, and writes what it drew (positions, labels, image bytes) to
<out>/rank<r>.npz for the test to compare with a single-process run.
"""

import sys

import numpy as np
import torch
import torch.distributed as dist

from fdsl_gen import FDSLStream


def main(out: str) -> None:
    dist.init_process_group("gloo")
    stream = FDSLStream("rcdb", categories=7, instances=3, batch_size=4, image_size=24, size=96, start_pos=64,
                        vertex_num=40, seed=5, augment={"preset": "none"})
    images, labels, positions = [], [], []
    plan = stream.plan()
    for step, (x, y) in enumerate(stream):
        images.append(x.numpy())
        labels.append(y.numpy())
        positions.append(plan.positions(step))
    counts = [torch.zeros(1, dtype=torch.int64) for _ in range(dist.get_world_size())]
    dist.all_gather(counts, torch.tensor([len(images)]))
    assert len({int(c) for c in counts}) == 1, f"ranks yielded different batch counts: {counts}"
    np.savez(f"{out}/rank{dist.get_rank()}.npz", images=np.stack(images), labels=np.stack(labels),
             positions=np.stack(positions), state=np.array(stream.state_dict()["epoch"]))
    dist.barrier()  # nobody tears the group down under a peer still writing
    dist.destroy_process_group()


if __name__ == "__main__":
    main(sys.argv[1])
