# Noctune's proof helper: compares two versions of one Python file with CPython's own `ast`.
#
# Reads {"before", "after", "target": [major, minor]} as JSON on stdin and prints one JSON
# object (see `analysis.rs` for its shape); given {"after", "candidates": [...]} instead, it
# prints {"same_as": index} of the first candidate that is AFTER spelled differently; given
# {"printf_sites": text}, it prints {"sites": [[line, column], ...]}, the `%` formattings whose
# rewrite to `{}` keeps behaviour (see `printf_sites`). It parses, it never executes the source, and it
# imports nothing but the standard modules below. Every check leans cautious: when in doubt, a
# class is not proven.
import ast
import builtins
import copy
import importlib
import json
import re
import sys

# Modules whose import alone does something visible (or that we cannot vouch for): removing
# their import is never proven even when ruff calls it unused.
SIDE_EFFECT_MODULES = {
    "antigravity",  # opens a web browser
    "this",  # prints the Zen of Python
    "__hello__",  # prints
    "__phello__",  # prints
    "readline",  # changes how input() edits lines
    "rlcompleter",  # installs tab completion
    "site",  # rewrites sys.path
    "sitecustomize",
    "usercustomize",
    "idlelib",
    "turtledemo",
    "test",  # the regression-test package configures the interpreter
    "encodings",  # codec registration
    "__main__",
    "__future__",
}

# Decorators that do not read a function's annotations.
SAFE_DECORATORS = {
    "staticmethod",
    "classmethod",
    "property",
    "abstractmethod",
    "overload",
    "override",
    "final",
    "cache",
    "lru_cache",
    "cached_property",
    "wraps",
    "contextmanager",
    "asynccontextmanager",
}
SAFE_DECORATOR_ATTRS = {"setter", "getter", "deleter"}

# Names whose presence means annotations are read at run time in this file.
INTROSPECTION_NAMES = {
    "__annotations__",
    "get_type_hints",
    "get_annotations",
    "signature",
    "annotationlib",
}

# Builtin generics that accept subscripts only from Python 3.9 on.
BUILTIN_GENERICS = {"list", "dict", "tuple", "set", "frozenset", "type"}

CODING = re.compile(r"^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)")


def header(text):
    """The shebang and the coding cookie: comments that change how the file runs."""
    lines = text.splitlines()[:2]
    shebang = lines[0] if lines and lines[0].startswith("#!") else None
    cookie = None
    for line in lines:
        m = CODING.match(line)
        if m:
            cookie = m.group(1)
            break
    return shebang, cookie


class Normalize(ast.NodeTransformer):
    """Forgets what only spells a value differently: `u"x"` is `"x"`."""

    def visit_Constant(self, node):
        node.kind = None
        return node


def parse(text):
    tree = ast.parse(text)
    return Normalize().visit(tree)


def dump(node):
    return ast.dump(node, annotate_fields=True, include_attributes=False)


def is_docstring(stmt):
    return (
        isinstance(stmt, ast.Expr)
        and isinstance(stmt.value, ast.Constant)
        and isinstance(stmt.value.value, str)
    )


def strip_docstrings(tree):
    tree = copy.deepcopy(tree)
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            if node.body and is_docstring(node.body[0]):
                node.body = node.body[1:]
    return tree


def future_annotations(tree):
    for stmt in tree.body:
        if isinstance(stmt, ast.ImportFrom) and stmt.module == "__future__":
            if any(a.name == "annotations" for a in stmt.names):
                return True
    return False


def mentions_introspection(tree):
    for node in ast.walk(tree):
        name = None
        if isinstance(node, ast.Name):
            name = node.id
        elif isinstance(node, ast.Attribute):
            name = node.attr
        elif isinstance(node, ast.alias):
            name = node.name.split(".")[-1]
        if name in INTROSPECTION_NAMES:
            return True
    return False


def decorator_name(node):
    if isinstance(node, ast.Call):
        node = node.func
    if isinstance(node, ast.Name):
        return node.id, None
    if isinstance(node, ast.Attribute):
        return node.attr, node
    return None, None


def safe_decorators(decorators):
    for dec in decorators:
        name, attr = decorator_name(dec)
        if name in SAFE_DECORATORS:
            continue
        if attr is not None and name in SAFE_DECORATOR_ATTRS:
            continue
        return False
    return True


def plain_class(node):
    """A class whose annotations cannot define fields: no decorators, no bases but `object`,
    no keywords (metaclass). Dataclasses, NamedTuple, TypedDict, pydantic models, attrs
    classes, enums and every subclass of something else are not plain."""
    if node.decorator_list or node.keywords:
        return False
    return all(isinstance(b, ast.Name) and b.id == "object" for b in node.bases)


