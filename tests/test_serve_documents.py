"""serve's /v1/documents on fakes: the token, upload, list, remove, and the
next question answered from the new index without a restart."""

import json
import socket
import threading
import urllib.error
import urllib.request
from urllib.parse import quote

import pytest

from rag import Pipeline
from rag.llms import ScriptedLLM, first_choices
from rag.serve import serve

from .conftest import fake_settings

TOKEN = "s3cret-token"
NEW = "一、口袋公园\n郑州市今年新增口袋公园37个，分布在金水区和二七区。"


def multipart(files):
    boundary = "----govragboundary"
    body = b""
    for name, data in files:
        body += (
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
                "Content-Type: application/octet-stream\r\n\r\n"
            ).encode()
            + data
            + b"\r\n"
        )
    return body + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def call(base, method, path, body=None, content_type=None, token=TOKEN):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if content_type:
        headers["Content-Type"] = content_type
    req = urllib.request.Request(base + path, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, json.load(r)
    except urllib.error.HTTPError as e:
        return e.code, json.load(e)


@pytest.fixture
def admin_server(seeds_copy, tmp_path):
    def start(token):
        pipe = Pipeline(fake_settings(seeds_copy, tmp_path / "idx"), llm=ScriptedLLM(first_choices(1)))
        srv = serve(pipe, "127.0.0.1", 0, admin_token=token)
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        servers.append(srv)
        return f"http://127.0.0.1:{srv.server_port}"

    servers = []
    yield start
    for srv in servers:
        srv.shutdown()


def ask(base, question):
    body = json.dumps({"messages": [{"role": "user", "content": question}]}).encode()
    status, reply = call(base, "POST", "/v1/chat/completions", body, "application/json", token=None)
    assert status == 200
    return reply


def test_upload_list_remove_and_answer_without_restart(admin_server, seeds_copy):
    base = admin_server(TOKEN)
    assert call(base, "GET", "/v1/documents", token=None)[0] == 403
    assert call(base, "GET", "/v1/documents", token="wrong")[0] == 403
    status, listed = call(base, "GET", "/v1/documents")
    before = {d["file"] for d in listed["data"]}
    assert status == 200 and before == {p.name for p in seeds_copy.iterdir()}

    body, ctype = multipart([("口袋公园.txt", NEW.encode())])
    assert call(base, "POST", "/v1/documents", body, ctype, token="wrong")[0] == 403
    status, added = call(base, "POST", "/v1/documents", body, ctype)
    assert status == 201 and added["added"] == ["口袋公园.txt"] and added["documents"] == len(before) + 1
    row = next(d for d in call(base, "GET", "/v1/documents")[1]["data"] if d["file"] == "口袋公园.txt")
    assert row["chunks"] >= 1 and row["added"]
    reply = ask(base, "郑州市今年新增口袋公园多少个?")
    assert reply["citations"][0]["doc"] == "口袋公园.txt" and "37个" in reply["choices"][0]["message"]["content"]

    status, removed = call(base, "DELETE", "/v1/documents/" + quote("口袋公园.txt"))
    assert status == 200 and removed["removed"] == ["口袋公园.txt"]
    assert {d["file"] for d in call(base, "GET", "/v1/documents")[1]["data"]} == before
    assert all(c["doc"] != "口袋公园.txt" for c in ask(base, "郑州市今年新增口袋公园多少个?")["citations"])
    status, missing = call(base, "DELETE", "/v1/documents/nope.txt")
    assert status == 404 and "可选的文件" in missing["error"]["message"]


def test_bad_uploads_are_refused_and_change_nothing(admin_server, seeds_copy):
    base = admin_server(TOKEN)
    names = {p.name for p in seeds_copy.iterdir()}
    for files, message in (
        ([("run.exe", b"MZ")], "不支持的文件类型"),
        ([("empty.txt", b"")], "空文件"),
        ([("a.txt", NEW.encode()), ("a.txt", NEW.encode())], "同名文件"),
    ):
        status, reply = call(base, "POST", "/v1/documents", *multipart(files))
        assert status == 400 and message in reply["error"]["message"]
    assert call(base, "POST", "/v1/documents", b"{}", "application/json")[0] == 415
    assert {p.name for p in seeds_copy.iterdir()} == names

    # A body declared over the limit is refused before it is read.
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as s:
        s.sendall(
            f"POST /v1/documents HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\n"
            "Content-Type: multipart/form-data; boundary=b\r\nContent-Length: 999999999\r\n\r\n".encode()
        )
        assert s.recv(4096).startswith(b"HTTP/1.1 413")


def test_without_a_token_the_routes_do_not_exist(admin_server):
    base = admin_server("")
    assert call(base, "GET", "/v1/documents")[0] == 404
    assert call(base, "POST", "/v1/documents", *multipart([("a.txt", NEW.encode())]))[0] == 404
