"""The node canvas: a QGraphicsScene that follows the core graph, and its view."""
