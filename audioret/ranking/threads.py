"""numpy's BLAS on one thread for the small products of a query. Pure plumbing, no numbers of its own.

A query's calibration multiplies a background sample of about a thousand records by one query vector. BLAS's
threads woke for such products and then spun, a fifth of a warm query's CPU time, against the model runtimes'
threads (docs/BENCHMARKS.md, "Warm query"): :func:`one_blas_thread` runs them on one.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager

ONE_BLAS_THREAD = True  # False: BLAS's own threads, as bench/query.py compares
_BLAS: list = []  # threadpoolctl's controllers of numpy's BLAS libraries, found on first use
_BLAS_LOCK = threading.Lock()


@contextmanager
def one_blas_thread():
    """numpy's BLAS on one thread for a query's products, which are small (a sample of about a thousand records
    by one query): BLAS's threads woke for them and then spun, a fifth of a warm query's CPU time, against the
    model runtimes' threads (docs/BENCHMARKS.md, "Warm query"). The ranking is the same; scores may move in their
    sixth decimal. Searches from several threads take turns here, so each restores what it found."""
    if not ONE_BLAS_THREAD:
        yield
        return
    with _BLAS_LOCK:
        if not _BLAS:
            from threadpoolctl import ThreadpoolController

            _BLAS.extend(ThreadpoolController().select(user_api="blas").lib_controllers)
        found = [lib.num_threads for lib in _BLAS]  # each library set and restored directly: threadpoolctl's limit()
        for lib in _BLAS:  # context takes stock of every library on each entry, a tenth of a query's calibration
            lib.set_num_threads(1)
        try:
            yield
        finally:
            for lib, n in zip(_BLAS, found):
                lib.set_num_threads(n)
