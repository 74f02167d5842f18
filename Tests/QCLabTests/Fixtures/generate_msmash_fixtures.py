"""Fixtures for MSMASH, the complex avoided crossings and NumPy's PCG64, from qclab 1.3.0.

Run with the qclab 1.3.0 venv (see README.md: `.build/qclab-ref` at the package root) from this folder:

    ../../../.build/qclab-ref/bin/python generate_msmash_fixtures.py [CASE ...]

Writes ``pcg64_draws.json`` (always), ``<case>.json`` / ``<case>.h5`` for every case (or only
the named ones) and ``index_msmash.json`` (full runs only). Drives qclab through
``generate_fixtures.run_job``; contains no qclab code. For the rounding-sensitivity study of
the issue, ``perturbed_<case>.h5`` is the same job with every mass times (1 + 1e-13), kept
beside the case when ``PERTURB`` lists it, with per-trajectory outputs (num_trajs batches of 1).
"""

import json
import os
import sys
import time

import numpy as np
import qclab

import generate_fixtures as gf

HERE = os.path.dirname(os.path.abspath(__file__))
assert qclab.__version__ == "1.3.0", qclab.__version__

MSMASH = "MultiStateMappingApproachToSurfaceHopping"
MF, FSSH = gf.MF, gf.FSSH
gf.ALLOWED_ALGORITHM_SETTINGS[MSMASH] = {
    "gauge_fixing", "use_gauge_field_force", "reverse_frustrated_hops",
    "msmash_max_hops", "msmash_num_bisections",
}
gf.INIT_CLASSICAL["wigner_coherent_state"] = qclab.ingredients.init_classical_wigner_coherent_state


def make_pcg64_draws():
    seeds = [0, 1, 7, 42, 123456789, 4294967295, 2**40 + 3]
    out = {
        "numpy_version": np.__version__,
        "description": "np.random.default_rng(seed).uniform(0.0, 2*pi, 9) for each seed (repr strings, exact), "
                       "and the first five raw 64-bit outputs of a fresh "
                       "np.random.default_rng(seed).bit_generator.random_raw(5) as decimal strings.",
        "draws": [],
    }
    for seed in seeds:
        uniform = [repr(float(v)) for v in np.random.default_rng(seed).uniform(0.0, 2.0 * np.pi, 9)]
        raw = [str(int(v)) for v in np.random.default_rng(seed).bit_generator.random_raw(5)]
        out["draws"].append({"seed": seed, "uniform": uniform, "raw": raw})
    return out


def make_hermitian_eigh():
    """NumPy eigh of random complex Hermitian 2 x 2 matrices (repr strings, exact), for the
    closed form's bit-for-bit check; includes real, tiny-coupling and diagonal cases."""
    rng = np.random.default_rng(2024)
    cases = []
    for i in range(400):
        a, d = rng.normal(size=2) * [1e-3, 1.0, 20.0][i % 3]
        w = complex(*rng.normal(size=2)) * [1.0, 1e-9, 5.0, 0.0][i % 4]
        if i % 5 == 0:
            w = complex(w.real, 0.0)
        if i % 7 == 0:
            w = complex(0.0, w.imag)
        h = np.array([[a, w], [np.conj(w), d]])
        e, v = np.linalg.eigh(h)
        cases.append({"h": [repr(float(x)) for x in (a, w.real, w.imag, d)],
                      "eigvals": [repr(float(x)) for x in e],
                      "eigvecs": [repr(float(x)) for x in np.ravel(np.stack([v.real, v.imag], axis=-1))]})
    return {"numpy_version": np.__version__,
            "description": "h = [a, Re h01, Im h01, d]; eigvecs row-major (a, k) as re, im pairs",
            "cases": cases}


CROSSINGS = ["ComplexAvoidedCrossingA", "ComplexAvoidedCrossingB", "ComplexAvoidedCrossingC"]
CROSSING_GRID = {"tmax": 2.0, "dt_update": 0.002, "dt_collect": 0.1}


