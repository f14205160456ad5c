"""Webhook URL policy (`webhooks.url` in langgraph.json): refused at create with a 422 that
says why, refused again at send on the addresses of that moment (a DNS answer that changes
in between), delivered to a checked address.

Network safety, even if the code under test is wrong: servers that see refused URLs run no
worker (`max_concurrent_runs=0`: nothing they accept can execute); send-time tests use a
stub resolver, `.invalid` host names (never resolvable) and a transport that records and
refuses every request; every test runs under `loopback_only`, which fails it if anything
tried to connect off this machine."""

from __future__ import annotations

import asyncio
import logging
import re
import socket
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from conftest import CONFIG, TestServer, running_server
from graphport.server.graphs import ConfigError, LangGraphConfig
from graphport.server.graphs.webhooks import UrlPolicy, WebhookConfig, load_webhooks
from graphport.server.runtime.webhook_guard import WebhookRefused, resolve
from graphport.server.runtime.webhooks import WebhookSender
from run_helpers import new_thread
from webhook_helpers import loopback_only, receiving

CONFIGS = Path(__file__).parent / "webhook_configs"
PUBLIC = "93.184.215.14"  # globally routable; only ever handed to refusing transports
SERVE = UrlPolicy()  # graphport serve's defaults
DEV = UrlPolicy(disable_loopback=False, disable_private_ips=False)
SUBDOMAINS = UrlPolicy(allowed_domains=("*.example.com",))
ONE_HOST = UrlPolicy(allowed_domains=("hooks.example.com",))


@pytest.fixture(autouse=True)
def _no_other_host() -> Iterator[None]:
    with loopback_only():
        yield


class Resolver:
    """A stub DNS: host -> answers, changeable between calls; records every lookup."""

    def __init__(self, answers: dict[str, list[str]] | None = None) -> None:
        self.answers = dict(answers or {})
        self.lookups: list[tuple[str, int]] = []

    async def __call__(self, host: str, port: int) -> list[str]:
        self.lookups.append((host, port))
        if host not in self.answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return self.answers[host]


