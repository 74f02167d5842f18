"""Translation of a QC Lab ``Simulation`` into a job file of the ``qclab`` executable.

What QC Lab computes translates, after the model's own ``_init_`` functions have run: a
built-in model, or a subclass or changed instance of one that keeps its ingredients and
computes the same constants from the same inputs, runs as that built-in model; any other
model built from QC Lab's stock harmonic ingredients runs as ``LinearVibronicCoupling``,
built from its computed constants, as does ``qclab_swift.models.LinearVibronicCoupling``.
Gradients set to None are QC Lab's finite differences (``model.gradients``). The
algorithms are QC Lab's (or subclasses with its recipes), with their settings; then the
simulation settings and ``initial_state["wf_db"]``. Anything else is refused with
``UntranslatableSimulation`` naming it, never dropped silently.
"""

import functools
import numbers
import warnings

import numpy as np
import qclab.algorithms
import qclab.ingredients
import qclab.model
import qclab.models

from qclab_swift import models

#: The model classes the executable knows, by QC Lab's class name.
MODEL_NAMES = (
    "SpinBoson",
    "HolsteinLattice",
    "HolsteinLatticeReciprocalSpace",
    "FMOComplex",
    "TullyProblemOne",
    "TullyProblemTwo",
    "TullyProblemThree",
    "ComplexAvoidedCrossingA",
    "ComplexAvoidedCrossingB",
    "ComplexAvoidedCrossingC",
)

#: Constants a model reads beyond its ``default_constants`` (QC Lab's ``h_q_two_level``
#: reads them with default 0): translated when the script sets them.
OPTIONAL_CONSTANTS = {
    name: ("two_level_00", "two_level_11", "two_level_01_re", "two_level_01_im")
    for name in ("ComplexAvoidedCrossingA", "ComplexAvoidedCrossingB", "ComplexAvoidedCrossingC")
}

#: The algorithm classes the executable knows, by QC Lab's class name.
ALGORITHM_NAMES = (
    "MeanField",
    "FewestSwitchesSurfaceHopping",
    "MultiStateMappingApproachToSurfaceHopping",
)

#: The simulation settings a job file carries.
SETTING_NAMES = ("tmax", "dt_update", "dt_collect", "num_trajs", "batch_size", "progress_bar")

#: Settings QC Lab derives itself (``Simulation.initialize_timesteps``), or that change
#: nothing in the results.
DERIVED_SETTINGS = {"tmax_n", "dt_collect_n", "t_update", "t_update_n", "t_collect_n", "t_collect", "debug"}


class UntranslatableSimulation(ValueError):
    """The simulation uses something the ``qclab`` executable cannot run (named in the message)."""


def _task_key(task):
    """What identifies a recipe task or ingredient: the function, with a partial's arguments."""
    if isinstance(task, functools.partial):
        return (task.func, task.args, tuple(sorted(task.keywords.items())))
    return task


def _task_name(task):
    if isinstance(task, functools.partial):
        return getattr(task.func, "__name__", repr(task.func))
    return getattr(task, "__name__", repr(task))


def _plain(value, where):
    """A constant or setting as a JSON value (numbers, booleans and strings only).

    A one-element array counts as its element: QC Lab's Tully models wrap their initial
    position and momentum in arrays as they initialize.
    """
    if isinstance(value, np.ndarray) and value.size == 1:
        value = value.reshape(-1)[0]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    if isinstance(value, str):
        return value
    raise UntranslatableSimulation(
        f"{where} is {type(value).__name__} {value!r}; the qclab executable takes numbers, booleans and strings only"
    )


def _effective_ingredients(ingredients):
    """Ingredient name -> ingredient, the last of a name winning, as ``Model.get`` reads them."""
    table = {}
    for name, ingredient in ingredients:
        table[name] = ingredient
    return table


def _built_in_ancestor(value, names, module):
    """The first of QC Lab's own classes named in `names` that `value` is an instance of, or None."""
    for cls in type(value).__mro__:
        if cls.__name__ in names and getattr(module, cls.__name__, None) is cls:
            return cls
    return None


def _refuse_class(value, role, names, which):
    cls = type(value)
    raise UntranslatableSimulation(
        f"{role} {cls.__module__}.{cls.__name__} is not {which} ({', '.join(names)}) nor a subclass of one "
        f"built from QC Lab's stock ingredients; {FALLBACK_HINT}"
    )


