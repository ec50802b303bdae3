"""The window around the features: main window, actions, palette, first run, settings, help."""
