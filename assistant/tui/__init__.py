"""The Textual terminal app (``satchel`` / ``satchel tui``).

Only this package imports Textual; it talks to the headless core through
:class:`assistant.core.Satchel`. Importing it does no work: the app is built by
:func:`assistant.tui.app.create_app`.
"""
