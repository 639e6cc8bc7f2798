"""Who may do what on the page: the public mode, the admin login, and each visitor's limits.

The app is **public** when strangers can reach it: on a Hugging Face Space (``SPACE_ID`` is set), behind a
``--share`` link, or served on a host other than this machine's loopback without ``--auth``. Then the shared
library is read-only, each visitor's uploads live in a private area of their own browser session, removing and
indexing server folders are off, and ``--auth`` is the *admin login* that turns them back on for whoever signs
in. ``--private`` puts the whole page behind ``--auth`` instead (not public). On this machine alone
(127.0.0.1, no share link) nothing is restricted.
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass

from ..errors import InputError


@dataclass(frozen=True)
class Limits:
    """What one visitor may do in the public mode (each an AUDIORET_* setting)."""

    session_hours: float = 2.0  # AUDIORET_SESSION_HOURS: a visitor's uploads are deleted after this long idle
    upload_mb: float = 200.0  # AUDIORET_VISITOR_MB: bytes a visitor may add, in all
    upload_files: int = 100  # AUDIORET_VISITOR_FILES: audio files a visitor may add, in all
    searches_per_minute: int = 30  # AUDIORET_SEARCHES_PER_MINUTE

    @classmethod
    def from_env(cls, env=None) -> Limits:
        env = os.environ if env is None else env
        values = {}
        for field, name, kind in (("session_hours", "SESSION_HOURS", float), ("upload_mb", "VISITOR_MB", float),
                                  ("upload_files", "VISITOR_FILES", int),
                                  ("searches_per_minute", "SEARCHES_PER_MINUTE", int)):  # fmt: skip
            raw = env.get(f"AUDIORET_{name}", "").strip()
            if raw:
                try:
                    values[field] = kind(raw)
                except ValueError:
                    raise InputError(f"AUDIORET_{name} must be a number, got {raw!r}") from None
        return cls(**values)


@dataclass(frozen=True)
class Access:
    public: bool
    reason: str  # why the page is public ("" when it is not)
    admin: tuple[str, str] | None  # the in-page admin login (public mode)
    page_auth: tuple[str, str] | None  # a login for the whole page (not public)
    limits: Limits = Limits()

    @property
    def open_management(self) -> bool:
        """Whether every visitor may manage the library (remove, index server folders)."""
        return not self.public


def is_loopback(host: str) -> bool:
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def decide(host: str, share: bool, auth: tuple[str, str] | None, space_id: str | None = None,
           public: bool = False, private: bool = False, limits: Limits | None = None) -> Access:  # fmt: skip
    """The access rules for a launch (see the module docstring). ``public``/``private`` force a mode."""
    limits = limits or Limits()
    exposed = bool(space_id) or share or not is_loopback(host)
    if public and private:
        raise InputError("--public and --private contradict each other; choose one")
    if private:
        if exposed and auth is None:
            raise InputError("--private on a page others can reach needs --auth user:password (AUDIORET_AUTH)")
        return Access(False, "", None, auth, limits)
    reason = ("forced with --public" if public else "a Hugging Face Space" if space_id else "a share link" if share
              else f"served on {host} without --auth" if exposed and auth is None else "")  # fmt: skip
    if reason:
        return Access(True, reason, auth, None, limits)
    return Access(False, "", None, auth, limits)