#: What a refusal suggests: QC Lab's own drivers, through the bridge's fallback.
FALLBACK_HINT = "run it on QC Lab's own drivers (fallback=True, or QCLAB_SWIFT_FALLBACK=1)"

#: The gradient ingredients QC Lab replaces by finite differences when set to None.
GRADIENT_NAMES = ("dh_qc_dzc", "dh_c_dzc")

#: The model constants holding QC Lab's finite-difference steps.
DELTA_NAMES = ("dh_qc_dzc_finite_difference_delta", "dh_c_dzc_finite_difference_delta")


def _shown(ingredient):
    """An ingredient as a refusal names it; None is QC Lab's finite-difference gradient or absence."""
    return "set to None" if ingredient is None else _task_name(ingredient)


def _stock_init_classical(ingredient):
    """'boltzmann_harmonic' etc. for QC Lab's own init_classical_* ingredients, else None."""
    if ingredient is None or isinstance(ingredient, functools.partial):
        return None
    name = _task_name(ingredient)
    if name.startswith("init_classical_") and getattr(qclab.ingredients, name, None) is ingredient:
        return name[len("init_classical_"):]
    return None


def _gradients_section(model, ours):
    """The job's `model.gradients`: QC Lab's finite-difference gradients (ingredients set to None)
    and the steps the model's constants set; empty when every gradient is the model's own."""
    section = {}
    for name in GRADIENT_NAMES:
        if name in ours and ours[name] is None:
            section[name] = "finite_difference"
    if section:
        for name in DELTA_NAMES:
            value = model.constants.get(name)
            if value is not None:
                section[name] = _plain(value, f"model constant '{name}'")
    return section


def _same_constants(model, reference):
    """The first computed constant in which `model` differs from `reference` (a built-in model
    made from the same inputs), or None when they agree everywhere."""
    for key in sorted(vars(reference.constants)):
        if key.startswith("_"):
            continue
        theirs = reference.constants.get(key)
        mine = model.constants.get(key, _MISSING)
        if mine is _MISSING:
            return key
        if callable(theirs) or callable(mine):
            continue
        try:
            a, b = np.asarray(mine), np.asarray(theirs)
            # Sizes, not shapes: the Tully models wrap their inputs once more at every initialization.
            if a.size != b.size or not np.array_equal(a.reshape(-1), b.reshape(-1)):
                return key
        except (TypeError, ValueError):
            if mine != theirs:
                return key
    return None


_MISSING = object()

#: Constants that QC Lab's stock ingredients and tasks read when present: never dropped silently.
STOCK_READ_CONSTANTS = ("two_level_00", "two_level_11", "two_level_01_re", "two_level_01_im")


def _as_built_in(model, cls, ours):
    """The model section that runs `model` as QC Lab's built-in `cls`, or the reason it cannot."""
    name = cls.__name__
    builtin = _effective_ingredients(cls.ingredients)
    section = {"name": name, "constants": {}}
    for ingredient_name in sorted(set(ours) | set(builtin)):
        if ingredient_name.startswith("_init_"):
            continue  # they have run: their results are compared below
        mine, theirs = ours.get(ingredient_name, _MISSING), builtin.get(ingredient_name, _MISSING)
        if mine is not _MISSING and theirs is not _MISSING and mine is not None and theirs is not None \
                and _task_key(mine) == _task_key(theirs):
            continue
        if ingredient_name in GRADIENT_NAMES and mine is None and theirs is not _MISSING:
            continue  # QC Lab's finite-difference gradient: the job's model.gradients
        if ingredient_name == "init_classical" and _stock_init_classical(mine if mine is not _MISSING else None):
            section["init_classical"] = _stock_init_classical(mine)
            continue
        shown = "absent" if mine is _MISSING else _shown(mine)
        return None, f"ingredient '{ingredient_name}' ({shown}) is not {name}'s"
    inputs = {}
    for key in cls().default_constants:
        value = model.constants.get(key, _MISSING)
        if value is _MISSING:
            return None, f"constant '{key}' of {name} is not set"
        if isinstance(value, np.ndarray) and value.size == 1:
            value = value.reshape(-1)[0]  # the Tully models wrap their inputs in arrays as they initialize
        inputs[key] = value
    try:
        reference = cls(dict(inputs))
    except Exception as error:  # QC Lab's own initializers refuse the inputs
        return None, f"{name}'s initializers fail on these constants ({type(error).__name__}: {error})"
    differing = _same_constants(model, reference)
    if differing is not None:
        return None, f"computed constant '{differing}' differs from {name}'s"
    for key, value in inputs.items():
        section["constants"][key] = _plain(value, f"model {name}: constant '{key}'")
    derived = set(vars(reference.constants))
    for key in sorted(vars(model.constants)):
        if key.startswith("_") or key in derived or key in section["constants"] or key in DELTA_NAMES:
            continue
        if key in OPTIONAL_CONSTANTS.get(name, ()):
            section["constants"][key] = _plain(model.constants.get(key), f"model {name}: constant '{key}'")
        elif type(model) is cls or key in STOCK_READ_CONSTANTS:
            raise UntranslatableSimulation(
                f"model {name}: constant '{key}' is not one the qclab executable reads for this model "
                f"(`qclab models {name}` lists them)"
            )
        # Any other constant of a subclass is an input its own initializers used; their
        # results are the constants compared above.
    gradients = _gradients_section(model, ours)
    if gradients:
        section["gradients"] = gradients
    return section, None


