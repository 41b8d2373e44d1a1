#!/usr/bin/env python3
"""Whole-process benchmark: zonegate against its performance peer, llama.cpp's llama-server.

Both servers run at the same time on the same GGUF model with the same settings (threads =
physical cores, 4 parallel sequences, context 8192, continuous batching). Each workload runs
on the two servers alternately (A B B A A B ...: interleaved, and the order flips every round
so slow drift of a noisy machine does not favour either side), 5 times each. The table shows
medians with min..max and the ratio zonegate / llama-server of the medians; for every
workload higher is better except time to first token.

Workloads (keys for --workloads):
  pp        a ~535-token prompt via /v1/completions, max_tokens 1: prompt tokens/s (the
            server's usage.prompt_tokens over the request's wall time)
  decode1   short prompt, 128 tokens, ignore_eos, streamed: tokens/s from the first to the
            last content chunk
  decode4   the same, 4 streams at once: aggregate tokens/s
  ttft      time to the first content chunk of a short streamed chat; the prompt starts with
            a nonce, so no server reuses KV cached by an earlier request
  ttft-sys  the same behind one fixed ~400-token system prompt, as chat front ends send it:
            llama-server reuses the cached prefix (its prompt cache), zonegate has none yet
Every prompt carries a fresh nonce near its start so that llama-server's prompt cache cannot
skip work, except where ttft-sys measures exactly that. Besides wall-clock figures, the
server's CPU time per unit of work is reported (user+system of the whole process).

zonegate is reached over mutual TLS (its only API listener), llama-server over plain HTTP.
Both clients keep their connections alive and are warmed up, so the TLS handshake is not
part of any figure; TLS record overhead is.

On a machine shared with other work, threads = physical cores makes both servers' OpenMP
threads wait at barriers for preempted siblings, and throughput swings by 10x between runs;
`--threads 1` then gives figures that are stable to a few percent.

Run with `make bench-peer`, or directly:
    python3 benches/peer.py [--zonegate BIN] [--llama-server BIN] [--model GGUF] [--runs 5]
Needs httpx. Loopback only; every wait and loop is bounded; both servers are stopped at the
end, on errors and on Ctrl-C.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx

HOME = Path.home()
STARTED: list[subprocess.Popen] = []  # every server process, for the last-resort kill in main()
CACHE = HOME / ".cache" / "zonegate"
DEFAULT_ZONEGATE = Path(os.environ.get("CARGO_TARGET_DIR", CACHE / "target")) / "release" / "zonegate"
DEFAULT_PEER = CACHE / "peer" / "llama_cpp_python-0.3.36" / "vendor" / "llama.cpp" / "build" / "bin" / "llama-server"
DEFAULT_MODEL = CACHE / "models" / "SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL_ID = "smollm2-135m"

CONTEXT = 8192
PARALLEL = 4
READY_TIMEOUT_S = 180.0  # model load + warm-up of one server
REQUEST_TIMEOUT_S = 300.0  # any single request (streams: between two chunks)
TOTAL_BUDGET_S = 1800.0  # the whole measurement phase (--budget); later runs are skipped
SETTLE_S = 0.3  # pause between runs, so the idle server's spinning threads go to sleep

# About 512 SmolLM2 tokens (the servers report the exact count; it is printed).
PP_SENTENCE = "Die Stadtverwaltung informiert über neue Öffnungszeiten des Bürgerbüros im Rathaus. "
PP_REPEAT = 15
SHORT_PROMPT = "Write a short story about a city library."
CHAT_PROMPT = "What is the capital of France?"
# About 400 tokens: a fixed system prompt such as a chat front end sends with every request.
SYSTEM_PROMPT = "You answer questions of the staff of the city administration. " + (
    "Answer briefly and politely, cite the regulation you rely on, and say so when you are not sure. " * 20)
DECODE_TOKENS = 128


def physical_cores() -> int:
    """Physical cores this process may run on (like zonegate's default_threads)."""
    allowed = os.sched_getaffinity(0)
    cores = set()
    cpu = phys = core = None
    try:
        with open("/proc/cpuinfo") as f:
            for line in f.read().splitlines() + [""]:
                if not line.strip():
                    if cpu is not None and cpu in allowed:
                        cores.add((phys, core if core is not None else cpu))
                    cpu = phys = core = None
                    continue
                k, _, v = line.partition(":")
                k, v = k.strip(), v.strip()
                if k == "processor":
                    cpu = int(v)
                elif k == "physical id":
                    phys = v
                elif k == "core id":
                    core = v
    except OSError:
        pass
    return max(1, min(len(cores) or len(allowed), len(allowed)))


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process (all threads), in seconds."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


@dataclass
class Server:
    name: str
    base: str  # e.g. https://127.0.0.1:1234
    argv: list[str]
    log: Path
    client_kwargs: dict = field(default_factory=dict)
    proc: subprocess.Popen | None = None
    client: httpx.AsyncClient | None = None

    def start(self) -> None:
        out = open(self.log, "wb")
        # Own session: Ctrl-C reaches only this script, which then stops the servers in order.
        self.proc = subprocess.Popen(self.argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        out.close()
        STARTED.append(self.proc)
        limits = httpx.Limits(max_connections=PARALLEL * 2, max_keepalive_connections=PARALLEL * 2)
        self.client = httpx.AsyncClient(base_url=self.base, timeout=REQUEST_TIMEOUT_S, limits=limits, **self.client_kwargs)

    def log_tail(self, n: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return "(no log)"

    async def wait_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_S
        last = "no answer"
        while time.monotonic() < deadline:
            if self.proc is None or self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with status {self.proc.returncode if self.proc else '?'}:\n{self.log_tail()}")
            try:
                r = await self.client.get("/health", timeout=5.0)
                if r.status_code == 200:
                    return
                last = f"HTTP {r.status_code}"
            except httpx.HTTPError as e:
                last = type(e).__name__
            await asyncio.sleep(0.25)
        raise RuntimeError(f"{self.name} not ready after {READY_TIMEOUT_S:.0f}s ({last}):\n{self.log_tail()}")

    async def stop(self) -> None:
        if self.client is not None:
            try:
                await self.client.aclose()
            except Exception:  # noqa: BLE001 - best effort on the way out
                pass
        p = self.proc
        if p is None or p.poll() is not None:
            return
        p.send_signal(signal.SIGTERM)
        for _ in range(100):  # 10 s
            if p.poll() is not None:
                return
            await asyncio.sleep(0.1)
        p.kill()
        p.wait(timeout=10)


# ---------------------------------------------------------------- one request of each kind


async def sse(client: httpx.AsyncClient, path: str, body: dict):
    """Yields (arrival time, parsed JSON chunk) for each `data:` event until [DONE]."""
    async with client.stream("POST", path, json=body) as r:
        if r.status_code != 200:
            text = (await r.aread()).decode(errors="replace")[:300]
            raise RuntimeError(f"POST {path}: HTTP {r.status_code}: {text}")
        async for line in r.aiter_lines():
            if not line.startswith("data:"):
                continue
            data = line[5:].strip()
            if data == "[DONE]":
                return
            yield time.perf_counter(), json.loads(data)


def chunk_text(chunk: dict) -> str:
    out = ""
    for c in chunk.get("choices") or []:
        out += c.get("text") or (c.get("delta") or {}).get("content") or ""
    return out


async def prompt_processing(s: Server, nonce: str) -> dict:
    # A fresh prefix every run: llama-server's prompt cache must not skip the work.
    prompt = f"[{nonce}] " + PP_SENTENCE * PP_REPEAT
    body = {"model": MODEL_ID, "prompt": prompt, "max_tokens": 1, "temperature": 0}
    t0 = time.perf_counter()
    r = await s.client.post("/v1/completions", json=body)
    wall = time.perf_counter() - t0
    if r.status_code != 200:
        raise RuntimeError(f"{s.name} /v1/completions: HTTP {r.status_code}: {r.text[:300]}")
    n = r.json()["usage"]["prompt_tokens"]
    return {"value": n / wall, "work": n, "prompt_tokens": n}


async def decode_stream(s: Server, nonce: str) -> tuple[float, float, int]:
    """One streamed completion of DECODE_TOKENS tokens: (first content, last content, tokens)."""
    body = {
        "model": MODEL_ID,
        "prompt": f"[{nonce}] {SHORT_PROMPT}",
        "max_tokens": DECODE_TOKENS,
        "temperature": 0,
        "ignore_eos": True,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    first = last = None
    chunks = 0
    usage_tokens = None
    async for t, chunk in sse(s.client, "/v1/completions", body):
        if chunk_text(chunk):
            first = first or t
            last = t
            chunks += 1
        if chunk.get("usage"):
            usage_tokens = chunk["usage"].get("completion_tokens")
    if first is None:
        raise RuntimeError(f"{s.name}: the stream had no content")
    return first, last, usage_tokens or chunks


async def decode(s: Server, nonce: str, streams: int) -> dict:
    res = await asyncio.gather(*(decode_stream(s, f"{nonce}-{i}") for i in range(streams)))
    first = min(r[0] for r in res)
    last = max(r[1] for r in res)
    # The first token of each stream belongs to prompt processing; count the rest.
    tokens = sum(r[2] - 1 for r in res)
    return {"value": tokens / max(last - first, 1e-9), "work": sum(r[2] for r in res)}


async def ttft(s: Server, nonce: str, system: str | None = None) -> dict:
    """Time to the first content chunk of a streamed chat answer.

    Without `system` the nonce opens the prompt, so no server can reuse cached KV of an
    earlier request (llama-server keeps each slot's KV and reuses the longest common
    prefix). With `system` every request starts with the same long system message and only
    the user turn differs: what a chat front end with a fixed system prompt sends.
    """
    if system is None:
        # An explicit system message: SmolLM2's Jinja template (llama-server) adds a default
        # one when there is none, llama.cpp's built-in ChatML (zonegate) does not.
        messages = [{"role": "system", "content": f"[{nonce}] You are a helpful assistant."},
                    {"role": "user", "content": CHAT_PROMPT}]
    else:
        messages = [{"role": "system", "content": system}, {"role": "user", "content": f"({nonce}) {CHAT_PROMPT}"}]
    body = {
        "model": MODEL_ID,
        "messages": messages,
        "max_tokens": 8,
        "temperature": 0,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    t0 = time.perf_counter()
    first = None
    prompt_tokens = 0
    async for t, chunk in sse(s.client, "/v1/chat/completions", body):
        if first is None and chunk_text(chunk):
            first = t
        if chunk.get("usage"):
            prompt_tokens = chunk["usage"].get("prompt_tokens") or 0
    if first is None:
        raise RuntimeError(f"{s.name}: the chat stream had no content")
    return {"value": (first - t0) * 1000.0, "work": 1, "prompt_tokens": prompt_tokens}


@dataclass
class Workload:
    key: str  # for --workloads
    label: str
    unit: str
    higher_is_better: bool
    run: object  # async (Server, nonce) -> {"value": float, "work": units of work, ...}
    work_unit: str  # what the server's CPU time is divided by


WORKLOADS = [
    Workload("pp", "prompt processing (~512 tok)", "tok/s", True, prompt_processing, "prompt token"),
    Workload("decode1", "decode, 1 stream", "tok/s", True, lambda s, n: decode(s, n, 1), "token"),
    Workload(f"decode{PARALLEL}", f"decode, {PARALLEL} streams (aggregate)", "tok/s", True, lambda s, n: decode(s, n, PARALLEL), "token"),
    Workload("ttft", "time to first token (chat)", "ms", False, ttft, "request"),
    Workload("ttft-sys", "TTFT, same ~400-tok system prompt", "ms", False, lambda s, n: ttft(s, n, SYSTEM_PROMPT), "request"),
]


# ---------------------------------------------------------------- set-up


def make_pki_and_config(zonegate: Path, model: Path, tmp: Path, port: int, threads: int) -> dict:
    pki = tmp / "pki"
    pki.mkdir()

    def z(*args: str) -> None:
        subprocess.run([str(zonegate), *args], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=60)

    z("pki", "init", "--dir", str(pki), "--organisation", "zonegate bench")
    z("pki", "issue-server", "--dir", str(pki), "--out", str(pki), "--dns", "localhost", "--ip", "127.0.0.1")
    z("pki", "issue-client", "--dir", str(pki), "--out", str(pki), "--user", "bench", "--department", "IT", "--p12-password", "bench")
    (tmp / "state").mkdir()
    cfg = tmp / "zonegate.toml"
    cfg.write_text(
        "[server]\n"
        f'listen = "127.0.0.1:{port}"\n'
        'state_dir = "state"\n'
        "shutdown_grace_secs = 1\n"
        "[tls]\n"
        'cert = "pki/server.crt"\nkey = "pki/server.key"\nclient_ca = ["pki/ca.crt"]\ncrl = ["pki/ca.crl"]\n'
        "[[models]]\n"
        f'id = "{MODEL_ID}"\npath = "{model}"\ncontext_size = {CONTEXT}\nparallel = {PARALLEL}\nthreads = {threads}\n'
        '[logging]\nlevel = "info"\n'
    )
    z("--config", str(cfg), "check-config")
    ctx = ssl.create_default_context(cafile=str(pki / "ca.crt"))
    ctx.load_cert_chain(str(pki / "bench.crt"), str(pki / "bench.key"))
    return {"config": cfg, "ssl": ctx}


def stats(v: list[float]) -> tuple[float, float, float]:
    return statistics.median(v), min(v), max(v)


def fmt(v: list[float]) -> str:
    m, lo, hi = stats(v)
    prec = 0 if m >= 100 else 1
    return f"{m:.{prec}f} ({lo:.{prec}f}..{hi:.{prec}f})"


async def measure(servers: list[Server], workloads: list[Workload], runs: int, budget_s: float) -> dict:
    """Runs every workload `runs` times per server, interleaved; returns the per-run records.

    When the time budget is spent, the remaining runs are skipped (and said so): a report of
    fewer runs beats none on a machine that turned out busier than planned.
    """
    records: dict[str, dict[str, list[dict]]] = {}
    idle_cpu = {s.name: 0.0 for s in servers}
    for s in servers:  # warm-up: the first requests of a process pay for lazy set-up
        await ttft(s, "warm-up")
        await decode(s, "warm-up", 1)
    deadline = time.monotonic() + budget_s
    for w in workloads:
        records[w.key] = {s.name: [] for s in servers}
        for i in range(runs):
            if time.monotonic() > deadline:
                print(f"time budget of {budget_s:.0f}s spent: {w.label} has {i} of {runs} runs", file=sys.stderr)
                break
            # A B, then B A: adjacent runs of the two servers share the machine's state.
            for s in servers if i % 2 == 0 else servers[::-1]:
                await asyncio.sleep(SETTLE_S)
                cpu0 = {o.name: cpu_seconds(o.proc.pid) for o in servers}
                r = await w.run(s, uuid.uuid4().hex[:8])
                for o in servers:
                    used = cpu_seconds(o.proc.pid) - cpu0[o.name]
                    if o is s:
                        r["cpu_s"] = used
                    else:
                        idle_cpu[o.name] = max(idle_cpu[o.name], used)
                records[w.key][s.name].append(r)
                print(f"  {w.label:38} {s.name:12} run {i + 1}: {r['value']:8.1f} {w.unit}, server CPU {r['cpu_s']:.2f}s",
                      file=sys.stderr, flush=True)
    return {"records": records, "idle_cpu": idle_cpu}


def report(workloads: list[Workload], m: dict) -> None:
    rec = m["records"]
    zn, ln = "zonegate", "llama-server"
    w0 = 44
    done = [w for w in workloads if rec.get(w.key, {}).get(zn) and rec[w.key][ln]]

    def table(title: str, pick, fmt_unit) -> None:
        print(f"{title:{w0}} | {'zonegate median (min..max)':28} | {'llama-server median (min..max)':30} | ratio | paired ratios")
        print(f"{'-' * w0}-+-{'-' * 28}-+-{'-' * 30}-+-------+--------------------")
        for w in done:
            zv = [pick(r) for r in rec[w.key][zn]]
            lv = [pick(r) for r in rec[w.key][ln]]
            ratio = statistics.median(zv) / max(statistics.median(lv), 1e-12)
            paired = [a / max(b, 1e-12) for a, b in zip(zv, lv)]
            pm, plo, phi = stats(paired)
            print(f"{w.label + ' [' + fmt_unit(w) + ']':{w0}} | {fmt(zv):28} | {fmt(lv):30} | {ratio:5.2f} | "
                  f"{pm:.2f} ({plo:.2f}..{phi:.2f})")

    table("workload", lambda r: r["value"], lambda w: w.unit)
    print("ratio = zonegate / llama-server of the medians; for tok/s higher is better, for ms lower.\n"
          "paired ratios: median (min..max) of zonegate / llama-server over the adjacent runs of each round.\n")
    # Server CPU time per unit of work: what the process burnt (all its threads, spinning
    # included). With one thread it hardly depends on other load; with more, threads that
    # wait at a barrier for a preempted sibling spin, and it grows with the load.
    table("server CPU time per unit of work", lambda r: 1000.0 * r["cpu_s"] / max(r["work"], 1), lambda w: "ms/" + w.work_unit)
    print("lower is better; the process's user+system time during the run (/proc/PID/stat).\n")
    for w in done:
        if "prompt_tokens" in rec[w.key][zn][0]:
            seen = {n: sorted({r["prompt_tokens"] for r in rec[w.key][n]}) for n in (zn, ln)}
            print(f"prompt tokens reported, {w.label}: zonegate {seen[zn]}, llama-server {seen[ln]}")
    print("largest CPU time of the idle server during one run of the other: "
          + ", ".join(f"{k} {v:.2f}s" for k, v in m["idle_cpu"].items()))


async def main_async(args: argparse.Namespace) -> int:
    for p, what in ((args.zonegate, "zonegate"), (args.llama_server, "llama-server"), (args.model, "model")):
        if not Path(p).is_file():
            print(f"{what} not found: {p}", file=sys.stderr)
            return 2
    threads = args.threads or physical_cores()
    keys = [w.key for w in WORKLOADS]
    want = args.workloads.split(",") if args.workloads else keys
    if unknown := [k for k in want if k not in keys]:
        print(f"unknown workload(s) {', '.join(unknown)}; known: {', '.join(keys)}", file=sys.stderr)
        return 2
    workloads = [w for w in WORKLOADS if w.key in want]
    zport, lport = free_port(), free_port()
    with tempfile.TemporaryDirectory(prefix="zonegate-peer-") as tmpd:
        tmp = Path(tmpd)
        # A private copy: the cargo target dir is shared, and another build may replace the
        # binary while this one runs.
        zbin = tmp / "zonegate"
        shutil.copy2(args.zonegate, zbin)
        z = make_pki_and_config(zbin, Path(args.model), tmp, zport, threads)
        zg = Server(
            "zonegate",
            f"https://127.0.0.1:{zport}",
            [str(zbin), "--config", str(z["config"]), "serve"],
            tmp / "zonegate.log",
            {"verify": z["ssl"]},
        )
        ls = Server(
            "llama-server",
            f"http://127.0.0.1:{lport}",
            [str(args.llama_server), "-m", str(args.model), "-t", str(threads), "-c", str(CONTEXT), "-np", str(PARALLEL),
             "-cb", "--port", str(lport), "--host", "127.0.0.1"],
            tmp / "llama-server.log",
        )
        servers = [zg, ls]
        try:
            for s in servers:
                s.start()
            for s in servers:
                await s.wait_ready()
            print(f"model {args.model}\nthreads {threads}, context {CONTEXT}, parallel {PARALLEL}, "
                  f"{args.runs} runs per server and workload, interleaved\n", flush=True)
            m = await measure(servers, workloads, args.runs, args.budget)
        except BaseException:
            for s in servers:
                if s.proc is not None and s.proc.poll() is not None:
                    print(f"--- {s.name} log ---\n{s.log_tail()}", file=sys.stderr)
            raise
        finally:
            for s in servers:
                await s.stop()
            if args.keep_logs:
                for s in servers:
                    dst = Path(args.keep_logs) / s.log.name
                    dst.parent.mkdir(parents=True, exist_ok=True)
                    dst.write_bytes(s.log.read_bytes())

    report(workloads, m)
    if args.json:
        Path(args.json).write_text(json.dumps({"threads": threads, "records": m["records"]}, indent=1))
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--zonegate", default=str(DEFAULT_ZONEGATE), help="zonegate binary (%(default)s)")
    ap.add_argument("--llama-server", default=str(DEFAULT_PEER), help="llama-server binary (%(default)s)")
    ap.add_argument("--model", default=str(DEFAULT_MODEL), help="GGUF model (%(default)s)")
    ap.add_argument("--runs", type=int, default=5, choices=range(1, 21), metavar="N", help="runs per server and workload (1..20, default 5)")
    ap.add_argument("--threads", type=int, default=0, help="threads for both servers (default: physical cores)")
    ap.add_argument("--budget", type=float, default=TOTAL_BUDGET_S, help="seconds for all measurements (default %(default)s)")
    ap.add_argument("--workloads", help=f"comma-separated subset of: {', '.join(w.key for w in WORKLOADS)}")
    ap.add_argument("--json", help="also write the raw figures to this file")
    ap.add_argument("--keep-logs", help="copy both servers' logs into this directory")
    args = ap.parse_args()
    try:
        return asyncio.run(main_async(args))
    except KeyboardInterrupt:
        print("interrupted; both servers stopped", file=sys.stderr)
        return 130
    except (RuntimeError, subprocess.SubprocessError, httpx.HTTPError) as e:
        print(f"bench-peer failed: {e}", file=sys.stderr)
        return 1
    finally:
        for p in STARTED:  # normally already stopped by Server.stop
            if p.poll() is None:
                p.kill()
                p.wait(timeout=10)


if __name__ == "__main__":
    sys.exit(main())
