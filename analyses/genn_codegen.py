"""GeNN export of every trained model, checked against the runtime, and the
code-generation targets compared on one network.

1. Trains each model (quick: a small task and one epoch), removes the learner, and
   exports it with its first test sample through brian2genn. With GeNN 4.9 (GENN_PATH,
   or .genn/ from `make genn`) it builds and runs the export with GeNN's CPU backend and
   compares every layer's decoded events (step, index, payload) with the runtime
   (schedule='genn'); quick mode generates the code only. Synapses and GPU memory of the
   export, now and in the earlier emitter-copy form (copies^2 synapses per connection).
2. Compares numpy, cython, cpp_standalone and GeNN on build time, run time per simulated
   second and lines of generated code for 100 -> 64 -> 10 (1 s at dt = 1 ms; quick 0.2 s).
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


def emitter_copy_form(spec, events):
    """The earlier export, in which every layer but the readout had 2B emitter copies
    (B bits of its largest payload; spike input 1) and each connection ``C_pre C_post``
    times its synapses: copies per layer and synapses per connection."""
    from sgbrian.genn import payload_bits
    copies = [2 * payload_bits([[q for *_, q in layer]] if layer else [[1]]) for layer in events]
    copies[-1] = 1
    if spec["input"]["kind"] == "spikes":
        copies[0] = 1
    return copies, [len(c["w"]) * copies[l] * copies[l + 1]
                    for l, c in enumerate(spec["connections"])]


def export_models(quick, out):
    from sgbrian.experiments import trained_for_export
    from sgbrian.genn import code_report, compare_with_runtime, export_genn, genn_path, \
        network_spec, runtime_events
    build = genn_path() is not None and not quick
    reports = {}
    for name in ("delay", "itd", "timing"):
        result, duration = trained_for_export(name, quick=quick)
        net = result["net"]
        directory = os.path.join(out, "genn", name)
        spec = network_spec(net, duration)
        if build:
            genn, rows = compare_with_runtime(net, duration, directory)
            report = code_report(directory, spec)
            report.update(agreement=rows, build_s=genn["build_s"], run_s=genn["run_s"])
            events = genn["events"][0]
        else:
            report = export_genn(net, directory, duration)
            events = runtime_events(net, duration)
        report.update(steps=spec["steps"], K=spec["layers"][0]["spec"]["K"],
                      max_delay_steps=max(max(c["delay"], default=0) for c in spec["connections"]))
        report["emitter_copies"], report["synapses"]["emitter_copies"] = \
            emitter_copy_form(spec, events)
        report["test_score"] = result["test"][result["metric"]]
        reports[name] = report
        agree = ", ".join(f"L{r['layer']} {r['matching']}/{r['runtime']}"
                          for r in report.get("agreement", [])) or "code generation only"
        print(f"{name}: {report['model_lines']} lines of GeNN model; synapses "
              f"{report['synapses']['genn']} (emitter copies {report['synapses']['emitter_copies']}); "
              f"events equal to the runtime: {agree}", flush=True)
    return reports


def target_child(target, directory, duration_ms):
    """Build and run 100 -> 64 -> 10 (schedule 'genn', so that every target gives the
    same events) under one target; print JSON."""
    from brian2 import defaultclock, device, ms
    import sgbrian
    from sgbrian.genn import run_specs, network_spec
    from sgbrian.targets import use_target
    steps_total = int(duration_ms)
    use_target("numpy" if target == "genn" else target, directory=directory)
    defaultclock.dt = 1 * ms
    rng = np.random.default_rng(0)
    steps, channels = np.nonzero(rng.random((steps_total, 100)) < 0.02)
    start = time.perf_counter()
    net = sgbrian.feedforward([100, 64, 10], K=8, tau=5 * ms, theta=0.05, schedule="genn",
                              spikes=(channels, steps * ms), record=("spikes",))
    duration = steps_total * ms
    if target == "genn":
        result = run_specs([network_spec(net, duration)], directory)
        return {"target": target, "build_s": result["build_s"],
                "run_s_per_sim_s": result["run_s"] / float(duration / (1000 * ms)),
                "generated_lines": lines_in(os.path.join(directory, "magicnetwork_model.cpp"))
                + lines_in(os.path.join(directory, "magicnetwork_model_CODE", "*.cc")),
                "events": len(result["events"][0][-1])}
    net.run(duration)
    first = time.perf_counter() - start
    if target == "cpp_standalone":
        run_time = device._last_run_time
        lines = lines_in(os.path.join(directory, "code_objects", "*.cpp"))
    else:
        start = time.perf_counter()
        net.run(duration)
        run_time = time.perf_counter() - start
        lines = sum(len(obj.code.splitlines()) if isinstance(obj.code, str) else
                    sum(len(str(c).splitlines()) for c in vars(obj.code).values())
                    for o in net.network.objects for obj in getattr(o, "code_objects", []) if obj)
    spikes = net.monitors[-1]["spikes"]
    return {"target": target, "build_s": first - (run_time if target != "cpp_standalone" else 0),
            "run_s_per_sim_s": run_time / float(duration / (1000 * ms)), "generated_lines": lines,
            "events": int(np.sum(np.asarray(spikes.t / ms) < steps_total))}


def compare_targets(out, duration_ms, with_genn=True):
    rows = []
    for target in ("numpy", "cython", "cpp_standalone") + (("genn",) if with_genn else ()):
        directory = tempfile.mkdtemp(prefix=f"sg_{target}_")
        proc = subprocess.run([sys.executable, __file__, "--child", target, directory,
                               str(duration_ms)], capture_output=True, text=True)
        if proc.returncode != 0:
            raise RuntimeError(f"{target}: {proc.stderr[-3000:]}")
        rows.append(json.loads(proc.stdout.strip().splitlines()[-1]))
        print(f"{target}: {rows[-1]}", flush=True)
    return rows


def memory_estimates(reports):
    """GPU MiB of one hidden layer of 1e3..1e6 neurons (fan-in 100) in the export and in
    the emitter-copy form (its copies^2 synapses, same bytes per synapse)."""
    from sgbrian.genn import gpu_memory_bytes
    for r in reports.values():
        hidden_copies = r["emitter_copies"][1]
        r["gpu_memory_mib"] = {}
        for e in range(3, 7):
            now = gpu_memory_bytes(10 ** e, r["K"], 100, r["max_delay_steps"])
            synapses = 10 ** e * 100 * (8 + 4)
            before = now - synapses + synapses * hidden_copies ** 2
            r["gpu_memory_mib"][f"1e{e}"] = {"export": now / 2 ** 20, "emitter_copies": before / 2 ** 20}


def markdown(reports, targets):
    from sgbrian.genn import FEATURES
    fmt = lambda v: "n/a" if v is None else f"{v:.3g}"  # noqa: E731
    out = ["# GeNN export report", "", "| sgbrian feature | GeNN form |", "|---|---|"]
    out += [f"| {a} | {b} |" for a, b in FEATURES]
    out += ["", "## Trained models: GeNN (CPU backend) against the runtime (schedule 'genn')", "",
            "| model | test score | steps | events equal per layer (GeNN / runtime) | build (s) | "
            "GeNN run (s) | model lines | synapses: export | synapses: emitter copies |",
            "|---|---|---|---|---|---|---|---|---|"]
    for name, r in reports.items():
        agree = ", ".join(f"L{a['layer']} {a['matching']}/{a['runtime']}"
                          + ("" if a["equal"] else " DIFFERENT") for a in r.get("agreement", []))
        out.append(f"| {name} | {r['test_score']:.3f} | {r['steps']} | {agree or 'not built'} | "
                   f"{fmt(r.get('build_s'))} | {fmt(r.get('run_s'))} | {r['model_lines']} | "
                   f"{sum(r['synapses']['genn'])} | {sum(r['synapses']['emitter_copies'])} |")
    out += ["", "GPU memory of one hidden layer (MiB, fan-in 100): export / emitter-copy form", "",
            "| model | 1e3 | 1e4 | 1e5 | 1e6 neurons |", "|---|---|---|---|---|"]
    for name, r in reports.items():
        out.append(f"| {name} | " + " | ".join(f"{m['export']:.1f} / {m['emitter_copies']:.1f}"
                                            for m in r["gpu_memory_mib"].values()) + " |")
    out += ["", "## Targets on 100 -> 64 -> 10 (K = 8, dt = 1 ms)", "",
            "| target | build (s) | run (s per simulated s) | generated lines | output events |",
            "|---|---|---|---|---|"]
    for t in targets:
        out.append(f"| {t['target']} | {fmt(t['build_s'])} | {fmt(t['run_s_per_sim_s'])} | "
                   f"{t['generated_lines']} | {t['events']} |")
    return "\n".join(out) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--out", default=os.path.join(HERE, "out"))
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(target_child(*args.child)))
        return
    from sgbrian.genn import genn_path
    os.makedirs(args.out, exist_ok=True)
    reports = export_models(args.quick, args.out)
    memory_estimates(reports)
    targets = compare_targets(args.out, 200 if args.quick else 1000,
                              with_genn=genn_path() is not None)
    with open(os.path.join(args.out, "genn_report.json"), "w") as f:
        json.dump({"models": reports, "targets": targets}, f, indent=1, default=float)
    text = markdown(reports, targets)
    with open(os.path.join(args.out, "genn_report.md"), "w") as f:
        f.write(text)
    print(text)


if __name__ == "__main__":
    main()
