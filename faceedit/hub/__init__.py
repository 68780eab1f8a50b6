"""Model registry, cache folder and downloads."""

from faceedit.hub.cache import cache_dir, is_offline
from faceedit.hub.download import cached_model_path, fetch_model, is_cached, manual_download_instructions
from faceedit.hub.registry import ModelSpec, get_model_spec, list_models, register_model, unregister_model

__all__ = ["cache_dir", "is_offline", "cached_model_path", "fetch_model", "is_cached", "manual_download_instructions",
           "ModelSpec", "get_model_spec", "list_models", "register_model", "unregister_model"]