def module_bindings(tree):
    """Top-level names: the line after which each is bound (the statement's last line) and
    where its value comes from: `("module", "os.path")` for `import os.path as p`,
    `("from", "typing", "List")`, or `("local",)` for anything else."""
    bound = {}
    for stmt in tree.body:
        names = []
        if isinstance(stmt, ast.Import):
            for a in stmt.names:
                if a.asname:
                    names.append((a.asname, ("module", a.name)))
                else:
                    top = a.name.split(".")[0]
                    names.append((top, ("module", top)))
        elif isinstance(stmt, ast.ImportFrom):
            for a in stmt.names:
                if a.name == "*":
                    continue
                source = ("from", stmt.module, a.name) if stmt.level == 0 else ("local",)
                names.append((a.asname or a.name, source))
        elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.append((stmt.name, ("local",)))
        elif isinstance(stmt, ast.Assign):
            for t in stmt.targets:
                if isinstance(t, ast.Name):
                    names.append((t.id, ("local",)))
        elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
            if isinstance(stmt.target, ast.Name):
                names.append((stmt.target.id, ("local",)))
        for name, source in names:
            bound.setdefault(name, (stmt.end_lineno, source))
    return bound


def importable(module):
    """A standard-library module whose import has no side effects."""
    if not module:
        return False
    parts = module.split(".")
    prefixes = {".".join(parts[: i + 1]) for i in range(len(parts))}
    stdlib = getattr(sys, "stdlib_module_names", frozenset())
    return parts[0] in stdlib and not prefixes & SIDE_EFFECT_MODULES


def stand_in(name):
    """What a name of the file is while we cannot import it: a plain class (`X | None` works,
    `X[int]` and `X.attr` fail, so only what works on any class is proven)."""
    return type(name, (), {})


def resolve(name, source):
    if source[0] == "module" and importable(source[1]):
        return importlib.import_module(source[1])
    if source[0] == "from" and importable(source[1]):
        module = importlib.import_module(source[1])
        if hasattr(module, source[2]):
            return getattr(module, source[2])
        return importlib.import_module(f"{source[1]}.{source[2]}")
    return stand_in(name)


def evaluation_problem(expr, bindings):
    """Evaluates a side-effect-free annotation with the standard library's objects and a plain
    class for every other name; the exception it raises, if any."""
    namespace = {}
    for node in ast.walk(expr):
        if isinstance(node, ast.Name) and node.id in bindings:
            try:
                namespace[node.id] = resolve(node.id, bindings[node.id][1])
            except Exception as e:  # an attribute or module this Python does not have
                return f"`{node.id}` cannot be resolved: {type(e).__name__}: {e}"
    try:
        code = compile(ast.fix_missing_locations(ast.Expression(copy.deepcopy(expr))), "<annotation>", "eval")
        eval(code, namespace)
    except Exception as e:
        return f"`{ast.unparse(expr)}` raises {type(e).__name__} when evaluated ({e})"
    return None


def annotation_problem(expr, bindings, target):
    """Why evaluating `expr` at run time could do or raise something, or None."""
    if isinstance(expr, ast.Constant):
        return None
    if isinstance(expr, ast.Name):
        if expr.id in dir(builtins):
            return None
        line = bindings.get(expr.id, (None,))[0]
        if line is None or line >= expr.lineno:
            return f"`{expr.id}` is not bound at module level before line {expr.lineno}"
        return None
    if isinstance(expr, ast.Attribute):
        return annotation_problem(expr.value, bindings, target)
    if isinstance(expr, ast.Subscript):
        if (
            isinstance(expr.value, ast.Name)
            and expr.value.id in BUILTIN_GENERICS
            and tuple(target) < (3, 9)
        ):
            return f"`{expr.value.id}[...]` raises TypeError before Python 3.9"
        return annotation_problem(expr.value, bindings, target) or annotation_problem(
            expr.slice, bindings, target
        )
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.BitOr):
        if tuple(target) < (3, 10):
            return "`X | Y` raises TypeError before Python 3.10"
        return annotation_problem(expr.left, bindings, target) or annotation_problem(
            expr.right, bindings, target
        )
    if isinstance(expr, (ast.Tuple, ast.List)):
        for elt in expr.elts:
            problem = annotation_problem(elt, bindings, target)
            if problem:
                return problem
        return None
    return side_effect_problem(expr)


