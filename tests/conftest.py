"""Shared test set-up: charts draw off-screen, and stored-output determinism settings match the notebooks."""

import os

import matplotlib

matplotlib.use("Agg")
os.environ.setdefault("IPYKERNEL_CELL_NAME", "<IPY-INPUT>")
