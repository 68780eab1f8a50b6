"""Static check of the module source NVIDIA embeds in every network record.

NVIDIA's loader *executes* that source to rebuild the network classes. We never execute it:
we build our own classes. But a record whose source would run code on import is not a network
NVIDIA wrote - a genuine ``training/networks.py`` only imports libraries and defines functions
and classes - so such a file is refused as tampered. The check parses the text with :mod:`ast`
(parsing runs nothing) and accepts only statements whose evaluation at import time cannot call
anything: imports of known libraries, definitions with plain-name decorators and literal
defaults, docstrings and literal assignments.
"""

from __future__ import annotations

import ast
import functools
import hashlib
from typing import Optional

from faceedit.errors import UnsafeCheckpointError

__all__ = ["check_module_source", "STRIPPED_SOURCE_MARKERS"]

ALLOWED_IMPORT_ROOTS = frozenset({"numpy", "torch", "torch_utils", "dnnlib", "scipy", "math", "copy", "typing"})
ALLOWED_DECORATORS = frozenset({"persistence.persistent_class", "misc.profiled_function", "persistent_class",
                                "profiled_function", "staticmethod", "classmethod", "property"})
STRIPPED_SOURCE_MARKERS = ("", "# source removed")


def _dotted(node: ast.AST) -> Optional[str]:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return f"{base}.{node.attr}" if base else None
    return None


def _inert(node: Optional[ast.AST]) -> bool:
    """True if evaluating the expression cannot call user code (literals and name lookups)."""
    if node is None:
        return True
    if isinstance(node, ast.Constant):
        return True
    if isinstance(node, (ast.Name, ast.Attribute)):
        return _dotted(node) is not None
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        return all(_inert(e) for e in node.elts)
    if isinstance(node, ast.Dict):
        return all(k is None or _inert(k) for k in node.keys) and all(_inert(v) for v in node.values)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        return isinstance(node.operand, ast.Constant)
    return False


class _Refusal(Exception):
    def __init__(self, node: ast.AST, why: str):
        super().__init__(why)
        self.node = node
        self.why = why


def _check_function(node: ast.AST) -> None:
    assert isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
    for deco in node.decorator_list:
        if _dotted(deco) not in ALLOWED_DECORATORS:
            raise _Refusal(deco, "a decorator that is not one of NVIDIA's")
    args = node.args
    for default in list(args.defaults) + [d for d in args.kw_defaults if d is not None]:
        if not _inert(default):
            raise _Refusal(default, "a default argument that runs code")
    all_args = args.posonlyargs + args.args + args.kwonlyargs + [a for a in (args.vararg, args.kwarg) if a]
    for annotation in [a.annotation for a in all_args] + [node.returns]:
        if annotation is not None and not _inert(annotation):
            raise _Refusal(annotation, "an annotation that runs code")


def _check_class(node: ast.ClassDef) -> None:
    for deco in node.decorator_list:
        if _dotted(deco) not in ALLOWED_DECORATORS:
            raise _Refusal(deco, "a class decorator that is not one of NVIDIA's")
    if node.keywords:
        raise _Refusal(node, "a metaclass or class keyword")
    for base in node.bases:
        if _dotted(base) is None:
            raise _Refusal(base, "a base class expression that runs code")
    for stmt in node.body:
        _check_statement(stmt, in_class=True)


def _check_statement(stmt: ast.stmt, in_class: bool = False) -> None:
    if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant):
        return  # docstring
    if isinstance(stmt, ast.Pass):
        return
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
        _check_function(stmt)
        return
    if isinstance(stmt, ast.ClassDef):
        _check_class(stmt)
        return
    if isinstance(stmt, ast.Assign) and all(isinstance(t, ast.Name) for t in stmt.targets) and _inert(stmt.value):
        return
    if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name) and _inert(stmt.value) \
            and _inert(stmt.annotation):
        return
    if not in_class and isinstance(stmt, ast.Import):
        for alias in stmt.names:
            if alias.name.split(".")[0] not in ALLOWED_IMPORT_ROOTS:
                raise _Refusal(stmt, f"an import of '{alias.name}'")
        return
    if not in_class and isinstance(stmt, ast.ImportFrom):
        if stmt.level == 0 and (stmt.module or "").split(".")[0] in ALLOWED_IMPORT_ROOTS:
            return
        raise _Refusal(stmt, f"an import from '{'.' * stmt.level}{stmt.module or ''}'")
    raise _Refusal(stmt, "a statement that runs at import time")


@functools.lru_cache(maxsize=64)
def _check_cached(digest: str, source: str) -> frozenset:
    """Check once per distinct source text; returns the names of the classes it defines."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError) as exc:
        raise UnsafeCheckpointError(f"the module source embedded in the checkpoint is not valid Python ({exc}); "
                                    f"a genuine NVIDIA network file always is, so the file was refused") from None
    try:
        for stmt in tree.body:
            _check_statement(stmt)
    except _Refusal as refusal:
        segment = ast.get_source_segment(source, refusal.node) or type(refusal.node).__name__
        segment = " ".join(segment.split())
        if len(segment) > 100:
            segment = segment[:97] + "..."
        raise UnsafeCheckpointError(
            f"the module source embedded in the checkpoint contains {refusal.why} (line "
            f"{getattr(refusal.node, 'lineno', '?')}: {segment!r}); NVIDIA's network source only defines "
            f"classes and functions, so this file was tampered with. faceedit never executes embedded source, "
            f"but refuses the file") from None
    return frozenset(stmt.name for stmt in tree.body if isinstance(stmt, ast.ClassDef))


def check_module_source(source: object, class_name: str) -> None:
    """Refuse embedded module source that would run code on import, or that does not define
    ``class_name`` (unless the source was stripped).

    Raises:
        UnsafeCheckpointError: with the offending line.
    """
    if not isinstance(source, str):
        raise UnsafeCheckpointError(f"the record of class {class_name!r} carries module source of type "
                                    f"{type(source).__name__}, expected text; refused")
    if source.strip() in STRIPPED_SOURCE_MARKERS:
        return
    defined = _check_cached(hashlib.sha256(source.encode("utf-8", "surrogatepass")).hexdigest(), source)
    if class_name not in defined:
        raise UnsafeCheckpointError(f"a record names class {class_name!r}, which its embedded module source does "
                                    f"not define; refused as inconsistent")
