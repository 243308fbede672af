"""PyTorch baseline for bench/gpu.ts: the same models, sizes and steps, timed on the same GPU.

Prints one JSON object on stdout. Timings synchronise CUDA around the timed region and take
the median of repeats after warm-up. float32 throughout (TF32 off), as the WebGPU side is.
"""
import argparse
import json
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.backends.cuda.matmul.allow_tf32 = False
torch.backends.cudnn.allow_tf32 = False
dev = torch.device("cuda")


def timed(fn, repeats=5, warmup=2):
    """Median seconds of fn() over repeats, CUDA-synchronised."""
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    ts = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        torch.cuda.synchronize()
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts)


def mlp():
    return nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))


class LeNet(nn.Module):
    """conv5x5 same (6) → ReLU → pool → conv5x5 valid (16) → ReLU → pool → 400-120-84-10, as the zoo's CNN."""

    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(1, 6, 5, padding=2)
        self.c2 = nn.Conv2d(6, 16, 5)
        self.f1 = nn.Linear(400, 120)
        self.f2 = nn.Linear(120, 84)
        self.f3 = nn.Linear(84, 10)

    def forward(self, x):
        x = x.view(-1, 1, 28, 28)
        x = F.max_pool2d(F.relu(self.c1(x)), 2)
        x = F.max_pool2d(F.relu(self.c2(x)), 2)
        x = x.flatten(1)
        return self.f3(F.relu(self.f2(F.relu(self.f1(x)))))


def data(n=8192):
    g = torch.Generator(device="cpu").manual_seed(1)
    x = torch.rand(n, 784, generator=g).to(dev)
    y = torch.randint(0, 10, (n,), generator=g).to(dev)
    return x, y


def train_rate(model, x, y, batch, steps):
    """Samples/s of plain SGD steps with the data already on the GPU (index gather per step)."""
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    idx = torch.randint(0, x.shape[0], (steps, batch), device=dev)

    def run():
        for s in range(steps):
            i = idx[s]
            loss = F.cross_entropy(model(x[i]), y[i])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()

    return steps * batch / timed(run)


def per_peer_loop(peers, batch, x, y):
    """One SGD step for each of `peers` separate MLPs, one after another."""
    models = [mlp().to(dev) for _ in range(peers)]
    opts = [torch.optim.SGD(m.parameters(), lr=0.01) for m in models]
    idx = torch.randint(0, x.shape[0], (peers, batch), device=dev)

    def run():
        for p in range(peers):
            i = idx[p]
            loss = F.cross_entropy(models[p](x[i]), y[i])
            opts[p].zero_grad(set_to_none=True)
            loss.backward()
            opts[p].step()

    return peers / timed(run, repeats=3, warmup=1)


def batched_bmm(peers, batch, x, y, steps=20):
    """All peers' MLPs stacked ([P, in, out] weights), one bmm forward/backward, one SGD update."""
    w1 = (torch.randn(peers, 784, 128, device=dev) * 0.05).requires_grad_()
    b1 = torch.zeros(peers, 1, 128, device=dev, requires_grad=True)
    w2 = (torch.randn(peers, 128, 10, device=dev) * 0.05).requires_grad_()
    b2 = torch.zeros(peers, 1, 10, device=dev, requires_grad=True)
    params = [w1, b1, w2, b2]
    idx = torch.randint(0, x.shape[0], (steps, peers * batch), device=dev)

    def run():
        for s in range(steps):
            i = idx[s]
            xb = x[i].view(peers, batch, 784)
            yb = y[i]
            h = torch.relu(torch.bmm(xb, w1) + b1)
            logits = torch.bmm(h, w2) + b2
            # Sum over peers of each peer's mean loss: each peer gets its own mean-loss gradient.
            loss = F.cross_entropy(logits.view(-1, 10), yb, reduction="sum") / batch
            grads = torch.autograd.grad(loss, params)
            with torch.no_grad():
                torch._foreach_add_(params, grads, alpha=-0.01)

    return peers * steps / timed(run)


def mixing(peers, dim):
    w = torch.rand(peers, peers, device=dev)
    w = w / w.sum(1, keepdim=True)
    xs = [torch.randn(peers, dim, device=dev) for _ in range(4)]
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    for xx in xs:
        w @ xx
    torch.cuda.synchronize()
    ts = []
    for r in range(40):
        start.record()
        w @ xs[r % 4]
        end.record()
        torch.cuda.synchronize()
        ts.append(start.elapsed_time(end))
    return statistics.median(ts)


def matmul_rate(n=4096):
    a = torch.randn(n, n, device=dev)
    b = torch.randn(n, n, device=dev)
    t = timed(lambda: [a @ b for _ in range(10)], repeats=5)
    return 10 * 2 * n**3 / t


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--batches", default="32,128,512")
    ap.add_argument("--peers", type=int, default=256)
    ap.add_argument("--peer-batch", type=int, default=32)
    ap.add_argument("--steps", type=int, default=50)
    a = ap.parse_args()
    x, y = data()
    out = {
        "device": torch.cuda.get_device_name(0),
        "torch": torch.__version__,
        "matmulFlops": matmul_rate(),
        "train": {},
        "peers": a.peers,
        "peerBatch": a.peer_batch,
    }
    for name, make in (("mlp", lambda: mlp().to(dev)), ("cnn", lambda: LeNet().to(dev))):
        for b in [int(s) for s in a.batches.split(",")]:
            out["train"][f"{name}/{b}"] = train_rate(make(), x, y, b, a.steps)
    out["perPeerLoopPeerStepsPerSec"] = per_peer_loop(a.peers, a.peer_batch, x, y)
    out["batchedBmmPeerStepsPerSec"] = batched_bmm(a.peers, a.peer_batch, x, y)
    out["mixingMs"] = mixing(a.peers, 784 * 128 + 128 + 128 * 10 + 10)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
