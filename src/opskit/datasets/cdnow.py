"""CDNOW, read straight from the files bundled inside the installed ``lifetimes`` package.

``lifetimes.datasets`` cannot be imported on a current setuptools (it needs ``pkg_resources``), and downloading at
run time would break offline workshops, so opskit locates the files with ``importlib`` and parses them itself.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pandas as pd

CDNOW_FILES = {"master": "CDNOW_master.txt", "sample": "CDNOW_sample.txt"}


def cdnow_path(which: str = "master") -> Path:
    """Path of a CDNOW file inside the installed lifetimes package (without importing lifetimes)."""
    if which not in CDNOW_FILES:
        raise ValueError(f"未知 CDNOW 文件 {which!r} / unknown CDNOW file {which!r}; choose one of {sorted(CDNOW_FILES)}")
    spec = importlib.util.find_spec("lifetimes")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(
            "找不到 lifetimes 包 / the lifetimes package is not installed; run the README's setup command"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / "datasets" / CDNOW_FILES[which]
    if not path.is_file():
        raise FileNotFoundError(f"lifetimes is installed but {path} is missing; reinstall lifetimes")
    return path


def load_cdnow(which: str = "master") -> pd.DataFrame:
    """CDNOW transactions as a typed DataFrame.

    Parameters
    ----------
    which : {"master", "sample"}
        ``"master"``: the full file (69,659 rows, 23,570 customers, 1997-01 to 1998-06).
        ``"sample"``: the 1/10 sample of 2,357 customers used in Fader, Hardie & Lee (2005).

    Returns
    -------
    DataFrame with columns ``customer_id`` (str), ``date`` (datetime64), ``quantity`` (int, number of CDs) and
    ``amount`` (float, dollar value).

    Examples
    --------
    >>> tx = load_cdnow("sample")
    >>> tx["customer_id"].nunique()
    2357
    """
    path = cdnow_path(which)
    if which == "master":
        names = ["customer_id", "date", "quantity", "amount"]
        skiprows = 1  # the master file has a header line
    else:
        names = ["customer_id", "customer_index", "date", "quantity", "amount"]
        skiprows = 0
    frame = pd.read_csv(
        path,
        sep=r"\s+",
        header=None,
        names=names,
        skiprows=skiprows,
        dtype={"customer_id": str, "customer_index": str, "date": str},
    )
    frame["date"] = pd.to_datetime(frame["date"], format="%Y%m%d")
    frame["quantity"] = frame["quantity"].astype("int64")
    frame["amount"] = frame["amount"].astype("float64")
    return frame[["customer_id", "date", "quantity", "amount"]]