def side_effect_problem(expr):
    return f"`{ast.unparse(expr)}` may have side effects when evaluated (only names, attributes, subscripts, constants, `|`, tuples and lists are side-effect free)"


# ---- annotations that contradict the code they annotate -------------------------------------

# Types (by their outermost name) that never admit None: builtins and `typing`'s aliases of
# them and of the abstract collections. An annotation built from anything else (a TypeVar, an
# alias, a string, a name from another module) is not judged.
NEVER_NONE_TYPES = {
    "str", "int", "float", "bool", "bytes", "bytearray", "complex",
    "list", "dict", "tuple", "set", "frozenset", "type",
    "List", "Dict", "Tuple", "Set", "FrozenSet", "Type", "DefaultDict", "OrderedDict",
    "Counter", "Deque", "Sequence", "MutableSequence", "Mapping", "MutableMapping",
    "Collection", "AbstractSet", "Iterable", "Iterator", "Callable",
}
# What a generator function may be annotated to return.
GENERATOR_TYPES = {
    "Iterator", "Iterable", "Generator", "AsyncIterator", "AsyncIterable", "AsyncGenerator",
}
# Decorators under which a body need not match its annotation (stubs, abstract methods).
STUB_DECORATORS = {"overload", "abstractmethod"}


def outer_name(expr):
    if isinstance(expr, ast.Subscript):
        expr = expr.value
    if isinstance(expr, ast.Attribute):
        # `typing.Optional[int]`; any other module's attribute is not judged.
        if isinstance(expr.value, ast.Name) and expr.value.id == "typing":
            return expr.attr
        return None
    if isinstance(expr, ast.Name):
        return expr.id
    return None


def admits_none(expr, known):
    """True when the annotation admits None, False when it surely does not, None when it
    cannot tell. `known` holds the names that mean what they say here (builtins and typing
    names not rebound, the module's classes)."""
    if isinstance(expr, ast.Constant) and expr.value is None:
        return True
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.BitOr):
        sides = (admits_none(expr.left, known), admits_none(expr.right, known))
        if True in sides:
            return True
        return False if sides == (False, False) else None
    name = outer_name(expr)
    if name in ("Optional", "Any", "object"):
        return True
    if name == "Union" and isinstance(expr, ast.Subscript):
        elts = expr.slice.elts if isinstance(expr.slice, ast.Tuple) else [expr.slice]
        each = [admits_none(e, known) for e in elts]
        if True in each:
            return True
        return False if all(e is False for e in each) else None
    if name in known:
        return False
    return None


def own_nodes(func):
    """The nodes of a function's own body, not those of the functions, lambdas and classes
    defined in it."""
    scopes = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)
    stack = [s for s in func.body if not isinstance(s, scopes)]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(c for c in ast.iter_child_nodes(node) if not isinstance(c, scopes))


def falls_through(stmts):
    """Whether running `stmts` can reach their end (and a function's body return None so).
    Leans towards yes: a call that never returns (`sys.exit()`) is not known."""
    if not stmts:
        return True
    last = stmts[-1]
    if isinstance(last, (ast.Return, ast.Raise)):
        return False
    if isinstance(last, ast.If):
        return falls_through(last.body) or falls_through(last.orelse)
    if isinstance(last, (ast.With, ast.AsyncWith)):
        return falls_through(last.body)
    if isinstance(last, (ast.Try, getattr(ast, "TryStar", ast.Try))):
        if last.finalbody and not falls_through(last.finalbody):
            return False
        normal = falls_through(last.orelse) if last.orelse else falls_through(last.body)
        return normal or any(falls_through(h.body) for h in last.handlers)
    if isinstance(last, ast.While):
        endless = isinstance(last.test, ast.Constant) and bool(last.test.value)
        return not endless or any(isinstance(n, ast.Break) for n in ast.walk(last))
    return True


def is_stub(func):
    """A body that only stands for a signature: a docstring, `...`, `pass` or
    `raise NotImplementedError`, or a decorator that says so."""
    if any(decorator_name(d) in STUB_DECORATORS for d in func.decorator_list):
        return True
    body = [s for s in func.body if not is_docstring(s)]
    if not body:
        return True
    if len(body) != 1:
        return False
    only = body[0]
    if isinstance(only, ast.Pass):
        return True
    if isinstance(only, ast.Expr) and isinstance(only.value, ast.Constant) and only.value.value is Ellipsis:
        return True
    if isinstance(only, ast.Raise) and only.exc is not None:
        return outer_name(only.exc.func if isinstance(only.exc, ast.Call) else only.exc) == "NotImplementedError"
    return False


