import re

from setuptools import find_packages, setup

setup(
    name="sgbrian",
    version=re.search(r'__version__ = "(.+)"', open("sgbrian/_version.py").read()).group(1),
    description="SpikingGamma neurons (gamma-cascade buckets, sigma-delta spikes, "
                "online learning) for Brian2",
    packages=find_packages(include=["sgbrian", "sgbrian.*"]),
    license="GPL-2.0-or-later",
    classifiers=["License :: OSI Approved :: GNU General Public License v2 or later (GPLv2+)"],
    python_requires=">=3.10",
    install_requires=["brian2>=2.5.4", "numpy", "scipy", "sympy", "matplotlib", "Cython",
                      "dask", "distributed", "tqdm", "numba"],
    extras_require={"test": ["pytest", "pytest-xdist", "h5py", "hypothesis", "mutmut", "ruff",
                             "numpydoc"],
                    "mutation": ["mutmut"],
                    "baselines": ["torch", "snntorch"], "genn": ["brian2genn==1.7.0"],
                    "docs": ["sphinx", "numpydoc", "myst-parser"],
                    "datasets": ["tonic", "h5py"]},
    entry_points={"console_scripts": ["sgbrian=sgbrian.cli:main"]},
)
