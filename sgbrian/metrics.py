"""Loss, accuracy or NRMSE, and activity accumulated over the samples of a run."""
from dataclasses import dataclass

import numpy as np


class Metrics:
    """Loss, and accuracy (cross-entropy) or NRMSE (MSE), accumulated over samples.

    NRMSE = sqrt(sum (y - target)^2 / sum (target - mean target)^2) over every step
    with a non-zero weight, every output and every sample. The predicted class of a
    sample is the argmax of its mean readout over the steps where the loss is active.

    Parameters
    ----------
    loss : MSELoss or CrossEntropyLoss
        The loss of the run.
    record_outputs : bool
        Keep every sample's readouts (``outputs``).
    """

    def __init__(self, loss, record_outputs=False):
        self.kind = loss.name
        self.start_step = getattr(loss, "start_step", 0) or 0
        self.record_outputs = record_outputs
        self.outputs, self.predictions, self.sample_losses = [], [], []
        self.total_loss = 0.0
        self.sq_error = self.sum_t = self.sum_t2 = self.count = 0.0
        self.correct = 0
        self.events = self.quanta = self.neuron_seconds = 0.0
        self.events_per_neuron_per_s = self.quanta_per_neuron_per_s = float("nan")

    def start_batch(self, samples, copies, data):
        """A batch starts.

        Parameters
        ----------
        samples : list of Sample
            One per copy.
        copies : int
            Copies side by side.
        data : dict
            The loss's arrays of the batch.
        """
        self.samples, self.data = samples, data
        self.loss_sum = np.zeros(copies)
        self.loss_steps = np.zeros(copies)
        self.y_sum, self.trace, self.copy_traces = 0.0, [], {}

    def add(self, n, y, losses):
        """Step n of the batch.

        Parameters
        ----------
        n : int
            The step.
        y : ndarray
            Readouts (copies, n_out).
        losses : ndarray
            Per copy.
        """
        active = self.data["active"][n]
        self.loss_sum += losses
        if self.record_outputs:
            self.trace.append(y.copy())
        if self.kind == "mse":
            counted = active & (self.data["weight"][n] > 0)
            target = self.data["target"][n][counted]
            error = y[counted] - target
            self.sq_error += float((error ** 2).sum())
            self.sum_t += float(target.sum())
            self.sum_t2 += float((target ** 2).sum())
            self.count += target.size
            self.loss_steps += counted
        elif n >= self.start_step:
            self.y_sum = self.y_sum + y * active[:, None]
            self.loss_steps += active

    def add_sequence(self, b, y, losses):
        """Steps 0..T-1 of one copy at once: the same sums as ``add`` at every step.

        Parameters
        ----------
        b : int
            The copy.
        y : ndarray
            Readouts (T, n_out).
        losses : ndarray
            Per step (T,).
        """
        steps = len(y)
        active = self.data["active"][:steps, b]
        self.loss_sum[b] += losses.sum()
        if self.record_outputs:
            self.copy_traces[b] = y.copy()
        if self.kind == "mse":
            counted = active & (self.data["weight"][:steps, b] > 0)
            target = self.data["target"][:steps, b][counted]
            error = y[counted] - target
            self.sq_error += float((error ** 2).sum())
            self.sum_t += float(target.sum())
            self.sum_t2 += float((target ** 2).sum())
            self.count += target.size
            self.loss_steps[b] += counted.sum()
        elif steps > self.start_step:
            if not np.ndim(self.y_sum):
                self.y_sum = np.zeros((len(self.loss_sum), y.shape[1]))
            late = slice(self.start_step, steps)
            self.y_sum[b] += (y[late] * active[late, None]).sum(axis=0)
            self.loss_steps[b] += active[late].sum()

    def end_batch(self):
        """Close the batch: one loss (mean over its counted steps) and, for cross-entropy,
        one prediction per sample, in the order of the samples."""
        trace = np.array(self.trace) if self.record_outputs else None
        for b, sample in enumerate(self.samples):
            self.total_loss += self.loss_sum[b]
            self.sample_losses.append(self.loss_sum[b] / max(1, self.loss_steps[b]))
            if self.kind != "mse":
                # no step past the loss's start: no evidence, class 0
                prediction = int(np.argmax(self.y_sum[b])) if np.ndim(self.y_sum) else 0
                self.predictions.append(prediction)
                self.correct += prediction == sample.target
            if self.record_outputs:
                copy = self.copy_traces[b] if b in self.copy_traces else trace[:, b]
                self.outputs.append(copy[:sample.n_steps])

    def add_events(self, events, quanta, neuron_seconds):
        """Count events and quanta into the per-neuron rates.

        Parameters
        ----------
        events : int
            Spike events.
        quanta : float
            Sum of ``|q|``.
        neuron_seconds : float
            Neurons x simulated seconds.
        """
        self.events += events
        self.quanta += quanta
        self.neuron_seconds += neuron_seconds
        self.events_per_neuron_per_s = self.events / self.neuron_seconds
        self.quanta_per_neuron_per_s = self.quanta / self.neuron_seconds

    def merge(self, other):
        """Add the samples counted by another worker's share, after these.

        Parameters
        ----------
        other : Metrics
            Its metrics.
        """
        self.total_loss += other.total_loss
        self.sample_losses += other.sample_losses
        self.predictions += other.predictions
        self.outputs += other.outputs
        self.correct += other.correct
        for name in ("sq_error", "sum_t", "sum_t2", "count"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        if other.neuron_seconds:
            self.add_events(other.events, other.quanta, other.neuron_seconds)

    def summary(self):
        """The run's numbers.

        Returns
        -------
        dict
            Mean per-sample loss, summed loss, samples, event and quanta rates, and NRMSE
            (MSE) or accuracy (cross-entropy) as ``metric``.
        """
        out = {"loss": float(np.mean(self.sample_losses)), "loss_sum": self.total_loss,
               "samples": len(self.sample_losses),
               "events_per_neuron_per_s": self.events_per_neuron_per_s,
               "quanta_per_neuron_per_s": self.quanta_per_neuron_per_s}
        if self.kind == "mse":
            variance = self.sum_t2 - self.sum_t ** 2 / max(1.0, self.count)
            out["nrmse"] = float(np.sqrt(self.sq_error / variance)) if variance > 0 else float("nan")
            out["metric"] = out["nrmse"]
        else:
            out["accuracy"] = self.correct / len(self.sample_losses)
            out["metric"] = out["accuracy"]
        if self.record_outputs:
            out["outputs"] = self.outputs
        if self.predictions:
            out["predictions"] = np.array(self.predictions)
        return out


@dataclass(frozen=True)
class Progress:
    """What a progress callback of a run receives (the learner passes its ``RunPlan``,
    which has the same three fields).

    Parameters
    ----------
    done : int
        Samples finished.
    samples : list of Sample
        The run's samples.
    metrics : Metrics
        The run's metrics so far.
    """
    done: int
    samples: list
    metrics: Metrics
