"""The `webhooks` section of `langgraph.json`: where run webhooks may go (`url`), the headers
they carry (`headers`, values may name environment variables as `${{ env.NAME }}`), the
payload fields they keep (`allowed_fields`) and the secret that signs them (`signing_secret`).

Resolved once at start-up, after `env` is applied, so a typo, a bad pattern or a missing
variable stops the server with a message naming the key. Unknown keys are refused too: a
misspelt restriction must not pass silently as no restriction."""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from graphport.sdk.webhooks import SIGNATURE_HEADER

from .errors import ConfigError

logger = logging.getLogger("graphport.webhooks")

# As the official server: only variables named with this prefix may be read into headers,
# so a config cannot be turned into a way of mailing out arbitrary secrets of the process.
DEFAULT_ENV_PREFIX = "LG_WEBHOOK_"
DEFAULT_MAX_URL_LENGTH = 4096
TEMPLATE = re.compile(r"\$\{\{\s*env\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
# Set by the sender itself; a configured value would break delivery or the signature.
RESERVED_HEADERS = frozenset({"host", "content-type", "content-length", SIGNATURE_HEADER.lower()})
_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")  # an HTTP header name
_DOMAIN = re.compile(r"^(\*\.)?[a-z0-9_-]+(\.[a-z0-9_-]+)*$")
_SECTION_KEYS = frozenset({"url", "headers", "env_prefix", "allowed_fields", "signing_secret"})
_URL_KEYS = frozenset(
    {
        "require_https",
        "allowed_domains",
        "allowed_ports",
        "disable_loopback",
        "disable_private_ips",
        "max_url_length",
    }
)


@dataclass(frozen=True)
class UrlPolicy:
    """Which webhook URLs are accepted. The defaults are `graphport serve`'s."""

    require_https: bool = False
    # Exact hosts, or `*.example.com` for its subdomains (not the apex); empty: any host.
    allowed_domains: tuple[str, ...] = ()
    allowed_ports: tuple[int, ...] = ()  # empty: any port
    disable_loopback: bool = True  # this machine: 127.0.0.0/8, ::1, 0.0.0.0, `localhost`
    disable_private_ips: bool = True  # every address that is not globally routable
    max_url_length: int = DEFAULT_MAX_URL_LENGTH

    def allows_host(self, host: str) -> bool:
        if not self.allowed_domains:
            return True
        return any(
            host.endswith(pattern[1:]) if pattern.startswith("*.") else host == pattern
            for pattern in self.allowed_domains
        )


@dataclass(frozen=True)
class WebhookConfig:
    url: UrlPolicy = field(default_factory=UrlPolicy)
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)  # resolved values
    allowed_fields: frozenset[str] | None = None  # None: the whole payload
    signing_secret: str | None = field(default=None, repr=False)


def load_webhooks(
    raw: Mapping[str, Any], *, dev: bool, environ: Mapping[str, str] = os.environ
) -> WebhookConfig:
    """Read `webhooks` of the raw langgraph.json; `dev` (graphport dev) lets webhooks reach
    this machine and private networks unless the section says otherwise, for local
    receivers."""
    section = _object("webhooks", raw.get("webhooks"))
    _known_keys("webhooks", section, _SECTION_KEYS)
    prefix = section.get("env_prefix", DEFAULT_ENV_PREFIX)
    if not isinstance(prefix, str) or not prefix:
        raise ConfigError("langgraph.json: webhooks.env_prefix must be a non-empty string")
    headers = _object("webhooks.headers", section.get("headers"))
    resolved: dict[str, str] = {}
    for name, value in headers.items():
        where = f"webhooks.headers.{name}"
        if not _TOKEN.match(name) or name.lower() in RESERVED_HEADERS:
            raise ConfigError(f"langgraph.json: {where}: not a header name Graphport lets you set")
        resolved[name] = _substitute(where, value, prefix, environ)
    secret = section.get("signing_secret")
    if secret is not None:
        if not isinstance(secret, str) or not TEMPLATE.fullmatch(secret.strip()):
            raise ConfigError(
                "langgraph.json: webhooks.signing_secret must be '${{ env.NAME }}' (keep the "
                "secret in the environment, not in the file)"
            )
        secret = _substitute("webhooks.signing_secret", secret.strip(), prefix, environ)
        if not secret:
            raise ConfigError("langgraph.json: webhooks.signing_secret is empty")
    fields = section.get("allowed_fields")
    if fields is not None:
        fields = frozenset(_strings("webhooks.allowed_fields", fields))
    result = WebhookConfig(
        url=_url_policy(_object("webhooks.url", section.get("url")), dev=dev),
        headers=resolved,
        allowed_fields=fields,
        signing_secret=secret,
    )
    opened = [
        kind
        for kind, refused in (
            ("loopback", result.url.disable_loopback),
            ("private", result.url.disable_private_ips),
        )
        if not refused
    ]
    if opened:
        logger.info(
            "Webhooks may call %s addresses%s",
            " and ".join(opened),
            " (graphport dev defaults, for local receivers; graphport serve refuses them)"
            if dev
            else "",
        )
    return result


