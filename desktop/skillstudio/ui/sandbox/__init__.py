"""The Sandbox console: run a skill's commands exactly as an agent's shell call would."""
