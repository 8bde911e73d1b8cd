"""Regenerate the published FractalDB/2D-OFDB category table shipped in fdsl_gen/data/.

Runs the published search (legacy NumPy stream seeded with 1, the original's draw order) with the
numba backend until 21,000 categories are accepted, saving the table every 1,000 categories so that an
interrupted run continues where it stopped. Categories 0-999 are FractalDB-1k and 2D-OFDB-1k; the
whole table is 2D-OFDB-21k (and the first 10,000 FractalDB-10k).

    python tools/make_published_tables.py [--categories 21000]
"""

import argparse
import time
from pathlib import Path

from fdsl_gen.databases.ifs2d.render_numba import point_fill_counts
from fdsl_gen.databases.ifs2d.search import SearchConfig, run_search
from fdsl_gen.databases.tables.ifs import IFSTable
from fdsl_gen.databases.tables.cache import PUBLISHED_TABLE_PATH


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--categories", type=int, default=21000)
    parser.add_argument("--out", type=Path, default=PUBLISHED_TABLE_PATH)
    args = parser.parse_args()
    cfg = SearchConfig()
    table = IFSTable.load(args.out) if args.out.exists() else None
    t0 = time.time()
    n = table.n_categories if table else 0
    while n < args.categories:
        n = min(args.categories, (n // 1000 + 1) * 1000)
        table = run_search(cfg, n, point_fill_counts, start=table, batch=128)
        table.save(args.out)
        print(f"{n} categories, {table.meta['candidates']} candidates, {time.time() - t0:.0f} s", flush=True)


if __name__ == "__main__":
    main()
