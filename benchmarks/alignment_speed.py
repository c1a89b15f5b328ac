"""Speed and memory of the layer-wise tangent-kernel alignment, against two reference methods.

Network: MLP with input 40, depth 10, width 256, C = 10 outputs (ReLU at the edge of chaos),
balanced labels, all 11 layers, centred tangent kernels (Baratin et al. 2021). Methods:

  ours-f64   eqhyp_utils.alignment.layerwise_alignment, float64 tiles
  ours-f32   the same with float32 forward/backward and tiles (sums still in float64)
  torch.func explicit per-layer Jacobians (jacrev + vmap), K_l = Φ_l Φ_lᵀ, float32
  nngeometry nngeometry's GramMatrix per layer (the library of Baratin et al.'s code), float32

Every method runs in a fresh subprocess, so its peak resident memory (ru_maxrss) is its own.

When torch sees a CUDA GPU, a second table follows with the same alignment on the GPU (gpu-f64,
gpu-f32; tiles of --gpu-block-size samples) at n = --gpu-ns (default 1024, 4096, 16384), each row
with its speed-up over the CPU path (ours-f64) measured in the same run, at those n up to
--gpu-cpu-max-n; beyond it the CPU time is extrapolated ∝ n² from the largest measured n (the tiles
dominate) and marked "≈". Without a GPU the script says so and prints the CPU table only.

    python benchmarks/alignment_speed.py --ns 256 512 1024 --threads 2 --repeats 3
    python benchmarks/alignment_speed.py --n 4096 --methods ours-f64 ours-f32
    python benchmarks/alignment_speed.py --ns 1024 --methods ours-f64 --gpu-ns 1024 4096 16384
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
METHODS = ("ours-f64", "ours-f32", "torch.func", "nngeometry")
GPU_METHODS = ("gpu-f64", "gpu-f32")
D_IN, DEPTH, WIDTH, N_CLASSES = 40, 10, 256, 10


def reference_memory_gb(n: int, bytes_per_float: int = 4) -> float:
    """Estimated peak of the torch.func path: twice the largest Jacobian (n·C × p_l) plus one K_l."""
    p_max = max(a * b + b for a, b in [(D_IN, WIDTH), (WIDTH, WIDTH), (WIDTH, N_CLASSES)])
    rows = n * N_CLASSES
    return (2 * rows * p_max + rows * rows) * bytes_per_float / 1e9


# ---------------------------------------------------------------------------------------------- worker

def _setup(n: int, seed: int):
    import torch
    from eqhyp_utils import MLP
    model = MLP(D_IN, N_CLASSES, DEPTH, WIDTH, "relu", sigma_w2=2.0, sigma_b2=0.0, seed=seed)
    x = torch.randn(n, D_IN, generator=torch.Generator().manual_seed(seed + 1))
    labels = torch.arange(n) % N_CLASSES
    return model, x, labels


def _centre_blocks(K, n: int, C: int):
    K4 = K.view(n, C, n, C)
    K4 = K4 - K4.mean(dim=0, keepdim=True)
    return (K4 - K4.mean(dim=2, keepdim=True)).reshape(n * C, n * C)


def _run_method(method: str, model, x, labels, block_size: int):
    import numpy as np
    import torch
    from eqhyp_utils.alignment import kernel_alignment, layerwise_alignment
    from eqhyp_utils.tangent_kernels import reference_layer_tangent_kernels

    if method == "ours-f64":
        return layerwise_alignment(model, x, labels, dtype=torch.float64, block_size=block_size)
    if method == "ours-f32":
        return layerwise_alignment(model, x, labels, dtype=torch.float32, block_size=block_size)
    if method in GPU_METHODS:                                 # the model is on the GPU; x moves there
        dtype = torch.float64 if method == "gpu-f64" else torch.float32
        return layerwise_alignment(model, x, labels, dtype=dtype, block_size=block_size)
    if method == "torch.func":
        out = []
        for l in range(1, DEPTH + 2):                         # one layer at a time: one Jacobian alive
            K = reference_layer_tangent_kernels(model, x, centre=True, dtype=torch.float32, layers=[l])[0]
            out.append(kernel_alignment(K, labels))
            del K
        return np.array(out)
    if method == "nngeometry":
        from nngeometry import GramMatrix
        from nngeometry.layercollection import LayerCollection
        loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, labels), batch_size=256)
        n, out = x.shape[0], []
        for layer in model.layers:
            collection = LayerCollection()
            collection.add_layer_from_model(model, layer)
            G = GramMatrix(model, loader, layer_collection=collection).data      # (C, n, C, n)
            K = G.permute(1, 0, 3, 2).reshape(n * N_CLASSES, n * N_CLASSES)      # sample-major
            out.append(kernel_alignment(_centre_blocks(K, n, N_CLASSES), labels))
            del G, K
        return np.array(out)
    raise ValueError(method)


def worker(args) -> None:
    sys.path.insert(0, str(ROOT))
    import torch
    torch.set_num_threads(args.threads)
    if args.method == "nngeometry":
        try:
            import nngeometry  # noqa: F401
            from nngeometry import GramMatrix  # noqa: F401
        except Exception as error:                            # e.g. a torchvision built for another torch
            print(json.dumps({"unavailable": f"{type(error).__name__}: {error}"}))
            return
    model, x, labels = _setup(args.n[0], args.seed)
    if args.method in GPU_METHODS:
        gpu_worker(args, model, x, labels)
        return
    baseline_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
    times, alignment = [], None
    for _ in range(args.repeats):
        start = time.perf_counter()
        alignment = _run_method(args.method, model, x, labels, args.block_size)
        times.append(time.perf_counter() - start)
    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
    print(json.dumps({"times": times, "alignment": [float(a) for a in alignment],
                      "peak_gb": peak_gb, "baseline_gb": baseline_gb}))


def gpu_worker(args, model, x, labels) -> None:
    """Time the alignment on ``args.accelerator`` (synchronised), after a warm-up that starts the device."""
    import torch
    device = torch.device(args.accelerator)
    model = model.to(device)

    def sync() -> None:
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    _run_method(args.method, model, x[:256], labels[:256], args.gpu_block_size)   # context, kernels, handles
    sync()
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    times, alignment = [], None
    for _ in range(args.repeats):
        start = time.perf_counter()
        alignment = _run_method(args.method, model, x, labels, args.gpu_block_size)
        sync()
        times.append(time.perf_counter() - start)
    peak_gb = torch.cuda.max_memory_allocated(device) / 1e9 if device.type == "cuda" else float("nan")
    print(json.dumps({"times": times, "alignment": [float(a) for a in alignment], "peak_gb": peak_gb,
                      "baseline_gb": 0.0, "device": torch.cuda.get_device_name(device) if device.type == "cuda"
                      else str(device)}))


# ---------------------------------------------------------------------------------------------- driver

def run_in_subprocess(method: str, n: int, args) -> dict:
    fast = method.startswith("ours") or method in GPU_METHODS
    repeats = args.repeats if fast else min(args.repeats, args.slow_repeats)
    cmd = [sys.executable, __file__, "--worker", method, "--n", str(n), "--threads", str(args.threads),
           "--repeats", str(repeats), "--block-size", str(args.block_size), "--seed", str(args.seed),
           "--gpu-block-size", str(args.gpu_block_size), "--accelerator", args.accelerator]
    env = {**os.environ, "OMP_NUM_THREADS": str(args.threads), "MKL_NUM_THREADS": str(args.threads)}
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=args.timeout)
    except subprocess.TimeoutExpired:
        return {"skipped": f"skipped (> {args.timeout:g} s)"}
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        return {"unavailable": f"failed (exit {done.returncode}): {done.stderr.strip().splitlines()[-1:]}"}
    return json.loads(lines[-1])


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ns", type=int, nargs="+", default=[256, 512, 1024], help="probe-set sizes n")
    parser.add_argument("--n", type=int, nargs=1, help="a single size (e.g. --n 4096); overrides --ns")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per method (median reported)")
    parser.add_argument("--slow-repeats", type=int, default=1, help="cap on repeats for the reference methods")
    parser.add_argument("--methods", nargs="+", choices=METHODS, default=list(METHODS))
    parser.add_argument("--max-gb", type=float, default=4.0,
                        help="skip torch.func when its estimated memory exceeds this")
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds per method and size")
    parser.add_argument("--block-size", type=int, default=128)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--gpu-ns", type=int, nargs="*", default=[1024, 4096, 16384],
                        help="probe-set sizes of the GPU rows (none: no GPU rows)")
    parser.add_argument("--gpu-block-size", type=int, default=1024,
                        help="tile size on the GPU (a tile holds (block·C)² numbers)")
    parser.add_argument("--gpu-cpu-max-n", type=int, default=4096,
                        help="largest n at which the CPU reference of the GPU rows is measured (beyond: ∝ n²)")
    parser.add_argument("--accelerator", default="cuda",
                        help="device of the GPU rows (default cuda; 'cpu' runs the same rows there, as a check "
                             "of the script on a machine without a GPU)")
    parser.add_argument("--worker", choices=METHODS + GPU_METHODS, dest="method", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.method:
        if args.n is None:
            parser.error("--worker needs --n")
        worker(args)
        return

    ns = args.n if args.n else args.ns
    print(f"MLP d={D_IN}, depth {DEPTH}, width {WIDTH}, C={N_CLASSES}; all {DEPTH + 1} layers, centred; "
          f"threads={args.threads}, block_size={args.block_size}, load average {os.getloadavg()[0]:.1f}")
    header = f"{'n':>6} {'method':<11} {'median s':>9} {'peak GB':>8} {'Δ GB':>6} {'ref/ours-f64':>12} " \
             f"{'ref/ours-f32':>12} {'max rel. diff A vs ours-f64':>27}"
    print(header)
    print("-" * len(header))
    cpu_f64 = {}                                                  # n -> ours-f64 result, for the GPU rows
    for n in ns:
        results = {}
        for method in args.methods:
            if method == "torch.func" and reference_memory_gb(n) > args.max_gb:
                results[method] = {"skipped": f"skipped (> {args.max_gb:g} GB; needs ≈ {reference_memory_gb(n):.1f} GB)"}
            else:
                results[method] = run_in_subprocess(method, n, args)
        for method in args.methods:                               # rows once every method has run
            _print_row(n, method, results)
        if "times" in results.get("ours-f64", {}):
            cpu_f64[n] = results["ours-f64"]
        sys.stdout.flush()
    if args.gpu_ns:
        gpu_rows(args, cpu_f64)


def gpu_available(accelerator: str) -> bool:
    """Whether the GPU rows can run: a CUDA device torch sees (or any other --accelerator)."""
    if not accelerator.startswith("cuda"):
        return True
    import torch
    return torch.cuda.is_available()


def gpu_rows(args, cpu_f64: dict) -> None:
    """The GPU table: each n on the accelerator, against the CPU path (ours-f64) of this same run."""
    if not gpu_available(args.accelerator):
        print(f"\nNo CUDA GPU on this machine (torch.cuda.is_available() is False): no GPU rows "
              f"(they would be n = {', '.join(map(str, args.gpu_ns))}).")
        return
    for n in sorted(args.gpu_ns):                                 # the CPU reference, measured where affordable
        if n <= args.gpu_cpu_max_n and n not in cpu_f64:
            result = run_in_subprocess("ours-f64", n, args)
            if "times" in result:
                cpu_f64[n] = result
    results = {n: {m: run_in_subprocess(m, n, args) for m in GPU_METHODS} for n in args.gpu_ns}
    names = {r.get("device") for per_n in results.values() for r in per_n.values() if r.get("device")}
    print(f"\nGPU ({', '.join(sorted(names)) or args.accelerator}): the same alignment, tiles of "
          f"{args.gpu_block_size} samples; CPU = ours-f64 above (threads={args.threads}, tiles of "
          f"{args.block_size}); '≈': CPU time extrapolated ∝ n² from n = {max(cpu_f64) if cpu_f64 else '-'}")
    header = f"{'n':>6} {'method':<8} {'median s':>9} {'GPU peak GB':>11} {'CPU s':>9} {'CPU/GPU':>8} " \
             f"{'max rel. diff A vs CPU f64':>26}"
    print(header)
    print("-" * len(header))
    for n in args.gpu_ns:
        if n in cpu_f64:
            cpu_s, mark, base = statistics.median(cpu_f64[n]["times"]), "", cpu_f64[n]["alignment"]
        elif cpu_f64:
            n0 = max(cpu_f64)
            cpu_s, mark, base = statistics.median(cpu_f64[n0]["times"]) * (n / n0) ** 2, "≈", None
        else:
            cpu_s, mark, base = float("nan"), "", None
        for method in GPU_METHODS:
            r = results[n][method]
            if "times" not in r:
                print(f"{n:>6} {method:<8} {r.get('skipped') or 'unavailable: ' + r['unavailable']}")
                continue
            median = statistics.median(r["times"])
            diff = (max(abs(a - b) / abs(b) for a, b in zip(r["alignment"], base)) if base else float("nan"))
            ratio = cpu_s / median
            cpu_text, ratio_text = f"{mark}{cpu_s:.1f}", f"{mark}{ratio:.{0 if ratio >= 10 else 1}f}×"
            print(f"{n:>6} {method:<8} {median:>9.3f} {r['peak_gb']:>11.2f} {cpu_text:>9} {ratio_text:>8} "
                  f"{diff:>26.1e}")
        sys.stdout.flush()


def _print_row(n: int, method: str, results: dict) -> None:
    r = results[method]
    if "times" not in r:
        print(f"{n:>6} {method:<11} {r.get('skipped') or 'unavailable: ' + r['unavailable']}")
        return
    median = statistics.median(r["times"])
    ratios = []
    for ours in ("ours-f64", "ours-f32"):
        o = results.get(ours, {})
        ratios.append(f"{median / statistics.median(o['times']):.1f}×" if "times" in o and not method.startswith("ours")
                      else "")
    base = results.get("ours-f64", {}).get("alignment")
    diff = (max(abs(a - b) / abs(b) for a, b in zip(r["alignment"], base)) if base else float("nan"))
    print(f"{n:>6} {method:<11} {median:>9.2f} {r['peak_gb']:>8.2f} {r['peak_gb'] - r['baseline_gb']:>6.2f} "
          f"{ratios[0]:>12} {ratios[1]:>12} {diff:>27.1e}")


if __name__ == "__main__":
    main()
