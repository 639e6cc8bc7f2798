"""Who may do what on the page: the public mode, the admin login, and each visitor's limits.

The app is **public** when strangers can reach it: on a Hugging Face Space (``SPACE_ID`` is set), behind a
``--share`` link, or served on a host other than this machine's loopback without ``--auth``. Then the shared
library is read-only, each visitor's uploads live in a private area of their own browser session, removing and
indexing server folders are off, and ``--auth`` is the *admin login* that turns them back on for whoever signs
in. ``--private`` puts the whole page behind ``--auth`` instead (not public). On this machine alone
(127.0.0.1, no share link) nothing is restricted.

Every limit counts three ways: per browser session, per client address and for all visitors together, so a client
that makes up a new session id for each request still meets its address's limits and the overall ones. The address
is the connection's, except on a Hugging Face Space, where every request comes through the Space's proxy: there it
is the rightmost global address in the ``X-Forwarded-For`` header, the one the Space's edge proxy appended (its
internal proxies have internal addresses). The entries left of it are whatever the client sent, so they are never
trusted: a client that made one up per request would otherwise meet no per-address limit. Elsewhere the header is
ignored: the page's server (uvicorn, under Gradio) believes the header only from the hosts :func:`believing` names,
none on a public page but for a share link's tunnel, which connects from this machine and whose server appends
the visitor's address (frp's HTTP proxy), so the address is the rightmost entry there.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields

from ..errors import InputError

# the AUDIORET_* variable of each limit
SETTINGS = {
    "session_hours": "SESSION_HOURS",
    "upload_mb": "VISITOR_MB",
    "upload_files": "VISITOR_FILES",
    "upload_minutes": "VISITOR_MINUTES",
    "searches_per_minute": "SEARCHES_PER_MINUTE",
    "address_mb": "ADDRESS_MB",
    "address_files": "ADDRESS_FILES",
    "address_minutes": "ADDRESS_MINUTES",
    "address_searches_per_minute": "ADDRESS_SEARCHES_PER_MINUTE",
    "all_mb": "ALL_VISITORS_MB",
    "all_files": "ALL_VISITORS_FILES",
    "all_minutes": "ALL_VISITORS_MINUTES",
    "all_searches_per_minute": "ALL_SEARCHES_PER_MINUTE",
    "address_loads_per_minute": "ADDRESS_LOADS_PER_MINUTE",
    "login_free_tries": "LOGIN_FREE_TRIES",
    "login_wait_s": "LOGIN_WAIT_S",
}


@dataclass(frozen=True)
class Limits:
    """What visitors may do in the public mode: each visitor (browser session), each client address, and all of
    them together (each an AUDIORET_* setting, :data:`SETTINGS`)."""

    session_hours: float = 2.0  # AUDIORET_SESSION_HOURS: a visitor's uploads are deleted after this long idle
    upload_mb: float = 200.0  # AUDIORET_VISITOR_MB: bytes a visitor may add, in all
    upload_files: int = 100  # AUDIORET_VISITOR_FILES: audio files a visitor may add, in all
    # minutes of audio a visitor may add, in all: what indexing costs (a 2-hour silent FLAC is 180 kB)
    upload_minutes: float = 120.0  # AUDIORET_VISITOR_MINUTES
    searches_per_minute: int = 30  # AUDIORET_SEARCHES_PER_MINUTE
    # one client address (a household or an office behind one router shares it): its visitors together
    address_mb: float = 400.0  # AUDIORET_ADDRESS_MB
    address_files: int = 200  # AUDIORET_ADDRESS_FILES
    address_minutes: float = 240.0  # AUDIORET_ADDRESS_MINUTES
    address_searches_per_minute: int = 60  # AUDIORET_ADDRESS_SEARCHES_PER_MINUTE
    address_loads_per_minute: int = 30  # AUDIORET_ADDRESS_LOADS_PER_MINUTE: page loads (each reads the library)
    # every visitor together: what the disk and the CPU can give the public
    all_mb: float = 4000.0  # AUDIORET_ALL_VISITORS_MB
    all_files: int = 4000  # AUDIORET_ALL_VISITORS_FILES
    all_minutes: float = 2400.0  # AUDIORET_ALL_VISITORS_MINUTES
    all_searches_per_minute: int = 600  # AUDIORET_ALL_SEARCHES_PER_MINUTE
    # the admin login: after this many wrong tries in 15 minutes (from anywhere), every try on the account waits,
    # login_wait_s doubled with each further wrong try, up to visitors.LOGIN_MAX_WAIT_S
    login_free_tries: int = 3  # AUDIORET_LOGIN_FREE_TRIES
    login_wait_s: float = 2.0  # AUDIORET_LOGIN_WAIT_S

    @classmethod
    def from_env(cls, env=None) -> Limits:
        env = os.environ if env is None else env
        values = {}
        kinds = {f.name: (int if f.type in ("int", int) else float) for f in fields(cls)}
        for field, name in SETTINGS.items():
            kind = kinds[field]
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
    trust_proxy: bool = False  # on a Space: the client's address is the proxy's entry of X-Forwarded-For
    forwarding_hosts: str = ""  # whose X-Forwarded-For the server believes (uvicorn's FORWARDED_ALLOW_IPS)

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


def decide(
    host: str,
    share: bool,
    auth: tuple[str, str] | None,
    space_id: str | None = None,
    public: bool = False,
    private: bool = False,
    limits: Limits | None = None,
) -> Access:
    """The access rules for a launch (see the module docstring). ``public``/``private`` force a mode."""
    limits = limits or Limits()
    exposed = bool(space_id) or share or not is_loopback(host)
    if public and private:
        raise InputError("--public and --private contradict each other; choose one")
    if private:
        if exposed and auth is None:
            raise InputError("--private on a page others can reach needs --auth user:password (AUDIORET_AUTH)")
        return Access(False, "", None, auth, limits)
    reason = (
        "forced with --public"
        if public
        else "a Hugging Face Space"
        if space_id
        else "a share link"
        if share
        else f"served on {host} without --auth"
        if exposed and auth is None
        else ""
    )
    if reason:
        # a share link's tunnel connects from this machine: its entry of X-Forwarded-For is the visitor's
        tunnel = "127.0.0.1,::1" if share and not space_id else ""
        return Access(True, reason, auth, None, limits, trust_proxy=bool(space_id), forwarding_hosts=tunnel)
    return Access(False, "", None, auth, limits)


@contextmanager
def believing(hosts: str) -> Iterator[None]:
    """While a page's server is made: it rewrites a request's address from ``X-Forwarded-For`` only when the
    connection comes from ``hosts`` (uvicorn's ``FORWARDED_ALLOW_IPS``; "" for none). uvicorn's own default is this
    machine, so anything forwarding connections from here without appending the address (``ssh -R``, socat) would
    let a visitor write their own. A ``FORWARDED_ALLOW_IPS`` already set (a proxy of your own) is kept."""
    if "FORWARDED_ALLOW_IPS" in os.environ:
        yield
        return
    os.environ["FORWARDED_ALLOW_IPS"] = hosts
    try:
        yield
    finally:
        os.environ.pop("FORWARDED_ALLOW_IPS", None)


def forwarded_address(header: str) -> str:
    """The client's address in an ``X-Forwarded-For`` header as a Space's proxies leave it ("" if none).

    Each proxy appends the address it was connected from, so the entries on the right were written by proxies and
    anything further left came from the client, who may write anything there. The client is the rightmost entry
    with a global address (the Space's own proxies have internal ones); when no entry is global (a test, a private
    network) it is the rightmost entry, the last proxy's, never one the client wrote. An entry may carry a port
    (``1.2.3.4:5555``, ``[2001:db8::1]:443``); the address is taken without it.
    """
    entries = [a for a in (_address(e) for e in header.split(",")) if a]
    for entry in reversed(entries):
        if ipaddress.ip_address(entry).is_global:
            return entry
    return entries[-1] if entries else ""


def _address(entry: str) -> str:
    """The IP address in one ``X-Forwarded-For`` entry, without a port; "" when it holds none."""
    entry = entry.strip()
    if entry.startswith("[") and "]" in entry:  # [v6]:port
        entry = entry[1 : entry.index("]")]
    elif entry.count(":") == 1:  # v4:port
        entry = entry.partition(":")[0]
    try:
        return str(ipaddress.ip_address(entry))
    except ValueError:
        return ""


def client_address(request, trust_proxy: bool) -> str:
    """The address a Gradio or Starlette request comes from, as limits count it (:func:`counted`): on a Space
    (``trust_proxy``), the one its proxies wrote into ``X-Forwarded-For`` (:func:`forwarded_address`); elsewhere the
    connection's. "" when unknown (a handler called directly).
    """
    if request is None:
        return ""
    if trust_proxy:
        forwarded = forwarded_address(request.headers.get("x-forwarded-for") or "")
        if forwarded:
            return counted(forwarded)
    client = getattr(request, "client", None)
    return counted(getattr(client, "host", "") or "")


def counted(address: str) -> str:
    """What the limits count as one address: an IPv6 address's /64 network, since one subscriber's connection
    (a home, a cloud server) is given a whole /64 and can take any of its 2^64 addresses; an IPv4 address, or one
    mapped into IPv6, as it is. Anything else (a test client's name) is kept as it is. Pure."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if ip.version == 6 and ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    if ip.version == 6 and not ip.is_loopback:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)
