"""brian2genn in a process of its own: code generation, compilation and the GeNN run of
one or more specs, the export of a network, and its comparison with the runtime."""
import json
import os
import subprocess
import sys
import time

from brian2 import second

from .objects import agreement, decode_events, genn_objects, runtime_events
from .spec import GENN_HINT, GeNNExportError, code_report, network_spec


def run_specs(specs, directory, build=True, use_gpu=False):
    """Generate (and with ``build``, compile and run) the GeNN model of specs.

    Several specs with the same dt share one GeNN model (names prefixed ``n0_``, ...); it
    runs for the longest, and each spec keeps the events of its own duration. Runs
    brian2genn in a fresh process (one ``run()`` per process).

    Parameters
    ----------
    specs : list of dict
        :func:`~sgbrian.genn.spec.network_spec` of each network.
    directory : str
        The model's folder.
    build : bool
        Compile and run.
    use_gpu : bool
        GeNN's CUDA backend (default: its CPU backend).

    Returns
    -------
    dict
        ``events`` (per spec, per layer, as :func:`~sgbrian.genn.objects.decode_events`),
        ``build_s`` (code generation and compilation), ``run_s`` (GeNN's own run time)
        and ``wall_s``.

    Raises
    ------
    GeNNExportError
        ``build`` without GeNN 4.9, or specs of different dt.
    RuntimeError
        The brian2genn process failed (its output's end is in the message).
    """
    if build and not genn_path():
        raise GeNNExportError(f"build=True needs GeNN 4.9: {GENN_HINT}")
    if len({s["dt"] for s in specs}) != 1:
        raise GeNNExportError("networks in one GeNN model must share dt (one clock)")
    os.makedirs(directory, exist_ok=True)
    spec_path = os.path.join(directory, "sgbrian_spec.json")
    with open(spec_path, "w") as f:
        json.dump({"specs": specs, "build": build, "use_gpu": use_gpu}, f)
    env = dict(os.environ, GENN_PATH=genn_path() or "")
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "sgbrian.genn", spec_path, directory],
                            capture_output=True, text=True, env=env)
    wall = time.perf_counter() - start
    if result.returncode != 0:
        raise RuntimeError(f"brian2genn failed:\n{result.stdout[-2000:]}\n{result.stderr[-4000:]}")
    with open(os.path.join(directory, "sgbrian_events.json")) as f:
        out = json.load(f)
    out["wall_s"] = wall
    if build:
        out["build_s"] = wall - out["run_s"]
        out["events"] = [[[tuple(e) for e in layer] for layer in spec] for spec in out["events"]]
    return out


def genn_path():
    """Where GeNN 4.9 is.

    Returns
    -------
    str or None
        ``GENN_PATH`` if set, else the project's own build in ``.genn/`` (``make genn``)
        if present.
    """
    if os.environ.get("GENN_PATH"):
        return os.environ["GENN_PATH"]
    local = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                         ".genn", "genn-4.9.0")
    return local if os.path.exists(os.path.join(local, "lib", "libgenn.a")) else None


def export_genn(net, directory, duration, build=False, use_gpu=False):
    """Write the GeNN model of a network for a window from its current state.

    Runs brian2genn code generation in a fresh process; with ``build`` also compiles and
    runs it.

    Parameters
    ----------
    net : SGNetwork
        The network.
    directory : str
        The model's folder.
    duration : Quantity
        Length of the run.
    build : bool
        Compile and run (GeNN 4.9 found by :func:`genn_path`).
    use_gpu : bool
        GeNN's CUDA backend (default: its CPU backend).

    Returns
    -------
    dict
        Features, synapse and neuron counts, code size, timings, and with ``build`` the
        decoded events.

    Raises
    ------
    GeNNExportError
        A feature that cannot be exported.
    """
    spec = network_spec(net, duration)
    result = run_specs([spec], directory, build=build, use_gpu=use_gpu)
    report = code_report(directory, spec)
    report["codegen_seconds"] = result["wall_s"]
    if build:
        report.update(build_s=result["build_s"], run_s=result["run_s"],
                      run_s_per_sim_s=result["run_s"] / (spec["steps"] * spec["dt"]),
                      events=result["events"][0])
    with open(os.path.join(directory, "sgbrian_report.json"), "w") as f:
        json.dump({k: v for k, v in report.items() if k != "events"}, f, indent=1, default=float)
    return report


