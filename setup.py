from setuptools import find_packages, setup

setup(
    name="sgbrian",
    version="0.1.0",
    description="SpikingGamma neurons (gamma-cascade buckets, sigma-delta spikes, "
                "online learning) for Brian2",
    packages=find_packages(include=["sgbrian", "sgbrian.*"]),
    python_requires=">=3.10",
    install_requires=["brian2>=2.5.4", "numpy", "scipy", "sympy", "matplotlib", "Cython",
                      "dask", "distributed", "tqdm", "numba"],
    extras_require={"test": ["pytest", "pytest-xdist", "h5py", "hypothesis", "mutmut"],
                    "mutation": ["mutmut"],
                    "baselines": ["torch", "snntorch"], "genn": ["brian2genn==1.7.0"]},
    entry_points={"console_scripts": ["sgbrian=sgbrian.cli:main"]},
)
