"""Translation of a QC Lab ``Simulation`` into a job file of the ``qclab`` executable.

Only what the executable re-implements translates: QC Lab's own model and algorithm
classes (not subclasses), with their ingredients and recipes untouched (an
``init_classical`` ingredient may be swapped for another of QC Lab's), their constants
and settings, the simulation settings and ``initial_state["wf_db"]``. Anything else is
refused with ``UntranslatableSimulation`` naming it, never dropped silently.
"""

import functools
import numbers
import warnings

import numpy as np
import qclab.algorithms
import qclab.ingredients
import qclab.models

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


def _built_in_class(value, role, names, module, which):
    """The class and name of sim.<role>, which must be QC Lab's own class of one of `names`."""
    if value is None:
        raise UntranslatableSimulation(f"sim.{role} is not set")
    cls = type(value)
    name = cls.__name__
    if name not in names or getattr(module, name, None) is not cls:
        raise UntranslatableSimulation(
            f"{role} {cls.__module__}.{name} is not {which} ({', '.join(names)}); run it with QC Lab's own drivers"
        )
    return cls, name


def _model_section(model):
    cls, name = _built_in_class(model, "model", MODEL_NAMES, qclab.models,
                                "one of QC Lab's built-in models the qclab executable runs")
    ours = _effective_ingredients(model.ingredients)
    builtin = _effective_ingredients(cls.ingredients)
    section = {"name": name, "constants": {}}
    for ingredient_name in sorted(set(ours) | set(builtin)):
        mine, theirs = ours.get(ingredient_name), builtin.get(ingredient_name)
        if mine is not None and theirs is not None and _task_key(mine) == _task_key(theirs):
            continue
        if ingredient_name == "init_classical" and mine is not None:
            function_name = _task_name(mine)
            if (
                not isinstance(mine, functools.partial)
                and function_name.startswith("init_classical_")
                and getattr(qclab.ingredients, function_name, None) is mine
            ):
                section["init_classical"] = function_name[len("init_classical_"):]
                continue
        shown = "removed" if mine is None else f"{_task_name(mine)!s}"
        raise UntranslatableSimulation(
            f"model {name}: ingredient '{ingredient_name}' ({shown}) is not QC Lab's built-in one; "
            "the qclab executable cannot run Python ingredients (use QC Lab's own drivers, or write the model in Swift)"
        )
    for key in model.default_constants:
        section["constants"][key] = _plain(model.constants.get(key), f"model {name}: constant '{key}'")
    # Constants the script set beyond the defaults: those the model reads optionally
    # translate; any other (which the executable would not read) is refused, not dropped.
    derived = set(vars(cls().constants))
    for key in sorted(vars(model.constants)):
        if key.startswith("_") or key in derived or key in section["constants"]:
            continue
        if key not in OPTIONAL_CONSTANTS.get(name, ()):
            raise UntranslatableSimulation(
                f"model {name}: constant '{key}' is not one the qclab executable reads for this model "
                f"(`qclab models {name}` lists them)"
            )
        section["constants"][key] = _plain(model.constants.get(key), f"model {name}: constant '{key}'")
    return section


def _algorithm_section(algorithm):
    cls, name = _built_in_class(algorithm, "algorithm", ALGORITHM_NAMES, qclab.algorithms,
                                "one the qclab executable runs")
    for recipe in ("initialization_recipe", "update_recipe", "collect_recipe"):
        mine, theirs = getattr(algorithm, recipe), getattr(cls, recipe)
        for index in range(max(len(mine), len(theirs))):
            a = mine[index] if index < len(mine) else None
            b = theirs[index] if index < len(theirs) else None
            if a is None or b is None or _task_key(a) != _task_key(b):
                shown = f"task '{_task_name(a)}'" if a is not None else f"missing task '{_task_name(b)}'"
                raise UntranslatableSimulation(
                    f"algorithm {name}: {recipe}[{index}] is {shown}, not QC Lab's built-in recipe; "
                    "the qclab executable cannot run Python tasks (use QC Lab's own drivers)"
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