def returns_none(ret):
    """Whether a `return` statement returns None (`return`, `return None`)."""
    return ret.value is None or (isinstance(ret.value, ast.Constant) and ret.value.value is None)


def return_contradiction(func, known):
    """Why `func`'s return annotation cannot be true of its body, or None: a generator not
    annotated as one, `-> None` on a function that returns a value, or a type that excludes
    None on a function that returns None (`return`, `return None`, or the end of its body)."""
    returns = func.returns
    if returns is None or is_stub(func):
        return None
    shown = ast.unparse(returns)
    own = list(own_nodes(func))
    annotated_none = isinstance(returns, ast.Constant) and returns.value is None
    if any(isinstance(n, (ast.Yield, ast.YieldFrom)) for n in own):
        # Only a type known here to be something else is judged: `collections.abc.Iterator`,
        # a string or an alias may well be right.
        name = outer_name(returns)
        if annotated_none or (name in known and name not in GENERATOR_TYPES):
            return f"`{func.name}` is a generator, but it is annotated `-> {shown}`"
        return None
    values = [n for n in own if isinstance(n, ast.Return)]
    if annotated_none:
        valued = [r for r in values if not returns_none(r)]
        if valued:
            return f"`{func.name}` is annotated `-> None`, but it returns a value on line {valued[0].lineno}"
        return None
    if admits_none(returns, known) is not False:
        return None
    nones = [r for r in values if returns_none(r)]
    if nones:
        return f"`{func.name}` is annotated `-> {shown}`, but it returns None on line {nones[0].lineno}"
    if falls_through(func.body):
        return f"`{func.name}` is annotated `-> {shown}`, but it can reach the end of its body and return None"
    return None


def default_contradiction(arg, default, known):
    """Why `arg: T = None` is not true of T (no implicit Optional since PEP 484's 2018 revision),
    or None."""
    if (
        arg.annotation is not None
        and isinstance(default, ast.Constant)
        and default.value is None
        and admits_none(arg.annotation, known) is False
    ):
        return f"parameter `{arg.arg}` defaults to None, but it is annotated `{ast.unparse(arg.annotation)}`"
    return None


def parameter_defaults(args):
    """Each parameter with its default (or None)."""
    positional = args.posonlyargs + args.args
    padded = [None] * (len(positional) - len(args.defaults)) + list(args.defaults)
    pairs = list(zip(positional, padded)) + list(zip(args.kwonlyargs, args.kw_defaults))
    pairs += [(a, None) for a in (args.vararg, args.kwarg) if a is not None]
    return pairs


def known_type_names(tree):
    """Names that mean the builtin or typing type they spell in this file (not rebound at any
    level), and the file's own top-level classes."""
    rebound = bound_names(tree)
    bindings = module_bindings(tree)
    known = set()
    for name in NEVER_NONE_TYPES:
        source = bindings.get(name, (None, None))[1]
        if source is not None and source[0] == "from" and source[1] in ("typing", "collections.abc"):
            known.add(name)
        elif name not in rebound and name in dir(builtins):
            known.add(name)
    if bindings.get("typing", (None, None))[1] == ("module", "typing"):
        known.update(n for n in NEVER_NONE_TYPES if n[0].isupper())
    known.update(s.name for s in tree.body if isinstance(s, ast.ClassDef))
    return known


