"""`python -m skillstudio` is the same as the `skillstudio` console command."""

from skillstudio.cli.main import main

if __name__ == "__main__":
    main()
