"""Speed and memory of WRO Triage on a fixed set of 200 documents of about 400 words.

Measures, for each pipeline: throughput (docs/s) and seconds per stage; for the models pipeline a naive reference
(one document and one sentence per encoder call, no batching) on a subset, reported as a ratio; and, against a
real `triage serve` process on loopback: cold start (process start to /readyz), API latency p50/p95 for single
400-word analyses, and the server's peak RSS. Results go to stdout and var/bench/latest.json.

usage: python benchmarks/run.py [--pipelines rules,models] [--requests 100] [--naive-docs 20]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx

from service.config import REPO_ROOT, Settings
from service.nlp.pipeline import Pipeline

TARGET_WORDS = 400
DOCUMENTS = 200


def fixed_documents() -> list[tuple[str, str, str | None]]:
    """200 English corpus documents (test split first, then dev), each cut or extended to ~400 words."""
    rows: list[dict[str, Any]] = []
    for split in ("test", "dev", "train"):
        path = REPO_ROOT / "corpora" / "wro_triage" / "v1" / f"{split}.jsonl"
        rows += [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    rows = [r for r in rows if r["language"] == "en"]
    docs: list[tuple[str, str, str | None]] = []
    pool = iter(rows)
    while len(docs) < DOCUMENTS:
        text = next(pool)["text"]
        while len(text.split()) < TARGET_WORDS:
            text += "\n\n" + next(pool)["text"]
        words = text.split()[:TARGET_WORDS]
        docs.append((f"bench-{len(docs):03d}", " ".join(words), "en"))
    return docs


def throughput(pipeline: Pipeline, docs: list[tuple[str, str, str | None]]) -> dict[str, Any]:
    pipeline.stage_seconds.clear()
    started = time.perf_counter()
    count = sum(1 for _ in pipeline.analyze_many(docs))
    elapsed = time.perf_counter() - started
    return {
        "documents": count,
        "seconds": round(elapsed, 2),
        "docs_per_second": round(count / elapsed, 2),
        "stage_seconds": {k: round(v, 2) for k, v in sorted(pipeline.stage_seconds.items())},
    }


def naive_reference(pipeline: Pipeline, docs: list[tuple[str, str, str | None]]) -> dict[str, Any]:
    """The same analyses with no batching: one document per call and one sentence per encoder call."""
    encoder = pipeline.encoder
    if encoder is None:
        return {}
    original_encode = encoder.encode
    original_batch = pipeline.batch_size

    def one_by_one(texts: list[str]) -> Any:
        import numpy as np

        return np.vstack([original_encode([t]) for t in texts]) if texts else original_encode([])

    encoder.encode = one_by_one  # type: ignore[method-assign]
    pipeline.batch_size = 1
    try:
        started = time.perf_counter()
        for item in docs:
            pipeline.analyze(*item)
        elapsed = time.perf_counter() - started
    finally:
        encoder.encode = original_encode  # type: ignore[method-assign]
        pipeline.batch_size = original_batch
    return {
        "documents": len(docs),
        "seconds": round(elapsed, 2),
        "docs_per_second": round(len(docs) / elapsed, 2),
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def peak_rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    match = re.search(r"VmHWM:\s+(\d+) kB", status)
    return round(int(match.group(1)) / 1024, 1) if match else float("nan")


def serve_and_measure(
    pipeline_name: str, docs: list[tuple[str, str, str | None]], requests: int
) -> dict[str, Any]:
    port = free_port()
    workdir = Path(tempfile.mkdtemp(prefix="triage-bench-"))
    env = {
        **os.environ,
        "TRIAGE_DATABASE_URL": f"sqlite:///{workdir / 'bench.db'}",
        "TRIAGE_PORT": str(port),
        "TRIAGE_PIPELINE": pipeline_name,
        "TRIAGE_LOG_LEVEL": "WARNING",
        "HF_HUB_OFFLINE": "1",
    }
    triage = Path(sys.executable).parent / "triage"
    key = subprocess.run(
        [str(triage), "apikey", "create", "benchmark", "--role", "reviewer"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    started = time.perf_counter()
    server = subprocess.Popen(
        [str(triage), "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(timeout=60, headers={"Authorization": f"Bearer {key}"}) as client:
            while True:
                if server.poll() is not None:
                    raise RuntimeError(
                        f"server exited: {server.stderr.read().decode()[-2000:] if server.stderr else ''}"
                    )
                try:
                    if client.get(f"{base}/readyz").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.perf_counter() - started > 120:
                    raise RuntimeError("server not ready after 120 s")
                time.sleep(0.05)
            cold_start = time.perf_counter() - started
            latencies = []
            for i in range(requests):
                doc_id, text, _lang = docs[i % len(docs)]
                t0 = time.perf_counter()
                response = client.post(f"{base}/api/v1/analyze", json={"id": doc_id, "text": text})
                latencies.append((time.perf_counter() - t0) * 1000)
                response.raise_for_status()
        latencies.sort()
        return {
            "cold_start_seconds": round(cold_start, 2),
            "requests": requests,
            "latency_ms_p50": round(statistics.median(latencies), 1),
            "latency_ms_p95": round(latencies[int(0.95 * (len(latencies) - 1))], 1),
            "server_peak_rss_mb": peak_rss_mb(server.pid),
        }
    finally:
        server.terminate()
        server.wait(timeout=30)


def main() -> int:
    parser = argparse.ArgumentParser(description="WRO Triage benchmark")
    parser.add_argument("--pipelines", default="rules,models")
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--naive-docs", type=int, default=20)
    args = parser.parse_args()
    docs = fixed_documents()
    results: dict[str, Any] = {
        "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
        "documents": len(docs),
        "words_per_document": TARGET_WORDS,
    }
    for name in args.pipelines.split(","):
        load_started = time.perf_counter()
        pipeline = Pipeline.load(Settings(pipeline=name))
        entry: dict[str, Any] = {"load_seconds": round(time.perf_counter() - load_started, 2)}
        list(pipeline.analyze_many(docs[:4]))  # warm-up outside the measurement
        entry["batched"] = throughput(pipeline, docs)
        naive = naive_reference(pipeline, docs[: args.naive_docs])
        if naive:
            entry["naive_reference"] = naive
            entry["batched_over_naive"] = round(
                entry["batched"]["docs_per_second"] / naive["docs_per_second"], 2
            )
        entry["api"] = serve_and_measure(name, docs, args.requests)
        results[name] = entry
        print(json.dumps({name: entry}, indent=1), flush=True)
    out = REPO_ROOT / "var" / "bench" / "latest.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=1), encoding="utf-8")
    print(f"written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
