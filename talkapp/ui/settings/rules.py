"""The settings pane's rules, without Qt: what the dialect and address lines say, which profile
edits are refused (and in which words), and how new profiles and their key entries are named.

Kept apart from the widgets so each rule is a plain function with a plain test, and the
widgets only show what these return.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from talkapp.protocol.dialect import AUTH_HEADERS
from talkapp.protocol.models import takes_reasoning, xai_takes_reasoning
from talkapp.protocol.selection import ApiSetting, auto_dialect, choose_dialect
from talkapp.settings.entra import MISSING as ENTRA_MISSING
from talkapp.settings.entra import identity_available
from talkapp.settings.profile import (
    BETA_VOICES,
    GA_VOICES,
    GEMINI_VOICES,
    SIMULATOR_PROFILE,
    SUGGESTIONS_TAKEN,
    XAI_VOICES,
    ProviderProfile,
)
from talkapp.settings.providers import (
    AZURE_PROVIDERS,
    OPENAI_BASE_URL,
    RESOURCE,
    api_version_problem,
    preset_for,
)

BETA_RETIRED_ON = "2026-05-12"
OPENAI_HOST = "api.openai.com"
URL_SCHEMES = ("https", "wss", "http", "ws")
VOICES = {"beta": BETA_VOICES, "ga": GA_VOICES, "xai": XAI_VOICES, "gemini": GEMINI_VOICES}
AZURE_EXAMPLE = "my-resource or https://my-resource.openai.azure.com"
_RESOURCE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.-]*$")


@dataclass(frozen=True)
class DialectLine:
    text: str  # "→ GA for gpt-realtime-2"
    warning: str = ""  # "" or why this will not work where it is pointed
    fix: DialectFix | None = None  # the one change that makes it work, when there is one


@dataclass(frozen=True)
class DialectFix:
    """A one-click fix for a dialect warning: the dialect (and maybe the model) to switch to."""

    caption: str  # "Switch to GA"
    api: ApiSetting
    model: str | None = None  # None: keep the model


FIX_LABELS: dict[ApiSetting, str] = {"ga": "GA", "auto": "Auto"}


def dialect_line(api: str, model: str, base_url: str, provider: str) -> DialectLine:
    """What the dialect chosen by `api` resolves to for `model` at `provider`, in a few words."""
    model = model.strip()
    if not model:
        return DialectLine("→ enter a model to see the dialect")
    preset = preset_for(provider)
    choice = choose_dialect(api, model, preset.dialect)
    label = choice.dialect.label
    if api == "auto":
        text = f"→ {label} for {model}"
    else:
        automatic = auto_dialect(model, preset.dialect).label
        text = f"→ {label}, as chosen" + (
            "" if automatic == label else f" (Auto would pick {automatic})"
        )
    warning = _misfit(choice.dialect.name, base_url, provider)
    return DialectLine(text, warning, _fix(api, model, base_url, provider) if warning else None)


def _fix(api: str, model: str, base_url: str, provider: str) -> DialectFix | None:
    """The smallest change that clears the warning: GA, else Auto, else Auto with the
    provider's current model."""
    preset = preset_for(provider)

    def fits(setting: str, model: str) -> bool:
        name = choose_dialect(setting, model, preset.dialect).dialect.name
        return not _misfit(name, base_url, provider)

    for setting, label in FIX_LABELS.items():
        if setting != api and fits(setting, model):
            return DialectFix(f"Switch to {label}", setting)
    default = preset.default_model
    if default and default != model and fits("auto", default):
        return DialectFix(f"Use {default}", "auto", default)
    return None


def _misfit(dialect: str, base_url: str, provider: str) -> str:
    """Why the resolved dialect will be refused where the profile points, or ""."""
    if dialect == "beta" and provider != "simulator" and is_openai(base_url):
        return (
            f"OpenAI retired the beta dialect on {BETA_RETIRED_ON}: its endpoint refuses it. "
            "Choose GA (or Auto with a current model)."
        )
    if provider == "openai" and not is_openai(base_url):
        return ""  # OpenAI's preset pointed elsewhere: a compatible server may speak anything
    return preset_for(provider).misfits.get(dialect, "")