def make_cases():
    cases = []

    def add(name, purpose, j):
        cases.append({"case": name, "purpose": purpose, "job": j})

    job, basis, wf = gf.job, gf.basis, gf.wf
    # --------------------- complex avoided crossings, MF and FSSH ---------------------
    for model in CROSSINGS:
        short = "cac" + model[-1].lower()
        add(f"mf_{short}", f"MF {model}, defaults, Wigner coherent-state sampling",
            job({**CROSSING_GRID, "num_trajs": 4, "batch_size": 4}, model, {}, MF, {}, basis(2, 0)))
        for gauge in ["sign_overlap", "phase_overlap", "phase_der_couple"]:
            for det in [False, True]:
                for gff in [False, True]:
                    name = f"fssh_{short}_{gauge}{'_det' if det else ''}{'_gff' if gff else ''}"
                    add(name, f"FSSH {model} gauge_fixing={gauge} deterministic={det} "
                              f"use_gauge_field_force={gff}",
                        job({**CROSSING_GRID, "num_trajs": 4, "batch_size": 4}, model, {}, FSSH,
                            {"fssh_deterministic": det, "gauge_fixing": gauge,
                             "use_gauge_field_force": gff}, basis(2, 0)))
    add("mf_caca_constants", "MF ComplexAvoidedCrossingA with non-default constants",
        job({**CROSSING_GRID, "num_trajs": 3, "batch_size": 3}, "ComplexAvoidedCrossingA",
            {"A": 10.0, "B": 2.0, "W": 1.0, "mass": 2.0, "init_momentum_x": 12.0,
             "init_position_y": 0.5}, MF, {}, wf(0.6, 0.8j)))
    # ------------------------------------ MSMASH ------------------------------------
    add("msmash_spin_boson", "MSMASH SpinBoson, defaults",
        job({**gf.SB_GRID, "num_trajs": 6, "batch_size": 3}, "SpinBoson", gf.SB_CONSTANTS,
            MSMASH, {}, basis(2, 0)))
    add("msmash_spin_boson_settings",
        "MSMASH SpinBoson, phase_overlap, no frustrated reversal, 3 hops, 6 bisections",
        job({**gf.SB_GRID, "num_trajs": 4, "batch_size": 4}, "SpinBoson",
            {**gf.SB_CONSTANTS, "V": 1.0}, MSMASH,
            {"gauge_fixing": "phase_overlap", "reverse_frustrated_hops": False,
             "msmash_max_hops": 3, "msmash_num_bisections": 6}, basis(2, 1)))
    add("msmash_holstein", "MSMASH HolsteinLattice N=4",
        job({**gf.SB_GRID, "tmax": 5.0, "num_trajs": 3, "batch_size": 3}, "HolsteinLattice",
            {"N": 4, "g": 0.8, "periodic": False}, MSMASH, {}, basis(4, 1)))
    add("msmash_holstein_reciprocal", "MSMASH HolsteinLatticeReciprocalSpace N=4 (complex H)",
        job({**gf.SB_GRID, "tmax": 5.0, "num_trajs": 3, "batch_size": 3},
            "HolsteinLatticeReciprocalSpace", {"N": 4}, MSMASH, {}, basis(4, 0)))
    add("msmash_fmo", "MSMASH FMOComplex",
        job({"tmax": 5.0, "dt_update": 0.01, "dt_collect": 0.5, "num_trajs": 2, "batch_size": 2},
            "FMOComplex", {}, MSMASH, {}, basis(7, 0)))
    add("msmash_tully1", "MSMASH TullyProblemOne",
        job({**gf.TULLY_GRID, "num_trajs": 2, "batch_size": 2}, "TullyProblemOne", gf.TULLY1,
            MSMASH, {}, basis(2, 0)))
    add("msmash_tully2", "MSMASH TullyProblemTwo, phase_der_couple",
        job({**gf.TULLY_GRID, "num_trajs": 2, "batch_size": 2}, "TullyProblemTwo", gf.TULLY2,
            MSMASH, {"gauge_fixing": "phase_der_couple"}, basis(2, 0)))
    add("msmash_tully3", "MSMASH TullyProblemThree, low momentum (frustrated hops)",
        job({**gf.TULLY_LONG_GRID, "num_trajs": 2, "batch_size": 2}, "TullyProblemThree",
            gf.TULLY3_LOW, MSMASH, {}, basis(2, 0)))
    # MSMASH on the crossings is rounding-sensitive: see make_rounding_study.
    return cases


