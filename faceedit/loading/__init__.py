"""Loading generators: NVIDIA pickles (read safely), faceedit folders and registered names."""

from faceedit.loading.api import load_generator
from faceedit.loading.nvidia_pickle import PersistentRecord, load_nvidia_generator, read_network_pickle

__all__ = ["load_generator", "load_nvidia_generator", "read_network_pickle", "PersistentRecord"]
