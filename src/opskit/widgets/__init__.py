"""Interactive explorers (ipywidgets): thin controls over the pure functions of opskit's method modules.

Each explorer is built by a factory returning an object with ``.layout`` (to display) and its controls, so tests can
set ``.value`` and check the state headlessly. Import the submodule you need, e.g. ``from opskit.widgets.rfm import
rfm_explorer``.
"""