class RefusingTransport(httpx.AsyncBaseTransport):
    """Records each request it is handed and connects nowhere."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        raise httpx.ConnectError("refused by the test transport", request=request)


# --- the check itself (no network) -------------------------------------------------------


@pytest.mark.parametrize(
    ("policy", "url", "reason"),
    [
        (SERVE, "http://127.0.0.1:8000/hook", "^127.0.0.1 is a loopback address"),
        (SERVE, "http://[::1]/", "::1 is a loopback address"),
        (SERVE, "http://0.0.0.0/", "loopback"),
        (SERVE, "http://[::ffff:127.0.0.1]/", "loopback"),
        (SERVE, "http://10.1.2.3/", "private"),
        (SERVE, "http://192.168.0.1/", "private"),
        (SERVE, "http://100.64.0.1/", "private"),  # carrier-grade NAT
        (SERVE, "http://[fd12::1]/", "private"),
        (SERVE, "http://169.254.169.254/latest/meta-data/", "metadata"),
        (DEV, "http://169.254.169.254/latest/meta-data/", "metadata"),  # whatever the policy
        (DEV, "http://[fd00:ec2::254]/", "metadata"),
        (DEV, "http://[fe80::1]/", "link-local"),
        (DEV, "http://224.0.0.1/", "multicast"),
        (SERVE, "ftp://hooks.invalid/", "scheme must be http or https"),
        (SERVE, "/runs/relative", "scheme"),
        (SERVE, "http:///no-host", "no host"),
        (UrlPolicy(require_https=True), f"http://{PUBLIC}/", "scheme must be https"),
        (UrlPolicy(max_url_length=30), f"https://{PUBLIC}/{'x' * 20}", "longer than 30"),
        (SUBDOMAINS, "https://example.com/", "allowed_domains"),  # not the apex
        (SUBDOMAINS, "https://badexample.com/", "allowed_domains"),
        (ONE_HOST, "https://a.hooks.example.com/", "allowed_domains"),
        (UrlPolicy(allowed_ports=(8443,)), f"https://{PUBLIC}/", "port 443"),
        (UrlPolicy(allowed_ports=(443,)), f"http://{PUBLIC}/", "port 80"),
    ],
)
async def test_refused_urls_say_why(policy: UrlPolicy, url: str, reason: str) -> None:
    resolver = Resolver()
    with pytest.raises(WebhookRefused, match=reason):
        await resolve(url, policy, resolver)
    assert resolver.lookups == []  # decided without asking DNS


@pytest.mark.parametrize(
    ("policy", "url"),
    [
        (SERVE, f"https://{PUBLIC}/hook"),
        (DEV, "http://127.0.0.1:8000/hook"),
        (DEV, "http://10.1.2.3/"),
        (UrlPolicy(require_https=True, allowed_ports=(8443,)), f"https://{PUBLIC}:8443/"),
        (SUBDOMAINS, "https://a.b.example.com./"),
        (ONE_HOST, "https://HOOKS.example.com/"),
    ],
)
async def test_allowed_urls_pass(policy: UrlPolicy, url: str) -> None:
    resolver = Resolver({"a.b.example.com.": [PUBLIC], "hooks.example.com": [PUBLIC]})
    target = await resolve(url, policy, resolver)
    assert target.url == httpx.URL(url)


async def test_every_resolved_address_is_checked() -> None:
    resolver = Resolver({"hooks.invalid": [PUBLIC, "10.0.0.7"], "local.invalid": ["::1"]})
    with pytest.raises(WebhookRefused, match=r"hooks\.invalid resolves to 10\.0\.0\.7, a private"):
        await resolve("https://hooks.invalid/", SERVE, resolver)
    with pytest.raises(WebhookRefused, match=r"local\.invalid resolves to ::1, a loopback"):
        await resolve("https://local.invalid:8443/x", SERVE, resolver)
    assert resolver.lookups == [("hooks.invalid", 443), ("local.invalid", 8443)]
    with pytest.raises(OSError, match="not known"):
        await resolve("https://unknown.invalid/", SERVE, resolver)


async def test_a_checked_target_is_pinned_to_its_address() -> None:
    resolver = Resolver({"hooks.invalid": [PUBLIC]})
    target = await resolve("https://hooks.invalid:8443/p?q=1", SERVE, resolver)
    url, headers, extensions = target.pinned()
    assert str(url) == f"https://{PUBLIC}:8443/p?q=1"
    assert headers == {"Host": "hooks.invalid:8443"}
    assert extensions == {"sni_hostname": "hooks.invalid"}  # the certificate is checked for it


# --- at send: the answer of that moment ----------------------------------------------------


async def _deliver(sender: WebhookSender, url: str) -> None:
    sender.send(url, {"run_id": "r1", "status": "success"})
    await sender.close(timeout=10)


async def test_dns_rebinding_between_create_and_send_is_refused(
    caplog: pytest.LogCaptureFixture,
) -> None:
    url = "http://rebind.invalid:8080/hook"
    resolver = Resolver({"rebind.invalid": [PUBLIC]})
    await resolve(url, SERVE, resolver)  # what the create-time check sees: a public address
    resolver.answers["rebind.invalid"] = ["10.0.0.7"]  # the name now points inside
    transport = RefusingTransport()
    sender = WebhookSender(3, 0.0, WebhookConfig(), resolver=resolver, transport=transport)
    with caplog.at_level(logging.WARNING, "graphport.webhooks"):
        await _deliver(sender, url)
    assert transport.requests == []  # nothing was sent anywhere
    assert "rebind.invalid resolves to 10.0.0.7, a private" in caplog.text
    assert len(resolver.lookups) == 2  # refused once, not retried

    # Control: with the public answer, the sender does try, and only that checked address.
    resolver.answers["rebind.invalid"] = [PUBLIC]
    sender = WebhookSender(2, 0.0, WebhookConfig(), resolver=resolver, transport=transport)
    await _deliver(sender, url)
    assert [str(r.url) for r in transport.requests] == [f"http://{PUBLIC}:8080/hook"] * 2
    assert {r.headers["host"] for r in transport.requests} == {"rebind.invalid:8080"}


async def test_send_refuses_what_the_policy_refuses_even_if_stored_earlier() -> None:
    """A cron stored under a laxer policy, fired after a restart with a stricter one."""
    transport = RefusingTransport()
    sender = WebhookSender(3, 0.0, WebhookConfig(), resolver=Resolver(), transport=transport)
    for url in ("http://127.0.0.1:9/", "http://169.254.169.254/", "http://[::ffff:10.0.0.1]/"):
        sender.send(url, {"run_id": "r1"})
    await sender.close(timeout=10)
    assert transport.requests == []


async def test_delivery_connects_to_the_checked_address_with_the_name_kept() -> None:
    """A real delivery through the default transport: `receiver.invalid` exists only in
    the stub resolver, which points it at the 127.0.0.1 receiver."""
    with receiving() as receiver:
        resolver = Resolver({"receiver.invalid": ["127.0.0.1"]})
        config = WebhookConfig(url=UrlPolicy(disable_loopback=False))
        sender = WebhookSender(1, 0.0, config, resolver=resolver)
        await _deliver(sender, f"http://receiver.invalid:{receiver.port}/hook")
        [hook] = receiver.for_run("r1")
    assert hook["headers"]["Host"] == f"receiver.invalid:{receiver.port}"
    assert hook["path"] == "/hook" and hook["status"] == "success"


# --- at create, over HTTP -----------------------------------------------------------------


@pytest.fixture(scope="module")
def serve_server(backend: str) -> Iterator[TestServer]:
    """`graphport serve` defaults and no worker: whatever it accepts never executes."""
    with running_server(backend, CONFIG, dev=False, max_concurrent_runs=0) as srv:
        yield srv


@pytest.fixture(scope="module")
def restricted_server(backend: str) -> Iterator[TestServer]:
    """https only, `*.hooks.invalid` only, port 8443 only; no worker."""
    with running_server(backend, CONFIGS / "restricted.json", max_concurrent_runs=0) as srv:
        yield srv


@pytest.fixture
async def serve_http(serve_server: TestServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=serve_server.url, timeout=10) as c:
        yield c


async def _refused(http: httpx.AsyncClient, path: str, body: Any, reason: str) -> None:
    r = await http.post(path, json=body)
    assert r.status_code == 422, r.text
    assert r.json()["detail"].startswith("webhook: ") and reason in r.json()["detail"]


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://127.0.0.1:9/", "loopback"),
        ("http://localhost:9/", "localhost resolves to"),  # this machine's resolver (hosts file)
        ("http://[::1]:9/", "loopback"),
        ("http://10.0.0.1/", "private"),
        ("http://192.168.1.10:8080/", "private"),
        ("http://169.254.169.254/latest/meta-data/", "metadata"),
        ("ftp://127.0.0.1/", "scheme"),
    ],
)
async def test_serve_refuses_at_create(
    serve_http: httpx.AsyncClient, url: str, reason: str
) -> None:
    tid = await new_thread(serve_http)
    body = {"assistant_id": "counter", "webhook": url}
    await _refused(serve_http, f"/threads/{tid}/runs", body, reason)
    assert (await serve_http.get(f"/threads/{tid}/runs")).json() == []  # nothing stored


@pytest.mark.parametrize(
    "path",
    [
        "/threads/{tid}/runs",
        "/threads/{tid}/runs/wait",
        "/threads/{tid}/runs/stream",
        "/runs",
        "/runs/wait",
        "/runs/stream",
        "/runs/batch",
        "/runs/crons",
        "/threads/{tid}/runs/crons",
    ],
)
async def test_every_route_taking_a_webhook_checks_it(
    serve_http: httpx.AsyncClient, path: str
) -> None:
    tid = await new_thread(serve_http)
    body: Any = {"assistant_id": "counter", "webhook": "http://169.254.169.254/"}
    if "crons" in path:
        body["schedule"] = "0 0 1 1 *"
    if path.endswith("batch"):  # the first item is fine: none of the batch is created
        body = [{"assistant_id": "counter"}, body]
    crons = (await serve_http.post("/runs/crons/count", json={})).json()
    await _refused(serve_http, path.format(tid=tid), body, "metadata")
    assert (await serve_http.post("/runs/crons/count", json={})).json() == crons
    assert (await serve_http.get(f"/threads/{tid}/runs")).json() == []


async def test_cron_patch_checks_the_new_webhook(serve_http: httpx.AsyncClient) -> None:
    r = await serve_http.post(
        "/runs/crons", json={"assistant_id": "counter", "schedule": "0 0 1 1 *"}
    )
    cron_id = r.json()["cron_id"]
    r = await serve_http.patch(f"/runs/crons/{cron_id}", json={"webhook": "http://10.0.0.1/"})
    assert r.status_code == 422 and "private" in r.json()["detail"]
    cron = (await serve_http.get(f"/runs/crons/{cron_id}")).json()
    assert "webhook" not in cron["payload"]
    await serve_http.delete(f"/runs/crons/{cron_id}")


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://a.hooks.invalid:8443/", "scheme must be https"),
        ("https://a.other.invalid:8443/", "allowed_domains"),
        ("https://hooks.invalid:8443/", "allowed_domains"),  # the apex is not a subdomain
        ("https://a.hooks.invalid/", "port 443 is not in webhooks.url.allowed_ports"),
        (f"https://a.hooks.invalid:8443/{'x' * 100}", "longer than 100"),
    ],
)
async def test_configured_policy_refuses_at_create(
    restricted_server: TestServer, url: str, reason: str
) -> None:
    async with httpx.AsyncClient(base_url=restricted_server.url, timeout=10) as http:
        await _refused(http, "/runs", {"assistant_id": "counter", "webhook": url}, reason)


# --- the section itself ----------------------------------------------------------------------


def _load(section: Any, *, dev: bool = False, **env: str) -> WebhookConfig:
    raw = {"graphs": {"g": "m:g"}, "webhooks": section}
    config = LangGraphConfig(path=Path("langgraph.json"), graphs=raw["graphs"], raw=raw)
    return load_webhooks(config.raw, dev=dev, environ=env)


def test_defaults_are_strict_for_serve_and_open_for_dev(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, "graphport.webhooks"):
        assert _load(None).url == UrlPolicy(disable_loopback=True, disable_private_ips=True)
        assert caplog.messages == []
        assert _load(None, dev=True).url == DEV
    [said] = caplog.messages  # one start-up line says graphport dev is open
    assert said.startswith("Webhooks may call loopback and private addresses (graphport dev")
    # The file wins over the mode's defaults.
    assert _load({"url": {"disable_loopback": True}}, dev=True).url.disable_loopback


def test_headers_take_prefixed_variables_only() -> None:
    section = {"headers": {"Authorization": "Bearer ${{ env.LG_WEBHOOK_TOKEN }}", "X-A": "b"}}
    config = _load(section, LG_WEBHOOK_TOKEN="t0k")
    assert config.headers == {"Authorization": "Bearer t0k", "X-A": "b"}
    assert "t0k" not in repr(config)
    section = {"env_prefix": "HOOK_", "headers": {"X-K": "${{env.HOOK_K}}-${{ env.HOOK_K }}"}}
    assert _load(section, HOOK_K="v").headers == {"X-K": "v-v"}


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"headers": {"X-K": "${{ env.AWS_SECRET_KEY }}"}}, "not start with 'LG_WEBHOOK_'"),
        ({"headers": {"X-K": "${{ env.LG_WEBHOOK_MISSING }}"}}, "LG_WEBHOOK_MISSING is not set"),
        ({"headers": {"Host": "x"}}, "webhooks.headers.Host"),
        ({"headers": {"X-Graphport-Signature": "x"}}, "webhooks.headers.X-Graphport-Signature"),
        ({"headers": {"X-K": 1}}, "webhooks.headers.X-K must be a string"),
        ({"signing_secret": "literal"}, "webhooks.signing_secret must be"),
        ({"env_prefix": ""}, "webhooks.env_prefix"),
        ({"allowed_fields": "run_id"}, "webhooks.allowed_fields"),
        ({"url": {"allowed_domain": ["x.com"]}}, "webhooks.url: unknown key(s) ['allowed_"),
        ({"urls": {}}, "webhooks: unknown key(s) ['urls']"),
        ({"url": {"allowed_domains": ["a.*.com"]}}, "webhooks.url.allowed_domains: 'a.*.com'"),
        ({"url": {"allowed_ports": [0]}}, "webhooks.url.allowed_ports"),
        ({"url": {"disable_loopback": "no"}}, "webhooks.url.disable_loopback"),
        ({"url": {"max_url_length": 0}}, "webhooks.url.max_url_length"),
        ("on", "langgraph.json: webhooks must be an object"),
    ],
)
def test_bad_sections_name_the_key(section: Any, message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        _load(section, LG_WEBHOOK_TOKEN="t")


async def test_the_network_guard_refuses_other_hosts() -> None:
    """`loopback_only` itself must stop a connection off this machine and fail the test (the
    module's own guard, around this one, would stop it too)."""
    with pytest.raises(AssertionError, match="off this machine"), loopback_only():
        with socket.socket() as s, pytest.raises(ConnectionRefusedError):
            s.connect(("192.0.2.1", 9))
    with pytest.raises(AssertionError, match="off this machine"), loopback_only():
        with pytest.raises(OSError):
            await asyncio.open_connection("192.0.2.1", 9)
