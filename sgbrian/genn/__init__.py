"""Export a (trained) SpikingGamma network to GeNN through brian2genn, and check it.

brian2genn refuses several things the runtime network uses. The export rewrites each
into a form GeNN accepts, or raises :class:`GeNNExportError` naming the feature:

.. list-table::
   :header-rows: 1
   :widths: 35 65

   * - runtime feature
     - GeNN form
   * - learner (``network_operation``)
     - refused: ``learner.detach()`` first (simulation only)
   * - per-synapse delays
     - one ``Synapses`` object per delay value (homogeneous ``delay=``)
   * - graded payload of a neuron layer (the runtime reads its sender's payload ring buffer at delivery, ``sgbrian.history``)
     - ``U_0_post += w*theta_pre*q_pre``: GeNN keeps a delay queue of every presynaptic variable that synapse code reads, so ``q_pre`` is the payload of the emission step. brian2genn 1.7 refuses presynaptic reads in ``on_pre``; the device ``'sgbrian_genn'`` (a subclass of brian2genn's device, registered in the export's process) lifts that one check
   * - encoder in a ``run_regularly`` at a custom slot (refused)
     - appended to the state update (``method_options={'then': ...}``)
   * - analog input through a ``TimedArray`` (refused)
     - sigma-delta encoded offline from the encoder's current level; a ``SpikeGeneratorGroup`` of ``2B`` emitter copies (sign s, bit b of ``|q|``), whose synapses carry ``s 2^b theta w``
   * - spike-train input
     - ``SpikeGeneratorGroup`` (impulse into bucket 1)
   * - state at the start of the export (buckets, encoder level)
     - initial values of the GeNN variables
   * - events in flight at the start (delays)
     - refused: ``net.clear_spike_queues()`` first
   * - analog payloads on the input layer, per-synapse bucket weights
     - refused

Only the input layer has emitter copies: ``2B n_in`` generator neurons, ``2B`` times the
input synapses. Every neuron layer and its synapses are one-to-one with the runtime.

brian2genn 1.7 implements ``int()`` for GeNN as ``int_(const bool)`` (any non-zero value
becomes 1) and ``clip()`` through ``float``. The export's process registers correct GeNN
implementations (truncation towards zero as in Brian2; ``clip`` in double).

Schedule: GeNN adds arriving events to the tap before the neuron update and delivers a
spike emitted at step n from step n+1 on. The runtime's ``schedule='genn'``
(``sgbrian.network``) reproduces that order, and a GeNN run equals it event for event
(index, step, payload) with no shift; :func:`compare_with_runtime` checks it.

Modules: :mod:`~sgbrian.genn.spec` (what is exported, as data), :mod:`~sgbrian.genn.objects`
(the GeNN form as Brian2 objects, decoding, the runtime's events),
:mod:`~sgbrian.genn.build` (brian2genn in its own process). A trained model ready for
export: :func:`sgbrian.experiments.trained_for_export`.
"""
from .build import UNITY_SOURCE, compare_with_runtime, export_genn, genn_path, run_specs
from .objects import agreement, decode_events, genn_objects, runtime_events
from .spec import (FEATURES, GENN_HINT, GeNNExportError, check_exportable, code_report,
                   emitter_events, emitter_factor, events_in_flight, gpu_memory_bytes,
                   network_spec, payload_bits, synapse_counts)

__all__ = ["FEATURES", "GENN_HINT", "GeNNExportError", "UNITY_SOURCE", "agreement",
           "check_exportable", "code_report", "compare_with_runtime", "decode_events",
           "emitter_events", "emitter_factor", "events_in_flight", "export_genn",
           "genn_objects", "genn_path", "gpu_memory_bytes", "network_spec", "payload_bits",
           "run_specs", "runtime_events", "synapse_counts"]
