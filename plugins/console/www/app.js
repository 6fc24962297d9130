// hearth console
