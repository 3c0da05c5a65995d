"""gridcc's entry point: the ``gridcc`` command and the process supervisor of ``gridcc demo``.

The top of the import graph: it builds the one Settings object and passes it down.
"""

__version__ = "0.1.0"
