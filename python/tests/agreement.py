"""The agreement the bridge's tests ask of two ``qclab.Data``: ours against QC Lab's."""

import numpy as np


def assert_agree(ours, theirs):
    """Same keys, seeds and counts; every array of the same shape and within the contract's
    1e-6 + 1e-5 |QC Lab's|."""
    assert sorted(ours.data_dict) == sorted(theirs.data_dict)
    np.testing.assert_array_equal(ours.data_dict["seed"], theirs.data_dict["seed"])
    assert ours.data_dict["norm_factor"] == theirs.data_dict["norm_factor"]
    for key, value in theirs.data_dict.items():
        if key in ("seed", "norm_factor"):
            continue
        mine = ours.data_dict[key]
        assert np.shape(mine) == np.shape(value), key
        np.testing.assert_allclose(mine, value, rtol=1e-5, atol=1e-6, err_msg=key)
