"""PyInstaller entry point: the frozen app runs the same `skillstudio` command as the wheel.

With no arguments it opens the desktop app (the CLI's default), so double-clicking works.
"""

from skillstudio.cli.main import main

if __name__ == "__main__":
    main()
