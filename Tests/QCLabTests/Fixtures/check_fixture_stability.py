"""Reruns fixtures of index_msmash.json with the mass constant times (1 + 1e-13) and reports
which no longer agree with the stored output (|a - b| <= 1e-6 + 1e-5 |b|): such a fixture
is sensitive at the level of rounding and cannot be trusted element by element.

    ../../../.build/qclab-ref/bin/python check_fixture_stability.py [CASE ...]
"""
import json
import os
import sys

import h5py
import numpy as np

import generate_msmash_fixtures as g

HERE = os.path.dirname(os.path.abspath(__file__))
MASS = {"SpinBoson": "boson_mass", "HolsteinLattice": "phonon_mass",
        "HolsteinLatticeReciprocalSpace": "phonon_mass"}
DEFAULT_MASS = {"TullyProblemOne": 2000.0, "TullyProblemTwo": 2000.0, "TullyProblemThree": 2000.0}


def main(argv):
    only = set(argv[1:])
    unstable = []
    for c in g.make_cases():
        name = c["case"]
        if only and name not in only:
            continue
        job = json.loads(json.dumps(c["job"]))
        model = job["model"]["name"]
        key = MASS.get(model, "mass")
        base = job["model"]["constants"].get(key, DEFAULT_MASS.get(model, 1.0))
        job["model"]["constants"][key] = base * (1.0 + 1e-13)
        data = g.gf.run_job(job).data_dict
        with h5py.File(os.path.join(HERE, name + ".h5")) as f:
            worst = 0.0
            for out in ("dm_db", "quantum_energy", "classical_energy"):
                if out in f:
                    ref = f[out][()]
                    excess = np.abs(data[out] - ref) - (1e-6 + 1e-5 * np.abs(ref))
                    worst = max(worst, float(np.max(excess)))
        status = "stable" if worst <= 0 else f"UNSTABLE (excess {worst:.3g})"
        if worst > 0:
            unstable.append(name)
        print(f"{name:45s} {status}", flush=True)
    print("unstable:", unstable)


if __name__ == "__main__":
    main(sys.argv)