class StripAnnotations(ast.NodeTransformer):
    """Removes annotations, recording each with where it was and whether changing it is safe."""

    def __init__(self, evaluated, bindings, target, escaped, known):
        self.escaped = escaped  # names used as values, not only called
        self.known = known  # type names that mean what they say (see `known_type_names`)
        self.evaluated = evaluated  # False under `from __future__ import annotations`
        self.bindings = bindings
        self.target = target
        self.scopes = []  # (kind, name, safe-context reason or None)
        self.found = []

    def record(self, site, expr, context_problem, evaluated=True, contradiction=None):
        where = ".".join(s[1] for s in self.scopes) or "<module>"
        problem = context_problem
        if problem is None and self.evaluated and evaluated:
            problem = annotation_problem(expr, self.bindings, self.target)
            if problem is None:
                problem = evaluation_problem(expr, self.bindings)
        self.found.append(
            {
                "key": [where, site, dump(expr)],
                "where": f"{where}: {site}",
                "annotation": ast.unparse(expr),
                "refusal": problem,
                "contradiction": contradiction,
            }
        )

    def visit_FunctionDef(self, node):
        problem = None
        if not safe_decorators(node.decorator_list):
            problem = f"`{node.name}` has a decorator that may read its annotations"
        elif node.name in self.escaped:
            problem = (
                f"`{node.name}` is passed around as a value (`typer.run({node.name})`?): "
                "whoever receives it may read its annotations"
            )
        self.scopes.append(("def", node.name))
        args = node.args
        for arg, default in parameter_defaults(args):
            if arg.annotation is not None:
                contradiction = default_contradiction(arg, default, self.known)
                self.record(f"parameter `{arg.arg}`", arg.annotation, problem, contradiction=contradiction)
                arg.annotation = None
        if node.returns is not None:
            contradiction = return_contradiction(node, self.known)
            self.record("return", node.returns, problem, contradiction=contradiction)
            node.returns = None
        # Defaults and decorators are evaluated in the enclosing scope; walk them all the same.
        self.generic_visit(node)
        self.scopes.pop()
        return node

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_ClassDef(self, node):
        for field in ("bases", "keywords", "decorator_list"):
            setattr(node, field, [self.visit(x) for x in getattr(node, field)])
        self.scopes.append(("class", node.name, plain_class(node)))
        node.body = self.body(node.body)
        self.scopes.pop()
        return node

    def visit_Module(self, node):
        node.body = self.body(node.body)
        return node

    def body(self, stmts):
        out = []
        for stmt in stmts:
            new = self.visit(stmt)
            if new is None:
                continue
            if isinstance(new, list):
                out.extend(new)
            else:
                out.append(new)
        return out

    def generic_visit(self, node):
        # Statement lists anywhere (if/for/while/try/with bodies) go through `body`, so an
        # annotated statement can be removed from them.
        for field, value in ast.iter_fields(node):
            if isinstance(value, list):
                if value and isinstance(value[0], ast.stmt):
                    setattr(node, field, self.body(value))
                else:
                    new = []
                    for item in value:
                        if isinstance(item, ast.AST):
                            item = self.visit(item)
                            if item is None:
                                continue
                        new.append(item)
                    setattr(node, field, new)
            elif isinstance(value, ast.AST):
                setattr(node, field, self.visit(value))
        return node

    def visit_AnnAssign(self, node):
        innermost = self.scopes[-1] if self.scopes else None
        # Annotations of a function's local variables are never evaluated (PEP 526).
        in_function = innermost is not None and innermost[0] == "def"
        problem = None
        if innermost is not None and innermost[0] == "class" and not innermost[2]:
            problem = (
                f"class `{innermost[1]}` has decorators, bases or keywords: its annotations "
                "may define fields (dataclass, NamedTuple, TypedDict, pydantic, attrs, enum)"
            )
        target = dump(node.target)
        self.record(
            f"annotated `{ast.unparse(node.target)}`",
            node.annotation,
            problem,
            evaluated=not in_function,
        )
        if node.value is not None:
            return ast.Assign(targets=[node.target], value=self.visit(node.value), type_comment=None)
        if isinstance(node.target, ast.Name) and node.simple and not in_function:
            # `x: int` at module or class level only adds to `__annotations__`.
            return None
        # In a function, `x: int` makes `x` local; `a.b: int` evaluates `a`. Keep a marker so
        # that adding or removing such a statement is never proven.
        return ast.Expr(value=ast.Constant(value=f"<annotated {target}>"))


def escaped_names(tree):
    """Names read as values somewhere, other than as the callee of a call."""
    callees = {
        id(node.func)
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
    }
    return {
        node.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and id(node) not in callees
    }


def strip_annotations(tree, evaluated, target):
    tree = copy.deepcopy(tree)
    stripper = StripAnnotations(
        evaluated, module_bindings(tree), target, escaped_names(tree), known_type_names(tree)
    )
    tree = stripper.visit(tree)
    return tree, stripper.found


def annotations_verdict(before, after, target):
    future = future_annotations(before) and future_annotations(after)
    stripped_before, found_before = strip_annotations(before, not future, target)
    stripped_after, found_after = strip_annotations(after, not future, target)
    if dump(stripped_before) != dump(stripped_after):
        return {"equal_when_stripped": False, "changed": [], "refusal": None}
    counts = {}
    for side, found in (("before", found_before), ("after", found_after)):
        for item in found:
            key = json.dumps(item["key"])
            counts.setdefault(key, {"before": [], "after": []})[side].append(item)
    changed = []
    for entry in counts.values():
        extra = len(entry["before"]) - len(entry["after"])
        if extra > 0:
            changed.extend({**i, "side": "before"} for i in entry["before"][:extra])
        elif extra < 0:
            changed.extend({**i, "side": "after"} for i in entry["after"][: -extra])
    refusal = None
    if changed and (mentions_introspection(before) or mentions_introspection(after)):
        refusal = "the file reads annotations at run time (`__annotations__`, `get_type_hints`, `signature`)"
    changed = [
        {
            "side": c["side"],
            "where": c["where"],
            "annotation": c["annotation"],
            # An annotation the change adds that contradicts the code is refused; one it removes
            # or corrects is not.
            "refusal": c["refusal"] or (c["contradiction"] if c["side"] == "after" else None),
        }
        for c in changed
    ]
    return {
        "equal_when_stripped": True,
        "future_annotations": future,
        "changed": changed,
        "refusal": refusal,
    }


