"""Files the embedded engine keeps in its database folder."""

LOCK_FILE = "server.lock"  # held by the one server of the folder; names its holder
STATE_FILE = "server.json"  # pid and port of the running server
START_LOCK_FILE = "start.lock"  # serialises the clients that may start a server
LOG_FILE = "server.log"
EXIT_DB_LOCKED = 3  # the server's exit code when another process holds the folder
