"""The error the bridge raises, with the code the ``qclab`` executable gave it."""

import re

#: The codes of ``QCLabError.Code`` (Swift), in its order, then the command line's own:
#: ``usage`` (a mistake on the command line) and ``other`` (an error without a code).
CODES = (
    "invalidSetting", "invalidConstant", "invalidAlgorithmSetting", "invalidInitialState", "unknownName",
    "malformedJob", "lapack", "hdf5", "incompatibleData", "workerFailed", "mpi", "invalidPath", "unusableData",
    "nonFinite", "invalidEnvironment", "system", "usage", "other",
)

#: The environment variable that makes ``qclab`` print ``qclab: error[CODE]: ...``.
CODES_VARIABLE = "QCLAB_ERROR_CODES"

_ERROR_LINE = re.compile(r"^qclab: error\[([A-Za-z0-9]+)\]: ")


class QCLabSwiftError(RuntimeError):
    """The ``qclab`` executable is missing or failed; the message is its one-line reason.

    ``code`` is the executable's code for the error (one of ``CODES``, the raw value of
    Swift's ``QCLabError.Code``), or None when the bridge itself found the fault.
    """

    def __init__(self, message, code=None):
        super().__init__(message)
        self.code = code


def split_error_line(line):
    """``(code, line)`` for a line of ``qclab``'s standard error.

    A line ``qclab: error[CODE]: MESSAGE`` becomes ``(CODE, "qclab: error: MESSAGE")``, the
    line users see without ``QCLAB_ERROR_CODES``; any other line is ``(None, line)``.
    """
    match = _ERROR_LINE.match(line)
    if match is None:
        return None, line
    return match.group(1), "qclab: error: " + line[match.end():]
