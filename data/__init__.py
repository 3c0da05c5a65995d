"""gridcc's bottom layer: settings, models, migrations, sessions, queries, geodata.

Imports no other gridcc package.
"""
