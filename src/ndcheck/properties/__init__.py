"""What must hold and how it is checked: the property catalog, checkers, traces and renderers."""
