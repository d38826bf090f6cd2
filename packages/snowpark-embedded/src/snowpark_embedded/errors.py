"""Errors the engine raises with a message a user can act on."""


class EngineError(RuntimeError):
    """The engine could not give a session."""


class EngineConfigError(EngineError):
    """A setting is missing or wrong; raised before any query runs."""


class EngineBusyError(EngineError):
    """Another process holds the embedded database and does not answer."""


class EngineGoneError(EngineError):
    """The engine stopped answering in the middle of the work (its server died, the network dropped)."""