ROUNDING_SEEDS = list(range(8))
ROUNDING_STATS_TRAJS = 32


def make_rounding_study():
    """MSMASH on the crossings is sensitive at the level of rounding. Per model, settings
    (defaults; use_gauge_field_force) and seed: the trajectory's dm_db (flattened re, im as
    repr strings) from QC Lab as is and with the mass times (1 + 1e-13); and per model and
    settings the mean and standard error of the populations over further trajectories
    (seeds 100...) for the statistical comparison."""
    out = {"description": make_rounding_study.__doc__, "grid": CROSSING_GRID, "models": []}
    for settings, stats_trajs in (({}, ROUNDING_STATS_TRAJS), ({"use_gauge_field_force": True}, 16)):
        for model in CROSSINGS:
            entry = {"model": model, "settings": settings, "trajectories": []}
            for seed in ROUNDING_SEEDS:
                runs = []
                for scale in (1.0, 1.0 + 1e-13):
                    j = gf.job({**CROSSING_GRID, "num_trajs": 1, "batch_size": 1}, model,
                               {"mass": 1.0 * scale}, MSMASH, settings, gf.basis(2, 0), seeds=[seed])
                    dm = gf.run_job(j).data_dict["dm_db"]
                    runs.append([repr(float(x)) for x in np.ravel(np.stack([dm.real, dm.imag], axis=-1))])
                entry["trajectories"].append({"seed": seed, "dm_db": runs[0], "dm_db_perturbed": runs[1]})
            seeds = list(range(100, 100 + stats_trajs))
            per_traj = []
            for seed in seeds:
                jj = gf.job({**CROSSING_GRID, "num_trajs": 1, "batch_size": 1}, model, {}, MSMASH, settings,
                            gf.basis(2, 0), seeds=[seed])
                per_traj.append(np.real(gf.run_job(jj).data_dict["dm_db"][:, [0, 1], [0, 1]]))
            per_traj = np.array(per_traj)
            entry["stats_seeds"] = seeds
            entry["population_mean"] = per_traj.mean(axis=0).tolist()
            entry["population_stderr"] = (per_traj.std(axis=0, ddof=1) / np.sqrt(len(seeds))).tolist()
            out["models"].append(entry)
            print(model, settings, "rounding study done", flush=True)
    return out


def main(argv):
    print(f"qclab {qclab.__version__}, numpy {np.__version__}, python {sys.version.split()[0]}")
    only = set(argv[1:])
    with open(os.path.join(HERE, "pcg64_draws.json"), "w") as f:
        json.dump(make_pcg64_draws(), f, indent=1)
        f.write("\n")
    with open(os.path.join(HERE, "hermitian_2x2_eigh.json"), "w") as f:
        json.dump(make_hermitian_eigh(), f)
        f.write("\n")
    if "rounding" in only:
        with open(os.path.join(HERE, "msmash_crossings_rounding.json"), "w") as f:
            json.dump(make_rounding_study(), f)
            f.write("\n")
        return
    index = []
    for c in make_cases():
        name, j = c["case"], c["job"]
        index.append({"case": name, "model": j["model"]["name"],
                      "algorithm": j["algorithm"]["name"], "purpose": c["purpose"]})
        if only and name not in only:
            continue
        t0 = time.time()
        text = json.dumps(j, indent=2) + "\n"
        data = gf.run_job(json.loads(text))
        with open(os.path.join(HERE, name + ".json"), "w") as f:
            f.write(text)
        data.save(os.path.join(HERE, name + ".h5"))
        print(f"{name:40s} {time.time() - t0:7.1f} s")
    if not only:
        with open(os.path.join(HERE, "index_msmash.json"), "w") as f:
            json.dump(index, f, indent=1)
            f.write("\n")


if __name__ == "__main__":
    main(sys.argv)
