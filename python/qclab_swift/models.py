"""Models of the ``qclab`` executable written as QC Lab models, so that QC Lab's own drivers
run them too: the same script runs on QC Lab's drivers and, through the bridge, in Swift."""

import numbers

import numpy as np
from qclab import functions, ingredients
from qclab.model import Model

#: ``init_classical`` values and the QC Lab ingredients they name.
INIT_CLASSICAL = {
    "boltzmann": ingredients.init_classical_boltzmann_harmonic,
    "wigner": ingredients.init_classical_wigner_harmonic,
}


def _element(value, where):
    """A matrix element: a number, or ``[re, im]``."""
    if isinstance(value, (list, tuple)) and len(value) == 2 and all(
            isinstance(x, numbers.Real) and not isinstance(x, bool) for x in value):
        return complex(float(value[0]), float(value[1]))
    if isinstance(value, numbers.Number) and not isinstance(value, bool):
        return complex(value)
    raise ValueError(f"{where} is {value!r}; a matrix element is a number or [re, im]")


def _hermitian_matrix(value, n, where):
    """An N x N Hermitian matrix from a nested list (elements numbers or [re, im]) or an array."""
    if isinstance(value, np.ndarray) and np.issubdtype(value.dtype, np.number):
        matrix = value.astype(complex)
        if matrix.shape != (n, n):
            raise ValueError(f"{where} has shape {matrix.shape}, not ({n}, {n})")
    else:
        if not isinstance(value, (list, tuple)) or len(value) != n:
            raise ValueError(f"{where} must be a list of {n} rows")
        matrix = np.zeros((n, n), dtype=complex)
        for i, row in enumerate(value):
            if isinstance(row, np.ndarray):
                row = row.tolist()
            if not isinstance(row, (list, tuple)) or len(row) != n:
                raise ValueError(f"{where}[{i}] must be a row of {n} elements")
            for j, x in enumerate(row):
                matrix[i, j] = _element(x, f"{where}[{i}][{j}]")
    if not np.all(np.isfinite(matrix.view(float))):
        raise ValueError(f"{where} has an element that is not finite")
    for i in range(n):
        for j in range(i, n):
            if matrix[i, j] != np.conj(matrix[j, i]):
                raise ValueError(f"{where}[{i}][{j}] = {matrix[i, j]} is not the conjugate of "
                                 f"{where}[{j}][{i}] = {matrix[j, i]}: the matrix must be Hermitian")
    return matrix


def _positive_numbers(value, count, where):
    array = np.asarray(value, dtype=float).reshape(-1)
    if count is not None and array.size != count:
        raise ValueError(f"{where} has {array.size} values for {count} modes")
    for k, x in enumerate(array):
        if not (np.isfinite(x) and x > 0):
            raise ValueError(f"{where}[{k}] is {x}; it must be a positive number")
    return array


def h_q_lvc(model, parameters, **kwargs):
    """The constant quantum Hamiltonian ``h_q``, the same for every trajectory."""
    return np.broadcast_to(model.constants.lvc_h_q, (kwargs["batch_size"],) + model.constants.lvc_h_q.shape)


def h_qc_lvc(model, parameters, **kwargs):
    """``sum_k q_k K_k`` with ``q = (z + z*) / sqrt(2 m w)``."""
    c = model.constants
    q = functions.z_to_q(kwargs["z"], c.classical_coordinate_mass, c.classical_coordinate_weight)
    return np.einsum("bk,kij->bij", q.astype(complex), c.lvc_couplings)


def dh_qc_dzc_lvc(model, parameters, **kwargs):
    """The sparse gradient ``d h_qc / d z*_k = K_k / sqrt(2 m_k w_k)``, as QC Lab's sparse gradients."""
    c = model.constants
    batch_size = len(kwargs["z"])
    per_mode = c.lvc_couplings / np.sqrt(2.0 * c.classical_coordinate_mass * c.classical_coordinate_weight)[:, None, None]
    full = np.broadcast_to(per_mode, (batch_size,) + per_mode.shape)
    inds = np.where(full != 0)
    return inds, full[inds], full.shape


def init_classical_lvc(model, parameters, **kwargs):
    """QC Lab's harmonic Boltzmann or Wigner sampling, as the constant ``init_classical`` names."""
    return INIT_CLASSICAL[model.constants.init_classical](model, parameters, **kwargs)


class LinearVibronicCoupling(Model):
    """The linear vibronic coupling model of the ``qclab`` executable, as a QC Lab model.

    H = h_q + sum_k q_k K_k + sum_k (p_k^2 / (2 m_k) + m_k w_k^2 q_k^2 / 2) for N states
    and C modes, in QC Lab's harmonic convention (coordinate weight h = w). Constants (the
    job file's): ``h_q`` (N x N, Hermitian), ``frequencies`` (C, > 0), ``masses`` (C, > 0,
    default 1), ``couplings`` (C matrices N x N, Hermitian), ``kBT`` (default 1),
    ``init_classical`` ("boltzmann", the default, or "wigner"). A matrix element is a
    number or ``[re, im]``; arrays are accepted too.
    """

    def __init__(self, constants=None):
        if constants is None:
            constants = {}
        self.default_constants = {
            "h_q": [[0.0]],
            "frequencies": [1.0],
            "masses": None,
            "couplings": [[[0.0]]],
            "kBT": 1.0,
            "init_classical": "boltzmann",
        }
        super().__init__(self.default_constants, constants)
        self.update_h_q = False
        self.update_dh_qc_dzc = False

    def _init_model(self, parameters, **kwargs):
        c = self.constants
        h_q = c.h_q
        n = len(h_q) if not isinstance(h_q, np.ndarray) else (h_q.shape[0] if h_q.ndim == 2 else -1)
        h_q = _hermitian_matrix(h_q, n, "h_q")
        frequencies = _positive_numbers(c.frequencies, None, "frequencies")
        modes = frequencies.size
        masses = np.ones(modes) if c.masses is None else _positive_numbers(c.masses, modes, "masses")
        couplings = c.couplings
        if len(couplings) != modes:
            raise ValueError(f"couplings has {len(couplings)} matrices for {modes} modes (frequencies)")
        couplings = np.array([_hermitian_matrix(k, n, f"couplings[{i}]") for i, k in enumerate(couplings)])
        if c.init_classical not in INIT_CLASSICAL:
            raise ValueError(f"init_classical is {c.init_classical!r}; it must be 'boltzmann' or 'wigner'")
        if not (isinstance(c.kBT, numbers.Real) and np.isfinite(c.kBT) and c.kBT >= 0):
            raise ValueError(f"kBT is {c.kBT!r}; it must be a number >= 0")
        c.lvc_h_q = h_q
        c.lvc_couplings = couplings
        c.num_quantum_states = n
        c.num_classical_coordinates = modes
        c.harmonic_frequency = frequencies
        c.classical_coordinate_mass = masses
        c.classical_coordinate_weight = frequencies.copy()

    ingredients = [
        ("h_q", h_q_lvc),
        ("h_qc", h_qc_lvc),
        ("h_c", ingredients.h_c_harmonic),
        ("dh_qc_dzc", dh_qc_dzc_lvc),
        ("dh_c_dzc", ingredients.dh_c_dzc_harmonic),
        ("init_classical", init_classical_lvc),
        ("hop", ingredients.hop_harmonic),
        ("_init_model", _init_model),
    ]
