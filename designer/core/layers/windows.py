"""Attention over windows of an image, as vision transformers compute it (Swin, MaxViT).

torch has no modules for these, so each exports as a small plain-PyTorch class (a
SupportClass) written at the top of the generated file: the same computation as
torchvision's, with the same state_dict keys, so torchvision's weights load by name.
Swin works channels last (N×H×W×C); MaxViT's partitions turn N×C×H×W into windows of
positions (N×G×P×C) and back.
"""

from __future__ import annotations

import math

from designer.core.errors import ShapeError
from designer.core.layers.common import call, expect_rank, non_default, one_input, p_int
from designer.core.layers.registry import register
from designer.core.layers.spec import (
    InputSpec,
    LayerSpec,
    ModuleCode,
    ParamSpec,
    SupportClass,
    call_module,
    dims_of,
)

_SWIN_ATTENTION = SupportClass(
    "ShiftedWindowAttention",
    '''
class ShiftedWindowAttention(nn.Module):
    """Swin's self-attention inside windows of a channels-last image (N×H×W×C), the
    windows shifted by shift_size, with a learned relative position bias (torchvision's
    shifted_window_attention in plain torch). v2: cosine attention, and the position
    bias computed by a small MLP from log-spaced coordinates."""

    netcanvas_layer = "shifted_window_attention"

    def __init__(
        self,
        dim: int,
        num_heads: int,
        window_size: int | tuple[int, int] = 7,
        shift_size: int | tuple[int, int] = 0,
        qkv_bias: bool = True,
        proj_bias: bool = True,
        attention_dropout: float = 0.0,
        dropout: float = 0.0,
        v2: bool = False,
    ) -> None:
        super().__init__()
        self.num_heads = num_heads
        self.window_size = window_size
        self.shift_size = shift_size
        self.qkv_bias = qkv_bias
        self.proj_bias = proj_bias
        self.attention_dropout = attention_dropout
        self.dropout = dropout
        self.v2 = v2
        wh, ww = self._pair(window_size)
        self.qkv = nn.Linear(dim, dim * 3, bias=qkv_bias)
        self.proj = nn.Linear(dim, dim, bias=proj_bias)
        if v2:
            rows = torch.arange(-(wh - 1), wh, dtype=torch.float32)
            cols = torch.arange(-(ww - 1), ww, dtype=torch.float32)
            table = torch.stack(torch.meshgrid([rows, cols], indexing="ij"))
            table = table.permute(1, 2, 0).contiguous().unsqueeze(0)
            table[:, :, :, 0] /= wh - 1
            table[:, :, :, 1] /= ww - 1
            table *= 8
            table = torch.sign(table) * torch.log2(torch.abs(table) + 1.0) / 3.0
            self.register_buffer("relative_coords_table", table)
        else:
            size = (2 * wh - 1) * (2 * ww - 1)
            self.relative_position_bias_table = nn.Parameter(
                torch.zeros(size, num_heads)
            )
            nn.init.trunc_normal_(self.relative_position_bias_table, std=0.02)
        coords = torch.stack(
            torch.meshgrid(torch.arange(wh), torch.arange(ww), indexing="ij")
        )
        coords = torch.flatten(coords, 1)
        relative = (coords[:, :, None] - coords[:, None, :]).permute(1, 2, 0)
        relative = relative.contiguous()
        relative[:, :, 0] += wh - 1
        relative[:, :, 1] += ww - 1
        relative[:, :, 0] *= 2 * ww - 1
        self.register_buffer("relative_position_index", relative.sum(-1).flatten())
        if v2:
            self.logit_scale = nn.Parameter(
                torch.log(10 * torch.ones((num_heads, 1, 1)))
            )
            self.cpb_mlp = nn.Sequential(
                nn.Linear(2, 512, bias=True),
                nn.ReLU(inplace=True),
                nn.Linear(512, num_heads, bias=False),
            )
            if qkv_bias:
                length = self.qkv.bias.numel() // 3
                self.qkv.bias[length : 2 * length].data.zero_()

    @staticmethod
    def _pair(value: int | tuple[int, int]) -> tuple[int, int]:
        return (value, value) if isinstance(value, int) else (value[0], value[1])

    def _position_bias(self) -> torch.Tensor:
        wh, ww = self._pair(self.window_size)
        if self.v2:
            table = self.cpb_mlp(self.relative_coords_table).view(-1, self.num_heads)
        else:
            table = self.relative_position_bias_table
        bias = table[self.relative_position_index].view(wh * ww, wh * ww, -1)
        bias = bias.permute(2, 0, 1).contiguous().unsqueeze(0)
        return 16 * torch.sigmoid(bias) if self.v2 else bias

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        wh, ww = self._pair(self.window_size)
        sh, sw = self._pair(self.shift_size)
        heads = self.num_heads
        b, h, w, c = x.shape
        # pad to whole windows; no shift along a side that one window covers
        pad_r = (ww - w % ww) % ww
        pad_b = (wh - h % wh) % wh
        x = nn.functional.pad(x, (0, 0, 0, pad_r, 0, pad_b))
        _, ph, pw, _ = x.shape
        sh = 0 if wh >= ph else sh
        sw = 0 if ww >= pw else sw
        if sh + sw > 0:
            x = torch.roll(x, shifts=(-sh, -sw), dims=(1, 2))
        windows = (ph // wh) * (pw // ww)
        x = x.view(b, ph // wh, wh, pw // ww, ww, c)
        x = x.permute(0, 1, 3, 2, 4, 5).reshape(b * windows, wh * ww, c)
        qkv_bias = self.qkv.bias
        if self.v2 and qkv_bias is not None:
            qkv_bias = qkv_bias.clone()
            length = qkv_bias.numel() // 3
            qkv_bias[length : 2 * length].zero_()
        qkv = nn.functional.linear(x, self.qkv.weight, qkv_bias)
        qkv = qkv.reshape(x.size(0), x.size(1), 3, heads, c // heads)
        qkv = qkv.permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        if self.v2:
            q = nn.functional.normalize(q, dim=-1)
            attn = q @ nn.functional.normalize(k, dim=-1).transpose(-2, -1)
            # the scale is capped at 100 (log 100 = 4.605...)
            scale = torch.clamp(self.logit_scale, max=4.605170185988092).exp()
            attn = attn * scale
        else:
            q = q * (c // heads) ** -0.5
            attn = q.matmul(k.transpose(-2, -1))
        attn = attn + self._position_bias()
        if sh + sw > 0:
            # positions that were apart before the shift do not attend to each other
            mask = x.new_zeros((ph, pw))
            rows = ((0, -wh), (-wh, -sh), (-sh, None))
            cols = ((0, -ww), (-ww, -sw), (-sw, None))
            count = 0
            for r in rows:
                for s in cols:
                    mask[r[0] : r[1], s[0] : s[1]] = count
                    count += 1
            mask = mask.view(ph // wh, wh, pw // ww, ww)
            mask = mask.permute(0, 2, 1, 3).reshape(windows, wh * ww)
            mask = mask.unsqueeze(1) - mask.unsqueeze(2)
            mask = mask.masked_fill(mask != 0, -100.0).masked_fill(mask == 0, 0.0)
            attn = attn.view(x.size(0) // windows, windows, heads, x.size(1), x.size(1))
            attn = attn + mask.unsqueeze(1).unsqueeze(0)
            attn = attn.view(-1, heads, x.size(1), x.size(1))
        attn = nn.functional.softmax(attn, dim=-1)
        attn = nn.functional.dropout(
            attn, p=self.attention_dropout, training=self.training
        )
        x = attn.matmul(v).transpose(1, 2).reshape(x.size(0), x.size(1), c)
        x = nn.functional.linear(x, self.proj.weight, self.proj.bias)
        x = nn.functional.dropout(x, p=self.dropout, training=self.training)
        # windows back to the image, shift undone, padding cut
        x = x.view(b, ph // wh, pw // ww, wh, ww, c)
        x = x.permute(0, 1, 3, 2, 4, 5).reshape(b, ph, pw, c)
        if sh + sw > 0:
            x = torch.roll(x, shifts=(sh, sw), dims=(1, 2))
        return x[:, :h, :w, :].contiguous()
''',
)


