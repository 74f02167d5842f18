#!/usr/bin/env python3
"""
Golden-fixture generator for QCLab for Swift.

What it makes (all in the folder this script lives in):

* ``<case>.json``  -- a job file in the layout of /work/shared/job-format.md
  (plus the one documented extension ``model.init_classical``, see below);
* ``<case>.h5``    -- the output of running that job with the reference Python
  package qclab, written by qclab's own ``Data.save``;
* ``index.json``   -- list of {"case", "model", "algorithm", "purpose"} so that
  tests can iterate over the cases;
* ``random_draws.json`` -- reference draws of NumPy's legacy RNG
  (``np.random.seed`` / ``normal`` / ``rand``) for a few seeds.

It was run with qclab==1.3.0 (asserted below); the NumPy version in use is
printed at start-up.  This script does not copy any qclab code: it only imports
qclab and drives it through its public API (Simulation, models, algorithms,
ingredients, serial_driver, Data.save).

Regenerate with:

    python3 -m venv .build/qclab-ref && .build/qclab-ref/bin/python -m pip install qclab==1.3.0 h5py
    cd Tests/QCLabTests/Fixtures && ../../../.build/qclab-ref/bin/python generate_fixtures.py

Extra outputs (the job's top-level "outputs" list, ../shared/job-format.md):

    "outputs": ["q", "p"]

For each name a collect task is appended to the algorithm's collect recipe that
stores qclab.functions.z_to_q(z, m, h) (or z_to_p) of every trajectory, shape
(num_classical_coordinates,) per trajectory; a second task stores its square
under "<name>_sq", so that the fixture holds the mean of q**2 beside the mean of
q, from which the tests check our standard errors (<name>_sem).

Job-format extension used here:

    "model": {"name": ..., "constants": {...}, "init_classical": "wigner_harmonic"}

When present, the model's ``init_classical`` ingredient is replaced by the
matching ``qclab.ingredients.init_classical_<value>`` function.  Allowed values:
"boltzmann_harmonic", "wigner_harmonic", "definite_position_momentum".
"""

import json
import os
import sys
import time

import numpy as np
import qclab
import qclab.ingredients
import qclab.models
import qclab.algorithms
import qclab.dynamics
import qclab.functions

assert qclab.__version__ == "1.3.0", f"expected qclab 1.3.0, got {qclab.__version__}"

HERE = os.path.dirname(os.path.abspath(__file__))

# ---------------------------------------------------------------------------
# Job file -> qclab Simulation
# ---------------------------------------------------------------------------

ALLOWED_TOP = {"settings", "model", "algorithm", "initial_state", "seeds", "outputs"}
ALLOWED_SETTINGS = {"tmax", "dt_update", "dt_collect", "num_trajs", "batch_size"}
ALLOWED_MODEL = {"name", "constants", "init_classical"}
ALLOWED_ALGORITHM = {"name", "settings"}
ALLOWED_ALGORITHM_SETTINGS = {
    "MeanField": set(),
    "FewestSwitchesSurfaceHopping": {
        "fssh_deterministic",
        "gauge_fixing",
        "use_gauge_field_force",
    },
}
ALLOWED_INITIAL_STATE = {"wf_db"}
INIT_CLASSICAL = {
    "boltzmann_harmonic": qclab.ingredients.init_classical_boltzmann_harmonic,
    "wigner_harmonic": qclab.ingredients.init_classical_wigner_harmonic,
    "definite_position_momentum": qclab.ingredients.init_classical_definite_position_momentum,
}


def _check_keys(where, given, allowed):
    unknown = set(given) - set(allowed)
    if unknown:
        raise KeyError(f"unknown key(s) in {where}: {sorted(unknown)}")


def _parse_wf(entries):
    out = []
    for e in entries:
        if isinstance(e, (list, tuple)):
            if len(e) != 2:
                raise ValueError(f"wf_db entry must be a number or [re, im]: {e!r}")
            out.append(complex(float(e[0]), float(e[1])))
        else:
            out.append(complex(float(e), 0.0))
    return np.array(out, dtype=complex)


