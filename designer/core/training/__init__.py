"""Training: settings (config), the event-generating engine, and failure explanations."""