#: LinearVibronicCoupling's ingredients: name -> QC Lab's stock ingredients that translate.
LVC_INGREDIENTS = {
    "h_q": ("h_q_two_level", "h_q_nearest_neighbor"),
    "h_qc": ("h_qc_diagonal_linear",),
    "h_c": ("h_c_harmonic",),
    "dh_qc_dzc": ("dh_qc_dzc_diagonal_linear",),
    "dh_c_dzc": ("dh_c_dzc_harmonic",),
    "init_classical": ("init_classical_boltzmann_harmonic", "init_classical_wigner_harmonic"),
    "hop": ("hop_harmonic",),
}


def _is_stock(ingredient, names):
    return (ingredient is not None and not isinstance(ingredient, functools.partial)
            and any(getattr(qclab.ingredients, n, None) is ingredient for n in names))


def _matrix(matrix):
    """A complex matrix as the job writes it: rows of numbers, or [re, im] where complex."""
    return [[float(x.real) if x.imag == 0 else [float(x.real), float(x.imag)] for x in row]
            for row in np.asarray(matrix, dtype=complex)]


def _numbers(values, count, where):
    array = np.asarray(values, dtype=float).reshape(-1)
    if array.size == 1 and count > 1:
        array = np.full(count, array[0])
    if array.size != count:
        raise UntranslatableSimulation(f"{where} has {array.size} values for {count} classical coordinates")
    return [float(x) for x in array]


