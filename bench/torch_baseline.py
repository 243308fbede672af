"""PyTorch baseline for bench/gpu.ts: the same models, sizes and steps, timed on the same GPU.

Prints one JSON object on stdout. Two ways of running the same steps:
  - eager: a Python loop of steps (what most training code does);
  - CUDA graph: K = 32 steps captured into one graph and replayed (PyTorch at its strongest for
    many small steps: no Python or launch cost per kernel; the same idea as the WebGPU plan's
    32 steps per submit). Data on the GPU, the batch gathered by index inside every step.
Timings: eager synchronises CUDA around the timed region; graphs are timed with CUDA events
around replays after warm-up replays. Medians of repeats. float32 throughout (TF32 off), as the
WebGPU side is.
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


K = 32
"""Steps captured per CUDA graph (the WebGPU plan's steps per submit)."""


def graph_seconds(step, k=K, replays=20, warmup=5):
    """Median seconds of one replay of a CUDA graph holding k calls of step(s)."""
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):  # warm-up outside the capture (cuDNN/cuBLAS handles, autograd state)
        for s in range(3):
            step(s)
    torch.cuda.current_stream().wait_stream(side)
    g = torch.cuda.CUDAGraph()
    with torch.cuda.graph(g):
        for s in range(k):
            step(s)
    for _ in range(warmup):
        g.replay()
    torch.cuda.synchronize()
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    ts = []
    for _ in range(replays):
        start.record()
        g.replay()
        end.record()
        end.synchronize()
        ts.append(start.elapsed_time(end) / 1000)
    return statistics.median(ts)


def sgd_step(model, opt, x, y, idx, loss_sum):
    """One SGD step on rows idx[s] (gathered on the GPU), its loss added to loss_sum, as the Trainer does."""

    def step(s):
        i = idx[s]
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x[i]), y[i])
        loss.backward()
        opt.step()
        loss_sum.add_(loss.detach())

    return step


def train_rate(make, x, y, batch, steps):
    """Samples/s of plain SGD steps with the data already on the GPU (index gather per step): eager and CUDA graph."""
    model = make()
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    idx = torch.randint(0, x.shape[0], (max(steps, K), batch), device=dev)
    loss_sum = torch.zeros((), device=dev)
    step = sgd_step(model, opt, x, y, idx, loss_sum)

    def run():
        for s in range(steps):
            step(s)

    eager = steps * batch / timed(run)
    model = make()
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    graph = K * batch / graph_seconds(sgd_step(model, opt, x, y, idx, loss_sum))
    return eager, graph


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
    """All peers' MLPs stacked ([P, in, out] weights), one bmm forward/backward, one SGD update: eager and CUDA graph peer-steps/s."""
    w1 = (torch.randn(peers, 784, 128, device=dev) * 0.05).requires_grad_()
    b1 = torch.zeros(peers, 1, 128, device=dev, requires_grad=True)
    w2 = (torch.randn(peers, 128, 10, device=dev) * 0.05).requires_grad_()
    b2 = torch.zeros(peers, 1, 10, device=dev, requires_grad=True)
    params = [w1, b1, w2, b2]
    idx = torch.randint(0, x.shape[0], (max(steps, K), peers * batch), device=dev)

    def step(s):
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

    def run():
        for s in range(steps):
            step(s)

    eager = peers * steps / timed(run)
    graph = peers * K / graph_seconds(step, replays=10, warmup=3)
    return eager, graph


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
    ap.add_argument("--peers", default="256,1024", help="peer counts of the batched (bmm) step; the first is the per-peer loop's and the mixing's")
    ap.add_argument("--peer-batch", type=int, default=32)
    ap.add_argument("--steps", type=int, default=50)
    a = ap.parse_args()
    peers = [int(p) for p in str(a.peers).split(",")]
    x, y = data()
    out = {
        "device": torch.cuda.get_device_name(0),
        "torch": torch.__version__,
        "matmulFlops": matmul_rate(),
        "graphSteps": K,
        "train": {},
        "trainGraph": {},
        "peers": peers[0],
        "peerCounts": peers,
        "peerBatch": a.peer_batch,
    }
    for name, make in (("mlp", lambda: mlp().to(dev)), ("cnn", lambda: LeNet().to(dev))):
        for b in [int(s) for s in a.batches.split(",")]:
            out["train"][f"{name}/{b}"], out["trainGraph"][f"{name}/{b}"] = train_rate(make, x, y, b, a.steps)
    out["perPeerLoopPeerStepsPerSec"] = per_peer_loop(peers[0], a.peer_batch, x, y)
    out["batchedBmm"] = {}
    out["batchedBmmGraph"] = {}
    for p in peers:
        out["batchedBmm"][str(p)], out["batchedBmmGraph"][str(p)] = batched_bmm(p, a.peer_batch, x, y)
    out["batchedBmmPeerStepsPerSec"] = out["batchedBmm"][str(peers[0])]
    out["mixingMs"] = mixing(peers[0], 784 * 128 + 128 + 128 * 10 + 10)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
