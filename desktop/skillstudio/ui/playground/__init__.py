"""The Playground: run an agent over the workspace's skills and replay saved runs."""
