"""Peer measurement for bench/embeddings.sh: sentence-transformers on PyTorch CPU, on the
same model folder and sentences as hfb-runtime's embed_bench example, same method.

    python embeddings_peer.py --model DIR --sentences FILE [--batches 1,8,32] [--rounds 3] [--threads 2]

For each batch size b (median of --rounds timed runs after one warm-up):
- calls: 256/b `encode` calls of b sentences, one after another;
- one-call: one `encode(sentences, batch_size=b)` call.
Output lines: `RESULT st <mode> <b> <sentences/s> <CPU ms per sentence>`.
"""

import argparse
import os
import statistics
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import torch  # noqa: E402
from sentence_transformers import SentenceTransformer  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", required=True)
    parser.add_argument("--sentences", required=True)
    parser.add_argument("--batches", default="1,8,32")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    with open(args.sentences, encoding="utf-8") as f:
        sentences = [line.rstrip("\n") for line in f if line.strip()]
    model = SentenceTransformer(args.model, device="cpu")
    print(
        f"sentence-transformers {__import__('sentence_transformers').__version__}, torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads, {len(sentences)} sentences"
    )

    def timed(run):
        run()  # warm-up
        rates = []
        cpu_start = time.process_time()
        for _ in range(args.rounds):
            started = time.perf_counter()
            run()
            rates.append(len(sentences) / (time.perf_counter() - started))
        cpu_ms = (time.process_time() - cpu_start) * 1000 / (len(sentences) * args.rounds)
        return f"{statistics.median(rates):.1f} {cpu_ms:.2f}"

    with torch.inference_mode():
        for b in [int(x) for x in args.batches.split(",")]:

            def calls():
                for i in range(0, len(sentences), b):
                    model.encode(sentences[i : i + b], batch_size=b, show_progress_bar=False)

            def one_call():
                model.encode(sentences, batch_size=b, show_progress_bar=False)

            print(f"RESULT st calls {b} {timed(calls)}", flush=True)
            print(f"RESULT st one-call {b} {timed(one_call)}", flush=True)


if __name__ == "__main__":
    main()