def _url_policy(raw: dict[str, Any], *, dev: bool) -> UrlPolicy:
    _known_keys("webhooks.url", raw, _URL_KEYS)
    flags = {}
    for key, default in (
        ("require_https", False),
        ("disable_loopback", not dev),
        ("disable_private_ips", not dev),
    ):
        value = raw.get(key, default)
        if not isinstance(value, bool):
            raise ConfigError(f"langgraph.json: webhooks.url.{key} must be true or false")
        flags[key] = value
    listed = _strings("webhooks.url.allowed_domains", raw.get("allowed_domains", []))
    domains = tuple(d.lower().rstrip(".") for d in listed)
    for domain in domains:
        if not _DOMAIN.match(domain):
            raise ConfigError(
                f"langgraph.json: webhooks.url.allowed_domains: {domain!r} is not a host name "
                "or '*.domain' (use the xn-- form for international names)"
            )
    ports = raw.get("allowed_ports", [])
    if not isinstance(ports, list) or not all(_is_int(p) and 0 < p < 65536 for p in ports):
        raise ConfigError(
            "langgraph.json: webhooks.url.allowed_ports must be a list of port numbers (1-65535)"
        )
    length = raw.get("max_url_length", DEFAULT_MAX_URL_LENGTH)
    if not _is_int(length) or length < 1:
        raise ConfigError("langgraph.json: webhooks.url.max_url_length must be a positive integer")
    return UrlPolicy(
        allowed_domains=domains, allowed_ports=tuple(ports), max_url_length=length, **flags
    )


def _substitute(where: str, value: Any, prefix: str, environ: Mapping[str, str]) -> str:
    if not isinstance(value, str):
        raise ConfigError(f"langgraph.json: {where} must be a string")

    def lookup(match: re.Match[str]) -> str:
        name = match.group(1)
        if not name.startswith(prefix):
            raise ConfigError(
                f"langgraph.json: {where}: environment variable {name} does not start with "
                f"{prefix!r} (webhooks.env_prefix)"
            )
        if name not in environ:
            raise ConfigError(f"langgraph.json: {where}: environment variable {name} is not set")
        return environ[name]

    result = TEMPLATE.sub(lookup, value)
    if "\r" in result or "\n" in result:
        raise ConfigError(f"langgraph.json: {where}: header values cannot contain line breaks")
    return result


def _object(where: str, value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ConfigError(f"langgraph.json: {where} must be an object")
    return value


def _known_keys(where: str, value: dict[str, Any], known: frozenset[str]) -> None:
    unknown = sorted(set(value) - known)
    if unknown:
        raise ConfigError(
            f"langgraph.json: {where}: unknown key(s) {unknown}; expected some of {sorted(known)}"
        )


def _strings(where: str, value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ConfigError(f"langgraph.json: {where} must be a list of non-empty strings")
    return value


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
