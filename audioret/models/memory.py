"""The process's native memory: glibc's heaps and the runtimes' mapped files. Elsewhere than Linux and glibc,
each function does nothing.

Most of an index run's memory is native (the runtimes' weights and buffers, the decoded blocks), where neither
Python nor tracemalloc sees it. Three things are handed back (docs/BENCHMARKS.md, "Memory"):

- large blocks (windows, decoded blocks, batches) are mapped on their own, so freeing one returns it at once
  (:func:`map_large_blocks`); glibc's own threshold rises to 32 MB as large blocks are freed, after which such
  blocks stayed in the heaps of the threads that freed them;
- the heaps' free pages, after each model call of an index run (:func:`release_memory`);
- the resident pages of a compiled graph's cache file once the graph runs (:func:`drop_file_pages`). OpenVINO maps
  its cache blob, reads the weights from it into its own repacked copy, and runs from that copy; the blob's pages
  stayed resident until the kernel needed the memory, most of CLAP's audio tower's size counted twice in an index
  run's peak ("The cache blob's pages handed back"). Only pages of files mapped without write permission are
  dropped: they hold nothing but the file's bytes, and a later read maps them again from the file
  (tests/test_backends.py: the same bits after).
"""

from __future__ import annotations

import os

M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter
MMAP_FROM = 1 << 20  # blocks from this size on are mapped, and so go back to the system when freed
MADV_DONTNEED = 4  # Linux's madvise advice: drop the range's resident pages


def _glibc() -> list:
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        return [libc] if hasattr(libc, "malloc_trim") else []
    except OSError:  # not glibc (macOS, Windows, musl)
        return []


_LIBC = _glibc()


def map_large_blocks() -> None:
    """Has glibc map every block of ``MMAP_FROM`` bytes or more and unmap it when freed."""
    if _LIBC:
        _LIBC[0].mallopt(M_MMAP_THRESHOLD, MMAP_FROM)


def release_memory() -> None:
    """Hands the heaps' free pages back to the system (glibc's ``malloc_trim``). The decode threads and the
    runtimes free windows and batches in many arenas, which glibc keeps: an index run's memory would grow with
    its length."""
    if _LIBC:
        _LIBC[0].malloc_trim(0)


def read_only_mappings(folder: str | os.PathLike, maps: str = "/proc/self/maps") -> list[tuple[int, int]]:
    """The ``(start, end)`` address ranges of the files under ``folder`` that this process maps without write
    permission, from ``maps`` (the format of /proc/PID/maps); none where it cannot be read."""
    root = os.path.join(os.path.realpath(folder), "")
    try:
        with open(maps) as f:
            lines = f.read().splitlines()
    except OSError:
        return []
    ranges = []
    for line in lines:
        fields = line.split(maxsplit=5)
        if len(fields) < 6 or "w" in fields[1] or not fields[5].startswith(root):
            continue
        start, end = (int(x, 16) for x in fields[0].split("-"))
        ranges.append((start, end))
    return ranges


def drop_file_pages(folder: str | os.PathLike) -> int:
    """Drops the resident pages of the files under ``folder`` that the process maps read-only; returns the bytes
    of the ranges advised. A page read again is mapped again from its file."""
    if not _LIBC:
        return 0
    import ctypes

    dropped = 0
    for start, end in read_only_mappings(folder):
        if _LIBC[0].madvise(ctypes.c_void_p(start), ctypes.c_size_t(end - start), MADV_DONTNEED) == 0:
            dropped += end - start
    return dropped
