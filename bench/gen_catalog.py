#!/usr/bin/env python3
"""Writes N SYNTHETIC model entries in the Hub's /api/models?full=true JSON shape.

Names are clearly synthetic (synthetic-org-N/synthetic-model-N); distributions are
shaped like the real Hub: ~30 tasks, ~20 libraries, Zipf-like downloads, 1-8 tags.
Deterministic (seeded) so runs are comparable."""

import json
import random
import sys

TASKS = [
    "text-classification", "token-classification", "question-answering", "summarization",
    "translation", "text-generation", "fill-mask", "feature-extraction", "sentence-similarity",
    "zero-shot-classification", "image-classification", "object-detection", "image-segmentation",
    "text-to-image", "image-to-text", "automatic-speech-recognition", "audio-classification",
    "text-to-speech", "depth-estimation", "video-classification", "tabular-classification",
    "tabular-regression", "reinforcement-learning", "conversational", "table-question-answering",
    "visual-question-answering", "document-question-answering", "image-to-image", "mask-generation",
    "zero-shot-image-classification",
]
LIBRARIES = [
    "transformers", "sentence-transformers", "diffusers", "timm", "peft", "gguf", "onnx",
    "keras", "flair", "spacy", "adapter-transformers", "fastai", "stable-baselines3", "espnet",
    "speechbrain", "setfit", "span-marker", "mlx", "transformers.js", "open_clip",
]
LICENSES = ["apache-2.0", "mit", "cc-by-4.0", "cc-by-nc-4.0", "openrail", "llama3.1", "gpl-3.0", "other"]
LANGUAGES = ["en", "de", "fr", "es", "zh", "ja", "ar", "ru", "pt", "it", "multilingual"]
EXTRA_TAGS = ["pytorch", "safetensors", "tf", "jax", "bert", "llama", "vit", "whisper", "t5", "lora", "4bit", "endpoints_compatible"]


def main(n: int) -> None:
    rng = random.Random(20261129)
    out = sys.stdout
    out.write("[")
    for i in range(n):
        task = TASKS[min(int(rng.paretovariate(1.2)) - 1, len(TASKS) - 1)]
        library = LIBRARIES[min(int(rng.paretovariate(1.1)) - 1, len(LIBRARIES) - 1)]
        license_ = rng.choice(LICENSES)
        langs = rng.sample(LANGUAGES, rng.randint(0, 2))
        tags = [library, task, f"license:{license_}", *langs, *rng.sample(EXTRA_TAGS, rng.randint(1, 4))]
        downloads = int(10_000_000 / (i % 5000 + 1) ** 1.1 * rng.random())
        day = 1 + rng.randrange(28)
        entry = {
            "id": f"synthetic-org-{i % 2000}/synthetic-model-{i}-{task.split('-')[0]}",
            "author": f"synthetic-org-{i % 2000}",
            "pipeline_tag": task,
            "library_name": library,
            "tags": tags,
            "downloads": downloads,
            "likes": downloads // 1000 + rng.randrange(5),
            "trendingScore": round(rng.random() * 50, 2),
            "gated": rng.choice([False] * 18 + ["auto", "manual"]),
            "private": False,
            "createdAt": f"2024-{1 + i % 12:02d}-{day:02d}T10:00:00.000Z",
            "lastModified": f"2025-{1 + i % 12:02d}-{day:02d}T12:00:00.000Z",
            "siblings": [{"rfilename": "config.json"}, {"rfilename": "model.safetensors"}],
        }
        if i:
            out.write(",")
        out.write(json.dumps(entry, separators=(",", ":")))
    out.write("]\n")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
