"""PNG pictures of an Evaluation, drawn with Pillow (no plotting library in the core)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw


def _font():
    from PIL import ImageFont

    return ImageFont.load_default()


def confusion_png(ev, path: Path, cell: int = 40) -> Path:
    """The row-normalised confusion matrix as a heat map, counts written in the cells."""
    n = len(ev.class_names)
    margin = 90
    img = Image.new("RGB", (margin + n * cell + 10, margin + n * cell + 10), "white")
    draw = ImageDraw.Draw(img)
    font = _font()
    norm = ev.normalized
    for i in range(n):
        for j in range(n):
            v = float(norm[i, j])
            shade = int(255 - 200 * v)
            x0, y0 = margin + j * cell, margin + i * cell
            colour = (shade, shade, 255) if i == j else (255, shade, shade)
            draw.rectangle([x0, y0, x0 + cell - 1, y0 + cell - 1], fill=colour, outline="grey")
            draw.text(
                (x0 + 4, y0 + cell // 3), str(int(ev.confusion[i, j])), fill="black", font=font
            )
        label = str(ev.class_names[i])[:12]
        draw.text((4, margin + i * cell + cell // 3), label, fill="black", font=font)
        draw.text((margin + i * cell + 2, margin - 16), label[:6], fill="black", font=font)
    draw.text((4, 4), "rows: true class, columns: predicted", fill="black", font=font)
    img.save(path)
    return path


def wrong_images_png(ev, data, path: Path, scale: int = 6) -> Path:
    """The most confidently wrong test samples as greyscale images, in a row."""
    shape = data.input_shape
    h, w = int(shape[-2]), int(shape[-1])
    tiles = []
    for item in ev.wrong:
        x = np.asarray(data.x_test[item["index"]], dtype=np.float64).reshape(-1, h, w)[0]
        lo, hi = float(x.min()), float(x.max())
        grey = ((x - lo) / (hi - lo or 1.0) * 255).astype(np.uint8)
        tiles.append(
            Image.fromarray(grey, "L").resize((w * scale, h * scale), Image.Resampling.NEAREST)
        )
    tw, th = w * scale, h * scale
    img = Image.new("RGB", (max(1, len(tiles)) * (tw + 8) + 8, th + 40), "white")
    draw = ImageDraw.Draw(img)
    for k, (tile, item) in enumerate(zip(tiles, ev.wrong, strict=False)):
        x0 = 8 + k * (tw + 8)
        img.paste(tile.convert("RGB"), (x0, 8))
        text = f"{item['true']}→{item['predicted']} {item['confidence']:.0%}"
        draw.text((x0, th + 14), text, fill="black", font=_font())
    img.save(path)
    return path


def regression_png(ev, path: Path, size: int = 320) -> Path:
    """Predicted against true (first target) with the y = x line, and residuals below."""
    t, p = ev.y_true[:, 0].astype(float), ev.y_pred[:, 0].astype(float)
    lo, hi = float(min(t.min(), p.min())), float(max(t.max(), p.max()))
    span = hi - lo or 1.0
    img = Image.new("RGB", (size + 20, 2 * size + 40), "white")
    draw = ImageDraw.Draw(img)

    def at(a: float, b: float, top: int) -> tuple[float, float]:
        return 10 + (a - lo) / span * size, top + size - (b - lo) / span * size

    draw.line([at(lo, lo, 10), at(hi, hi, 10)], fill="grey")
    for a, b in zip(t, p, strict=True):
        x, y = at(a, b, 10)
        draw.ellipse([x - 2, y - 2, x + 2, y + 2], fill=(40, 90, 200))
    draw.text((12, 12), "predicted vs true", fill="black", font=_font())
    res = p - t
    r = float(np.abs(res).max()) or 1.0
    top = size + 30
    mid = top + size / 2
    draw.line([(10, mid), (10 + size, mid)], fill="grey")
    for a, e in zip(t, res, strict=True):
        x = 10 + (a - lo) / span * size
        y = mid - e / r * (size / 2)
        draw.ellipse([x - 2, y - 2, x + 2, y + 2], fill=(200, 80, 40))
    draw.text((12, top + 2), "residual (predicted - true) vs true", fill="black", font=_font())
    img.save(path)
    return path
