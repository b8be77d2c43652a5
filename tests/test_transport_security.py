"""The key goes only where the profile points: a redirect at the WebSocket upgrade is refused,
never followed (each provider's header style), and a proxy is used only for wss:// to another
machine. Real loopback servers: one that redirects, one that records whatever reaches it."""

from __future__ import annotations

import contextlib
import dataclasses
import socketserver
import threading

import pytest
from fake_keys import fake_key
from test_cli_say import talkapp

from talkapp.audio.wav import write_wav
from talkapp.settings.model import Settings, from_json, to_json
from talkapp.settings.profile import command_line_profile
from talkapp.simulator import Simulator, SimulatorConfig
from talkapp.transport.websocket import TransportError, WebSocketTransport, proxy_for


class _Recorder(socketserver.BaseRequestHandler):
    """Keeps the first bytes of each connection, then answers 500 so a client that did come
    here stops at once (the recording is made before the answer that ends the client's try)."""

    def handle(self) -> None:
        self.request.settimeout(5)
        try:
            data = self.request.recv(65536)
        except OSError:
            data = b""
        self.server.received.append(data)
        self.server.arrived.set()
        with contextlib.suppress(OSError):
            self.request.sendall(b"HTTP/1.1 500 Nope\r\nContent-Length: 0\r\n\r\n")


class _Redirector(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        self.request.settimeout(5)
        with contextlib.suppress(OSError):
            self.request.recv(65536)
            answer = (
                f"HTTP/1.1 {self.server.status} Moved\r\nLocation: {self.server.location}\r\n"
                "Content-Length: 0\r\n\r\n"
            )
            self.request.sendall(answer.encode())


@contextlib.contextmanager
def serving(handler, **attributes):
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    server.received, server.arrived = [], threading.Event()
    for name, value in attributes.items():
        setattr(server, name, value)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def _port(server) -> int:
    return server.server_address[1]


HEADER_STYLES = {
    "bearer": lambda key: {"Authorization": f"Bearer {key}"},  # OpenAI, xAI, custom
    "api-key": lambda key: {"api-key": key},  # Azure
}


@pytest.mark.parametrize("style", sorted(HEADER_STYLES))
@pytest.mark.parametrize("status", [301, 302, 307, 308])
async def test_a_redirect_at_the_upgrade_is_refused_and_its_target_receives_nothing(style, status):
    key = fake_key("redirect" + "x" * 24)
    with serving(_Recorder) as target:
        elsewhere = f"ws://127.0.0.1:{_port(target)}/v1/realtime?model=gpt-realtime"
        with serving(_Redirector, status=status, location=elsewhere) as door:
            url = f"ws://127.0.0.1:{_port(door)}/v1/realtime?model=gpt-realtime"
            with pytest.raises(TransportError) as refused:
                await WebSocketTransport.open(url, HEADER_STYLES[style](key), timeout=5)
    message = str(refused.value)
    assert f"redirect the connection to ws://127.0.0.1:{_port(target)} (HTTP {status})" in message
    assert "\n" not in message and key not in message and "/v1/realtime" not in message
    # A client that followed would have waited for the target's answer, made after recording.
    assert target.received == []


async def test_a_relative_redirect_is_refused_too_naming_the_same_origin():
    with serving(_Redirector, status=302, location="/elsewhere") as door:
        url = f"ws://127.0.0.1:{_port(door)}/v1/realtime"
        with pytest.raises(TransportError, match=f"to ws://127.0.0.1:{_port(door)} "):
            await WebSocketTransport.open(url, {"api-key": "k"}, timeout=5)


def test_say_exits_1_naming_where_the_server_tried_to_send_us(tmp_path):
    wav = tmp_path / "in.wav"
    _write_short_wav(wav)
    key = fake_key("say" + "y" * 28)
    with (
        serving(_Recorder) as target,
        serving(
            _Redirector, status=302, location=f"wss://127.0.0.1:{_port(target)}/v1/realtime"
        ) as door,
    ):
        run = talkapp(
            "say",
            str(wav),
            "--base-url",
            f"ws://127.0.0.1:{_port(door)}/v1",
            "--fast",
            env_extra={"TALKAPP_CUSTOM_API_KEY": key},
            timeout=60,
        )
    assert run.returncode == 1
    assert f"redirect the connection to wss://127.0.0.1:{_port(target)}" in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1 and "Traceback" not in run.stderr
    assert key not in run.stderr + run.stdout and target.received == []


def _write_short_wav(path) -> None:
    write_wav(path, bytes(4800), 24000)  # 0.1 s of silence


# ---- proxies ----


@pytest.mark.parametrize(
    "url, system_proxy, expected",
    [
        ("wss://api.openai.com/v1/realtime", True, True),  # the system's proxy, if any
        ("wss://api.openai.com/v1/realtime", False, None),  # the profile turned it off
        ("ws://192.0.2.7:8765/v1/realtime", True, None),  # cleartext: never through a proxy
        ("ws://127.0.0.1:8765/v1/realtime", True, None),
        ("wss://127.0.0.1:8765/v1/realtime", True, None),  # this machine: never leaves it
        ("wss://localhost/v1/realtime", True, None),
        ("wss://[::1]:9/v1/realtime", True, None),
    ],
)
def test_a_proxy_is_used_only_for_wss_to_another_machine(url, system_proxy, expected):
    assert proxy_for(url, system_proxy) is expected


async def test_proxy_variables_do_not_take_loopback_traffic_away(monkeypatch):
    with serving(_Recorder) as proxy:
        for name in ("http_proxy", "https_proxy", "all_proxy"):
            monkeypatch.setenv(name, f"http://127.0.0.1:{_port(proxy)}")
            monkeypatch.setenv(name.upper(), f"http://127.0.0.1:{_port(proxy)}")
        monkeypatch.delenv("no_proxy", raising=False)
        monkeypatch.delenv("NO_PROXY", raising=False)
        async with Simulator(SimulatorConfig()) as sim:
            transport = await WebSocketTransport.open(
                f"{sim.url}/realtime?model=gpt-realtime", {"Authorization": "Bearer x"}, timeout=5
            )
            first = await transport.recv()  # session.created: we reached the simulator itself
            await transport.close()
    assert "session.created" in str(first) and proxy.received == []


async def test_wss_goes_through_the_system_proxy_when_one_is_set(monkeypatch):
    # The "proxy" is a recorder on this machine: the client's CONNECT reaches it and nothing
    # leaves the machine (the named host is never resolved; the proxy would do that).
    with serving(_Recorder) as proxy:
        monkeypatch.setenv("https_proxy", f"http://127.0.0.1:{_port(proxy)}")
        monkeypatch.delenv("no_proxy", raising=False)
        monkeypatch.delenv("NO_PROXY", raising=False)
        with pytest.raises(TransportError):
            await WebSocketTransport.open(
                "wss://realtime.example.test/v1/realtime", {"Authorization": "Bearer x"}, timeout=5
            )
    assert proxy.received and proxy.received[0].startswith(b"CONNECT realtime.example.test:443 ")


def test_the_proxy_setting_is_a_profile_setting_kept_in_the_settings_file():
    profile = dataclasses.replace(
        command_line_profile("wss://api.openai.com/v1"), name="direct", system_proxy=False
    )
    assert profile.endpoint().system_proxy is False
    assert command_line_profile(None).endpoint().system_proxy is True  # the default
    problems: list[str] = []
    saved = from_json(to_json(Settings().with_profile(profile)), problems)
    kept = next(p for p in saved.profiles if p.name == "direct")
    assert problems == [] and kept.system_proxy is False