def build_simulation(job: dict):
    """Turn a job dict (job-format.md layout) into (sim, seeds) without running it."""
    _check_keys("job", job, ALLOWED_TOP)
    settings = dict(job.get("settings", {}))
    _check_keys("settings", settings, ALLOWED_SETTINGS)
    settings["progress_bar"] = False

    model_spec = job["model"]
    _check_keys("model", model_spec, ALLOWED_MODEL)
    alg_spec = job["algorithm"]
    _check_keys("algorithm", alg_spec, ALLOWED_ALGORITHM)
    alg_settings = dict(alg_spec.get("settings", {}))
    _check_keys(
        "algorithm.settings", alg_settings, ALLOWED_ALGORITHM_SETTINGS[alg_spec["name"]]
    )
    init_state = job["initial_state"]
    _check_keys("initial_state", init_state, ALLOWED_INITIAL_STATE)

    sim = qclab.Simulation(settings)
    model_cls = getattr(qclab.models, model_spec["name"])
    sim.model = model_cls(dict(model_spec.get("constants", {})))
    init_classical = model_spec.get("init_classical")
    if init_classical is not None:
        if init_classical not in INIT_CLASSICAL:
            raise ValueError(f"unknown init_classical: {init_classical!r}")
        # Model.get scans ingredients from the end, so an appended entry wins.
        sim.model.ingredients.append(("init_classical", INIT_CLASSICAL[init_classical]))
    alg_cls = getattr(qclab.algorithms, alg_spec["name"])
    sim.algorithm = alg_cls(alg_settings)
    sim.initial_state["wf_db"] = _parse_wf(init_state["wf_db"])

    for name in job.get("outputs", []):
        sim.algorithm.collect_recipe = list(sim.algorithm.collect_recipe) + collect_tasks(name)

    seeds = job.get("seeds")
    seeds = np.array(seeds, dtype=int) if seeds is not None else None
    return sim, seeds


def collect_tasks(name):
    """Collect tasks for the extra output `name` ("q" or "p") and its square."""
    convert = {"q": qclab.functions.z_to_q, "p": qclab.functions.z_to_p}[name]

    def collect(sim, state, parameters):
        value = convert(state["z"], sim.model.constants.classical_coordinate_mass,
                        sim.model.constants.classical_coordinate_weight)
        state["output_dict"][name] = value
        state["output_dict"][name + "_sq"] = value * value
        return state, parameters

    return [collect]


def run_job(job: dict) -> qclab.Data:
    """Run a job dict (job-format.md layout) with qclab's serial driver."""
    sim, seeds = build_simulation(job)
    return qclab.dynamics.serial_driver(sim, seeds=seeds)


# ---------------------------------------------------------------------------
# Cases
# ---------------------------------------------------------------------------

def wf(*amps):
    """Wavefunction entries as [re, im] pairs."""
    return [[float(complex(a).real), float(complex(a).imag)] for a in amps]


def basis(n, k):
    return wf(*[1.0 if i == k else 0.0 for i in range(n)])


MF = "MeanField"
FSSH = "FewestSwitchesSurfaceHopping"

SB_CONSTANTS = {"A": 20, "V": 0.3, "l_reorg": 0.02, "kBT": 0.5}
HOLSTEIN_CONSTANTS = {"N": 6, "g": 0.8, "periodic": False}
RECIP_CONSTANTS = {"N": 6}
FMO_CONSTANTS = {"N": 10}
SB_GRID = {"tmax": 10.0, "dt_update": 0.01, "dt_collect": 0.25}
TULLY_GRID = {"tmax": 1500.0, "dt_update": 0.5, "dt_collect": 50.0}
TULLY_LONG_GRID = {"tmax": 2000.0, "dt_update": 0.5, "dt_collect": 50.0}

# Tully set-ups (constants override qclab's defaults).
TULLY1 = {"init_position": -5.0, "init_momentum": 15.0}
TULLY1_LOW = {"init_position": -4.0, "init_momentum": 7.0}
TULLY2 = {"init_position": -8.0, "init_momentum": 25.0}
TULLY3 = {"init_position": -10.0, "init_momentum": 15.0}
TULLY3_LOW = {"init_position": -10.0, "init_momentum": 5.0}


def job(settings, model, constants, algorithm, alg_settings, wf_db, seeds=None,
        init_classical=None):
    j = {
        "settings": dict(settings),
        "model": {"name": model, "constants": dict(constants)},
        "algorithm": {"name": algorithm, "settings": dict(alg_settings)},
        "initial_state": {"wf_db": wf_db},
    }
    if init_classical is not None:
        j["model"]["init_classical"] = init_classical
    if seeds is not None:
        j["seeds"] = list(seeds)
    return j


