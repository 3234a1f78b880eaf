import json
import urllib.error
import urllib.request

import pytest

Q = "2024年郑州市地区生产总值预期增长多少?"


def post(url, body, timeout=30):
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    req = urllib.request.Request(url + "/v1/chat/completions", data=data, headers={"Content-Type": "application/json"})
    return urllib.request.urlopen(req, timeout=timeout)


def test_chat_completion_with_citations(server):
    with post(server, {"model": "govrag", "messages": [{"role": "user", "content": Q}]}) as r:
        body = json.load(r)
    content = body["choices"][0]["message"]["content"]
    assert "7%左右" in content and "[1]" in content and "出处" in content
    assert body["citations"][0]["paragraph"] == 10 and body["refused"] is False


def test_streaming_chat_completion(server):
    with post(server, {"messages": [{"role": "user", "content": Q}], "stream": True}) as r:
        events = [line[6:] for line in r.read().decode().splitlines() if line.startswith("data: ")]
    assert events[-1] == "[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks)
    assert "7%左右" in text
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop" and chunks[-1]["citations"]


def test_follow_up_uses_earlier_user_messages(server):
    messages = [
        {"role": "user", "content": "2024年郑州市固定资产投资预期增长多少?"},
        {"role": "assistant", "content": "…"},
        {"role": "user", "content": "那地区生产总值呢?"},
    ]
    with post(server, {"messages": messages}) as r:
        assert "地区生产总值" in json.load(r)["choices"][0]["message"]["content"]


@pytest.mark.parametrize(
    "body",
    [
        {"messages": []},
        {"messages": [{"role": "user", "content": "   "}]},
        {"messages": [{"role": "user", "content": "问" * 2001}]},
        {"messages": [{"role": "assistant", "content": "hi"}]},
        {"prompt": "no messages"},
        b"{not json",
        b"[1, 2]",
    ],
)
def test_bad_requests_get_a_clear_400(server, body):
    with pytest.raises(urllib.error.HTTPError) as e:
        post(server, body)
    assert e.value.code == 400
    assert json.load(e.value)["error"]["message"]


def test_models_and_health(server):
    with urllib.request.urlopen(server + "/v1/models", timeout=5) as r:
        assert json.load(r)["data"][0]["id"] == "govrag"
    with urllib.request.urlopen(server + "/health", timeout=5) as r:
        assert json.load(r)["status"] == "ok"
