"""Import PyTorch models (a Python file, a torch.export .pt2, torchvision) into a Netcanvas graph."""


def parse_input_shape(text: str) -> tuple[int, ...]:
    """ "3x224x224" (also 3×224×224 or 3,224,224) -> (3, 224, 224); ValueError says why not."""
    parts = text.lower().replace("×", "x").replace(",", "x").split("x")
    try:
        shape = tuple(int(p) for p in parts if p.strip())
    except ValueError:
        raise ValueError("expected sizes like 3x224x224") from None
    if not shape or any(d < 1 for d in shape):
        raise ValueError("expected sizes ≥ 1 like 3x224x224")
    return shape