def _channels_last_image(x, what: str) -> None:
    expect_rank(x, (3,), advice=f"{what} takes channels-last images N×H×W×C; Permute first")


def _swin_infer(params, in_shapes):
    x = one_input(in_shapes)
    _channels_last_image(x, "ShiftedWindowAttention")
    heads = p_int(params, "num_heads")
    if x[2] % heads:
        raise ShapeError(f"num_heads={heads} must divide the channels C ({x[2]})")
    return x


_SWIN_DEFAULTS = {
    "window_size": 7,
    "shift_size": 0,
    "qkv_bias": True,
    "proj_bias": True,
    "attention_dropout": 0.0,
    "dropout": 0.0,
    "v2": False,
}


def _swin_emit(params, in_shapes):
    extra = non_default(params, _SWIN_DEFAULTS)
    ctor = call("ShiftedWindowAttention", in_shapes[0][-1], params["num_heads"], **extra)
    return ModuleCode(ctor, call_module)


def _swin_cost(params, in_shapes, out):
    h, w, c = in_shapes[0]
    heads = p_int(params, "num_heads")
    wh, ww = dims_of(params["window_size"], 2)
    n = 3 * c * c + c * c + (3 * c if params["qkv_bias"] else 0) + (c if params["proj_bias"] else 0)
    if params["v2"]:
        n += heads + 2 * 512 + 512 + 512 * heads  # logit scale, position-bias MLP
    else:
        n += (2 * wh - 1) * (2 * ww - 1) * heads
    positions = h * w
    return n, 4 * positions * c * c + 2 * positions * wh * ww * c


