"""What wss:// trusts: the OS's certificate store through truststore, Python's default context
(certifi's bundle in the frozen app) only without it; a server whose certificate no trusted CA
signed is refused, for real, over a loopback TLS WebSocket."""

from __future__ import annotations

import shutil
import ssl
import subprocess
import sys

import pytest
import truststore
from services import unavailable
from websockets.asyncio.server import serve

from talkapp.transport import websocket
from talkapp.transport.websocket import TransportError, WebSocketTransport


@pytest.fixture
def fresh_context():
    websocket.tls_context.cache_clear()
    yield
    websocket.tls_context.cache_clear()


def test_wss_trusts_the_os_store_through_truststore(fresh_context):
    context = websocket.tls_context()
    assert isinstance(context, truststore.SSLContext)
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    assert websocket.tls_context() is context  # one per process


def test_without_truststore_the_default_context_serves(fresh_context, monkeypatch):
    monkeypatch.setitem(sys.modules, "truststore", None)  # import fails as if not installed
    context = websocket.tls_context()
    assert type(context) is ssl.SSLContext
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname


@pytest.fixture
def self_signed(tmp_path):
    if shutil.which("openssl") is None:
        unavailable("the openssl command is not installed (apt install openssl)")
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return context


async def test_a_certificate_no_trusted_ca_signed_is_refused(self_signed, fresh_context):
    reached: list[str] = []

    async def handler(connection) -> None:
        reached.append("upgraded")
        await connection.close()

    async with serve(handler, "127.0.0.1", 0, ssl=self_signed) as server:
        port = server.sockets[0].getsockname()[1]
        with pytest.raises(TransportError, match="certificate verify failed|CERTIFICATE_VERIFY"):
            await WebSocketTransport.open(f"wss://127.0.0.1:{port}/v1/realtime", {}, timeout=10)
    assert reached == []  # no handshake, so no header (and no key) reached it