def _as_linear_vibronic_coupling(model, ours):
    """The model section that runs `model` as LinearVibronicCoupling, or the reason it cannot."""
    for ingredient_name in sorted(ours):
        if ingredient_name.startswith("_init_"):
            continue
        ingredient = ours[ingredient_name]
        if ingredient_name not in LVC_INGREDIENTS:
            if ingredient is None:
                continue  # an ingredient set to None is absent, as QC Lab's Model.get has it
            return None, f"ingredient '{ingredient_name}' ({_shown(ingredient)}) is not one the qclab executable runs"
        if ingredient is None and ingredient_name in GRADIENT_NAMES:
            continue
        if not _is_stock(ingredient, LVC_INGREDIENTS[ingredient_name]):
            return None, (f"ingredient '{ingredient_name}' ({_shown(ingredient)}) is not one of QC Lab's stock "
                          f"ingredients the qclab executable runs ({', '.join(LVC_INGREDIENTS[ingredient_name])})")
    for required in ("h_q", "h_qc", "h_c", "init_classical"):
        if ours.get(required) is None:
            return None, f"ingredient '{required}' is missing"
    c = model.constants
    for key in ("num_quantum_states", "num_classical_coordinates", "harmonic_frequency", "classical_coordinate_mass",
                "classical_coordinate_weight", "diagonal_linear_coupling"):
        if c.get(key) is None:
            return None, f"constant '{key}' is not set"
    n, modes = int(c.num_quantum_states), int(c.num_classical_coordinates)
    frequencies = _numbers(c.harmonic_frequency, modes, "constant 'harmonic_frequency'")
    masses = _numbers(c.classical_coordinate_mass, modes, "constant 'classical_coordinate_mass'")
    weights = _numbers(c.classical_coordinate_weight, modes, "constant 'classical_coordinate_weight'")
    if weights != frequencies:
        return None, ("constant 'classical_coordinate_weight' is not 'harmonic_frequency' "
                      "(LinearVibronicCoupling takes QC Lab's harmonic convention h = w)")
    gamma = np.asarray(c.diagonal_linear_coupling)
    if gamma.shape != (n, modes):
        return None, f"constant 'diagonal_linear_coupling' has shape {gamma.shape}, not ({n}, {modes})"
    try:
        h_q = np.asarray(ours["h_q"](model, {}, batch_size=1))[0]
    except Exception as error:
        return None, f"ingredient 'h_q' fails on these constants ({type(error).__name__}: {error})"
    if h_q.shape != (n, n):
        return None, f"ingredient 'h_q' gives a {h_q.shape} matrix for {n} quantum states"
    scale = np.sqrt(2.0 * np.asarray(masses) * np.asarray(weights))
    couplings = []
    for k in range(modes):
        coupling = np.zeros((n, n))
        coupling[np.diag_indices(n)] = gamma[:, k].real * scale[k]
        couplings.append(_matrix(coupling))
    kBT = c.get("kBT")
    if kBT is None:
        return None, "constant 'kBT' is not set"
    section = {
        "name": "LinearVibronicCoupling",
        "constants": {
            "h_q": _matrix(h_q),
            "frequencies": frequencies,
            "masses": masses,
            "couplings": couplings,
            "kBT": _plain(kBT, "model constant 'kBT'"),
            "init_classical": _stock_init_classical(ours["init_classical"]).replace("_harmonic", ""),
        },
    }
    if np.iscomplexobj(gamma) and np.any(np.asarray(gamma).imag != 0):
        return None, "constant 'diagonal_linear_coupling' is complex (h_qc_diagonal_linear takes real couplings)"
    gradients = _gradients_section(model, ours)
    if gradients:
        section["gradients"] = gradients
    return section, None


def _as_our_linear_vibronic_coupling(model, ours):
    """The model section of ``qclab_swift.models.LinearVibronicCoupling`` (its constants as
    given, checked by its initializer), or the reason it cannot translate."""
    builtin = _effective_ingredients(models.LinearVibronicCoupling.ingredients)
    init_classical = model.constants.init_classical
    for ingredient_name in sorted(set(ours) | set(builtin)):
        mine, theirs = ours.get(ingredient_name, _MISSING), builtin.get(ingredient_name, _MISSING)
        if mine is not _MISSING and mine is not None and theirs is not _MISSING and _task_key(mine) == _task_key(theirs):
            continue
        if ingredient_name in GRADIENT_NAMES and mine is None:
            continue
        stock = _stock_init_classical(mine if mine is not _MISSING else None)
        if ingredient_name == "init_classical" and stock in ("boltzmann_harmonic", "wigner_harmonic"):
            init_classical = stock[: -len("_harmonic")]
            continue
        shown = "absent" if mine is _MISSING else _shown(mine)
        return None, f"ingredient '{ingredient_name}' ({shown}) is not its own"
    c = model.constants
    n = int(c.num_quantum_states)
    section = {
        "name": "LinearVibronicCoupling",
        "constants": {
            "h_q": _matrix(c.lvc_h_q),
            "frequencies": [float(x) for x in c.harmonic_frequency],
            "masses": [float(x) for x in c.classical_coordinate_mass],
            "couplings": [_matrix(k) for k in np.asarray(c.lvc_couplings).reshape(-1, n, n)],
            "kBT": _plain(c.kBT, "model constant 'kBT'"),
            "init_classical": init_classical,
        },
    }
    gradients = _gradients_section(model, ours)
    if gradients:
        section["gradients"] = gradients
    return section, None


