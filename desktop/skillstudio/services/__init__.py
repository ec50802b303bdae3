"""Qt-free use cases: the one place each workflow lives, called by both shells (cli/ and ui/).

One module per use case, typed (pydantic) results, messages that name neither a CLI flag nor a widget.
A shell parses its input, calls one function here, and presents what comes back. Long calls take a
`JobContext` (progress, partial results, messages, cancellation) and never touch a UI.
Nothing is imported here eagerly: `skillstudio --version` must not pay for pydantic or the evals stack.
"""
