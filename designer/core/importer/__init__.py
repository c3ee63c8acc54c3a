"""Import PyTorch models (a Python file, a torch.export .pt2, torchvision) into a Netcanvas graph."""