def _model_section(model):
    """The job's model: QC Lab's built-in model the simulation's model computes the same
    constants as (with the same ingredients), else LinearVibronicCoupling from its computed
    constants when every ingredient is one of QC Lab's stock harmonic ones."""
    if model is None:
        raise UntranslatableSimulation("sim.model is not set")
    if not isinstance(model, qclab.model.Model):
        raise UntranslatableSimulation(f"sim.model is {type(model).__name__}, not a qclab.model.Model")
    ours = _effective_ingredients(model.ingredients)
    reasons = []
    if isinstance(model, models.LinearVibronicCoupling):
        section, reason = _as_our_linear_vibronic_coupling(model, ours)
        if section is not None:
            return section
        reasons.append(f"not qclab_swift's LinearVibronicCoupling: {reason}")
    cls = _built_in_ancestor(model, MODEL_NAMES, qclab.models)
    if cls is not None:
        section, reason = _as_built_in(model, cls, ours)
        if section is not None:
            return section
        reasons.append(f"not {cls.__name__}: {reason}")
    section, reason = _as_linear_vibronic_coupling(model, ours)
    if section is not None:
        return section
    reasons.append(f"not LinearVibronicCoupling: {reason}")
    what = type(model).__name__
    raise UntranslatableSimulation(
        f"model {what}: {'; '.join(reasons)}; the qclab executable cannot run Python ingredients "
        f"({FALLBACK_HINT}, or write the model in Swift)"
    )


def _algorithm_section(algorithm):
    if algorithm is None:
        raise UntranslatableSimulation("sim.algorithm is not set")
    cls = _built_in_ancestor(algorithm, ALGORITHM_NAMES, qclab.algorithms)
    if cls is None:
        _refuse_class(algorithm, "algorithm", ALGORITHM_NAMES, "one the qclab executable runs")
    name = cls.__name__
    for recipe in ("initialization_recipe", "update_recipe", "collect_recipe"):
        mine, theirs = getattr(algorithm, recipe), getattr(cls, recipe)
        for index in range(max(len(mine), len(theirs))):
            a = mine[index] if index < len(mine) else None
            b = theirs[index] if index < len(theirs) else None
            if a is None or b is None or _task_key(a) != _task_key(b):
                shown = f"task '{_task_name(a)}'" if a is not None else f"missing task '{_task_name(b)}'"
                raise UntranslatableSimulation(
                    f"algorithm {name}: {recipe}[{index}] is {shown}, not QC Lab's built-in recipe; "
                    f"the qclab executable cannot run Python tasks ({FALLBACK_HINT})"
                )
    settings = {}
    for key in algorithm.default_settings:
        settings[key] = _plain(algorithm.settings.get(key), f"algorithm {name}: setting '{key}'")
    return {"name": name, "settings": settings}


def _settings_section(settings):
    section = {}
    for key in SETTING_NAMES:
        value = settings.get(key)
        if value is not None:
            section[key] = _plain(value, f"setting '{key}'")
    if "progress_bar" in section:
        section["progress_bar"] = bool(section["progress_bar"])
    ignored = sorted(
        key for key in vars(settings)
        if not key.startswith("_") and key not in SETTING_NAMES and key not in DERIVED_SETTINGS
    )
    if ignored:
        warnings.warn(f"qclab_swift: simulation settings {', '.join(ignored)} are not used by QC Lab's drivers either; ignored",
                      stacklevel=4)
    return section


def _wavefunction(initial_state):
    unknown = sorted(key for key in initial_state if key != "wf_db")
    if unknown:
        raise UntranslatableSimulation(
            f"initial_state['{unknown[0]}']: the qclab executable takes initial_state['wf_db'] only"
        )
    if "wf_db" not in initial_state:
        raise UntranslatableSimulation("initial_state['wf_db'] is not set")
    wf = np.asarray(initial_state["wf_db"])
    if wf.ndim != 1 or not np.issubdtype(wf.dtype, np.number):
        raise UntranslatableSimulation(
            f"initial_state['wf_db'] must be a one-dimensional array of numbers, got shape {wf.shape} of {wf.dtype}"
        )
    return [[float(np.real(x)), float(np.imag(x))] for x in wf.astype(complex)]


def job_from_simulation(sim, seeds):
    """The job file (as a dict) that runs ``sim`` on ``seeds``; raises ``UntranslatableSimulation``."""
    return {
        "settings": _settings_section(sim.settings),
        "model": _model_section(sim.model),
        "algorithm": _algorithm_section(sim.algorithm),
        "initial_state": {"wf_db": _wavefunction(sim.initial_state)},
        "seeds": [int(s) for s in seeds],
    }