register(
    LayerSpec(
        type_id="shifted_window_attention",
        title="ShiftedWindowAttention",
        category="Attention",
        doc="Swin's self-attention within windows of a channels-last image, windows shifted "
        "by shift_size, with a relative position bias. N×H×W×C -> N×H×W×C.",
        params=(
            ParamSpec("num_heads", int, 3, "Attention heads; must divide C", minimum=1),
            ParamSpec(
                "window_size", int, 7, "Window height and width", minimum=1, maximum=64, pair=True
            ),
            ParamSpec(
                "shift_size",
                int,
                0,
                "How far the windows are shifted (0: not shifted; Swin alternates 0 and half)",
                minimum=0,
                maximum=64,
                pair=True,
            ),
            ParamSpec("qkv_bias", bool, True, "Learn biases in the query/key/value projection"),
            ParamSpec("proj_bias", bool, True, "Learn a bias in the output projection"),
            ParamSpec(
                "attention_dropout",
                float,
                0.0,
                "Dropout on the attention weights",
                minimum=0.0,
                maximum=1.0,
            ),
            ParamSpec("dropout", float, 0.0, "Dropout on the output", minimum=0.0, maximum=1.0),
            ParamSpec(
                "v2", bool, False, "Swin V2: cosine attention, position bias from a small MLP"
            ),
        ),
        infer=_swin_infer,
        emit=_swin_emit,
        cost=_swin_cost,
        key_params=("num_heads", "window_size", "shift_size"),
        accepts=InputSpec(ranks=(3,)),
        support=(_SWIN_ATTENTION,),
    )
)


_PATCH_MERGE = SupportClass(
    "PatchMerge",
    '''
class PatchMerge(nn.Module):
    """Swin's patch merging: each 2×2 patch of a channels-last image (N×H×W×C) becomes
    one position with 4C channels, in the order (0, 0), (1, 0), (0, 1), (1, 1); odd
    sizes are padded with zeros first."""

    netcanvas_layer = "patch_merge"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w, _ = x.shape[-3:]
        x = nn.functional.pad(x, (0, 0, 0, w % 2, 0, h % 2))
        x0 = x[..., 0::2, 0::2, :]
        x1 = x[..., 1::2, 0::2, :]
        x2 = x[..., 0::2, 1::2, :]
        x3 = x[..., 1::2, 1::2, :]
        return torch.cat([x0, x1, x2, x3], -1)
''',
)