def make_cases():
    cases = []

    def add(name, purpose, j):
        cases.append({"case": name, "purpose": purpose, "job": j})

    # ----------------------------- Mean field -----------------------------
    add("mf_spin_boson",
        "MF SpinBoson, non-default constants (A=20,V=0.3,l_reorg=0.02,kBT=0.5), "
        "Boltzmann sampling; num_trajs=50 not a multiple of batch_size=20",
        job({**SB_GRID, "num_trajs": 50, "batch_size": 20},
            "SpinBoson", SB_CONSTANTS, MF, {}, basis(2, 0)))
    add("mf_spin_boson_wigner",
        "MF SpinBoson with init_classical=wigner_harmonic extension, complex "
        "superposition wf (0.6, 0.8i), explicit non-contiguous seeds, last batch short",
        job({**SB_GRID, "batch_size": 2},
            "SpinBoson", SB_CONSTANTS, MF, {}, wf(0.6, 0.8j),
            seeds=[3, 7, 11, 12, 40], init_classical="wigner_harmonic"))
    add("mf_holstein",
        "MF HolsteinLattice N=6, g=0.8, open boundary (periodic False), "
        "initial excitation on site 2 (not state 0); 60 trajs, batch 25",
        job({**SB_GRID, "num_trajs": 60, "batch_size": 25},
            "HolsteinLattice", HOLSTEIN_CONSTANTS, MF, {}, basis(6, 2)))
    add("mf_holstein_reciprocal",
        "MF HolsteinLatticeReciprocalSpace N=6 starting in k=0 (index 3); time grid "
        "rounding: dt_collect 0.333 -> 33 steps (0.33), tmax 10 -> 990 steps (9.9)",
        job({"tmax": 10.0, "dt_update": 0.01, "dt_collect": 0.333,
             "num_trajs": 40, "batch_size": 20},
            "HolsteinLatticeReciprocalSpace", RECIP_CONSTANTS, MF, {}, basis(6, 3)))
    add("mf_fmo",
        "MF FMOComplex with N=10 bath modes per site (70 classical coordinates), "
        "site 1 excited",
        job({**SB_GRID, "num_trajs": 20, "batch_size": 10},
            "FMOComplex", FMO_CONSTANTS, MF, {}, basis(7, 0)))
    add("mf_tully1",
        "MF TullyProblemOne, definite position/momentum (q0=-5, p0=15), explicit "
        "seeds [3,7,11,12,40] with batch_size 2 (seeds irrelevant to dynamics)",
        job({**TULLY_GRID, "batch_size": 2},
            "TullyProblemOne", TULLY1, MF, {}, basis(2, 0), seeds=[3, 7, 11, 12, 40]))
    add("mf_tully2",
        "MF TullyProblemTwo (q0=-8, p0=25), complex superposition wf (0.6, 0.8i)",
        job({**TULLY_GRID, "num_trajs": 4, "batch_size": 4},
            "TullyProblemTwo", TULLY2, MF, {}, wf(0.6, 0.8j)))
    add("mf_tully3",
        "MF TullyProblemThree (q0=-10, p0=15), unnormalised initial wf (1, 1) used as given",
        job({**TULLY_LONG_GRID, "num_trajs": 3, "batch_size": 3},
            "TullyProblemThree", TULLY3, MF, {}, wf(1.0, 1.0)))

    # ---------------------- Fewest-switches surface hopping ----------------------
    # Spin-boson
    add("fssh_spin_boson",
        "FSSH SpinBoson stochastic, sign_overlap (default gauge), non-default constants",
        job({**SB_GRID, "num_trajs": 40, "batch_size": 20},
            "SpinBoson", SB_CONSTANTS, FSSH,
            {"fssh_deterministic": False, "gauge_fixing": "sign_overlap"}, basis(2, 0)))
    add("fssh_spin_boson_det",
        "FSSH SpinBoson deterministic (branches over both surfaces), superposition wf",
        job({**SB_GRID, "num_trajs": 40, "batch_size": 20},
            "SpinBoson", SB_CONSTANTS, FSSH,
            {"fssh_deterministic": True, "gauge_fixing": "sign_overlap"}, wf(0.6, 0.8j)))
    add("fssh_spin_boson_phase_overlap",
        "FSSH SpinBoson stochastic with gauge_fixing=phase_overlap, complex superposition wf",
        job({**SB_GRID, "num_trajs": 30, "batch_size": 30},
            "SpinBoson", SB_CONSTANTS, FSSH,
            {"gauge_fixing": "phase_overlap"}, wf(0.6, 0.8j)))
    add("fssh_spin_boson_phase_der_couple",
        "FSSH SpinBoson stochastic with gauge_fixing=phase_der_couple; explicit seeds "
        "incl. a large one, 7 trajs in batches of 3",
        job({**SB_GRID, "batch_size": 3},
            "SpinBoson", SB_CONSTANTS, FSSH,
            {"gauge_fixing": "phase_der_couple"}, basis(2, 0),
            seeds=[0, 2, 5, 9, 17, 1000, 123456789]))
    add("fssh_spin_boson_gauge_field_force",
        "FSSH SpinBoson with use_gauge_field_force=true (SpinBoson has no "
        "gauge_field_force ingredient, so results must equal the plain run)",
        job({**SB_GRID, "num_trajs": 40, "batch_size": 20},
            "SpinBoson", SB_CONSTANTS, FSSH,
            {"fssh_deterministic": False, "gauge_fixing": "sign_overlap",
             "use_gauge_field_force": True}, basis(2, 0)))
    add("fssh_spin_boson_wigner_det",
        "FSSH SpinBoson deterministic with default constants (A=100) and "
        "init_classical=wigner_harmonic, few trajectories",
        job({"tmax": 5.0, "dt_update": 0.01, "dt_collect": 0.1,
             "num_trajs": 8, "batch_size": 4},
            "SpinBoson", {}, FSSH, {"fssh_deterministic": True}, basis(2, 0),
            init_classical="wigner_harmonic"))

    # Holstein (real space)
    add("fssh_holstein",
        "FSSH HolsteinLattice N=6 g=0.8 open chain, stochastic, phase_overlap, site 2",
        job({**SB_GRID, "num_trajs": 50, "batch_size": 25},
            "HolsteinLattice", HOLSTEIN_CONSTANTS, FSSH,
            {"gauge_fixing": "phase_overlap"}, basis(6, 2)))
    add("fssh_holstein_det",
        "FSSH HolsteinLattice N=6 deterministic (batch 12 = 2 x 6 branches), sign_overlap",
        job({**SB_GRID, "num_trajs": 24, "batch_size": 12},
            "HolsteinLattice", HOLSTEIN_CONSTANTS, FSSH,
            {"fssh_deterministic": True}, basis(6, 2)))

    # Holstein (reciprocal space)
    add("fssh_holstein_reciprocal",
        "FSSH HolsteinLatticeReciprocalSpace N=6 stochastic, phase_der_couple, k=0",
        job({**SB_GRID, "num_trajs": 40, "batch_size": 20},
            "HolsteinLatticeReciprocalSpace", RECIP_CONSTANTS, FSSH,
            {"gauge_fixing": "phase_der_couple"}, basis(6, 3)))
    add("fssh_holstein_reciprocal_det",
        "FSSH HolsteinLatticeReciprocalSpace N=6 deterministic, phase_der_couple",
        job({**SB_GRID, "num_trajs": 24, "batch_size": 12},
            "HolsteinLatticeReciprocalSpace", RECIP_CONSTANTS, FSSH,
            {"fssh_deterministic": True, "gauge_fixing": "phase_der_couple"},
            basis(6, 3)))

    # FMO
    add("fssh_fmo",
        "FSSH FMOComplex N=10 stochastic, sign_overlap, site 6 excited; 14 trajs batch 5",
        job({**SB_GRID, "num_trajs": 14, "batch_size": 5},
            "FMOComplex", FMO_CONSTANTS, FSSH, {}, basis(7, 5)))
    add("fssh_fmo_det",
        "FSSH FMOComplex N=10 deterministic (batch 7 = 7 branches), phase_overlap",
        job({**SB_GRID, "num_trajs": 14, "batch_size": 7},
            "FMOComplex", FMO_CONSTANTS, FSSH,
            {"fssh_deterministic": True, "gauge_fixing": "phase_overlap"}, basis(7, 0)))

    # Tully problems
    add("fssh_tully1",
        "FSSH TullyProblemOne q0=-5 p0=15 stochastic, sign_overlap: successful hops",
        job({**TULLY_GRID, "num_trajs": 40, "batch_size": 20},
            "TullyProblemOne", TULLY1, FSSH, {}, basis(2, 0)))
    add("fssh_tully1_det",
        "FSSH TullyProblemOne q0=-5 p0=15 deterministic",
        job({**TULLY_GRID, "num_trajs": 40, "batch_size": 20},
            "TullyProblemOne", TULLY1, FSSH, {"fssh_deterministic": True}, basis(2, 0)))
    add("fssh_tully1_frustrated",
        "FSSH TullyProblemOne q0=-4 p0=7 (KE 0.01225 < asymptotic gap 0.02): every "
        "attempted upward hop is frustrated; active surface never changes",
        job({**TULLY_LONG_GRID, "num_trajs": 30, "batch_size": 30},
            "TullyProblemOne", TULLY1_LOW, FSSH, {}, basis(2, 0)))
    add("fssh_tully1_upper",
        "FSSH TullyProblemOne q0=-5 p0=15 starting on the upper diabatic state, "
        "phase_der_couple: downward hops always allowed",
        job({**TULLY_GRID, "num_trajs": 30, "batch_size": 15},
            "TullyProblemOne", TULLY1, FSSH, {"gauge_fixing": "phase_der_couple"},
            basis(2, 1)))
    add("fssh_tully2",
        "FSSH TullyProblemTwo q0=-8 p0=25 stochastic, phase_overlap",
        job({**TULLY_GRID, "num_trajs": 40, "batch_size": 20},
            "TullyProblemTwo", TULLY2, FSSH, {"gauge_fixing": "phase_overlap"},
            basis(2, 0)))
    add("fssh_tully2_det",
        "FSSH TullyProblemTwo q0=-8 p0=25 deterministic, superposition wf",
        job({**TULLY_GRID, "num_trajs": 40, "batch_size": 20},
            "TullyProblemTwo", TULLY2, FSSH, {"fssh_deterministic": True},
            wf(0.6, 0.8j)))
    add("fssh_tully3",
        "FSSH TullyProblemThree q0=-10 p0=15 stochastic, sign_overlap: hops and transmission",
        job({**TULLY_LONG_GRID, "num_trajs": 40, "batch_size": 20},
            "TullyProblemThree", TULLY3, FSSH, {}, basis(2, 0)))
    add("fssh_tully3_det",
        "FSSH TullyProblemThree q0=-10 p0=15 deterministic, phase_der_couple",
        job({**TULLY_LONG_GRID, "num_trajs": 40, "batch_size": 20},
            "TullyProblemThree", TULLY3, FSSH,
            {"fssh_deterministic": True, "gauge_fixing": "phase_der_couple"},
            basis(2, 0)))
    add("fssh_tully3_reflect",
        "FSSH TullyProblemThree q0=-10 p0=5 (low momentum): hops to the upper "
        "surface, reflection back to q<0; frustrated hops",
        job({**TULLY_LONG_GRID, "tmax": 4000.0, "dt_collect": 100.0,
             "num_trajs": 30, "batch_size": 30},
            "TullyProblemThree", TULLY3_LOW, FSSH, {}, basis(2, 0)))

    # Per-seed sets: same job, one trajectory each, to localise failures.
    # Hops seen in qclab 1.3.0 (checked separately): Tully seed 1: up and back
    # down (2 hops), seed 3: no hop, seed 4: one hop, seed 6: 2 hops.
    # SpinBoson seed 0: no hop, seed 9: one hop, seed 13: one hop + one frustrated.
    # --------------------- Extra outputs ("outputs": ["q", "p"]) ---------------------
    def with_outputs(j, names):
        j = dict(j)
        j["outputs"] = list(names)
        return j

    add("mf_spin_boson_qp",
        "MF SpinBoson with outputs q and p (z_to_q / z_to_p collect tasks appended "
        "to qclab's recipe; their squares give the expected standard errors)",
        with_outputs(job({**SB_GRID, "num_trajs": 30, "batch_size": 20},
                         "SpinBoson", SB_CONSTANTS, MF, {}, basis(2, 0)), ["q", "p"]))
    add("fssh_tully1_qp",
        "FSSH TullyProblemOne q0=-5 p0=15 with outputs q and p: hops change p",
        with_outputs(job({**TULLY_GRID, "num_trajs": 30, "batch_size": 15},
                         "TullyProblemOne", TULLY1, FSSH, {}, basis(2, 0)), ["q", "p"]))
    add("fssh_fmo_det_qp",
        "FSSH FMOComplex deterministic with outputs p then q (70 coordinates; plain "
        "averages over branches, as qclab's appended tasks give)",
        with_outputs(job({**SB_GRID, "tmax": 2.0, "num_trajs": 14, "batch_size": 7},
                         "FMOComplex", FMO_CONSTANTS, FSSH, {"fssh_deterministic": True},
                         basis(7, 0)), ["p", "q"]))

    tully_notes = {1: "hops up and back down", 3: "no hop", 4: "one hop", 6: "two hops"}
    for s in [1, 3, 4, 6]:
        add(f"fssh_tully1_seed{s}",
            f"per-seed FSSH TullyProblemOne q0=-5 p0=15 (as fssh_tully1), seed {s} "
            f"only ({tully_notes[s]})",
            job({**TULLY_GRID, "batch_size": 1},
                "TullyProblemOne", TULLY1, FSSH, {}, basis(2, 0), seeds=[s]))
    sb_notes = {0: "no hop", 9: "one hop", 13: "one hop and one frustrated hop"}
    for s in [0, 9, 13]:
        add(f"fssh_spin_boson_seed{s}",
            f"per-seed FSSH SpinBoson (as fssh_spin_boson), seed {s} only ({sb_notes[s]})",
            job({**SB_GRID, "batch_size": 1},
                "SpinBoson", SB_CONSTANTS, FSSH,
                {"fssh_deterministic": False, "gauge_fixing": "sign_overlap"},
                basis(2, 0), seeds=[s]))
    return cases


