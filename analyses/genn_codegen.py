"""GeNN code generation for every model, and a comparison of the code-generation targets.

1. Trains each model (quick: a small task and one epoch), removes the learner, and
   exports it through brian2genn (compile=False): features mapped, state variables, size
   of the generated code, estimated GPU memory for 10^3 to 10^6 neurons. Where GENN_PATH
   points at a GeNN 4 checkout, builds and runs it with GeNN's CPU backend.
2. Compares numpy, cython, cpp_standalone and GeNN on build time, lines of generated
   code and run time for the timing network (100 -> 64 -> 10, 1 s at dt = 1 ms).
Writes analyses/out/genn_report.json and genn_report.md.

    python analyses/genn_codegen.py [--quick]
"""
import argparse
import glob
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def lines_in(pattern):
    return sum(open(p, errors="replace").read().count("\n") for p in glob.glob(pattern, recursive=True))


def export_models(quick, out):
    from brian2 import ms
    from sgbrian.experiments import train_task
    from sgbrian.genn import export_genn, gpu_memory_bytes
    from sgbrian.network import monitors_for
    small = {"delay": dict(n_train=2, n_test=1, duration=60 * ms),
             "itd": dict(n_train=18, n_test=9, duration=5 * ms),
             "timing": dict(n_train=10, n_test=2, duration=30 * ms)}
    reports = {}
    for name in ("delay", "itd", "timing"):
        kwargs = dict(epochs=1, task_kwargs=small[name]) if quick else {}
        result = train_task(name, progress=False, **kwargs)
        result["learner"].detach()
        sample = result["task"].test[0]
        net = result["net"]
        for layer, mons in zip(net.layers, net.monitors):     # record payload sizes
            new = monitors_for(layer, ("spikes",))
            net.network.add(*new.values())
            mons.update(new)
        net.set_input(**({"spikes": sample.input} if isinstance(sample.input, tuple)
                         else {"signal": sample.input}), start=net.network.t)
        net.run(sample.n_steps * result["task"].dt)          # records the payloads' size
        report = export_genn(net, os.path.join(out, "genn", name),
                             sample.n_steps * result["task"].dt,
                             build=bool(os.environ.get("GENN_PATH")))
        report["test_score"] = result["test"][result["metric"]]
        K = net.layers[1].K
        copies = report["state_variables"]["per_neuron"][0]["copies"]
        report["gpu_memory_mib"] = {f"1e{e}": gpu_memory_bytes(10 ** e, K, 100, copies) / 2 ** 20
                                    for e in range(3, 7)}
        reports[name] = report
        print(f"{name}: {report['model_lines']} lines of GeNN model, payload bits "
              f"{report['payload_bits']}, codegen {report['codegen_seconds']:.1f} s", flush=True)
    return reports


def target_child(target, directory):
    """Build and run the timing network under one target; print JSON."""
    from brian2 import defaultclock, device, ms
    import sgbrian
    from sgbrian.targets import use_target
    use_target(target, directory=directory)
    defaultclock.dt = 1 * ms
    rng = np.random.default_rng(0)
    steps, channels = np.nonzero(rng.random((1000, 100)) < 0.02)
    start = time.perf_counter()
    net = sgbrian.feedforward([100, 64, 10], K=8, tau=5 * ms, theta=0.05,
                              spikes=(channels, steps * ms), record=("spikes",))
    net.run(1000 * ms)
    first = time.perf_counter() - start
    if target == "cpp_standalone":
        run_time = device._last_run_time
        lines = lines_in(os.path.join(directory, "code_objects", "*.cpp"))
    else:
        start = time.perf_counter()
        net.run(1000 * ms)
        run_time = time.perf_counter() - start
        lines = sum(len(obj.code.splitlines()) if isinstance(obj.code, str) else
                    sum(len(str(c).splitlines()) for c in vars(obj.code).values())
                    for o in net.network.objects for obj in getattr(o, "code_objects", []) if obj)
    return {"target": target, "build_s": first - (run_time if target != "cpp_standalone" else 0),
            "run_s_per_sim_s": run_time, "generated_lines": lines,
            "events": int(net.monitors[-1]["spikes"].num_spikes)}


def compare_targets(out):
    rows = []
    for target in ("numpy", "cython", "cpp_standalone"):
        directory = tempfile.mkdtemp(prefix=f"sg_{target}_")
        proc = subprocess.run([sys.executable, __file__, "--child", target, directory],
                              capture_output=True, text=True, check=True)
        rows.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    genn = os.path.join(out, "genn", "timing")
    rows.append({"target": "genn (code generation only)" if not os.environ.get("GENN_PATH") else "genn",
                 "build_s": None, "run_s_per_sim_s": None,
                 "generated_lines": lines_in(os.path.join(genn, "magicnetwork_model.cpp"))
                 + lines_in(os.path.join(genn, "code_objects", "*"))})
    return rows


def markdown(reports, targets):
    from sgbrian.genn import FEATURES
    out = ["# GeNN export report", "", "| sgbrian feature | GeNN form |", "|---|---|"]
    out += [f"| {a} | {b} |" for a, b in FEATURES]
    out += ["", "| model | test score | model lines | neuron variables (copies) | per synapse | "
            "payload bits | GPU MiB 1e3 / 1e4 / 1e5 / 1e6 neurons (fan-in 100) |", "|---|---|---|---|---|---|---|"]
    for name, r in reports.items():
        sv = r["state_variables"]
        neurons = ", ".join(f"L{p['layer']}: {p['variables']} ({p['copies']})" for p in sv["per_neuron"])
        mem = " / ".join(f"{v:.1f}" for v in r["gpu_memory_mib"].values())
        out.append(f"| {name} | {r['test_score']:.3f} | {r['model_lines']} | {neurons} | "
                   f"{sv['per_synapse']} | {r['payload_bits']} | {mem} |")
    out += ["", "| target | build (s) | run (s per simulated s) | generated lines |", "|---|---|---|---|"]
    for t in targets:
        fmt = lambda v: "n/a" if v is None else f"{v:.3g}"  # noqa: E731
        out.append(f"| {t['target']} | {fmt(t['build_s'])} | {fmt(t['run_s_per_sim_s'])} | "
                   f"{t['generated_lines']} |")
    return "\n".join(out) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--out", default=os.path.join(HERE, "out"))
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(target_child(*args.child)))
        return
    os.makedirs(args.out, exist_ok=True)
    reports = export_models(args.quick, args.out)
    targets = compare_targets(args.out)
    with open(os.path.join(args.out, "genn_report.json"), "w") as f:
        json.dump({"models": reports, "targets": targets}, f, indent=1, default=float)
    text = markdown(reports, targets)
    with open(os.path.join(args.out, "genn_report.md"), "w") as f:
        f.write(text)
    print(text)


if __name__ == "__main__":
    main()
