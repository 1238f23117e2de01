"""The course datasets: the simulated clothing chain, and CDNOW from the lifetimes package."""

from opskit.datasets.cdnow import cdnow_path, load_cdnow

__all__ = ["cdnow_path", "load_cdnow"]