# ---- unused imports ------------------------------------------------------------------------


def explode(tree):
    """One statement per imported name, so `import os, sys` → `import os`, `import sys`."""
    tree = copy.deepcopy(tree)
    for node in ast.walk(tree):
        for field, value in ast.iter_fields(node):
            if isinstance(value, list) and value and isinstance(value[0], ast.stmt):
                out = []
                for stmt in value:
                    if isinstance(stmt, ast.Import):
                        for a in stmt.names:
                            single = ast.Import(names=[a])
                            ast.copy_location(single, stmt)
                            out.append(single)
                    elif isinstance(stmt, ast.ImportFrom):
                        for a in stmt.names:
                            single = ast.ImportFrom(module=stmt.module, names=[a], level=stmt.level)
                            ast.copy_location(single, stmt)
                            out.append(single)
                    else:
                        out.append(stmt)
                setattr(node, field, out)
    return tree


def same(b, a, removed):
    """Whether `a` is `b` with some single-name import statements removed (collected)."""
    if type(b) is not type(a):
        return False
    if isinstance(b, ast.AST):
        for field in b._fields:
            if not same(getattr(b, field, None), getattr(a, field, None), removed):
                return False
        return True
    if isinstance(b, list):
        if b and isinstance(b[0], ast.stmt) or a and isinstance(a[0], ast.stmt):
            return align(b, a, removed)
        return len(b) == len(a) and all(same(x, y, removed) for x, y in zip(b, a))
    return b == a


def align(bbody, abody, removed):
    j = 0
    for stmt in bbody:
        if j < len(abody):
            trial = []
            if same(stmt, abody[j], trial):
                removed.extend(trial)
                j += 1
                continue
        if isinstance(stmt, (ast.Import, ast.ImportFrom)):
            removed.append(stmt)
            continue
        return False
    return j == len(abody)


def all_names(tree):
    """Every string in a statement that mentions `__all__`."""
    names = set()
    for stmt in ast.walk(tree):
        if not isinstance(stmt, ast.stmt) or isinstance(
            stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Module)
        ):
            continue
        if any(isinstance(n, ast.Name) and n.id == "__all__" for n in ast.walk(stmt)):
            for n in ast.walk(stmt):
                if isinstance(n, ast.Constant) and isinstance(n.value, str):
                    names.add(n.value)
    return names


def dynamic_lookup(tree):
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            if node.func.id in {"globals", "locals", "vars", "eval", "exec", "__import__"}:
                return node.func.id
    return None


def imported_modules(tree):
    """Modules (absolute names, or `.`-prefixed for relative ones) the file imports."""
    mods = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                mods.add(a.name)
        elif isinstance(node, ast.ImportFrom):
            base = "." * node.level + (node.module or "")
            mods.add(base)
            for a in node.names:
                if a.name != "*":
                    mods.add(f"{base}.{a.name}" if node.module else base + a.name)
    return mods


def char_column(lines, line, byte_offset):
    return len(lines[line - 1].encode("utf-8")[:byte_offset].decode("utf-8", "replace")) + 1


