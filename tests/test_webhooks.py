"""Webhooks to the user's app: Nango's shapes, Nango's signature, the verify helper, delivery retries."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result
from hypothesis import given
from hypothesis import strategies as st

from harness import webhooks
from harness.clock import VirtualClock
from tests.fakes.receiver import Receiver

KEY = "whsec_test_key_123"


def test_signature_is_nangos() -> None:
    payload = {"type": "sync", "from": "nango", "b": {"z": 1, "a": "é"}}
    body = webhooks.serialize(payload)
    assert body == '{"b":{"a":"é","z":1},"from":"nango","type":"sync"}'.encode()
    assert webhooks.sign(body, KEY) == hmac.new(KEY.encode(), body, hashlib.sha256).hexdigest()
    assert webhooks.legacy_sign(body, KEY) == hashlib.sha256(KEY.encode() + body).hexdigest()


@given(st.dictionaries(st.text(max_size=8), st.one_of(st.integers(), st.text(max_size=8)), max_size=5))
def test_verify_accepts_signed_and_rejects_tampered(payload: dict[str, object]) -> None:
    body = webhooks.serialize(payload)
    signature = webhooks.sign(body, KEY)
    assert webhooks.verify(body, signature, KEY)
    assert webhooks.verify(body.decode(), signature.upper(), KEY)
    assert not webhooks.verify(body + b" ", signature, KEY)
    assert not webhooks.verify(body, signature, KEY + "x")
    assert not webhooks.verify(body, "", KEY)


def test_delivery_retries_after_503_and_stops_on_4xx() -> None:
    clock = VirtualClock(0)
    with Receiver(statuses=[503]) as app:
        delivery = asyncio.run(webhooks.deliver(app.url, {"type": "auth"}, KEY, clock))
        assert delivery.ok and delivery.attempts == 2 and clock.waits == [3.0]
        hit = app.received[-1]
        assert webhooks.verify(hit.body, hit.headers["x-nango-hmac-sha256"], KEY)
    with Receiver(statuses=[400]) as app:
        delivery = asyncio.run(webhooks.deliver(app.url, {"type": "auth"}, KEY, VirtualClock(0)))
        assert delivery.status == 400 and delivery.attempts == 1


def test_dryrun_posts_signed_sync_webhooks(example: Path, cli: Callable[..., Result]) -> None:
    with Receiver() as app:
        res = cli(example, "dryrun", "issues", "demo", "--webhook-url", app.url,
                  env={"NANGO_WEBHOOK_SIGNING_KEY": KEY})
        assert res.exit_code == 0, res.output
        [hit] = app.received
    assert webhooks.verify(hit.body, hit.headers["x-nango-hmac-sha256"], KEY)
    doc = json.loads(hit.body)
    assert doc["type"] == "sync" and doc["from"] == "nango" and doc["model"] == "Issue"
    assert doc["syncType"] == "INITIAL" and doc["success"] is True
    assert doc["responseResults"] == {"added": 12, "updated": 0, "deleted": 0}
    assert doc["checkpoints"] == {"from": None, "to": {"since": "2026-01-12T10:00:00Z"}}
    res = cli(example, "dryrun", "issues", "demo", "--webhook-url", "http://127.0.0.1:9/x")
    assert res.exit_code == 2 and "NANGO_WEBHOOK_SIGNING_KEY" in res.stderr


def test_auth_and_async_action_shapes() -> None:
    auth = webhooks.auth_payload(connection_id="c", provider_config_key="gh", provider="github", auth_mode="OAUTH2")
    assert auth["type"] == "auth" and auth["operation"] == "creation" and auth["authMode"] == "OAUTH2"
    done = webhooks.async_action_payload(connection_id="c", provider_config_key="gh", action_id="42")
    assert done["payload"] == {"id": "42", "statusUrl": "/action/42"}


@pytest.mark.parametrize("signature", ["é" * 64, "\u0663" * 64, "abc\u00e9", "\x00", " " * 3, "ff" * 200])
def test_verify_is_false_for_non_ascii_or_garbage_signatures(signature: str) -> None:
    body = webhooks.serialize({"type": "auth"})
    assert webhooks.verify(body, signature, KEY) is False
    assert webhooks.verify(body, signature.encode("utf-8"), KEY) is False


def test_verify_accepts_the_signature_as_bytes() -> None:
    body = webhooks.serialize({"type": "auth", "name": "é"})
    signature = webhooks.sign(body, KEY)
    assert webhooks.verify(body, signature.encode("ascii"), KEY) is True
    assert webhooks.verify(body, b" " + signature.upper().encode("ascii") + b"\r\n", KEY) is True
    assert webhooks.verify(body, bytearray(signature.encode("ascii")), KEY) is True
    assert webhooks.verify(body, b"0" * 64, KEY) is False
    assert webhooks.verify(body, None, KEY) is False
    assert webhooks.verify(body, 12, KEY) is False  # type: ignore[arg-type]
