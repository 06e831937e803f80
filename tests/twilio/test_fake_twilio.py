"""The fake Twilio API itself: it must answer like Twilio where the adapters depend on it."""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request
from urllib.parse import urlencode

import pytest

from incident_bot.testing.fake_twilio import FakeTwilio, Faults
from tests.twilio.support import ACCOUNT_SID, AUTH_TOKEN


def _request(twilio: FakeTwilio, method: str, query: dict | None = None, form: dict | None = None,
             token: str = AUTH_TOKEN, kind: str = "Messages") -> tuple[int, dict]:
    url = f"{twilio.url}/2010-04-01/Accounts/{ACCOUNT_SID}/{kind}.json"
    if query:
        url += "?" + urlencode(query)
    auth = base64.b64encode(f"{ACCOUNT_SID}:{token}".encode()).decode()
    request = urllib.request.Request(url, data=urlencode(form).encode() if form else None,
                                     method=method, headers={"Authorization": f"Basic {auth}"})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def _send(twilio: FakeTwilio, to: str = "+447700900001", body: str = "hi") -> tuple[int, dict]:
    return _request(twilio, "POST", form={"To": to, "From": "+447700900000", "Body": body})


def test_a_created_message_is_201_queued_with_an_sm_sid(twilio):
    status, body = _send(twilio)
    assert status == 201
    assert body["sid"].startswith("SM")
    assert body["status"] == "queued"


def test_wrong_credentials_are_401_with_code_20003(twilio):
    status, body = _request(twilio, "POST", form={"To": "+447700900001", "Body": "x"},
                            token="wrong")
    assert (status, body["code"]) == (401, 20003)
    assert twilio.messages == []


@pytest.mark.parametrize(("form", "code"), [
    ({"From": "+447700900000", "Body": "x"}, 21604),
    ({"To": "07700 900001", "From": "+447700900000", "Body": "x"}, 21211),
    ({"To": "+447700900001", "From": "+447700900000"}, 21602),
    ({"To": "+447700900001", "Body": "x"}, 21603),
])
def test_a_message_missing_what_twilio_requires_is_400(twilio, form, code):
    status, body = _request(twilio, "POST", form=form)
    assert (status, body["code"]) == (400, code)


def test_the_list_filters_by_to_and_date_sent(twilio, clock):
    _send(twilio, "+447700900001", "old")
    clock.advance(days=1)
    _send(twilio, "+447700900001", "new")
    _send(twilio, "+447700900002", "other")
    query = {"To": "+447700900001", "DateSent>": clock.now().strftime("%Y-%m-%dT%H:%M:%SZ")}
    status, body = _request(twilio, "GET", query=query)
    assert status == 200
    assert [m["body"] for m in body["messages"]] == ["new"]


def test_calls_are_created_and_listed(twilio):
    status, body = _request(twilio, "POST", kind="Calls", form={
        "To": "+447700900001", "From": "+447700900000", "Url": "https://bot.example/v"})
    assert status == 201
    assert body["sid"].startswith("CA")
    _, listed = _request(twilio, "GET", kind="Calls", query={"To": "+447700900001"})
    assert [c["sid"] for c in listed["calls"]] == [body["sid"]]


def test_the_same_seed_gives_the_same_faults(clock):
    def statuses(seed: int) -> list[int]:
        with FakeTwilio(ACCOUNT_SID, AUTH_TOKEN, clock=clock.now, seed=seed,
                        faults=Faults(rate_429=0.3, rate_500=0.1)) as fake:
            return [_send(fake)[0] for _ in range(30)]
    assert statuses(7) == statuses(7)
    assert {429, 500, 201} <= set(statuses(7))


def test_a_429_carries_retry_after(twilio):
    twilio.faults = Faults(rate_429=1.0, retry_after=3)
    url = f"{twilio.url}/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
    auth = base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
    request = urllib.request.Request(url, method="POST", headers={"Authorization": f"Basic {auth}"},
                                     data=b"To=%2B447700900001&From=%2B447700900000&Body=x")
    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(request, timeout=5)
    assert raised.value.code == 429
    assert raised.value.headers["Retry-After"] == "3"
    raised.value.close()


def test_every_request_is_recorded(twilio):
    _send(twilio)
    _request(twilio, "GET", query={"To": "+447700900001"})
    assert [(r.method, r.status) for r in twilio.requests] == [("POST", 201), ("GET", 200)]