def compare_with_runtime(nets, duration, directory, use_gpu=False):
    """Run networks in GeNN and in the runtime with ``schedule='genn'``, from each network's
    current state. All networks go into one GeNN model (one build); the runtime run
    advances every network by its duration.

    Parameters
    ----------
    nets : SGNetwork or list of SGNetwork
        Networks sharing dt.
    duration : Quantity or list of Quantity
        One, or one per network.
    directory : str
        The model's folder.
    use_gpu : bool
        GeNN's CUDA backend.

    Returns
    -------
    result : dict
        :func:`run_specs`'s result.
    rows : list of list of dict
        Per network, the :func:`~sgbrian.genn.objects.agreement` rows of its layers.
    """
    single = not isinstance(nets, (list, tuple))
    nets = [nets] if single else list(nets)
    durations = list(duration) if isinstance(duration, (list, tuple)) else [duration] * len(nets)
    specs = [network_spec(net, d) for net, d in zip(nets, durations)]
    result = run_specs(specs, directory, build=True, use_gpu=use_gpu)
    rows = [agreement(runtime_events(net, d), got)
            for net, d, got in zip(nets, durations, result["events"])]
    return result, rows[0] if single else rows


#: The source file that includes every code object of a model (one compiler call).
UNITY_SOURCE = "code_objects_unity.cpp"


def _register_device():
    """brian2genn's device, less its refusal of presynaptic reads in ``on_pre``, with
    correct GeNN implementations of ``int`` and ``clip``, and its code objects compiled
    as one translation unit (:data:`UNITY_SOURCE`); registered as 'sgbrian_genn'."""
    from brian2.core.functions import DEFAULT_FUNCTIONS
    from brian2.devices.device import all_devices
    from brian2genn.device import GeNNDevice
    from brian2genn.genn_generator import GeNNCodeGenerator

    class SGBrianGeNNDevice(GeNNDevice):
        def collect_synapses_variables(self, synapse_model, pathway, codeobj):
            # brian2genn refuses presynaptic reads only for the pathways named 'pre' and
            # 'post'; GeNN itself queues every presynaptic variable that synapse code
            # reads when the synapses are delayed, so the read is exact.
            super().collect_synapses_variables(synapse_model,
                                               "on_pre" if pathway == "pre" else pathway, codeobj)

        def generate_makefile(self, directory, use_GPU):
            # One translation unit for every code object (each is in a namespace of its
            # own): the C++ headers are parsed once instead of once per code object.
            units = sorted(s for s in self.source_files if s.startswith("code_objects/"))
            with open(os.path.join(directory, UNITY_SOURCE), "w") as f:
                f.writelines(f'#include "{source}"\n' for source in units)
            kept = self.source_files
            self.source_files = (kept - set(units)) | {UNITY_SOURCE}
            try:
                super().generate_makefile(directory, use_GPU)
            finally:
                self.source_files = kept

    impl = DEFAULT_FUNCTIONS["int"].implementations
    impl.add_implementation(GeNNCodeGenerator, name="int_", code=(
        "template <typename T> SUPPORT_CODE_FUNC int int_(const T value)\n"
        "{\n    return (int)value;\n}\n"))
    DEFAULT_FUNCTIONS["clip"].implementations.add_implementation(GeNNCodeGenerator, name="_clip", code=(
        "SUPPORT_CODE_FUNC double _clip(const double value, const double a_min, const double a_max)\n"
        "{\n    return value < a_min ? a_min : (value > a_max ? a_max : value);\n}\n"))
    all_devices["sgbrian_genn"] = SGBrianGeNNDevice()


def _main(argv):
    """Child process: ``python -m sgbrian.genn spec.json directory`` (``__main__.py``)."""
    spec_path, directory = argv
    import brian2genn  # noqa: F401
    from brian2 import Network, device, set_device
    _register_device()
    with open(spec_path) as f:
        job = json.load(f)
    specs, build = job["specs"], job["build"]
    set_device("sgbrian_genn", directory=directory, compile=build, run=build,
               use_GPU=job["use_gpu"])
    from brian2 import defaultclock
    defaultclock.dt = specs[0]["dt"] * second
    objects, monitors = [], []
    for n, spec in enumerate(specs):
        obj, mons = genn_objects(spec, prefix=f"n{n}_" if len(specs) > 1 else "")
        objects += obj
        monitors.append(mons)
    Network(*objects).run(max(s["steps"] for s in specs) * specs[0]["dt"] * second)
    out = {"run_s": None, "events": None}
    if build:
        out["run_s"] = float(device._last_run_time)
        out["events"] = [[[e for e in layer if e[0] < spec["steps"]]
                          for layer in decode_events(mons, spec, defaultclock.dt)]
                         for mons, spec in zip(monitors, specs)]
    with open(os.path.join(directory, "sgbrian_events.json"), "w") as f:
        json.dump(out, f)
