"""Real-client check: the official openai Python SDK over mutual TLS.

Usage: openai_check.py BASE_URL CA_CERT CLIENT_CERT CLIENT_KEY CHAT_MODEL EMBED_MODEL
Prints one JSON object with what the SDK received; exits non-zero on any SDK error.
"""
import json
import ssl
import sys

import httpx
import openai

base, ca, cert, key, chat_model, embed_model = sys.argv[1:7]
ctx = ssl.create_default_context(cafile=ca)
ctx.load_cert_chain(cert, key)
client = openai.OpenAI(base_url=base, api_key="not-used-mtls", http_client=httpx.Client(verify=ctx))

out = {}
r = client.chat.completions.create(
    model=chat_model, messages=[{"role": "user", "content": "Say hello to the city council."}], max_tokens=16
)
out["chat"] = {"content": r.choices[0].message.content, "finish": r.choices[0].finish_reason,
               "prompt_tokens": r.usage.prompt_tokens}

parts, finishes, usage = [], [], None
stream = client.chat.completions.create(
    model=chat_model, messages=[{"role": "user", "content": "Nenne drei Städte in Deutschland."}], max_tokens=24,
    stream=True, stream_options={"include_usage": True},
)
for chunk in stream:
    if chunk.usage is not None:
        usage = chunk.usage.completion_tokens
    for c in chunk.choices:
        if c.delta.content:
            parts.append(c.delta.content)
        if c.finish_reason:
            finishes.append(c.finish_reason)
out["stream"] = {"content": "".join(parts), "finishes": finishes, "completion_tokens": usage}

e = client.embeddings.create(model=embed_model, input=["Bürgeramt", "Standesamt"])
out["embeddings"] = {"count": len(e.data), "dims": len(e.data[0].embedding)}

try:
    client.chat.completions.create(model="no-such-model", messages=[{"role": "user", "content": "x"}])
    out["not_found"] = "no error"
except openai.NotFoundError as err:
    out["not_found"] = err.code

print(json.dumps(out))
