"""Model backend: opening Hugging Face folders and GGUF files, fingerprinting.

torch and transformers are imported only inside :mod:`memoview.core.models.load`
(lazily), after :mod:`memoview.core.models.offline` has set the offline switches.
"""
