"""Components several screens share: the map, the top bar and user menu, navigation, formatting.

Nothing here imports a screen (import-linter checks it)."""