def voices_for(api: str, model: str, provider: str = "openai") -> tuple[str, ...]:
    """The voices the resolved dialect offers (the field stays editable for others)."""
    return VOICES[_dialect_name(api, model, provider)]


def reasoning_note(api: str, model: str, provider: str) -> str:
    """ "" when a reasoning effort will be sent; else why not, in one line."""
    model = model.strip() or "gpt-realtime"
    dialect = _dialect_name(api, model, provider)
    if dialect == "beta":
        return "The beta dialect has no reasoning setting."
    if dialect == "gemini":
        return "Gemini Live has no reasoning effort setting: it is not sent."
    if dialect == "xai":
        if not xai_takes_reasoning(model):
            return (
                f"{model} takes no reasoning setting (grok-voice-latest and grok-voice-think-* "
                "do): it is not sent."
            )
        return ""
    if not takes_reasoning(model):
        return (
            f"{model} takes no reasoning effort (only the gpt-realtime-2 models do): it is not "
            "sent."
        )
    return ""


def xai_note(api: str, model: str, provider: str) -> str:
    """ "" unless the profile speaks xAI's dialect; then what of the session settings it drops."""
    if _dialect_name(api, model, provider) != "xai":
        return ""
    return (
        "xAI's dialect has no input transcription or semantic VAD setting: transcription is not "
        "sent, "
        "and semantic VAD is sent as server VAD."
    )


def transcription_hint(provider: str) -> str:
    """What the transcription field takes: on Azure a deployment's name, elsewhere a model id."""
    if provider in AZURE_PROVIDERS:
        return (
            "The name of a transcription deployment in this Azure resource (as you named it, "
            "e.g. my-transcribe), not OpenAI's model id."
        )
    return f"Any transcription model id; the list holds those offered on {SUGGESTIONS_TAKEN}."


def sign_in_note(method: str, available: bool | None = None) -> str:
    """What Entra ID sign-in needs, when it is chosen: nothing more, or the azure-identity extra."""
    if method != "entra":
        return ""
    if available if available is not None else identity_available():
        return "Signs in with azure-identity (e.g. after `az login`); no API key is needed or sent."
    return f"⚠ {ENTRA_MISSING}"


def suggestions_note(what: str) -> str:
    return f"Type any {what}; the list holds those offered on {SUGGESTIONS_TAKEN}."


def _dialect_name(api: str, model: str, provider: str) -> str:
    return choose_dialect(
        api, model.strip() or "gpt-realtime", preset_for(provider).dialect
    ).dialect.name


def connection_line(profile: ProviderProfile) -> str:
    """Where the profile connects and how the key travels, e.g.
    `wss://r.openai.azure.com/openai/v1/realtime?model=d · api-key: <key>`."""
    if profile.provider == "simulator":
        return "→ the built-in simulator on this computer (no key, no network)"
    problem = address_problem(profile)
    if problem:
        return f"→ {problem}"
    endpoint = profile.endpoint()
    header = AUTH_HEADERS[endpoint.auth]
    shown = [f"{header}: Bearer <key>" if endpoint.auth == "bearer" else f"{header}: <key>"]
    shown += [f"{name}: {value}" for name, value in endpoint.choice.dialect.extra_headers.items()]
    return f"→ {endpoint.url} · {' · '.join(shown)}"


def is_openai(base_url: str) -> bool:
    return (urlsplit(base_url.strip()).hostname or "").lower() == OPENAI_HOST


def is_builtin(profile: ProviderProfile) -> bool:
    """The offline profile every installation has; it can be edited but not removed or renamed."""
    return profile.provider == "simulator" and profile.name == SIMULATOR_PROFILE


@dataclass(frozen=True)
class Problem:
    index: int  # which profile (its position in the list)
    field: str  # "name" | "base_url" | "api_version" | "model": where to put the cursor
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
            found.append(
                Problem(i, "name", f"Two profiles are called “{name}”: give each its own name.")
            )
        else:
            seen[name.casefold()] = i
        where, address = _address_problem(p)
        if address:
            found.append(Problem(i, where, f"{name or 'This profile'}: {address}"))
        if not p.model.strip():
            found.append(Problem(i, "model", f"{name or 'This profile'}: choose or type a model."))
    return found


