"""The PyTorch peer of tools/bench/src/vit.ts: one training step of torchvision's VisionTransformer on the CPU.

Usage: /usr/bin/python3 torch_vit.py <weights+batch.safetensors> '<json settings>'

The safetensors file holds our ViT's initial state dict (torchvision's names) plus `images` [B, C, S, S]
and `labels` [B]; the settings give the model shape, AdamW, label smoothing, threads and step counts.
Prints one JSON line: median ms per step, the losses, the parameter count, and the speed of a 1024^3 matmul
at 1 thread and at the run's threads (Debian's torch uses a generic BLAS: that figure says how far from a
tuned one the step runs).
"""

import json
import re
import statistics
import struct
import sys
import time

import numpy as np
import torch
from torch import nn
from torchvision.models.vision_transformer import VisionTransformer

DTYPES = {"F32": np.float32, "I32": np.int32}


def read_safetensors(path):
    """Hugging Face safetensors: 8-byte little-endian header length, JSON header, raw little-endian data."""
    with open(path, "rb") as f:
        blob = f.read()
    (size,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8 : 8 + size])
    base = 8 + size
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        array = np.frombuffer(blob[base + begin : base + end], dtype=DTYPES[info["dtype"]])
        out[name] = torch.from_numpy(array.reshape(info["shape"]).copy())
    return out


def matmul_gflops(threads, n=1024, reps=3):
    """Best of `reps` n^3 products at `threads` threads, after a warm-up."""
    torch.set_num_threads(threads)
    a = torch.randn(n, n)
    b = torch.randn(n, n)
    a @ b
    best = float("inf")
    for _ in range(reps):
        t0 = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - t0)
    return 2 * n**3 / best / 1e9


def main():
    path, settings = sys.argv[1], json.loads(sys.argv[2])
    threads = settings["threads"]
    tensors = read_safetensors(path)
    images = tensors.pop("images")
    labels = tensors.pop("labels").long()
    m = settings["model"]
    torch.manual_seed(0)  # the weights all come from the file; this only fixes torchvision's throwaway init
    model = VisionTransformer(
        image_size=m["imageSize"],
        patch_size=m["patchSize"],
        num_layers=m["numLayers"],
        num_heads=m["numHeads"],
        hidden_dim=m["hiddenDim"],
        mlp_dim=m["mlpDim"],
        num_classes=m["numClasses"],
    )
    # torchvision hard-codes 3 input channels; the stem is the same Conv2d with ours
    model.conv_proj = nn.Conv2d(m["channels"], m["hiddenDim"], kernel_size=m["patchSize"], stride=m["patchSize"])
    model.load_state_dict(tensors, strict=True)
    model.train()
    o = settings["optim"]
    params = list(model.parameters())
    optimizer = torch.optim.AdamW(
        [
            {"params": [p for p in params if p.ndim >= 2], "weight_decay": o["weightDecay"]},
            {"params": [p for p in params if p.ndim < 2], "weight_decay": 0.0},
        ],
        lr=o["lr"],
        betas=tuple(o["betas"]),
        eps=o["eps"],
    )
    torch.set_num_threads(threads)

    def step():
        optimizer.zero_grad(set_to_none=True)
        loss = nn.functional.cross_entropy(model(images), labels, label_smoothing=o["labelSmoothing"])
        loss.backward()
        optimizer.step()
        return loss.item()

    losses, samples = [], []
    for _ in range(settings["warmup"]):
        losses.append(step())
    for _ in range(settings["steps"]):
        t0 = time.perf_counter()
        losses.append(step())
        samples.append((time.perf_counter() - t0) * 1000)
    warm = settings["warmup"]
    blas = re.search(r"BLAS_INFO=(\w+)", torch.__config__.show())
    result = {
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "blas": blas.group(1) if blas else "unknown",
        "params": sum(p.numel() for p in params),
        "ms": statistics.median(samples),
        "samples": samples,
        "initialLoss": losses[0],
        "firstLoss": losses[warm],
        "lastLoss": losses[-1],
        "matmulGflops1": matmul_gflops(1),
        "matmulGflops": matmul_gflops(threads),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
