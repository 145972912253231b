"""The payload history of a sender: a ring buffer read by delayed synapses.

Brian2 reads presynaptic variables when an event is *delivered*, not when it is emitted
(brian2 issue #1056), so a synapse with delay d must find the payload its sender emitted
d steps ago. Each sender layer keeps its last ``S = L + 1`` payloads (L = its largest
outgoing delay, in steps) in a ring buffer ``H`` of ``S * n`` values:

    store:  H[(t mod S) n + i] = q_i(t)            at every step t, by the encoder
    read:   q_i(t - d) = H[((t - d) mod S) n + i]  by a synapse with delay d <= L

The store costs O(n) per step and a read O(1) per event, whatever L; the generated
code does not grow with L. Slot ``t mod S`` is next overwritten at step t + S > t + L,
after every delivery that needs it. The two operations are Brian2 ``Function`` objects
with numpy, Cython and C++ implementations that share one array (for cpp_standalone a
static array of the generated project), so the same network runs under numpy, cython
and cpp_standalone.
"""
import numpy as np
from brian2 import Function


class PayloadHistory:
    """Ring buffer of the last ``max_lag + 1`` payloads of a group of ``n`` senders.

    ``store`` and ``read`` are the Brian2 functions ``payload_store(q, i, step, N, slots)``
    (returns q) and ``payload_read(i, step, N, slots)``; put them in the namespaces of the
    encoder and of the outgoing synapses with ``namespace()``.

    Parameters
    ----------
    key : str
        Name of the buffer (unique per sender group).
    n : int
        Senders.
    max_lag : int
        The longest delay in steps (>= 1).
    """

    def __init__(self, key, n, max_lag):
        self.key = key
        self.n = int(n)
        self.slots = int(max_lag) + 1
        self.buffer = np.zeros(self.slots * self.n)
        self.store = self._function("store")
        self.read = self._function("read")

    def namespace(self):
        """The Brian2 namespace entries that generated code uses to store and read payloads.

        Returns
        -------
        dict
            ``payload_store``, ``payload_read`` and ``payload_slots``.
        """
        return {"payload_store": self.store, "payload_read": self.read,
                "payload_slots": self.slots}

    def reset(self):
        """Forget every stored payload (all slots 0)."""
        self.buffer[:] = 0.0

    def _function(self, kind):
        buffer = self.buffer
        name = f"_payload_{kind}_{self.key}"
        array = f"{self.key}_payloads"

        if kind == "store":
            def pyfunc(q, i, step, n, slots):
                q = np.asarray(q, dtype=float)
                buffer[(np.asarray(step) % slots) * n + np.asarray(i)] = q
                return q
            args = "double q, int i, int step, int n, int slots"
            units, types = [1] * 5, ["float", "integer", "integer", "integer", "integer"]
            body = f"_namespace{array}[s*n + i] = q;\n    return q;"
        else:
            def pyfunc(i, step, n, slots):
                return buffer[(np.asarray(step) % slots) * n + np.asarray(i)]
            args = "int i, int step, int n, int slots"
            units, types = [1] * 4, ["integer"] * 4
            body = f"return _namespace{array}[s*n + i];"
        # A read has no side effect within one code block (Brian2 may then order the
        # synapses freely); a store has one, so it is never treated as a loop invariant.
        function = Function(pyfunc, arg_units=units, return_unit=1, arg_types=types,
                            return_type="float", stateless=kind == "read")
        cpp = (f"static inline double {name}({args.replace('int ', 'const int ').replace('double ', 'const double ')})\n"
               "{\n    int s = step % slots;\n    if (s < 0) s += slots;\n    " + body + "\n}\n")
        cython = (f"cdef double {name}({args}):\n    global _namespace{array}\n"
                  "    cdef int s = step % slots\n    if s < 0:\n        s += slots\n    "
                  + body.replace(";", "") + "\n")
        # numpy: the plain function, without Brian2's unit-checking wrapper, which formats
        # the returned array into a message at every call (a fifth of a small network's
        # run time); the arguments and the result are dimensionless numbers anyway
        function.implementations.add_numpy_implementation(pyfunc, discard_units=True)
        namespace = {array: buffer}
        function.implementations.add_implementation("cpp", code={"support_code": cpp},
                                                    namespace=namespace, name=name)
        function.implementations.add_implementation("cython", code=cython,
                                                    namespace=namespace, name=name)
        return function
