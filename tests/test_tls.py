"""TLS and mutual TLS with certificates made in the test (`cryptography`), plus the
`sessiond health` probe over both."""

from __future__ import annotations

import argparse
import datetime
import ipaddress
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from pathlib import Path

import grpc
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from sessiond.cli import probe
from sessiond.config import Config, ConfigError, TLSConfig
from sessiond.server import RunningServer, start_server
from sessiond.v1 import session_service_pb2 as spb
from sessiond.v1 import session_service_pb2_grpc


@dataclass
class Pki:
    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path
    other_client_cert: Path
    other_client_key: Path


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _write_key(key: ec.EllipticCurvePrivateKey, path: Path) -> Path:
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return path


def _cert(
    subject: str,
    key: ec.EllipticCurvePrivateKey,
    issuer: tuple[x509.Name, ec.EllipticCurvePrivateKey] | None,
    *,
    ca: bool = False,
    server: bool = False,
) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    issuer_name, issuer_key = issuer or (name, key)
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if server:
        san = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
        builder = builder.add_extension(x509.SubjectAlternativeName(san), critical=False)
    if not ca:
        usage = ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH
        builder = builder.add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def _write_cert(cert: x509.Certificate, path: Path) -> Path:
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return path


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    root = tmp_path_factory.mktemp("pki")
    ca_key, other_ca_key = _key(), _key()
    ca = _cert("sessiond test CA", ca_key, None, ca=True)
    other_ca = _cert("someone else's CA", other_ca_key, None, ca=True)
    server_key, client_key, other_key = _key(), _key(), _key()
    signer = (ca.subject, ca_key)
    return Pki(
        ca=_write_cert(ca, root / "ca.pem"),
        server_cert=_write_cert(_cert("sessiond", server_key, signer, server=True), root / "s.pem"),
        server_key=_write_key(server_key, root / "s.key"),
        client_cert=_write_cert(_cert("client", client_key, signer), root / "c.pem"),
        client_key=_write_key(client_key, root / "c.key"),
        other_client_cert=_write_cert(
            _cert("stranger", other_key, (other_ca.subject, other_ca_key)), root / "o.pem"
        ),
        other_client_key=_write_key(other_key, root / "o.key"),
    )


async def _serve(config: Config, tls: TLSConfig) -> RunningServer:
    return await start_server(replace(config, tls=tls))


@pytest.fixture
async def tls_server(config: Config, pki: Pki) -> AsyncIterator[RunningServer]:
    running = await _serve(config, TLSConfig(pki.server_cert, pki.server_key))
    try:
        yield running
    finally:
        await running.stop(0)


@pytest.fixture
async def mtls_server(config: Config, pki: Pki) -> AsyncIterator[RunningServer]:
    running = await _serve(config, TLSConfig(pki.server_cert, pki.server_key, pki.ca))
    try:
        yield running
    finally:
        await running.stop(0)


def _credentials(
    pki: Pki, cert: Path | None = None, key: Path | None = None
) -> grpc.ChannelCredentials:
    return grpc.ssl_channel_credentials(
        root_certificates=pki.ca.read_bytes(),
        private_key=key.read_bytes() if key else None,
        certificate_chain=cert.read_bytes() if cert else None,
    )


async def _create(channel: grpc.aio.Channel, key: str) -> None:
    stub = session_service_pb2_grpc.SessionServiceStub(channel)
    reply = await stub.CreateSession(spb.CreateSessionRequest(key=key), timeout=5)
    assert reply.session.key == f"agent:main:{key}"


async def test_tls_connect(tls_server: RunningServer, pki: Pki) -> None:
    target = f"localhost:{tls_server.port}"
    async with grpc.aio.secure_channel(target, _credentials(pki)) as channel:
        await _create(channel, "over-tls")


async def test_tls_refuses_plaintext_clients(tls_server: RunningServer) -> None:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{tls_server.port}") as channel:
        with pytest.raises(grpc.aio.AioRpcError) as failed:
            await _create(channel, "plain")
    assert failed.value.code() == grpc.StatusCode.UNAVAILABLE


async def test_mtls_with_a_client_certificate(mtls_server: RunningServer, pki: Pki) -> None:
    credentials = _credentials(pki, pki.client_cert, pki.client_key)
    async with grpc.aio.secure_channel(f"localhost:{mtls_server.port}", credentials) as channel:
        await _create(channel, "over-mtls")


@pytest.mark.parametrize("client", ["none", "foreign"])
async def test_mtls_refuses_clients_without_a_trusted_certificate(
    mtls_server: RunningServer, pki: Pki, client: str
) -> None:
    if client == "none":
        credentials = _credentials(pki)
    else:
        credentials = _credentials(pki, pki.other_client_cert, pki.other_client_key)
    async with grpc.aio.secure_channel(f"localhost:{mtls_server.port}", credentials) as channel:
        with pytest.raises(grpc.aio.AioRpcError) as failed:
            await _create(channel, "refused")
    assert failed.value.code() == grpc.StatusCode.UNAVAILABLE


async def test_health_probe_over_mtls(mtls_server: RunningServer, pki: Pki) -> None:
    args = argparse.Namespace(
        target=f"127.0.0.1:{mtls_server.port}",
        service="",
        timeout=5.0,
        tls_ca=str(pki.ca),
        tls_cert=str(pki.client_cert),
        tls_key=str(pki.client_key),
        server_name="localhost",
    )
    assert await probe(args) == 0
    without_cert = argparse.Namespace(**{**vars(args), "tls_cert": None, "tls_key": None})
    assert await probe(without_cert) == 1


async def test_unreadable_tls_files_fail_before_serving(config: Config, tmp_path: Path) -> None:
    missing = TLSConfig(tmp_path / "nope.pem", tmp_path / "nope.key")
    with pytest.raises(ConfigError, match="cannot read the TLS certificate"):
        await _serve(config, missing)
