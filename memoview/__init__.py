"""memoview: an evidence explorer for memorization in language models.

Importing this package must stay cheap: no Qt, no torch, no transformers.
"""

__version__ = "0.1.0"
