"""PyTorch side of scripts/peers.sh: time Restore-RWKV in PyTorch eager on this CPU and export the
same network to ONNX for ONNX Runtime.

The model comes from a Python file the user names (--model-py): it must define
`RestoreRWKV(inp_channels, out_channels, dim, num_blocks, num_refinement_blocks)` as an nn.Module
that runs on CPU, with the authors' signature. The authors' own definition needs CUDA for its
Bi-WKV; a definition with a pluggable CPU Bi-WKV names it with --wkv (assigned to the module's `WKV`).
Weights are PyTorch's initial values for a fixed seed: timing does not depend on them.

Writes CONFIG.onnx (exported at the first size, height and width free), and per size
CONFIG-SIZE.in.f32 (the input) and CONFIG-SIZE.out.f32 (PyTorch's output), raw little-endian
float32, so the ONNX Runtime run can check the export at that size, and a JSON line of timings.
"""
import argparse, importlib.util, json, resource, statistics, sys, time
import numpy as np
import torch

CONFIGS = {"default": dict(dim=48, num_blocks=[4, 6, 6, 8], num_refinement_blocks=4),
           "light": dict(dim=16, num_blocks=[1, 1, 2, 2], num_refinement_blocks=1)}


def load_module(path, wkv):
    spec = importlib.util.spec_from_file_location("peer_model", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    if wkv:
        if not hasattr(mod, wkv):
            sys.exit(f"torch_peer: {path}: no function {wkv}")
        mod.WKV = getattr(mod, wkv)
    return mod


def freeze_omni_shift(net):
    """An Omni-Shift that re-parameterizes on every eval call (`fused_weight()`) cannot be exported
    (the ONNX exporter needs a convolution kernel of known shape): compute its fused 5x5 kernel once
    into `conv5x5_reparam`, as the authors' model does on its first eval call."""
    for m in net.modules():
        if hasattr(m, "fused_weight") and hasattr(m, "conv5x5_reparam"):
            with torch.no_grad():
                m.conv5x5_reparam.weight.copy_(m.fused_weight())
            m.forward = m.conv5x5_reparam.forward


def timed(fn, warmup, repeat):
    for _ in range(warmup):
        fn()
    ts = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return ts


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--model-py", required=True)
    p.add_argument("--wkv")
    p.add_argument("--config", choices=CONFIGS, default="light")
    p.add_argument("--sizes", default="256,512")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--time-sizes", help="sizes to time (default: all); the others are run once, for the export check")
    p.add_argument("--out", required=True, help="folder for the ONNX files, inputs and outputs")
    p.add_argument("--train", action="store_true", help="time a training step (batch 4, 128², Adam, L1) instead")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    mod = load_module(a.model_py, a.wkv)
    torch.manual_seed(0)
    net = mod.RestoreRWKV(1, 1, **CONFIGS[a.config])

    if a.train:
        net.train()
        opt = torch.optim.Adam(net.parameters(), lr=2e-4)
        x, y = torch.rand(4, 1, 128, 128), torch.rand(4, 1, 128, 128)

        def step():
            opt.zero_grad()
            torch.nn.functional.l1_loss(net(x), y).backward()
            opt.step()
        ts = timed(step, a.warmup, a.repeat)
        print(json.dumps({"peer": "pytorch", "torch": torch.__version__, "config": a.config, "mode": "train",
                          "batch": 4, "size": 128, "median_s": statistics.median(ts), "min_s": min(ts)}))
        return

    net.eval()
    sizes = [int(v) for v in a.sizes.split(",")]
    for s in sizes:
        x = torch.rand(1, 1, s, s, generator=torch.Generator().manual_seed(s))
        timing = a.time_sizes is None or str(s) in a.time_sizes.split(",")
        with torch.no_grad():
            ts = timed(lambda: net(x), a.warmup, a.repeat) if timing else None
            y = net(x)
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        x.numpy().astype("<f4").tofile(f"{a.out}/{a.config}-{s}.in.f32")
        y.numpy().astype("<f4").tofile(f"{a.out}/{a.config}-{s}.out.f32")
        if s == sizes[0]:
            # one export with H and W free: exported at a large size the graph takes tens of GB (the
            # default model at 256²); ONNX Runtime's output is checked at every size against PyTorch's.
            # No constant folding: the O(T) Bi-WKV's position terms would become T x C initializers.
            freeze_omni_shift(net)
            torch.onnx.export(net, x, f"{a.out}/{a.config}.onnx", opset_version=17, do_constant_folding=False,
                              input_names=["input"], output_names=["output"],
                              dynamic_axes={"input": {2: "height", 3: "width"}, "output": {2: "height", 3: "width"}})
        if not timing:
            continue
        print(json.dumps({"peer": "pytorch", "torch": torch.__version__, "config": a.config, "mode": "infer",
                          "size": s, "median_s": statistics.median(ts), "min_s": min(ts),
                          "peak_rss_mb": rss}), flush=True)


if __name__ == "__main__":
    main()
