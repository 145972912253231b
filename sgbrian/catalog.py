"""The catalogue of named experiments: each task with its network, loss, gradient method,
optimizer settings and the level its metric must reach (``EXPERIMENTS``).

:mod:`sgbrian.experiments` trains them (``train_task``) and re-exports both names.
"""
from dataclasses import dataclass, field

from brian2 import ms

from . import event_tasks, tasks
from .losses import CrossEntropyLoss, MSELoss


@dataclass
class Experiment:
    """A named experiment (``EXPERIMENTS``).

    Parameters
    ----------
    make_task, make_network : callable
        Builders of its task and of its network for a task.
    dt : Quantity
        Simulation time step.
    loss : callable
        Builds the loss.
    rule : str
        Gradient method.
    lr : float
        Adam's learning rate.
    update_every : str or int
        'sample', or a number of steps.
    epochs : int
        Epochs.
    metric : str
        'nrmse' or 'accuracy'.
    goal : float
        The level the metric must meet (:meth:`met`).
    task_kwargs : dict
        Settings of the task.
    train : tuple of str
        Parameters trained.
    batch_size : int
        Samples side by side.
    penalty : float
        The activity penalty's lambda on the hidden outputs (:mod:`sgbrian.penalties`;
        0: none).
    """
    make_task: object
    make_network: object
    dt: object
    loss: object                 # () -> loss
    rule: str
    lr: float
    update_every: object
    epochs: int
    metric: str                  # 'nrmse' (lower is better) or 'accuracy'
    goal: float                  # the stated level
    task_kwargs: dict = field(default_factory=dict)
    train: tuple = ("w", "v", "b")   # trainable parameters
    batch_size: int = 1              # samples side by side (one update per batch)
    penalty: float = 0.0             # lambda of TotalVariation (0: no penalty)

    def met(self, value):
        """Whether a value of the experiment's metric meets its goal.

        Parameters
        ----------
        value : float
            The metric.

        Returns
        -------
        bool
            NRMSE below ``goal``, accuracy at or above it.
        """
        return value < self.goal if self.metric == "nrmse" else value >= self.goal


def _event_experiment(name, loss_start, lr, epochs):
    """An event dataset of :mod:`sgbrian.event_tasks`: rule 'adjoint', delays trained,
    batches of 32, cross-entropy from ``loss_start``, accuracy 0.9 as the goal."""
    return Experiment(getattr(event_tasks, f"{name}_task"), getattr(event_tasks, f"{name}_network"),
                      1 * ms, lambda: CrossEntropyLoss(start=loss_start), "adjoint", lr, "sample",
                      epochs, "accuracy", 0.90, train=("w", "v", "b", "d"), batch_size=32)


EXPERIMENTS = {
    "delay": Experiment(tasks.delay_task, tasks.delay_network, 1 * ms, MSELoss, "spatial",
                        1e-2, 10, 15, "nrmse", 0.1),
    "itd": Experiment(tasks.itd_task, tasks.itd_network, 0.05 * ms,
                      lambda: CrossEntropyLoss(start=2 * ms), "adjoint", 5e-2, "sample", 8,
                      "accuracy", 0.95, batch_size=32),
    "timing": Experiment(tasks.timing_task, tasks.timing_network, 1 * ms,
                         lambda: CrossEntropyLoss(start=20 * ms), "adjoint", 3e-2, "sample", 3,
                         "accuracy", 0.90, batch_size=32),
    "shd": _event_experiment("shd", 100 * ms, 1e-2, 2),
    "ssc": _event_experiment("ssc", 100 * ms, 1e-2, 2),
    # lr 3e-3: of 1e-2 and 3e-3, the better training accuracy after 4 epochs of 256
    # stand-in samples (0.09, i.e. chance, against 0.25)
    "dvs_gesture": _event_experiment("dvs_gesture", 200 * ms, 3e-3, 6),
}
