"""Gradient buffers of the online rules and the bytes a learner keeps."""
import numpy as np


def owned_nbytes(*objects):
    """Bytes of the numpy arrays that objects hold, each counted once: arrays that own their
    memory (a view counts with its owner, when that is held too), reached through lists,
    tuples, dicts and the attributes of this module's classes (not through Brian2 objects
    or network layers, whose arrays the network owns).

    Parameters
    ----------
    *objects
        What to count.

    Returns
    -------
    int
        Bytes.
    """
    seen, total, stack = set(), 0, list(objects)
    while stack:
        obj = stack.pop()
        if obj is None or id(obj) in seen:
            continue
        seen.add(id(obj))
        if isinstance(obj, np.ndarray):
            total += obj.nbytes if obj.base is None else 0
        elif isinstance(obj, (list, tuple)):
            stack.extend(obj)
        elif isinstance(obj, dict):
            stack.extend(obj.values())
        elif type(obj).__module__.startswith(__package__):
            stack.extend(vars(obj).values())
    return total


class WeightGradient:
    """``dL/dw_s = sum_t sum_b delta_bj(t) sum_k v_j^k u_{b,i}^k(t - d_s)``, buffered.

    Per step it stores the senders' buckets now, u (batch, n_pre, K+1), in a window that
    also keeps the ``L`` steps before the buffered ones (L: the connection's largest
    delay), and ``v * delta`` (batch, n_post, K+1). A flush does one matrix product per
    delay in use, ``G_d = U(t - d)^T (v delta)(t)`` with steps, batch and buckets as the
    contracted axis (``U(t - d)`` is a view of the window: nothing is copied), and adds
    ``G_d[i, j]`` to each synapse of delay d. Memory ``(L + size)`` bucket vectors,
    whatever the number of delays; work ``S (K+1)`` multiply-adds per step and sample for
    one delay, the floor.

    Parameters
    ----------
    conn : Connection
        The connection.
    size : int, optional
        Steps buffered before a flush (default: from ``max_bytes``, clamped to [32, 512]).
    derivative : bool
        Compute the delay gradient instead: u is replaced by ``-du^k/dt = (u^k -
        u^{k-1})/tau_k`` (k >= 1) and the result is multiplied by ``w_s`` (and by 1e-3:
        per ms).
    max_bytes : int
        Memory the buffer may take.
    """

    def __init__(self, conn, size=None, derivative=False, max_bytes=2 ** 30):
        from scipy.fft import next_fast_len
        self.conn, self.derivative = conn, derivative
        K1 = conn.P.shape[0] - (1 if derivative else 0)
        self.lag = conn.max_steps
        row = conn.n_pre * conn.batch * K1 * 8             # bytes per buffered step
        if size is None:    # long enough to amortise the lag, within max_bytes
            size = int(np.clip(4 * self.lag, 32, max(32, min(512, max_bytes // row - self.lag))))
        self.size = size
        # the FFT length: the window is allocated that long, so no flush copies it
        self.length = next_fast_len(self.lag + size, real=True)
        self.window = np.zeros((conn.n_pre, self.length, conn.batch, K1))
        self.vd = np.zeros((self.length, conn.batch, K1, conn.n_post))
        self.count = 0
        self.weights = None

    def add(self, u, vd, grad):
        """Buffer one step.

        Parameters
        ----------
        u : ndarray
            The sender buckets now, (batch, n_pre, K+1).
        vd : ndarray
            ``v delta``, (batch, n_post, K+1).
        grad : ndarray
            Flushed into when the buffer is full.
        """
        if self.derivative:
            u = (u[..., 1:] - u[..., :-1]) / self.conn.taus
            vd = vd[..., 1:]
        self.window[:, self.lag + self.count] = u.transpose(1, 0, 2)
        self.vd[self.count] = vd.transpose(0, 2, 1)
        self.count += 1
        if self.count == self.size:
            self.flush(grad)

    #: From this many distinct delays on, a flush correlates in the Fourier domain.
    fft_from = 6

    def flush(self, grad):
        """Add the buffered steps' gradient (one product per delay, or the Fourier-domain
        correlation with many delays) and empty the buffer.

        Parameters
        ----------
        grad : ndarray
            Per synapse, added to.
        """
        n = self.count
        if n == 0:
            return
        conn, L = self.conn, self.lag
        if len(conn.delays) >= self.fft_from:
            G = self._lagged_products_fft(n)
        else:
            G = self._lagged_products(n)
        if self.derivative:
            G = G * self.weights * 1e-3
        grad += G
        if L:
            self.window[:, :L] = self.window[:, n:n + L].copy()
        self.count = 0

    def _lagged_products(self, n):
        """``G_s = sum_{t,b,k} U_{i_s}(t - d_s) VD_{j_s}(t)``: one product per delay."""
        conn, L = self.conn, self.lag
        right = self.vd[:n].reshape(-1, conn.n_post)
        G = np.empty(len(conn.pre))
        for index, d in enumerate(conn.delays):
            left = self.window[:, L - d:L - d + n].reshape(conn.n_pre, -1)
            mask = conn.delay_index == index
            G[mask] = (left @ right)[conn.pre[mask], conn.post[mask]]
        return G

    def _lagged_products_fft(self, n, chunk=16):
        """The same sums for every delay at once, as a cross-correlation over time:

            G_s = sum_c corr(U_{i_s, c}, VD_{j_s, c})[L - d_s],   c = (batch, bucket)

        with ``R_ij(f) = sum_c FU_ic(f) conj(FV_jc(f))`` (real FFTs of length N >= L + n,
        no wrap-around) and ``corr[e] = (1/N) sum_f h_f Re(R(f) e^{2 pi i f e / N})``
        (h_f = 1 at f = 0 and N/2, else 2), evaluated at each synapse's own lag only.
        Cost: one complex product (n_pre x C) (C x n_post) per frequency, about
        ``2 (L + n) / n`` times the one-delay floor, instead of one product per delay."""
        from scipy.fft import rfft
        conn, L, N = self.conn, self.lag, self.length
        self.window[:, L + n:] = 0.0                       # stale steps of a short flush
        self.vd[n:] = 0.0
        FU = rfft(self.window.reshape(conn.n_pre, N, -1), axis=1)        # (n_pre, F, C)
        FV = rfft(self.vd.reshape(N, -1, conn.n_post), axis=0).conj()     # (F, C, n_post)
        order = np.argsort(conn.delay_index, kind="stable")     # synapses grouped by delay
        bounds = np.searchsorted(conn.delay_index[order], np.arange(len(conn.delays) + 1))
        pre, post = conn.pre[order], conn.post[order]
        G = np.zeros(len(order))
        for start in range(0, FU.shape[1], chunk):
            f = np.arange(start, min(start + chunk, FU.shape[1]))
            R = np.matmul(FU[:, f].transpose(1, 0, 2), FV[f])[:, pre, post]   # (f, S)
            weight = np.where((f == 0) | (2 * f == N), 1.0, 2.0)
            twiddle = weight[:, None] * np.exp(2j * np.pi * np.outer(f, L - conn.delays) / N)
            for index, (a, b) in enumerate(zip(bounds[:-1], bounds[1:])):
                G[a:b] += (twiddle[:, index] @ R[:, a:b]).real
        out = np.empty_like(G)
        out[order] = G
        return out / N

    def reset(self):
        """Zero the window (a new sample starts at rest); flush first."""
        self.window[:] = 0
        self.count = 0
