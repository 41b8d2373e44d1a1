"""Real-client check of the RAG API: the official openai Python SDK over mutual TLS uploads
files, creates a vector store, adds files (create and create_and_poll, and a file batch with
upload_and_poll), lists, searches, and chats with a file_search tool.

Usage: rag_check.py BASE_URL CA_CERT CLIENT_CERT CLIENT_KEY CHAT_MODEL FIXTURE_DIR
Prints one JSON object with what the SDK received; exits non-zero on any SDK error.
"""
import json
import os
import ssl
import sys

import httpx
import openai

base, ca, cert, key, chat_model, fixtures = sys.argv[1:7]
ctx = ssl.create_default_context(cafile=ca)
ctx.load_cert_chain(cert, key)
client = openai.OpenAI(base_url=base, api_key="not-used-mtls", http_client=httpx.Client(verify=ctx))

out = {}
ids = {}
for name in ["passwortrichtlinie.md", "parkraum.html", "homeoffice.docx", "bauantrag.pdf"]:
    with open(os.path.join(fixtures, name), "rb") as f:
        up = client.files.create(file=(name, f.read()), purpose="assistants")
    ids[name] = up.id
out["uploaded"] = {n: i.startswith("file-") for n, i in ids.items()}
out["files_listed"] = sorted(f.filename for f in client.files.list())
out["retrieved"] = client.files.retrieve(ids["bauantrag.pdf"]).filename

vs = client.vector_stores.create(name="SDK-Ablage", metadata={"data_class": "internal", "projekt": "sdk"},
                                 file_ids=[ids["passwortrichtlinie.md"]])
out["store"] = {"object": vs.object, "status": vs.status, "completed": vs.file_counts.completed,
                "metadata": vs.metadata}
f1 = client.vector_stores.files.create(vector_store_id=vs.id, file_id=ids["parkraum.html"],
                                       attributes={"gebaeude": "Rathaus"})
f2 = client.vector_stores.files.create_and_poll(vector_store_id=vs.id, file_id=ids["homeoffice.docx"])
f3 = client.vector_stores.files.create_and_poll(vector_store_id=vs.id, file_id=ids["bauantrag.pdf"])
out["added"] = [f1.status, f2.status, f3.status]
out["store_files"] = len(list(client.vector_stores.files.list(vector_store_id=vs.id)))
out["stores"] = [s.id == vs.id for s in client.vector_stores.list()]
out["total"] = client.vector_stores.retrieve(vs.id).file_counts.total

page = client.vector_stores.search(vector_store_id=vs.id, query="An wie vielen Tagen pro Woche darf man mobil arbeiten?",
                                   max_num_results=3)
results = list(page)
out["search"] = {"first": results[0].filename, "n": len(results), "text": results[0].content[0].text,
                 "first_file": results[0].file_id == ids["homeoffice.docx"]}
page = client.vector_stores.search(vector_store_id=vs.id, query="Tiefgarage Stellplatz Kosten",
                                   filters={"type": "eq", "key": "gebaeude", "value": "Rathaus"})
out["filtered"] = sorted({r.filename for r in page})

r = client.chat.completions.create(
    model=chat_model, max_tokens=16,
    messages=[{"role": "user", "content": "Wie viele Zeichen muss ein Passwort mindestens haben?"}],
    tools=[{"type": "file_search", "vector_store_ids": [vs.id], "max_num_results": 2}],
)
msg = r.choices[0].message.model_dump()
out["chat"] = {"content": msg.get("content"), "citations": [a.get("filename") for a in (msg.get("annotations") or [])]}

# File batches: upload_and_poll (uploads each file, then create_and_poll) and the batch's files.
with open(os.path.join(fixtures, "urlaubsregelung.txt"), "rb") as a, open(os.path.join(fixtures, "druckerwartung.odt"), "rb") as b:
    batch = client.vector_stores.file_batches.upload_and_poll(vector_store_id=vs.id, files=[a, b])
out["batch"] = {"object": batch.object, "status": batch.status, "id": batch.id.startswith("vsfb_"),
                "completed": batch.file_counts.completed, "total": batch.file_counts.total}
out["batch_files"] = sorted(f.status for f in client.vector_stores.file_batches.list_files(batch_id=batch.id, vector_store_id=vs.id))
again = client.vector_stores.file_batches.retrieve(batch_id=batch.id, vector_store_id=vs.id)
out["batch_again"] = again.status

d = client.vector_stores.files.delete(file_id=ids["parkraum.html"], vector_store_id=vs.id)
out["file_deleted"] = d.deleted
out["store_deleted"] = client.vector_stores.delete(vs.id).deleted
try:
    client.vector_stores.retrieve(vs.id)
    out["after_delete"] = "still there"
except openai.NotFoundError:
    out["after_delete"] = "not_found"
print(json.dumps(out, ensure_ascii=False))