# ---------------------------------------------------------------------------
# NumPy legacy RNG reference draws
# ---------------------------------------------------------------------------

def make_random_draws():
    seeds = [0, 1, 7, 42, 123456789, 4294967295]
    out = {
        "numpy_version": np.__version__,
        "description": (
            "NumPy legacy RNG (np.random.seed / RandomState, MT19937 with the legacy "
            "polar Gaussian and its cached second value). For each seed: after "
            "np.random.seed(seed): normal = np.random.normal(size=9); then on the same "
            "stream rand = np.random.rand(5); then normal_after_rand = "
            "np.random.normal(size=3). Fresh streams: rand_only = np.random.seed(seed); "
            "np.random.rand(7). scaled_normal = np.random.seed(seed); "
            "np.random.normal(loc=0, scale=[0.5, 2.0, 3.0], size=3)."
        ),
        "draws": [],
    }
    for seed in seeds:
        np.random.seed(seed)
        normal = np.random.normal(size=9).tolist()
        rand = np.random.rand(5).tolist()
        normal_after_rand = np.random.normal(size=3).tolist()
        np.random.seed(seed)
        rand_only = np.random.rand(7).tolist()
        np.random.seed(seed)
        scaled_normal = np.random.normal(
            loc=0, scale=np.array([0.5, 2.0, 3.0]), size=3
        ).tolist()
        out["draws"].append({
            "seed": seed,
            "normal": normal,
            "rand": rand,
            "normal_after_rand": normal_after_rand,
            "rand_only": rand_only,
            "scaled_normal": scaled_normal,
        })
    return out