def imports_verdict(before, after, before_text):
    removed = []
    if not align(explode(before).body, explode(after).body, removed) or not removed:
        return {"only_removed": False, "removed": [], "refusal": None}
    exported = all_names(before) | all_names(after)
    dynamic = dynamic_lookup(before) or dynamic_lookup(after)
    kept = imported_modules(after)
    lines = re.split(r"\r\n|\r|\n", before_text)
    stdlib = getattr(sys, "stdlib_module_names", frozenset())
    out = []
    for stmt in removed:
        alias = stmt.names[0]
        if isinstance(stmt, ast.Import):
            binding = alias.asname or alias.name.split(".")[0]
            modules = [alias.name]
            statement = f"import {alias.name}" + (f" as {alias.asname}" if alias.asname else "")
        else:
            base = "." * stmt.level + (stmt.module or "")
            binding = alias.asname or alias.name
            sub = f"{base}.{alias.name}" if stmt.module else base + alias.name
            # `from m import n` imports `m`, and `m.n` when `n` is a submodule.
            modules = [base, sub]
            statement = f"from {base} import {alias.name}" + (
                f" as {alias.asname}" if alias.asname else ""
            )
        refusal = None
        if getattr(alias, "lineno", None) is None:
            refusal = "this python3 (before 3.10) gives no positions for imported names"
            alias.lineno = alias.end_lineno = stmt.lineno
            alias.col_offset = alias.end_col_offset = 0
        elif not stdlib:
            refusal = "this python3 (before 3.10) has no `sys.stdlib_module_names`"
        elif alias.name == "*":
            refusal = "a star import"
        elif stmt.__class__ is ast.ImportFrom and stmt.module == "__future__":
            refusal = "a `__future__` import changes how the file compiles"
        elif binding in exported:
            refusal = f"`{binding}` is listed in `__all__`"
        elif dynamic:
            refusal = f"the file calls `{dynamic}()`, which can look names up by string"
        else:
            for module in modules:
                if module in kept:
                    continue
                top = module.lstrip(".").split(".")[0]
                parts = module.split(".")
                prefixes = {".".join(parts[: i + 1]) for i in range(len(parts))}
                if module.startswith(".") or top not in stdlib:
                    refusal = f"`{module}` is not a standard-library module and stays imported nowhere else: importing it may have side effects"
                    break
                if prefixes & SIDE_EFFECT_MODULES:
                    refusal = f"importing `{module}` has side effects"
                    break
        out.append(
            {
                "statement": statement,
                "binding": binding,
                "line": alias.lineno,
                "column": char_column(lines, alias.lineno, alias.col_offset),
                "end_line": alias.end_lineno,
                "end_column": char_column(lines, alias.end_lineno, alias.end_col_offset),
                "refusal": refusal,
            }
        )
    return {"only_removed": True, "removed": out, "refusal": None}


def same_as(after_text, candidates):
    """The index of the first candidate that is AFTER spelled differently: equal ASTs (as for
    the formatting class) and the same shebang and coding cookie; `None` when none is."""
    try:
        after = dump(parse(after_text))
    except (SyntaxError, ValueError) as e:
        return {"parse_error": f"AFTER does not parse: {e}", "same_as": None}
    for index, text in enumerate(candidates):
        if header(text) != header(after_text):
            continue
        try:
            if dump(parse(text)) == after:
                return {"parse_error": None, "same_as": index}
        except (SyntaxError, ValueError):
            continue
    return {"parse_error": None, "same_as": None}

# A printf conversion a replacement field spells exactly: `%s` is `str(x)`, which `format(x, "")`
# gives for every type that does not define `__format__` its own way (the condition the caller
# checks); `%r` and `%a` are `repr(x)` and `ascii(x)`, which `{x!r}` and `{x!a}` give for every
# type. No flags, width or precision: `%5.2f` and `{:5.2f}` differ for `Decimal`, and raise
# different errors for a string.
PRINTF_SPEC = re.compile(r"%(?:%|[sra])")

# Builtins whose call never gives a tuple or a mapping (when the name is not rebound).
NON_TUPLE_BUILTINS = {"str", "repr", "ascii", "int", "float", "len", "format", "bool", "round", "abs", "ord", "chr", "hex", "oct", "bin"}


def bound_names(tree):
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            names.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, ast.alias):
            names.add((node.asname or node.name).split(".")[0])
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            names.update(node.names)
    return names


def never_a_tuple(expr, rebound):
    """Whether `expr` can never evaluate to a tuple or a mapping (which `%` unpacks)."""
    if isinstance(expr, ast.Constant):
        return not isinstance(expr.value, tuple)
    if isinstance(expr, ast.JoinedStr):
        return True
    if isinstance(expr, ast.Call) and isinstance(expr.func, ast.Name):
        return expr.func.id in NON_TUPLE_BUILTINS and expr.func.id not in rebound
    if isinstance(expr, ast.Attribute) and expr.attr in ("__name__", "__qualname__"):
        # A class's name is a string (CPython's `type` refuses anything else); any other
        # object's `__name__` is whatever it was given.
        of = expr.value
        if isinstance(of, ast.Attribute) and of.attr == "__class__":
            return True
        return (
            isinstance(of, ast.Call)
            and isinstance(of.func, ast.Name)
            and of.func.id == "type"
            and "type" not in rebound
            and len(of.args) == 1
            and not of.keywords
        )
    return False


