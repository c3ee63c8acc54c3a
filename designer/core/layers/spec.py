"""Layer specs are data: typed parameters, ports, shape rule, cost rule and code emitter.

A shape is a tuple of ints *without* the batch dimension, which is always implicit and
symbolic ("N"). `(16, 5, 5)` is shown as `N×16×5×5`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from designer.core.errors import ParamError, ShapeError
from designer.core.limits import clip

Shape = tuple[int, ...]
Params = Mapping[str, object]


def param_int(params: Params, name: str, default: int | None = None) -> int:
    """Parameter `name` as an int (checked params hold ints; their static type is `object`)."""
    value = params[name] if default is None else params.get(name, default)
    if not isinstance(value, int | float | str):
        raise ParamError(name, f"must be a whole number, not {value!r}")
    return int(value)


def param_float(params: Params, name: str) -> float:
    """Parameter `name` as a float."""
    value = params[name]
    if not isinstance(value, int | float | str):
        raise ParamError(name, f"must be a number, not {value!r}")
    return float(value)


def param_shape(params: Params, name: str) -> Shape:
    """Parameter `name` as a tuple of ints (a shape)."""
    value = params[name]
    if not isinstance(value, tuple | list):
        raise ParamError(name, f"must be a tuple of whole numbers, not {value!r}")
    return tuple(int(v) for v in value)


def format_shape(shape: Shape | None) -> str:
    """`(16, 5, 5)` -> `N×16×5×5`; None -> `?`."""
    if shape is None:
        return "?"
    return "×".join(["N", *map(str, shape)])


def _fmt_num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else repr(x)


@dataclass(frozen=True)
class ParamSpec:
    """One typed, documented parameter.

    `kind` is int, float, bool, str or tuple (a tuple of ints). `keywords` are strings an int
    parameter also accepts (Conv padding: "same", "valid"). `length` fixes a tuple's length;
    `min_length`/`max_length` bound it otherwise. Tuple items obey `minimum`/`maximum`, except
    that `allow_minus_one` admits a single -1 (Reshape's inferred dimension).
    """

    name: str
    kind: type
    default: object
    doc: str = ""
    choices: tuple[object, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None
    keywords: tuple[str, ...] = ()
    length: int | None = None
    min_length: int = 1
    max_length: int = 8
    allow_minus_one: bool = False
    pair: bool = False  # an int parameter that also takes (height, width), e.g. kernel (1, 7)
    auto: object = None  # a value meaning "torch's default" (pooling stride 0 = kernel): not shown

    def describe(self) -> str:
        """What a valid value looks like, for messages: "an integer ≥ 1"."""
        noun = {
            int: "an integer",
            float: "a number",
            bool: "true or false",
            str: "a string",
            dict: "an object of plain values",
        }.get(self.kind, "a list of integers")
        if self.choices is not None:
            return "one of " + ", ".join(repr(c) for c in self.choices)
        bounds = []
        if self.minimum is not None:
            bounds.append(f"≥ {_fmt_num(self.minimum)}")
        if self.maximum is not None:
            bounds.append(f"≤ {_fmt_num(self.maximum)}")
        text = noun + (" " + " and ".join(bounds) if bounds else "")
        if self.kind is tuple and self.length:
            text = f"{self.length} integers" + (" " + " and ".join(bounds) if bounds else "")
        if self.pair:
            text += " or a pair of them (height, width)"
        if self.keywords:
            text += " or " + " or ".join(repr(k) for k in self.keywords)
        return text

    def _refuse(self, value: object) -> ParamError:
        shown = clip(repr(value)) if isinstance(value, str) else _short(value)
        return ParamError(self.name, f"expected {self.describe()}, got {shown}")

    def _in_range(self, x: float) -> bool:
        if self.minimum is not None and x < self.minimum:
            return False
        return not (self.maximum is not None and x > self.maximum)

    def _int_in_range(self, value: object) -> int | None:
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, int) and not isinstance(value, bool) and self._in_range(value):
            return value
        return None

    def check(self, value: object) -> object:
        """Return `value` normalised to this spec's kind, or raise ParamError."""
        if self.choices is not None:
            if value in self.choices and type(value) is type(self.choices[0]):
                return value
            raise self._refuse(value)
        if self.kind is bool:
            if isinstance(value, bool):
                return value
            raise self._refuse(value)
        if self.kind is int:
            if isinstance(value, str) and value in self.keywords:
                return value
            if self.pair and isinstance(value, list | tuple) and len(value) == 2:
                items = [self._int_in_range(v) for v in value]
                if None not in items:
                    return items[0] if items[0] == items[1] else (items[0], items[1])
                raise self._refuse(value)
            item = self._int_in_range(value)
            if item is not None:
                return item
            raise self._refuse(value)
        if self.kind is float:
            if isinstance(value, int | float) and not isinstance(value, bool):
                try:
                    x = float(value)
                except OverflowError:  # an int too large for a float
                    raise self._refuse(value) from None
                if math.isfinite(x) and self._in_range(x):
                    return x
            raise self._refuse(value)
        if self.kind is str:
            if isinstance(value, str):
                return value
            raise self._refuse(value)
        if self.kind is tuple:
            return self._check_tuple(value)
        if self.kind is dict:
            scalar = (str, int, float, bool, type(None))
            if isinstance(value, dict) and all(
                isinstance(k, str) and isinstance(v, scalar) for k, v in value.items()
            ):
                return dict(value)
            raise self._refuse(value)
        raise TypeError(f"unsupported parameter kind {self.kind!r}")

    def _check_tuple(self, value: object) -> tuple[int, ...]:
        if not isinstance(value, list | tuple):
            raise self._refuse(value)
        n = len(value)
        if (self.length is not None and n != self.length) or not (
            self.min_length <= n <= self.max_length
        ):
            raise self._refuse(value)
        items: list[int] = []
        for item in value:
            if isinstance(item, float) and item.is_integer():
                item = int(item)
            if not isinstance(item, int) or isinstance(item, bool):
                raise self._refuse(value)
            if item == -1 and self.allow_minus_one:
                items.append(item)
                continue
            if not self._in_range(item):
                raise self._refuse(value)
            items.append(item)
        if self.allow_minus_one and items.count(-1) > 1:
            raise self._refuse(value)
        return tuple(items)


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


@dataclass(frozen=True)
class SupportClass:
    """A plain-PyTorch `nn.Module` class that a layer's emitted code instantiates, for a layer
    torch has no module for (StochasticDepth, LayerScale, ...). Codegen writes each class a
    graph uses once, at the top of the generated file, so exported code needs only torch.

    The class sets `netcanvas_layer = "<type_id>"` and keeps each layer parameter as an
    attribute of the same name: that is how the importer maps it back to the layer. Its
    source may use `torch` and `nn` (the generated file's imports) and nothing else."""

    name: str
    source: str


@dataclass(frozen=True)
class ModuleCode:
    """What one node contributes to the generated module.

    `init` is the constructor expression assigned to `self.<name>` in `__init__` (None for a
    stateless op such as Add). `forward(module, inputs)` returns the expression computing the
    node's output, given `module` ("self.fc1") and the input variable names.
    """

    init: str | None
    forward: Callable[[str, Sequence[str]], str]


def call_module(module: str, inputs: Sequence[str]) -> str:
    """The usual forward expression: `self.fc1(x)`."""
    return f"{module}({', '.join(inputs)})"


def no_cost(params: Params, in_shapes: Sequence[Shape], out: Shape) -> tuple[int, int]:
    return 0, 0


# Kinds of values a port carries: "float" (features), "int" (token ids). "any" accepts both.
DTYPES = ("float", "int")

# What a node is in the graph: an ordinary layer, or one end (forward()'s args and return).
# A "block" node is one use of a block definition: its shape and code come from the definition.
ROLES = ("layer", "input", "output", "block")

# Names of sample ranks (the shape without the batch), for messages and the palette.
RANK_NAMES = {
    1: "flat features (N×F)",
    2: "sequences (N×T×F)",
    3: "images (N×C×H×W)",
    4: "volumes (N×C×D×H×W)",
}
MAX_RANK = 5  # with the batch: N×C×D×H×W, so 3-D layers fit


def describe_rank(rank: int) -> str:
    """`3` -> "images (N×C×H×W)"."""
    return RANK_NAMES.get(rank, f"{rank + 1}-D tensors")


@dataclass(frozen=True)
class InputSpec:
    """What a layer's inputs accept (as Keras's InputSpec): the ranks of a sample without the
    batch (None: any rank) and the kind of values ("float", "int" or "any")."""

    ranks: tuple[int, ...] | None = None
    dtype: str = "float"

    def __post_init__(self) -> None:
        if self.ranks is not None and not all(1 <= r < MAX_RANK for r in self.ranks):
            raise ValueError(f"ranks {self.ranks} outside 1..{MAX_RANK - 1} (without the batch)")
        if self.dtype not in (*DTYPES, "any"):
            raise ValueError(f"dtype {self.dtype!r} is not one of {DTYPES} or 'any'")

    def rank_problem(self, in_shapes: Sequence[Shape]) -> ShapeError | None:
        """The error for the first input whose rank is not accepted, else None."""
        if self.ranks is None:
            return None
        for shape in in_shapes:
            if len(shape) not in self.ranks:
                wanted = " or ".join(describe_rank(r) for r in self.ranks)
                kind = describe_rank(len(shape)).split(" (")[0]
                return ShapeError(f"expects {wanted} but gets {kind} {format_shape(shape)}.")
        return None

    def accepts_dtype(self, dtype: str) -> bool:
        return self.dtype in ("any", dtype)


@dataclass(frozen=True)
class LayerSpec:
    """A layer type. Stable `type_id`; `legacy_ids` are older ids that still load.

    `infer(params, in_shapes) -> Shape` raises ShapeError for inputs the layer can't take.
    `emit(params, in_shapes) -> ModuleCode`. `cost(params, in_shapes, out) -> (params, MACs)`.
    `input_ports(params)` names the input ports; merges grow ports with `num_inputs`.

    Facts the rest of the core reads instead of naming layer types:
    `role` ("layer", "input" or "output": the graph's ends); `accepts` (ranks and dtype of the
    inputs, enforced by `output_shape`); `dtype_out` ("float", "int", "same" as the input, or a
    function of the params); `passthrough` (the output is the input element for element, as an
    activation or dropout: looking back through it finds the layer that set the features);
    `features_param` (the parameter that sets the output's feature count, "out_features");
    `saturating` (an activation that flattens out for large inputs: sigmoid, tanh); `weighted`
    (a layer of weight matrices or kernels fed by activations, which He initialisation suits);
    `support` (classes its emitted code instantiates, written into the generated file).
    """

    type_id: str
    title: str
    category: str
    doc: str
    params: tuple[ParamSpec, ...]
    infer: Callable[[Params, Sequence[Shape]], Shape]
    emit: Callable[[Params, Sequence[Shape]], ModuleCode]
    cost: Callable[[Params, Sequence[Shape], Shape], tuple[int, int]] = no_cost
    inputs: tuple[str, ...] = ("x",)
    outputs: tuple[str, ...] = ("y",)
    version: int = 1
    legacy_ids: tuple[str, ...] = ()
    key_params: tuple[str, ...] = ()
    variadic: bool = False
    role: str = "layer"
    accepts: InputSpec = InputSpec()
    dtype_out: str | Callable[[Params], str] = "float"
    passthrough: bool = False
    features_param: str | None = None
    saturating: bool = False
    weighted: bool = False
    support: tuple[SupportClass, ...] = ()  # classes its emitted code uses (see SupportClass)
    _by_name: dict[str, ParamSpec] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_name", {p.name: p for p in self.params})
        if len(self._by_name) != len(self.params):
            raise ValueError(f"{self.type_id}: duplicate parameter names")
        if self.role not in ROLES:
            raise ValueError(f"{self.type_id}: role {self.role!r} is not one of {ROLES}")
        if self.features_param is not None and self.features_param not in self._by_name:
            raise ValueError(f"{self.type_id}: features_param {self.features_param!r} unknown")

    @property
    def is_input(self) -> bool:
        return self.role == "input"

    @property
    def is_output(self) -> bool:
        return self.role == "output"

    @property
    def is_end(self) -> bool:
        """An Input or an Output: no module of its own in the generated code."""
        return self.role in ("input", "output")

    @property
    def is_block(self) -> bool:
        return self.role == "block"

    def output_shape(self, params: Params, in_shapes: Sequence[Shape]) -> Shape:
        """`infer` with `accepts.ranks` enforced. When a rank is refused, the layer's own
        ShapeError (with its advice and quick fix) is preferred to the generic one."""
        problem = self.accepts.rank_problem(in_shapes)
        if problem is None:
            return self.infer(params, in_shapes)
        try:
            self.infer(params, in_shapes)
        except ShapeError:
            raise
        except Exception:  # noqa: BLE001  (a rank the rule never expected: the generic message)
            pass
        raise problem

    def output_dtype(self, params: Params, in_dtypes: Sequence[str]) -> str:
        """ "int" or "float": what this node's output carries, given its inputs' kinds."""
        if callable(self.dtype_out):
            return self.dtype_out(params)
        if self.dtype_out == "same":
            return "int" if in_dtypes and all(d == "int" for d in in_dtypes) else "float"
        return self.dtype_out

    def param(self, name: str) -> ParamSpec:
        return self._by_name[name]

    def defaults(self) -> dict[str, object]:
        return {p.name: p.default for p in self.params}

    def input_ports(self, params: Params) -> tuple[str, ...]:
        if self.variadic:
            n = param_int(params, "num_inputs", 2)
            return tuple(f"in{i + 1}" for i in range(n))
        return self.inputs

    def check_params(self, params: Params) -> dict[str, object]:
        """Defaults filled in, each value checked; unknown names refused."""
        unknown = set(params) - set(self._by_name)
        if unknown:
            name = sorted(unknown)[0]
            raise ParamError(name, f"{self.title} has no parameter {name!r}")
        out = self.defaults()
        for name, value in params.items():
            out[name] = self._by_name[name].check(value)
        return out


def dims_of(value: object, n: int) -> tuple[int, ...]:
    """A `pair` parameter's value for each of `n` spatial dims: 3 -> (3, 3), (1, 7) -> (1, 7)."""
    if isinstance(value, tuple):
        return tuple(int(v) for v in value)
    return (int(value),) * n  # type: ignore[call-overload]
