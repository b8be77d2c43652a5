"""The settings pane's rules, without Qt: what the dialect line says, which profile edits are
refused (and in which words), and how new profiles are named.

Kept apart from the widgets so each rule is a plain function with a plain test, and the
widgets only show what these return.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from talkapp.protocol.selection import auto_dialect, choose_dialect
from talkapp.settings.profile import BETA_VOICES, GA_VOICES, SIMULATOR_PROFILE, ProviderProfile

BETA_RETIRED_ON = "2026-05-12"
OPENAI_HOST = "api.openai.com"
URL_SCHEMES = ("https", "wss", "http", "ws")


@dataclass(frozen=True)
class DialectLine:
    text: str  # "→ GA for gpt-realtime-2"
    warning: str = ""  # "" or why this will not work where it is pointed


def dialect_line(api: str, model: str, base_url: str, provider: str) -> DialectLine:
    """What the dialect chosen by `api` resolves to for `model`, in a few words."""
    model = model.strip()
    if not model:
        return DialectLine("→ enter a model to see the dialect")
    choice = choose_dialect(api, model)
    label = choice.dialect.label
    if api == "auto":
        text = f"→ {label} for {model}"
    else:
        automatic = auto_dialect(model).label
        text = f"→ {label}, as chosen" + ("" if automatic == label else f" (Auto would pick {automatic})")
    warning = ""
    if choice.dialect.name == "beta" and provider != "simulator" and is_openai(base_url):
        warning = (f"OpenAI retired the beta dialect on {BETA_RETIRED_ON}: its endpoint refuses it. "
                   "Choose GA (or Auto with a current model).")
    return DialectLine(text, warning)


def voices_for(api: str, model: str) -> tuple[str, ...]:
    """The voices the resolved dialect offers (the field stays editable for others)."""
    dialect = choose_dialect(api, model.strip() or "gpt-realtime").dialect
    return BETA_VOICES if dialect.name == "beta" else GA_VOICES


def is_openai(base_url: str) -> bool:
    return (urlsplit(base_url.strip()).hostname or "").lower() == OPENAI_HOST


def is_builtin(profile: ProviderProfile) -> bool:
    """The offline profile every installation has; it can be edited but not removed or renamed."""
    return profile.provider == "simulator" and profile.name == SIMULATOR_PROFILE


@dataclass(frozen=True)
class Problem:
    index: int  # which profile (its position in the list)
    field: str  # "name" | "base_url" | "model": where to put the cursor
    message: str


def problems(profiles: list[ProviderProfile]) -> list[Problem]:
    """Everything that keeps these profiles from being saved, first problem first."""
    found: list[Problem] = []
    seen: dict[str, int] = {}
    for i, p in enumerate(profiles):
        name = p.name.strip()
        if not name:
            found.append(Problem(i, "name", "A profile needs a name."))
        elif name.casefold() in seen:
            found.append(Problem(i, "name", f"Two profiles are called “{name}”: give each its own name."))
        else:
            seen[name.casefold()] = i
        if p.provider != "simulator":
            url = url_problem(p.base_url)
            if url:
                found.append(Problem(i, "base_url", f"{name or 'This profile'}: {url}"))
        if not p.model.strip():
            found.append(Problem(i, "model", f"{name or 'This profile'}: choose or type a model."))
    return found


def url_problem(base_url: str) -> str:
    """"" when `base_url` can be connected to, else what is wrong with it, plainly."""
    text = base_url.strip()
    if not text:
        return "the base URL is empty (OpenAI's is https://api.openai.com/v1)."
    parts = urlsplit(text)
    if parts.scheme.lower() not in URL_SCHEMES:
        got = f"“{parts.scheme}://”" if parts.scheme else "no scheme"
        return (f"the base URL must start with https:// or wss:// (http:// or ws:// for a server on "
                f"this machine); it has {got}.")
    if not parts.hostname:
        return f"the base URL “{text}” has no server name."
    return ""


def unique_name(wanted: str, taken: set[str]) -> str:
    """`wanted`, or `wanted 2`, `wanted 3`… whichever is free (case-insensitively)."""
    lowered = {t.casefold() for t in taken}
    name, n = wanted, 1
    while name.casefold() in lowered:
        n += 1
        name = f"{wanted} {n}"
    return name


def new_key_name(taken: set[str]) -> str:
    """A keyring entry for a new profile that no other profile uses (`openai`, `openai-2`…),
    so storing its key never replaces another profile's. Duplicates share their original's
    entry instead: same account, another model."""
    name, n = "openai", 1
    while name in taken:
        n += 1
        name = f"openai-{n}"
    return name