# ---------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------

def main(argv):
    print(f"qclab {qclab.__version__}, numpy {np.__version__}, python {sys.version.split()[0]}")
    only = set(argv[1:])
    t_start = time.time()

    with open(os.path.join(HERE, "random_draws.json"), "w") as f:
        json.dump(make_random_draws(), f, indent=1)
        f.write("\n")

    cases = make_cases()
    names = [c["case"] for c in cases]
    assert len(names) == len(set(names)), "duplicate case names"
    index = []
    for c in cases:
        name, j = c["case"], c["job"]
        index.append({
            "case": name,
            "model": j["model"]["name"],
            "algorithm": j["algorithm"]["name"],
            "purpose": c["purpose"],
        })
        if only and name not in only:
            continue
        t0 = time.time()
        # Round-trip through JSON so the fixture is run exactly as written.
        text = json.dumps(j, indent=2) + "\n"
        data = run_job(json.loads(text))
        with open(os.path.join(HERE, name + ".json"), "w") as f:
            f.write(text)
        h5_path = os.path.join(HERE, name + ".h5")
        data.save(h5_path)
        print(f"{name:40s} {time.time() - t0:7.1f} s  {os.path.getsize(h5_path):8d} B")

    with open(os.path.join(HERE, "index.json"), "w") as f:
        json.dump(index, f, indent=1)
        f.write("\n")
    print(f"total generator runtime: {time.time() - t_start:.1f} s")


if __name__ == "__main__":
    main(sys.argv)
