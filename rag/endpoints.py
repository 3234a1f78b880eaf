"""Connections to OpenAI-compatible servers: the LLM (rag/llms/) and
the embedder (rag/embeddings.py) both turn a base URL and a route into a
connection, its request path and its headers here, the same way.

Deliberately not done here: sending requests, reading replies, or errors
(each caller names its own server in its own messages).
"""

from __future__ import annotations

import http.client
import urllib.parse


def connection(
    base_url: str, route: str, timeout: float, api_key: str = "", accept: str = "application/json"
) -> tuple[http.client.HTTPConnection, str, dict[str, str]]:
    """An unopened connection to `{base_url}/{route}`, the path to request (with
    the URL's query) and the JSON headers, with the key as a Bearer token."""
    url = urllib.parse.urlsplit(f"{base_url}/{route}")
    kind = http.client.HTTPSConnection if url.scheme == "https" else http.client.HTTPConnection
    headers = {"Content-Type": "application/json", "Accept": accept}
    if api_key:
        headers["Authorization"] = f"Bearer {api_key}"
    path = url.path + (f"?{url.query}" if url.query else "")
    return kind(url.hostname or "127.0.0.1", url.port, timeout=timeout), path, headers
