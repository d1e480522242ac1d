"""The extraction engine (DESIGN section 4): prefix continuation, p_z, sweeps, prompts, membership, campaigns.

Modules: ``attempts`` (prefix and p_z attempts), ``sweep`` (memorization map),
``probability`` (p_z, greedy length, (n,p)-discoverability), ``passage``
(windows and passages with character offsets), ``prompts`` (free and chat
prompts, refusals), ``membership`` (weak-evidence signals), ``campaign``
(protocol runs, resumable), ``reproduce`` (re-run and compare), ``common``
(explicit decoding, batched passes, environment). Nothing here imports torch
at module import time.
"""