def _patch_merge_infer(params, in_shapes):
    x = one_input(in_shapes)
    _channels_last_image(x, "PatchMerge")
    h, w, c = x
    return (-(-h // 2), -(-w // 2), 4 * c)


register(
    LayerSpec(
        type_id="patch_merge",
        title="PatchMerge",
        category="Resampling",
        doc="Swin's patch merging: each 2×2 patch becomes one position with 4× the channels. "
        "N×H×W×C -> N×⌈H/2⌉×⌈W/2⌉×4C.",
        params=(),
        infer=_patch_merge_infer,
        emit=lambda params, in_shapes: ModuleCode("PatchMerge()", call_module),
        accepts=InputSpec(ranks=(3,)),
        support=(_PATCH_MERGE,),
    )
)


_WINDOW_PARTITION = SupportClass(
    "WindowPartition",
    '''
class WindowPartition(nn.Module):
    """MaxViT's partition of an image (N×C×H×W) into non-overlapping size×size
    windows: N×(H/size·W/size)×(size·size)×C, one row of positions per window."""

    netcanvas_layer = "window_partition"

    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        p = self.size
        x = x.reshape(b, c, h // p, p, w // p, p)
        x = x.permute(0, 2, 4, 3, 5, 1)
        return x.reshape(b, (h // p) * (w // p), p * p, c)
''',
)


def _partition_infer(params, in_shapes):
    x = one_input(in_shapes)
    expect_rank(x, (3,), advice="WindowPartition takes images N×C×H×W")
    c, h, w = x
    p = p_int(params, "size")
    if h % p or w % p:
        raise ShapeError(f"size={p} must divide the image's height and width ({h}×{w})")
    return ((h // p) * (w // p), p * p, c)


register(
    LayerSpec(
        type_id="window_partition",
        title="WindowPartition",
        category="Attention",
        doc="Cuts an image into size×size windows of positions (MaxViT), for attention within "
        "each window. N×C×H×W -> N×(H/s·W/s)×(s·s)×C.",
        params=(ParamSpec("size", int, 7, "Window height and width", minimum=1, maximum=64),),
        infer=_partition_infer,
        emit=lambda params, in_shapes: ModuleCode(
            call("WindowPartition", params["size"]), call_module
        ),
        key_params=("size",),
        accepts=InputSpec(ranks=(3,)),
        support=(_WINDOW_PARTITION,),
    )
)


_WINDOW_DEPARTITION = SupportClass(
    "WindowDepartition",
    '''
class WindowDepartition(nn.Module):
    """The inverse of WindowPartition: windows of positions (N×G×(size·size)×C, G =
    rows·cols windows) back to an image N×C×(rows·size)×(cols·size)."""

    netcanvas_layer = "window_departition"

    def __init__(self, size: int, partitions: int | tuple[int, int]) -> None:
        super().__init__()
        self.size = size
        self.partitions = partitions

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, _, _, c = x.shape
        p = self.size
        rows, cols = (
            (self.partitions, self.partitions)
            if isinstance(self.partitions, int)
            else self.partitions
        )
        x = x.reshape(b, rows, cols, p, p, c)
        x = x.permute(0, 5, 1, 3, 2, 4)
        return x.reshape(b, c, rows * p, cols * p)
''',
)


def _departition_infer(params, in_shapes):
    x = one_input(in_shapes)
    expect_rank(x, (3,), advice="WindowDepartition takes windows N×G×P×C")
    g, pp, c = x
    p = p_int(params, "size")
    rows, cols = dims_of(params["partitions"], 2)
    if pp != p * p or g != rows * cols:
        raise ShapeError(
            f"expects {rows}·{cols} windows of {p}·{p} positions, got {g} of {pp}: "
            "size and partitions must match the WindowPartition before it"
        )
    return (c, rows * p, cols * p)


register(
    LayerSpec(
        type_id="window_departition",
        title="WindowDepartition",
        category="Attention",
        doc="Puts windows of positions back together into an image (MaxViT). "
        "N×(r·c)×(s·s)×C -> N×C×(r·s)×(c·s).",
        params=(
            ParamSpec("size", int, 7, "Window height and width", minimum=1, maximum=64),
            ParamSpec(
                "partitions",
                int,
                8,
                "Windows down and across (rows, cols)",
                minimum=1,
                maximum=256,
                pair=True,
            ),
        ),
        infer=_departition_infer,
        emit=lambda params, in_shapes: ModuleCode(
            call("WindowDepartition", params["size"], params["partitions"]), call_module
        ),
        key_params=("size", "partitions"),
        accepts=InputSpec(ranks=(3,)),
        support=(_WINDOW_DEPARTITION,),
    )
)


_RELATIVE_ATTENTION = SupportClass(
    "RelativePositionAttention",
    '''
class RelativePositionAttention(nn.Module):
    """MaxViT's multi-head self-attention over the positions of each window (N×G×P×D,
    P = max_seq_len positions of a square window), with a learned relative position
    bias (torchvision's RelativePositionalMultiHeadAttention in plain torch)."""

    netcanvas_layer = "relative_attention"

    def __init__(self, dim: int, head_dim: int, max_seq_len: int) -> None:
        super().__init__()
        self.head_dim = head_dim
        self.max_seq_len = max_seq_len
        self.n_heads = dim // head_dim
        size = int(max_seq_len**0.5)
        self.to_qkv = nn.Linear(dim, self.n_heads * head_dim * 3)
        self.scale_factor = dim**-0.5
        self.merge = nn.Linear(head_dim * self.n_heads, dim)
        self.relative_position_bias_table = nn.Parameter(
            torch.empty(((2 * size - 1) * (2 * size - 1), self.n_heads))
        )
        coords = torch.stack(
            torch.meshgrid([torch.arange(size), torch.arange(size)], indexing="ij")
        )
        coords = torch.flatten(coords, 1)
        relative = (coords[:, :, None] - coords[:, None, :]).permute(1, 2, 0)
        relative = relative.contiguous()
        relative[:, :, 0] += size - 1
        relative[:, :, 1] += size - 1
        relative[:, :, 0] *= 2 * size - 1
        self.register_buffer("relative_position_index", relative.sum(-1))
        nn.init.trunc_normal_(self.relative_position_bias_table, std=0.02)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, g, p, d = x.shape
        heads, head_dim = self.n_heads, self.head_dim
        q, k, v = torch.chunk(self.to_qkv(x), 3, dim=-1)
        q = q.reshape(b, g, p, heads, head_dim).permute(0, 1, 3, 2, 4)
        k = k.reshape(b, g, p, heads, head_dim).permute(0, 1, 3, 2, 4)
        v = v.reshape(b, g, p, heads, head_dim).permute(0, 1, 3, 2, 4)
        k = k * self.scale_factor
        dot = torch.einsum("B G H I D, B G H J D -> B G H I J", q, k)
        index = self.relative_position_index.view(-1)
        n = self.max_seq_len
        bias = self.relative_position_bias_table[index].view(n, n, -1)
        bias = bias.permute(2, 0, 1).contiguous().unsqueeze(0)
        dot = nn.functional.softmax(dot + bias, dim=-1)
        out = torch.einsum("B G H I J, B G H J D -> B G H I D", dot, v)
        out = out.permute(0, 1, 3, 2, 4).reshape(b, g, p, d)
        return self.merge(out)
''',
)


def _relative_infer(params, in_shapes):
    x = one_input(in_shapes)
    expect_rank(x, (3,), advice="RelativePositionAttention takes windows N×G×P×D")
    _g, p, d = x
    head_dim, seq = p_int(params, "head_dim"), p_int(params, "max_seq_len")
    if d % head_dim:
        raise ShapeError(f"head_dim={head_dim} must divide the features D ({d})")
    if math.isqrt(seq) ** 2 != seq:
        raise ShapeError(f"max_seq_len={seq} must be a square (the positions of a square window)")
    if p != seq:
        raise ShapeError(f"expects windows of max_seq_len={seq} positions, got {p}")
    return x


def _relative_cost(params, in_shapes, out):
    g, p, d = in_shapes[0]
    head_dim, seq = p_int(params, "head_dim"), p_int(params, "max_seq_len")
    size = math.isqrt(seq)
    n = 3 * d * d + 3 * d + d * d + d + (2 * size - 1) ** 2 * (d // head_dim)
    return n, 4 * g * p * d * d + 2 * g * p * p * d


register(
    LayerSpec(
        type_id="relative_attention",
        title="RelativePositionAttention",
        category="Attention",
        doc="MaxViT's self-attention among the positions of each window, with a learned "
        "relative position bias. N×G×P×D -> N×G×P×D.",
        params=(
            ParamSpec("head_dim", int, 32, "Features per attention head; must divide D", minimum=1),
            ParamSpec(
                "max_seq_len",
                int,
                49,
                "Positions per window (a square: 49 for 7×7 windows)",
                minimum=1,
                maximum=4096,
            ),
        ),
        infer=_relative_infer,
        emit=lambda params, in_shapes: ModuleCode(
            call(
                "RelativePositionAttention",
                in_shapes[0][-1],
                params["head_dim"],
                params["max_seq_len"],
            ),
            call_module,
        ),
        cost=_relative_cost,
        key_params=("head_dim", "max_seq_len"),
        accepts=InputSpec(ranks=(3,)),
        support=(_RELATIVE_ATTENTION,),
    )
)