def address_problem(profile: ProviderProfile) -> str:
    """ "" when the profile's address can be connected to, else what is wrong, plainly."""
    return _address_problem(profile)[1]


def _address_problem(profile: ProviderProfile) -> tuple[str, str]:
    """(the field to fix, what is wrong) or ("", "")."""
    if profile.provider == "simulator":
        return "", ""
    if profile.provider in AZURE_PROVIDERS:
        if problem := resource_problem(profile.base_url):
            return "base_url", problem
        if profile.provider == "azure_preview" and (
            problem := api_version_problem(profile.api_version)
        ):
            return "api_version", problem
        return "", ""
    example = preset_for(profile.provider).base_url or OPENAI_BASE_URL
    problem = url_problem(profile.base_url, example)
    return ("base_url", problem) if problem else ("", "")


def resource_problem(resource: str) -> str:
    text = resource.strip()
    if not text:
        return f"the Azure resource name or endpoint is empty (e.g. {AZURE_EXAMPLE})."
    if "://" in text:
        return url_problem(text, what="endpoint")
    if not _RESOURCE_NAME.match(text):
        return f"“{text}” is not an Azure resource name or endpoint (e.g. {AZURE_EXAMPLE})."
    return ""


def url_problem(base_url: str, example: str = OPENAI_BASE_URL, what: str = "base URL") -> str:
    """ "" when `base_url` can be connected to, else what is wrong with it, plainly."""
    text = base_url.strip()
    if not text:
        owner = "xAI's" if "x.ai" in example else "OpenAI's"
        return f"the {what} is empty ({owner} is {example})."
    parts = urlsplit(text)
    if parts.scheme.lower() not in URL_SCHEMES:
        got = f"“{parts.scheme}://”" if parts.scheme else "no scheme"
        return (
            f"the {what} must start with https:// or wss:// (http:// or ws:// for a server on "
            f"this machine); it has {got}."
        )
    if not parts.hostname:
        return f"the {what} “{text}” has no server name."
    return ""


def unique_name(wanted: str, taken: set[str]) -> str:
    """`wanted`, or `wanted 2`, `wanted 3`… whichever is free (case-insensitively)."""
    lowered = {t.casefold() for t in taken}
    name, n = wanted, 1
    while name.casefold() in lowered:
        n += 1
        name = f"{wanted} {n}"
    return name


def new_key_name(taken: set[str], provider: str = "openai") -> str:
    """A keyring entry for a new profile that no other profile uses (`openai`, `openai-2`…;
    `azure`, `xai`… after the provider), so storing its key never replaces another profile's.
    Duplicates share their original's entry instead: same account, another model."""
    stem = preset_for(provider).key_name or "openai"
    name, n = stem, 1
    while name in taken:
        n += 1
        name = f"{stem}-{n}"
    return name


def key_entry(profile: ProviderProfile, before: ProviderProfile, taken: set[str]) -> str:
    """The key entry `profile` should use after an edit of `before`: a profile that needs a
    key and has none gets its own; one whose provider changed leaves an entry named after the
    old provider (`openai-2` → `azure`), since that key belongs to the other provider. An entry
    the user named keeps its name."""
    if not profile.needs_key:
        return profile.key_name
    if not profile.key_name:
        return new_key_name(taken, profile.provider)
    old_stem = preset_for(before.provider).key_name
    named_after_old = bool(old_stem) and re.fullmatch(
        rf"{re.escape(old_stem)}(-\d+)?", profile.key_name
    )
    if preset_for(profile.provider).key_name != old_stem and named_after_old:
        return new_key_name(taken - {profile.key_name}, profile.provider)
    return profile.key_name


def shows_resource(provider: str) -> bool:
    """Whether the base URL field holds an Azure resource name or endpoint."""
    return RESOURCE in preset_for(provider).fields
