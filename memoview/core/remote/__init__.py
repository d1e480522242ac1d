"""Served models over HTTP (OpenAI-compatible servers): endpoints, the client, capability probes, prompt
log-prob parsing, the verbatim evidence of every exchange, served prompts and concurrent campaigns.

The engine itself is :mod:`memoview.core.engines.openai`; nothing here imports httpx, torch or Qt at
import time.
"""
