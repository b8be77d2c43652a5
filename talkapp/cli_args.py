"""Command-line flags shared by `talkapp say`, `talk` and `compare`: which provider and where."""

from __future__ import annotations

import argparse

from talkapp.settings.providers import OPENAI_BASE_URL, PROVIDERS

COMMAND_LINE_PROVIDERS = tuple(p for p in PROVIDERS if p != "simulator")  # that one is --simulator


def add_provider_arguments(parser: argparse.ArgumentParser, what: str = "") -> None:
    parser.add_argument(
        "--provider",
        choices=COMMAND_LINE_PROVIDERS,
        default=None,
        help="whose service: sets the URL shape, the key header and where the key comes from "
        "(default: from --base-url; none means openai)",
    )
    parser.add_argument(
        "--base-url",
        default=None,
        help=f"endpoint{what} (default {OPENAI_BASE_URL}; any OpenAI-compatible one is "
        "--provider custom; Azure: the resource name or endpoint)",
    )
    parser.add_argument(
        "--share-openai-key",
        action="store_true",
        help="let a server that is not OpenAI's have the OpenAI key (the 'openai' "
        "keyring entry with --provider openai, OPENAI_API_KEY for custom and "
        "Azure)",
    )
    parser.add_argument(
        "--no-proxy",
        action="store_true",
        help="connect directly even if https_proxy/all_proxy name a proxy "
        "(ws:// and this machine never use one)",
    )