class TypeIdentity(ast.NodeTransformer):
    """Reads `==`/`!=` as `is`/`is not` where one side is a call of the builtin `type` with one
    argument (`type(x) == int`, `type(a) != type(b)`)."""

    def __init__(self, rebound):
        self.rebound = rebound

    def is_type_call(self, node):
        return (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "type"
            and "type" not in self.rebound
            and len(node.args) == 1
            and not node.keywords
        )

    def visit_Compare(self, node):
        self.generic_visit(node)
        sides = [node.left] + node.comparators
        ops = []
        for i, op in enumerate(node.ops):
            if isinstance(op, (ast.Eq, ast.NotEq)) and (
                self.is_type_call(sides[i]) or self.is_type_call(sides[i + 1])
            ):
                op = ast.Is() if isinstance(op, ast.Eq) else ast.IsNot()
            ops.append(op)
        node.ops = ops
        return node


def type_identity(before, after):
    """AFTER is BEFORE with some `type(x) == T` read as `type(x) is T` (and `!=` as `is not`),
    and nothing else changed."""
    if dump(before) == dump(after):
        return False
    rebound = bound_names(before) | bound_names(after)
    normal = lambda tree: dump(TypeIdentity(rebound).visit(copy.deepcopy(tree)))
    return normal(before) == normal(after)


def printf_sites(text):
    """The `'...' % args` expressions whose rewrite to a replacement field per conversion keeps
    behaviour: the format is one string literal whose conversions are only `%s`, `%r`, `%a`
    (no flags, width, precision or mapping key) and `%%`, and the right operand is a tuple
    display with one plain element per conversion, or, for one conversion, an expression that is
    never a tuple or a mapping (a literal, an f-string, a call of a builtin such as `str` or
    `int`, or a class's name: `x.__class__.__name__`, `type(x).__name__`). `'%s' % x` with a
    bare name is not one: when `x` is a tuple, `%` unpacks it."""
    try:
        tree = parse(text)
    except (SyntaxError, ValueError) as e:
        return {"parse_error": f"does not parse: {e}", "sites": []}
    rebound = bound_names(tree)
    lines = re.split(r"\r\n|\r|\n", text)
    sites = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod)):
            continue
        left = node.left
        if not (isinstance(left, ast.Constant) and isinstance(left.value, str)):
            continue
        fmt = left.value
        specs = PRINTF_SPEC.findall(fmt)
        if fmt.count("%") != sum(spec.count("%") for spec in specs):
            continue
        fields = [s for s in specs if s != "%%"]
        if not fields:
            continue
        right = node.right
        if isinstance(right, ast.Tuple):
            if len(right.elts) != len(fields) or any(isinstance(e, ast.Starred) for e in right.elts):
                continue
        elif len(fields) != 1 or not never_a_tuple(right, rebound):
            continue
        sites.append([node.lineno, char_column(lines, node.lineno, node.col_offset)])
    return {"parse_error": None, "sites": sites}


def main():
    request = json.load(sys.stdin)
    if sys.version_info < (3, 10):
        # No `ast.unparse`, no positions of imported names, no `sys.stdlib_module_names`.
        print(json.dumps({"parse_error": "proofs need python3 3.10 or newer"}))
        return
    if "printf_sites" in request:
        print(json.dumps(printf_sites(request["printf_sites"])))
        return
    if "candidates" in request:
        print(json.dumps(same_as(request["after"], request["candidates"])))
        return
    before_text, after_text = request["before"], request["after"]
    target = request["target"]
    answer = {"parse_error": None}
    try:
        before = parse(before_text)
    except (SyntaxError, ValueError) as e:
        answer["parse_error"] = f"BEFORE does not parse: {e}"
    else:
        try:
            after = parse(after_text)
        except (SyntaxError, ValueError) as e:
            answer["parse_error"] = f"AFTER does not parse: {e}"
    if answer["parse_error"]:
        print(json.dumps(answer))
        return
    answer["header_changed"] = header(before_text) != header(after_text)
    answer["formatting"] = dump(before) == dump(after)
    answer["docstrings"] = dump(strip_docstrings(before)) == dump(strip_docstrings(after))
    answer["annotations"] = annotations_verdict(before, after, target)
    answer["imports"] = imports_verdict(before, after, before_text)
    answer["type_identity"] = type_identity(before, after)
    print(json.dumps(answer))


try:
    main()
except RecursionError:
    # Too deeply nested for the helper: not proven, never a failure to run.
    print(json.dumps({"parse_error": "too deeply nested to compare"}))
