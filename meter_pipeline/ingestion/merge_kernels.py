"""The compiled kernel of the id window's lookup (:mod:`meter_pipeline.ingestion.event_index`):
a merge of two sorted hash arrays (numba; imported only when a day is deduplicated against a
window, compiled once and cached on disk like the line scan's kernels)."""

from __future__ import annotations

import numba as nb


@nb.njit(nogil=True, cache=True)
def sorted_hits(hashes, keys, hit):
    """Set ``hit[i]`` to whether ``hashes[i]`` is one of ``keys`` (``hit`` starts all false).
    Both are ascending (``keys`` distinct; ``hashes`` may repeat a value); one pass over each,
    without a branch on the data in the merge. Returns False, with ``hit`` untouched, when
    ``hashes`` is not ascending (nothing can be concluded then)."""
    n, m = hashes.shape[0], keys.shape[0]
    for i in range(1, n):
        if hashes[i] < hashes[i - 1]:
            return False
    i = j = 0
    while i < n and j < m:
        a, b = hashes[i], keys[j]
        hit[i] = a == b  # the last write to hit[i] is made when i moves on
        i += a <= b
        j += a > b
    return True
