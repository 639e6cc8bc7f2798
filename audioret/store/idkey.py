"""The index's secret key, and moving an index made before keys to keyed record ids.

Record ids name their file (:func:`.records.file_key`). As the SHA-1 of the path they let anyone who sees an
id test guesses of the path offline (the install folder, a user name); keyed with a secret of the index (an HMAC),
they tell nothing. The key is made once, kept in ``DATA_DIR/id-key`` (readable by its owner only) and read by every
later run, so ids stay the same from run to run: re-indexing stays an idempotent upsert and an interrupted run
resumes where it stopped. Every machine that writes one Chroma server (``AUDIORET_CHROMA_URL``) needs the same
``id-key`` file.

An index whose ids were made without this key (an older index, or a key that was replaced) is moved to it when a
writer opens it: every record is copied under its new id with its vector, metadata and text, and the old id is
deleted; no audio is decoded and nothing is embedded again. The collection's metadata records which key its ids
follow, so the scan runs once; a run interrupted in the middle scans again and moves what is left.
"""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
from pathlib import Path

import numpy as np

from ..errors import IndexBusy
from .records import segment_id

logger = logging.getLogger(__name__)

KEY_FILE = "id-key"
KEY_BYTES = 32
PAGE = 5000  # records read or moved at a time


def load(data_dir: str | os.PathLike) -> bytes:
    """The key of the index in ``data_dir``, made on first use (32 random bytes, hex in ``DATA_DIR/id-key``)."""
    path = Path(data_dir) / KEY_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(KEY_BYTES))
    text = path.read_text().strip()
    try:
        key = bytes.fromhex(text)
    except ValueError:
        key = b""
    if len(key) != KEY_BYTES:
        raise ValueError(
            f"{path} should hold {2 * KEY_BYTES} hex digits (the index's id key), got {len(text)} "
            "characters; restore it from a backup, or remove it to make a new key (the index is then "
            "moved to it on the next start)"
        )
    return key


def fingerprint(key: bytes) -> str:
    """What the collection's metadata records of the key its ids follow (not the key)."""
    return hashlib.sha256(b"audioret id key\0" + key).hexdigest()[:16]


def ensure(store) -> int:
    """Moves ``store``'s records to ids keyed with ``store.key`` when they follow another (or none); returns how many
    records moved. A reader (another process holds the index) leaves it to the writer."""
    from .connection import hold_writer_lock

    if not store.key:
        return 0
    mark = fingerprint(store.key)
    metadata = dict(store.collection.metadata or {})
    if metadata.get("ids") == mark:
        return 0
    if store.count() == 0:  # nothing to move: marked without the writer lock, which a reader must not keep
        store.collection.modify(metadata={**metadata, "ids": mark})
        return 0
    if store.path is not None:
        try:
            hold_writer_lock(store.path)
        except IndexBusy:
            return 0
    moved = migrate(store)
    store.collection.modify(metadata={**metadata, "ids": mark})
    if moved:
        logger.info("Moved %d records of %s to keyed ids", moved, store.collection.name)
    return moved


def migrate(store, page: int = PAGE) -> int:
    """Copies every record whose id is not the one its path and index give under ``store.key`` to that id (vector,
    metadata and text as they are), then deletes the old id; the word index is rebuilt after. Idempotent."""
    count = store.count()
    moves: list[tuple[str, str]] = []
    for lo in range(0, count, page):
        got = store.collection.get(limit=page, offset=lo, include=["metadatas"])
        for old, m in zip(got["ids"], got["metadatas"]):
            new = segment_id(m["path"], int(m["seg_index"]), store.key)
            if new != old:
                moves.append((old, new))
    if not moves:
        return 0
    if store.words:
        store.words.unsynced()
    step = min(page, store.batch_size)
    for lo in range(0, len(moves), step):
        new_of = dict(moves[lo : lo + step])
        got = store.collection.get(ids=list(new_of), include=["embeddings", "metadatas", "documents"])
        documents = got.get("documents")
        store.collection.upsert(
            ids=[new_of[i] for i in got["ids"]],
            embeddings=np.asarray(got["embeddings"]),
            metadatas=got["metadatas"],
            documents=documents if documents and any(d is not None for d in documents) else None,
        )
        store.collection.delete(ids=got["ids"])
    store._background = None
    store.sync_words()
    return len(moves)
