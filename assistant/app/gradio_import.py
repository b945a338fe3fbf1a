"""Gradio, imported once for the app: offline, and without its developer stub writer.

Every `gradio` import parses the source of each of its ~80 component classes to rewrite the
`.pyi` type stubs beside them (`gradio.component_meta.create_or_modify_pyi`), for gradio's
own developers. The stubs change nothing at run time; skipping them takes 40-45 % off the
import (5.4 -> 2.9 s here, `python bench/bench_core.py` prints serve-to-first-answer).
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import os
import sys
from types import ModuleType
from typing import Any

# The app runs offline: no analytics calls (set before gradio is imported).
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

STUB_WRITER_MODULE = "gradio.component_meta"


def _no_stubs(*_args: Any, **_kwargs: Any) -> None:
    return None


class _SkipStubWriter(importlib.abc.MetaPathFinder):
    """Finds `gradio.component_meta` as usual, then replaces its stub writer once loaded."""

    def find_spec(self, name: str, path: Any, target: Any = None
                  ) -> importlib.machinery.ModuleSpec | None:
        if name != STUB_WRITER_MODULE:
            return None
        sys.meta_path.remove(self)  # one use: the real finders answer from here on
        spec = importlib.util.find_spec(name)
        if spec is None or spec.loader is None:
            return spec
        run = spec.loader.exec_module

        def exec_module(module: ModuleType) -> None:
            run(module)
            # ComponentMeta looks the function up at each class creation, so this holds.
            if hasattr(module, "create_or_modify_pyi"):
                module.create_or_modify_pyi = _no_stubs

        spec.loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


if STUB_WRITER_MODULE not in sys.modules:
    sys.meta_path.insert(0, _SkipStubWriter())

import gradio as gr  # noqa: E402

__all__ = ["gr"]
