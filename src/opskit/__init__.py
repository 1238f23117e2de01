"""opskit: a customer operations management (客户运营管理) training kit.

``import opskit`` is deliberately light: lifetimes, seaborn and ipywidgets are imported only by the modules that
use them, so the environment check and the data loaders start fast.
"""

from opskit.i18n import get_language, set_language

__version__ = "0.1.0"
__all__ = ["__version__", "get_language", "set_language"]
