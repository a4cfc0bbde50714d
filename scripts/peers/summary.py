"""Table of scripts/peers.sh: this project's `bench --json` files beside the peers' JSON lines."""
import glob, json, os, sys

out = sys.argv[1]
rows = {}
for line in open(os.path.join(out, "results.jsonl")):
    r = json.loads(line)
    key = (r["config"], r.get("mode", "infer"), r.get("size", 128))
    rows.setdefault(key, {})[r["peer"]] = r
for f in glob.glob(os.path.join(out, "ours-*.json")):
    d = json.load(open(f))
    for r in d["results"]:
        rows.setdefault((r["config"], r["mode"], r["size"]), {})["ours"] = r
print("| config | mode, size | restore-rwkv s | ONNX Runtime s (x) | PyTorch eager s (x) | ONNX vs PyTorch max abs diff |")
print("|---|---|---|---|---|---|")
for (config, mode, size), peers in sorted(rows.items()):
    ours = peers.get("ours")

    def cell(name):
        p = peers.get(name)
        if p is None:
            return "-"
        if "failed" in p:
            return f"failed ({p['failed']})"
        return f"{p['median_s']:.3f} ({p['median_s'] / ours['median_s']:.2f}x)" if ours else f"{p['median_s']:.3f}"
    diff = peers.get("onnxruntime", {}).get("max_abs_diff_vs_pytorch")
    mine = f"{ours['median_s']:.3f}" if ours else "-"
    print(f"| {config} | {mode} {size}² | {mine} | {cell('onnxruntime')} | {cell('pytorch')} | "
          f"{'-' if diff is None else f'{diff:.1e}'} |")
