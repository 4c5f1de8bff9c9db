// Prints the simulation report that decides the engine's defaults (issue 3).
print("heartbeat-sim: not yet written")
