"""The Qt front end: a thin view over designer.core."""
